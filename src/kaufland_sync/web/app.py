"""The web app factory: one FastAPI app per configuration, its state in ``app.state``.

``create_app(settings)`` serves ``/health``, ``/metrics`` and the push-notification receivers
``/webhooks/kaufland/{account}``. Later features add routers (the dashboard, the REST API)
with ``routers=`` or ``app.include_router``; their routes reach the store and the queue through
``kaufland_sync.web.deps.get_context``.

The app keeps no state of its own between requests (everything is in the database and the
queue), so any number of web processes can serve behind a load balancer.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI

from kaufland_sync import __version__
from kaufland_sync.web import health, webhooks
from kaufland_sync.web.deps import JobSubmitter, WebContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from kaufland_sync.config import Settings

__all__ = ["DEFAULT_ROUTERS", "create_app"]

#: The routers every app serves.
DEFAULT_ROUTERS: tuple[APIRouter, ...] = (health.router, webhooks.router)


def _utc_now() -> datetime:
    from kaufland_sync.store.base import utc_now

    return utc_now()


def create_app(
    settings: Settings,
    *,
    factory: sessionmaker[Session] | None = None,
    queue: JobSubmitter | None = None,
    clock: Callable[[], datetime] | None = None,
    routers: Iterable[APIRouter] = (),
    ui: bool = False,
) -> FastAPI:
    """The web app for ``settings``.

    ``factory`` opens sessions on the store (default: an engine on
    ``settings.resolved_database_url``, disposed at shutdown; the schema must already be
    migrated, which ``kaufland-sync run`` and the other commands do). ``queue`` submits jobs
    (default: a ``JobQueue`` on ``settings.resolved_queue_url``, built on first use and closed at
    shutdown). ``clock`` gives aware UTC time (signature timestamps, the scheduler's lease).
    ``routers`` are served after the default ones. ``ui`` adds what people use: sign-in
    (sessions, CSRF), the dashboard and its data, static files, and the REST API under
    ``/api/v1`` (``kaufland-sync run`` and ``web`` serve it; tests of one part leave it off).
    """
    closers: list[Callable[[], object]] = []
    if factory is None:
        from kaufland_sync.store.db import create_db_engine, session_factory

        engine = create_db_engine(settings.resolved_database_url)
        closers.append(engine.dispose)
        factory = session_factory(engine)
    context = WebContext(
        settings=settings,
        factory=factory,
        clock=clock or _utc_now,
        version=__version__,
        _queue=queue,
        closers=closers,
    )
    if queue is None:
        context._queue_factory = lambda: _own_queue(context)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # What start-up made (modules, routes, templates, the ORM's mappers) lives as long as
        # the server: taken out of the garbage collector's generations, a full collection
        # during a request no longer walks it (on a busy dashboard it cost a request ~80 ms
        # now and then, see docs/benchmarks.md). No collection first: it would cost every
        # start a full pass (seconds in a test process) to free a little start-up garbage.
        # Undone on the way out for processes that go on, such as the tests.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            context.close()

    app = FastAPI(
        title="kaufland-sync",
        version=__version__,
        lifespan=lifespan,
        # The API documentation pages are for the REST API of a later version; nothing here
        # needs them, and a receiver open to the internet should not advertise itself.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.kaufland = context
    for router in (*DEFAULT_ROUTERS, *routers):
        app.include_router(router)
    if ui:
        _add_ui(app, settings)
    return app


def _add_ui(app: FastAPI, settings: Settings) -> None:
    from kaufland_sync.web import auth_routes, dashboard_data, pages, ui
    from kaufland_sync.web.api import mount_api
    from kaufland_sync.web.auth import install_auth

    for router in (auth_routes.router, ui.router, dashboard_data.router, *pages.routers()):
        app.include_router(router)
    ui.mount_static(app)
    mount_api(app)
    install_auth(app, settings)


def _own_queue(context: WebContext) -> JobSubmitter:
    from kaufland_sync.jobs.queue import JobQueue

    queue = JobQueue(context.settings, context.factory, clock=context.clock)
    context.closers.append(queue.close)
    return queue
