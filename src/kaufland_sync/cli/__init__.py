"""The ``kaufland-sync`` command line: noun then verb, flags with environment fallbacks.

Importing this package does no work; each command imports what it needs when it runs, so
``kaufland-sync --help`` stays fast.
"""

from __future__ import annotations

import typer

from kaufland_sync.cli import accounts as _accounts
from kaufland_sync.cli import api as _api
from kaufland_sync.cli import catalog as _catalog
from kaufland_sync.cli import categories as _categories
from kaufland_sync.cli import demo as _demo
from kaufland_sync.cli import imports as _imports
from kaufland_sync.cli import jobs as _jobs
from kaufland_sync.cli import mappings as _mappings
from kaufland_sync.cli import orders as _orders
from kaufland_sync.cli import outbox as _outbox
from kaufland_sync.cli import product_data as _product_data
from kaufland_sync.cli import report as _report
from kaufland_sync.cli import returns as _returns
from kaufland_sync.cli import sandbox as _sandbox
from kaufland_sync.cli import service as _service
from kaufland_sync.cli import sync as _sync
from kaufland_sync.cli import users as _users
from kaufland_sync.cli import webhooks as _webhooks

app = typer.Typer(
    name="kaufland-sync",
    help="Connect a seller's back office to the Kaufland Global Marketplace (Seller API v2).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    log_level: str = typer.Option(
        "WARNING",
        "--log-level",
        envvar="KAUFLAND_SYNC_LOG_LEVEL",
        help="Log level of the engine's messages (written to stderr): DEBUG, INFO, WARNING, ERROR.",
    ),
) -> None:
    """Logging is set up once per command; stdout stays reserved for the command's output."""
    from kaufland_sync.logging import configure

    level = log_level.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise typer.BadParameter(f"unknown level {log_level!r}", param_hint="--log-level")
    configure(level)
    from kaufland_sync.cli.catalog import close_stores

    ctx.call_on_close(close_stores)  # the stores the command opened, once it has ended


app.command("api")(_api.api)
app.command("sandbox")(_sandbox.sandbox)
app.command("demo")(_demo.demo)
app.command("run")(_service.run)
app.command("web")(_service.web)
app.command("worker")(_service.worker)
app.command("scheduler")(_service.scheduler)
app.add_typer(_accounts.app, name="accounts")
app.add_typer(_catalog.app, name="catalog")
app.add_typer(_sync.app, name="sync")
app.add_typer(_categories.app, name="categories")
app.add_typer(_product_data.app, name="product-data")
app.add_typer(_imports.app, name="import")
app.add_typer(_orders.app, name="orders")
app.add_typer(_returns.app, name="returns")
app.add_typer(_outbox.app, name="outbox")
app.add_typer(_mappings.app, name="mappings")
app.add_typer(_report.app, name="report")
app.add_typer(_jobs.app, name="jobs")
app.add_typer(_jobs.schedules_app, name="schedules")
app.add_typer(_webhooks.app, name="webhooks")
app.add_typer(_users.app, name="users")


def main() -> None:
    """Console-script entry point."""
    app()
