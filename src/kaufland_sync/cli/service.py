"""``kaufland-sync run | worker | scheduler``: the service that keeps every account in step.

``run`` is the embedded default: the web app (health, metrics, push notifications), a worker and
the scheduler in one process, on the store and queue the settings name (SQLite files in the data
folder unless ``KAUFLAND_SYNC_DATABASE_URL`` / ``KAUFLAND_SYNC_QUEUE_URL`` say otherwise).
``web``, ``worker`` and ``scheduler`` are the parts on their own, for running across machines with
PostgreSQL and Redis (docs/operations.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kaufland_sync.cli._account import fail
from kaufland_sync.cli._output import err

if TYPE_CHECKING:
    from kaufland_sync.config import Settings

HostOption = Annotated[str, typer.Option(help="Interface the web app listens on.")]
PortOption = Annotated[int, typer.Option(help="TCP port of the web app.")]
ConcurrencyOption = Annotated[
    int, typer.Option(min=1, max=64, help="Jobs this process runs at the same time.")
]


def _prepare() -> Settings:
    """The settings, once the store is migrated (every command migrates first) and the queue
    URL understood; exits with one line on a bad URL."""
    from kaufland_sync.config import load_settings
    from kaufland_sync.jobs.queue import QueueURLError, create_huey

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        create_huey(settings.resolved_queue_url)
    except QueueURLError as exc:
        fail(str(exc))
    from kaufland_sync.cli.catalog import close_stores, open_store

    open_store()  # migrates; the service opens its own engines
    close_stores()
    return settings


def run(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8080,
    concurrency: ConcurrencyOption = 4,
) -> None:
    """Serve the web app and run a worker and the scheduler in this one process.

    Stop with Ctrl-C or SIGTERM: running jobs finish first.
    """
    import signal

    import uvicorn

    from kaufland_sync.jobs.worker import start_in_thread
    from kaufland_sync.web.app import create_app

    # uvicorn catches SIGINT/SIGTERM while it serves, shuts the web app down, restores the
    # handlers it found and raises the signal again. With the default handlers that would kill
    # this process before the worker is stopped; this handler, in place from the start, takes a
    # signal (before uvicorn listens, or re-raised after) as "stop" so running jobs can finish.
    servers: list[uvicorn.Server] = []
    stop_requested: list[int] = []

    def _stop(signum: int, _frame: object) -> None:
        stop_requested.append(signum)
        for server in servers:
            server.should_exit = True

    previous = {signum: signal.signal(signum, _stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        settings = _prepare()
        handle = start_in_thread(settings, concurrency=concurrency, with_scheduler=True)
        try:
            err.print(
                f"kaufland-sync serving http://{host}:{port} (dashboard: /, REST API: /api/v1, "
                f"health: /health, metrics: /metrics, push: /webhooks/kaufland/ACCOUNT); "
                f"{concurrency} job threads and the scheduler running. Ctrl-C stops.",
                soft_wrap=True,
            )
            _first_admin(settings)
            config = uvicorn.Config(
                create_app(settings, ui=True),
                host=host,
                port=port,
                log_level="warning",
                access_log=False,
            )
            servers.append(uvicorn.Server(config))
            if not stop_requested:
                servers[0].run()
        finally:
            err.print("stopping: waiting for running jobs to finish…")
            handle.stop()
            err.print("stopped.")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def web(host: HostOption = "127.0.0.1", port: PortOption = 8080) -> None:
    """Serve only the web app (health, metrics, push notifications); no jobs run here.

    For installations with workers elsewhere: any number of these can run behind a proxy.
    """
    import uvicorn

    from kaufland_sync.web.app import create_app

    settings = _prepare()
    err.print(f"kaufland-sync web app on http://{host}:{port} (no jobs run here)", soft_wrap=True)
    _first_admin(settings)
    uvicorn.run(
        create_app(settings, ui=True), host=host, port=port, log_level="warning", access_log=False
    )


def worker(
    concurrency: ConcurrencyOption = 4,
    with_scheduler: Annotated[
        bool,
        typer.Option(
            "--with-scheduler",
            help="Also run the scheduler here (one machine; normally `kaufland-sync scheduler`).",
        ),
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve Prometheus metrics of this process on this port."),
    ] = None,
) -> None:
    """Run jobs from the queue until stopped (SIGTERM or Ctrl-C: running jobs finish first).

    Start as many as needed, on any machine that reaches the database and the queue.
    """
    from kaufland_sync.jobs.worker import run_worker
    from kaufland_sync.metrics import start_metrics_server

    settings = _prepare()
    if metrics_port is not None:
        start_metrics_server(metrics_port)
    err.print(
        f"worker: {concurrency} job threads on queue {_where(settings.resolved_queue_url)}"
        + (" with the scheduler" if with_scheduler else ""),
        soft_wrap=True,
    )
    run_worker(settings, concurrency=concurrency, with_scheduler=with_scheduler)
    err.print("worker stopped.")


def scheduler() -> None:
    """Queue due jobs, debounced back-office changes and the recovery of lost jobs.

    Run one per installation; a second one waits as a stand-by (it takes over within 30 s
    when the first stops).
    """
    from kaufland_sync.jobs.worker import run_scheduler

    settings = _prepare()
    err.print(f"scheduler on queue {_where(settings.resolved_queue_url)}", soft_wrap=True)
    run_scheduler(settings)
    err.print("scheduler stopped.")


def _first_admin(settings: Settings) -> None:
    """On the very first start (no user at all), create ``admin`` with a random password and
    show it this once on stderr (it is stored only as a hash)."""
    from kaufland_sync.store.db import create_db_engine, session_factory
    from kaufland_sync.web.auth import ensure_first_admin

    engine = create_db_engine(settings.resolved_database_url)
    try:
        password = ensure_first_admin(session_factory(engine))
    finally:
        engine.dispose()
    if password is not None:
        err.print(
            "First start: created web user [bold]admin[/bold] with password "
            f"[bold]{password}[/bold] — shown only now; "
            "change it with `kaufland-sync users passwd admin`.",
            soft_wrap=True,
        )


def _where(url: str) -> str:
    """The queue's address without a password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url  # urlunsplit would fold sqlite:////abs/path into sqlite://abs/path
    if parts.password:
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}:***@{netloc}")
    return urlunsplit(parts)
