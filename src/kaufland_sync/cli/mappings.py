"""``kaufland-sync mappings``: how Kaufland values translate to local ones and back."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mappings",
    help="Map Kaufland's order statuses, payment and shipping methods, carriers and reasons.",
    no_args_is_help=True,
)
