"""``GET /health`` and ``GET /metrics``: what a load balancer and Prometheus ask.

``/health`` answers JSON::

    {"status": "ok" | "degraded" | "down",
     "database": "ok" | "error",
     "queue": "ok" | "error", "queue_pending": <messages waiting> | null,
     "scheduler": "ok" | "stale" | "unknown", "scheduler_lease_expires_at": <ISO> | null,
     "version": "0.1.0"}

with status 200 while the database and the queue answer (the process can take push
notifications and queue jobs), else 503 (``down``). The scheduler only makes it ``degraded``:
``stale`` means its lease (renewed on every tick) has expired, i.e. no scheduler has ticked for
a while; ``unknown`` that none ever ran against this database. Error details go to the log,
never into the answer (they may name hosts).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from kaufland_sync.logging import get_logger
from kaufland_sync.store.models.jobs import Lease
from kaufland_sync.web.deps import WebContext, get_context

__all__ = ["SCHEDULER_LEASE", "health_report", "router"]

log = get_logger(__name__)

router = APIRouter(tags=["health"])

#: The lease the leading scheduler holds and renews.
SCHEDULER_LEASE = "scheduler"


def _error(what: str, exc: BaseException) -> None:
    log.warning("health check failed", part=what, error=f"{type(exc).__name__}: {exc}"[:300])


def health_report(context: WebContext) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of ``/health`` (blocking: call it from a thread)."""
    body: dict[str, Any] = {
        "status": "ok",
        "database": "ok",
        "queue": "ok",
        "queue_pending": None,
        "scheduler": "unknown",
        "scheduler_lease_expires_at": None,
        "version": context.version,
    }
    try:
        with context.factory() as session:
            session.execute(select(1))
            lease = session.get(Lease, SCHEDULER_LEASE)
            if lease is not None:
                body["scheduler_lease_expires_at"] = lease.expires_at.isoformat()
                body["scheduler"] = "ok" if lease.expires_at >= context.clock() else "stale"
    except Exception as exc:
        _error("database", exc)
        body["database"] = "error"
    try:
        body["queue_pending"] = context.queue.pending_count()
    except Exception as exc:
        _error("queue", exc)
        body["queue"] = "error"
    if "error" in (body["database"], body["queue"]):
        body["status"] = "down"
        return 503, body
    if body["scheduler"] != "ok":
        body["status"] = "degraded"
    return 200, body


@router.get("/health", response_model=None)
def health(request: Request) -> Response:
    """Liveness and readiness in one (see the module docstring)."""
    status, body = health_report(get_context(request))
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/metrics", response_model=None)
def metrics(request: Request) -> Response:
    """Prometheus' text format: jobs by state, API calls and errors, rate-limit waits, sync
    lag per account, push events (``kaufland_sync.metrics``)."""
    from kaufland_sync.metrics import render_metrics

    context = get_context(request)

    def queue_pending() -> int:
        # Evaluated while scraping; a queue that cannot be built or read only drops this figure.
        return context.queue.pending_count()

    payload, content_type = render_metrics(context.factory, queue_pending)
    return Response(payload, media_type=content_type)
