"""What the web app's routes share: the app's context (store, queue, clock, settings) and
problem answers.

Every route reaches the context through :func:`get_context` (``request.app.state.kaufland``),
never through module globals, so several apps (tests, one per configuration) live side by side.
Routers added later (the dashboard, the REST API) use the same dependency.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import Request
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from kaufland_sync.config import Settings
    from kaufland_sync.secrets import SecretBox
    from kaufland_sync.store.models.jobs import JobKind, JobTrigger

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "JobSubmitter",
    "Submitted",
    "WebContext",
    "get_context",
    "problem",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Submitted(Protocol):
    """What submitting a job answers (``kaufland_sync.jobs.ledger.Enqueued``)."""

    @property
    def job_id(self) -> int: ...

    @property
    def created(self) -> bool: ...


class JobSubmitter(Protocol):
    """The part of ``kaufland_sync.jobs.queue.JobQueue`` the web app uses; tests pass a fake."""

    def submit(
        self,
        *,
        account_id: int,
        kind: JobKind,
        trigger: JobTrigger,
        not_before: datetime | None = None,
    ) -> Submitted: ...

    def pending_count(self) -> int: ...


@dataclass
class WebContext:
    """Everything a request may need. ``queue`` is built on first use (from ``settings``) when
    the app was not given one, so a web process whose queue is down still starts and reports
    the problem on ``/health``. The secret box (master key) is likewise loaded on first use."""

    settings: Settings
    factory: sessionmaker[Session]
    clock: Callable[[], datetime]
    version: str
    _queue: JobSubmitter | None = None
    _queue_factory: Callable[[], JobSubmitter] | None = None
    _box: SecretBox | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Things built here and to be released at shutdown (engine, queue connections).
    closers: list[Callable[[], object]] = field(default_factory=list)

    @property
    def queue(self) -> JobSubmitter:
        """The job queue; raises whatever building it raises (bad URL, Redis unreachable)."""
        if self._queue is None:
            with self._lock:
                if self._queue is None:
                    if self._queue_factory is None:
                        raise RuntimeError("the web app has no job queue")
                    self._queue = self._queue_factory()
        return self._queue

    @property
    def queue_built(self) -> bool:
        return self._queue is not None

    def secret_box(self) -> SecretBox:
        """The box that decrypts account secret keys (``MasterKeyError`` when the master key
        is missing or unusable)."""
        if self._box is None:
            from kaufland_sync.secrets import secret_box

            with self._lock:
                if self._box is None:
                    self._box = secret_box(self.settings)
        return self._box

    def close(self) -> None:
        """Release what the app built itself (newest first); errors are not worth a crash at
        shutdown."""
        while self.closers:
            closer = self.closers.pop()
            try:
                closer()
            except Exception:  # noqa: S112 - best effort at shutdown
                continue


def get_context(request: Request) -> WebContext:
    """FastAPI dependency: the app's context."""
    context: WebContext = request.app.state.kaufland
    return context


def problem(
    status: int, title: str, detail: str, *, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    """An RFC 9457 problem answer. ``detail`` must never hold a secret: it is shown to whoever
    called."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)
