"""What every benchmark script needs: a free loopback port, the sandbox as its own process, and
one ``kaufland-sync`` command run as a real process with its time and peak memory.

The scripts run as ``python benchmarks/NAME.py``, so this module is importable as ``_harness``
(the script's folder is first on ``sys.path``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx

__all__ = ["free_port", "run_cli", "start_sandbox"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sandbox(port: int, *flags: str, wait: float = 30.0) -> subprocess.Popen[bytes]:
    """``kaufland-sync sandbox --port PORT FLAGS…`` in its own process, once it answers its
    control API (the process is killed and the script exits if it does not within ``wait``)."""
    command = [sys.executable, "-m", "kaufland_sync", "sandbox", "--port", str(port), *flags]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sandbox/state", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the sandbox did not start within {wait:.0f} s")


def run_cli(
    env: dict[str, str], *args: str, accept: tuple[int, ...] = (0,)
) -> tuple[float, float, str]:
    """Run one ``kaufland-sync`` command; return (seconds, its own peak RSS in MB, stdout). An
    exit status outside ``accept`` ends the script with the command's stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [sys.executable, "-m", "kaufland_sync", *args], env=env, stdout=out, stderr=err
        )
        # wait4 (not Popen.wait) so the resource usage of this one child is reported.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if os.waitstatus_to_exitcode(status) not in accept:
        raise SystemExit(f"kaufland-sync {' '.join(args)} failed:\n{stderr}")
    return seconds, usage.ru_maxrss / 1024, stdout
