"""The ``kaufland-sync`` command line: noun then verb, flags with environment fallbacks.

Importing this package does no work; each command imports what it needs when it runs, so
``kaufland-sync --help`` stays fast.
"""

from __future__ import annotations

import typer

from kaufland_sync.cli import accounts as _accounts
from kaufland_sync.cli import api as _api
from kaufland_sync.cli import catalog as _catalog
from kaufland_sync.cli import demo as _demo
from kaufland_sync.cli import sandbox as _sandbox

app = typer.Typer(
    name="kaufland-sync",
    help="Connect a seller's back office to the Kaufland Global Marketplace (Seller API v2).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("api")(_api.api)
app.command("sandbox")(_sandbox.sandbox)
app.command("demo")(_demo.demo)
app.add_typer(_accounts.app, name="accounts")
app.add_typer(_catalog.app, name="catalog")


def main() -> None:
    """Console-script entry point."""
    app()
