"""Running ``kaufland-sync`` in tests: in process (fast) or as a real process.

``run_cli`` invokes the Typer app in this interpreter through Typer's runner, with stdout and
stderr captured apart, the environment reduced to what the test gives (no ``KAUFLAND_SYNC_*``
variable leaks in from the outside) and the rate-limiter registry cleared, as in a fresh
process. Starting ``python -m kaufland_sync`` costs seconds per call; the in-process run covers
the same command code. An exception escaping a command fails the test at once (a real process
would print a traceback and exit 1, which an ``exit 1`` assertion could mistake for a handled
error).

``run_process`` starts the real program, for what only a process shows: the entry point, exit
codes as the shell sees them, stdout free of anything but the output, signals.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from kaufland_sync.cli import app
from kaufland_sync.sellerapi import RateLimiter

__all__ = ["Ran", "clean_env", "run_cli", "run_process"]


@dataclass(frozen=True)
class Ran:
    """What a command left: its exit code and what it wrote to stdout and to stderr."""

    returncode: int
    stdout: str
    stderr: str


def clean_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``KAUFLAND_SYNC_*`` variable, plus ``env``."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("KAUFLAND_SYNC_")}
    full.update(env or {})
    return full


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Ran:
    """``kaufland-sync ARGS`` in this process, with only ``env``'s ``KAUFLAND_SYNC_*`` set
    (and ``input`` on stdin, which is not a terminal)."""
    outside = {k: None for k in os.environ if k.startswith("KAUFLAND_SYNC_")}
    RateLimiter.clear_registry()
    result = CliRunner().invoke(
        app,
        list(args),
        env={**outside, **(env or {})},
        input=input,
        prog_name="kaufland-sync",
        catch_exceptions=False,
    )
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_process(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m kaufland_sync ARGS`` as a child process, with only ``env``'s
    ``KAUFLAND_SYNC_*`` set."""
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "kaufland_sync", *args],
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
