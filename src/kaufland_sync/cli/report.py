"""``kaufland-sync report``: Commission and seller-performance reports."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="report", help="Commission and seller-performance reports.", no_args_is_help=True
)
