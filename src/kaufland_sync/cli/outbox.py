"""``kaufland-sync outbox``: the actions queued for Kaufland and their state."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="outbox",
    help="Actions queued for Kaufland (shipments, cancellations, invoices, refunds, returns).",
    no_args_is_help=True,
)
