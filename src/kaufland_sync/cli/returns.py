"""``kaufland-sync returns``: Returns imported from Kaufland and the seller's decisions on them."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="returns",
    help="Returns imported from Kaufland and the seller's decisions on them.",
    no_args_is_help=True,
)
