"""A throwaway PostgreSQL server for the test session.

``PostgresServer`` finds ``initdb``/``pg_ctl`` (on PATH or under /usr/lib/postgresql/*/bin),
creates a cluster in a temporary folder, starts it on a free loopback port with fsync off (data
durability means nothing here; speed does) and stops it at the end. PostgreSQL refuses to run as
root, so when the tests run as root (containers, CI) the server binaries run as the ``postgres``
system user through ``runuser``, with the cluster folder handed to that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresNotFoundError", "PostgresServer", "find_pg_bin"]

_SERVER_USER = "postgres"


class PostgresNotFoundError(RuntimeError):
    pass


def find_pg_bin() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest installed version first)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        reverse=True,
    )
    if candidates:
        return Path(candidates[0]).parent
    raise PostgresNotFoundError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; the store tests need them. "
        "Run `make test` (it installs the Debian package `postgresql`), or install PostgreSQL "
        "yourself."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One PostgreSQL cluster; ``url(database)`` gives a ``postgresql+psycopg://`` URL."""

    def __init__(self) -> None:
        self.bin = find_pg_bin()
        self.as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="kaufland-sync-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = _SERVER_USER if self.as_root else "postgres_test"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", _SERVER_USER, "--", *command]
        result = subprocess.run(  # noqa: S603 - fixed binaries, our own arguments
            command, capture_output=True, text=True, check=False, cwd=self.root
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def start(self) -> PostgresServer:
        if self.as_root:
            shutil.chown(self.root, _SERVER_USER, _SERVER_USER)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off "
            f"-c unix_socket_directories={self.root} -c max_connections=100"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its URL."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
