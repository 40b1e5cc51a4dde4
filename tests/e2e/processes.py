"""Real ``kaufland-sync`` service processes for end-to-end tests, and patient polling.

``Fleet`` starts ``python -m kaufland_sync ARGS`` children (workers, schedulers) with a given
environment, each writing its stdout and stderr to a log file of its own (a pipe nobody reads
would fill up and block a chatty worker). It can wait for a line in a process's log, kill one
process, and stops every process it started in ``stop_all`` (SIGTERM, then SIGKILL for whatever
does not end in time), so a failing test leaves nothing running.

``wait_until`` polls a condition against a deadline: the processes run in real time, so tests
look at the database (or a log) until what they expect holds, and fail at the deadline.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests.cli.runner import clean_env

__all__ = ["Fleet", "Service", "wait_until"]

T = TypeVar("T")

#: How long polling pauses between two looks; small, since it only bounds reaction time.
POLL_SECONDS = 0.05
#: How long a process gets to stop after SIGTERM before it is killed: a deadline for a hang,
#: not a speed target (on an overloaded machine a clean exit, closing its database and queue
#: connections, was once seen to take over 10 s after the process logged that it stopped).
STOP_GRACE_SECONDS = 30.0


def wait_until(
    condition: Callable[[], T | None],
    what: str,
    *,
    deadline: float,
    describe: Callable[[], str] = str,
) -> T:
    """Poll ``condition`` until it returns something truthy and return that; fail with ``what``
    (and ``describe()``, e.g. the state of the job ledger) once ``deadline`` seconds passed."""
    give_up = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError(
                f"timed out after {deadline:.0f} s waiting for {what}\n{describe()}"
            )
        # Polling state that other processes change in real time, not pacing anything.
        time.sleep(POLL_SECONDS)


@dataclass(eq=False)
class Service:
    """One started process: its arguments, its ``Popen`` and its log file (stdout + stderr)."""

    args: tuple[str, ...]
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def worker_name(self) -> str:
        """The name it gives itself on jobs and leases (``jobs.runner.default_worker_name``)."""
        return f"{socket.gethostname()}:{self.pid}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def running(self) -> bool:
        return self.process.poll() is None


class Fleet:
    """The service processes of one test, all with the same ``env`` (``KAUFLAND_SYNC_*``
    variables; nothing of the outside environment's ``KAUFLAND_SYNC_*`` leaks in)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = clean_env(env)
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.services: list[Service] = []

    def start(self, *args: str) -> Service:
        """Start ``python -m kaufland_sync ARGS``."""
        log = self.logs / f"{len(self.services):02d}-{args[0]}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", "kaufland_sync", *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        service = Service(tuple(args), process, log)
        self.services.append(service)
        return service

    def wait_for_log(self, service: Service, text: str, *, deadline: float) -> None:
        """Wait until ``text`` appears in the service's log; fail if it exits first."""

        def seen() -> bool:
            if text in service.output():
                return True
            if not service.running():
                raise AssertionError(
                    f"{' '.join(service.args)} exited with {service.process.returncode} "
                    f"before logging {text!r}:\n{service.output()}"
                )
            return False

        wait_until(seen, f"{text!r} from {' '.join(service.args)}", deadline=deadline)

    def kill(self, service: Service) -> None:
        """SIGKILL ``service`` and reap it."""
        service.process.send_signal(signal.SIGKILL)
        service.process.wait(timeout=STOP_GRACE_SECONDS)

    def crashed(self) -> list[Service]:
        """Processes that ended by themselves (not killed by the test): a worker or scheduler
        must run until stopped."""
        return [
            s
            for s in self.services
            if s.process.poll() is not None and s.process.returncode != -signal.SIGKILL
        ]

    def report(self) -> str:
        """The tail of every log, for failure messages."""
        parts = []
        for service in self.services:
            tail = "\n".join(service.output().splitlines()[-15:])
            state = "running" if service.running() else f"exit {service.process.returncode}"
            parts.append(f"--- {' '.join(service.args)} (pid {service.pid}, {state})\n{tail}")
        return "\n".join(parts)

    def stop_all(self) -> dict[Service, int]:
        """Stop every process still running: SIGTERM to all (graceful: running jobs finish),
        then SIGKILL to whatever has not ended within the grace period. Returns the exit code
        of each process this stopped (0: it stopped gracefully)."""
        stopping = [s for s in self.services if s.running()]
        for service in stopping:
            service.process.send_signal(signal.SIGTERM)
        give_up = time.monotonic() + STOP_GRACE_SECONDS
        for service in self.services:
            try:
                service.process.wait(timeout=max(0.1, give_up - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()
        return {s: s.process.returncode for s in stopping}
