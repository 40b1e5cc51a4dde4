"""A throwaway Redis server for the test session.

``RedisServer`` finds ``redis-server`` (on PATH or in /usr/bin, /usr/sbin, /usr/local/bin), starts
it on a free loopback port with its working folder in a temporary directory and persistence off
(nothing here needs to survive), and stops it at the end. A missing binary raises
``RedisNotFoundError`` with what to install; fixtures turn that into a test failure, never a skip.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["RedisNotFoundError", "RedisServer", "find_redis_server"]

_START_TIMEOUT = 10.0


class RedisNotFoundError(RuntimeError):
    pass


def find_redis_server() -> Path:
    """The ``redis-server`` binary."""
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    for folder in ("/usr/bin", "/usr/sbin", "/usr/local/bin"):
        candidate = Path(folder) / "redis-server"
        if candidate.is_file():
            return candidate
    raise RedisNotFoundError(
        "redis-server not found; the Redis tests need it. Run `make test` (it installs the "
        "Debian package `redis-server`), or `apt-get install -y redis-server` yourself."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process; ``url(db)`` gives a ``redis://`` URL."""

    def __init__(self) -> None:
        self.binary = find_redis_server()
        self.root = Path(tempfile.mkdtemp(prefix="kaufland-sync-redis-"))
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        # The free port may be taken between probing and binding; a few attempts cover that race.
        for _ in range(3):
            self.port = _free_port()
            log = self.root / "redis.log"
            self._process = subprocess.Popen(  # noqa: S603 - fixed binary, our own arguments
                [
                    str(self.binary),
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.root),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--logfile",
                    str(log),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.root,
            )
            deadline = time.monotonic() + _START_TIMEOUT
            while self._process.poll() is None and time.monotonic() < deadline:
                if _answers_ping(self.port):
                    return self
                # Polling for readiness of a process we just started (not pacing anything).
                time.sleep(0.02)
            self._terminate()
        text = (self.root / "redis.log").read_text(errors="replace") if log.exists() else ""
        self.stop()
        raise RuntimeError(f"redis-server did not start:\n{text}")

    def _terminate(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._terminate()
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"
