"""``/health`` (database, queue, scheduler lease) and ``/metrics``; the app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync import __version__
from kaufland_sync.config import Settings
from kaufland_sync.jobs import ledger
from kaufland_sync.store.db import create_db_engine, session_factory, transaction
from kaufland_sync.store.migrate import upgrade
from kaufland_sync.store.models.jobs import JobKind, JobTrigger, Lease
from kaufland_sync.web import create_app
from kaufland_sync.web.deps import WebContext, get_context
from tests.builders import add_account, at
from tests.web.support import RecordingQueue

NOW = at("2026-03-02", "10:00")


def serve(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
def queue(store: sessionmaker[Session]) -> RecordingQueue:
    return RecordingQueue(store, lambda: NOW, pending=3)


@pytest.fixture
async def web(
    settings: Settings, store: sessionmaker[Session], queue: RecordingQueue
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings, factory=store, queue=queue, clock=lambda: NOW)) as c:
        yield c


def scheduler_lease(store: sessionmaker[Session], expires_in: timedelta) -> None:
    with transaction(store) as session:
        session.add(Lease(name="scheduler", owner="host:1", expires_at=NOW + expires_in))


async def test_all_well_is_ok(web: httpx.AsyncClient, store: sessionmaker[Session]) -> None:
    scheduler_lease(store, timedelta(seconds=20))
    answer = await web.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "database": "ok",
        "queue": "ok",
        "queue_pending": 3,
        "scheduler": "ok",
        "scheduler_lease_expires_at": (NOW + timedelta(seconds=20)).isoformat(),
        "version": __version__,
    }


async def test_no_scheduler_yet_is_degraded_but_up(web: httpx.AsyncClient) -> None:
    answer = await web.get("/health")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["scheduler"]) == ("degraded", "unknown")


async def test_an_expired_scheduler_lease_is_stale(
    web: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    scheduler_lease(store, -timedelta(seconds=1))
    answer = await web.get("/health")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["scheduler"]) == ("degraded", "stale")


async def test_a_queue_that_does_not_answer_is_down(
    web: httpx.AsyncClient, queue: RecordingQueue
) -> None:
    queue.broken = True
    answer = await web.get("/health")
    assert answer.status_code == 503
    body = answer.json()
    assert (body["status"], body["database"], body["queue"], body["queue_pending"]) == (
        "down",
        "ok",
        "error",
        None,
    )


async def test_a_database_that_does_not_answer_is_down(
    settings: Settings, queue: RecordingQueue, tmp_path: Path
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'not-migrated.db'}")
    app = create_app(settings, factory=session_factory(engine), queue=queue, clock=lambda: NOW)
    async with serve(app) as web:
        answer = await web.get("/health")
    engine.dispose()
    assert answer.status_code == 503
    assert (answer.json()["status"], answer.json()["database"]) == ("down", "error")
    assert "no such table" not in answer.text  # details go to the log only


async def test_metrics_are_prometheus_text_with_the_ledger_figures(
    web: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    account = add_account(store)
    with transaction(store) as session:
        ledger.enqueue(
            session, account_id=account.id, kind=JobKind.ORDERS, trigger=JobTrigger.PUSH, now=NOW
        )
    answer = await web.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    lines = answer.text.splitlines()
    assert 'kaufland_sync_jobs{state="queued"} 1.0' in lines
    assert "kaufland_sync_queue_pending 3.0" in lines
    assert "kaufland_sync_store_up 1.0" in lines


async def test_the_app_builds_its_store_and_queue_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    engine = create_db_engine(settings.resolved_database_url)
    upgrade(engine)
    engine.dispose()
    app = create_app(settings)
    async with serve(app) as web:
        answer = await web.get("/health")
    context = get_context_of(app)
    assert context.queue_built  # built on first use
    context.close()
    assert answer.status_code == 200
    assert (answer.json()["database"], answer.json()["queue"]) == ("ok", "ok")
    assert answer.json()["queue_pending"] == 0
    assert (tmp_path / "data" / "queue.db").exists()


async def test_a_queue_url_that_cannot_work_is_reported_not_fatal(
    tmp_path: Path, store: sessionmaker[Session]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", queue_url="amqp://nowhere")
    async with serve(create_app(settings, factory=store)) as web:
        answer = await web.get("/health")
    assert (answer.status_code, answer.json()["queue"]) == (503, "error")


async def test_further_routers_are_served_with_the_context(
    settings: Settings, store: sessionmaker[Session], queue: RecordingQueue
) -> None:
    extra = APIRouter(prefix="/api")

    @extra.get("/version")
    def version(request: Request) -> dict[str, str]:
        return {"version": get_context(request).version}

    app = create_app(settings, factory=store, queue=queue, routers=[extra])
    async with serve(app) as web:
        assert (await web.get("/api/version")).json() == {"version": __version__}
        assert (await web.get("/health")).status_code == 200


def get_context_of(app: FastAPI) -> WebContext:
    context: WebContext = app.state.kaufland
    return context
