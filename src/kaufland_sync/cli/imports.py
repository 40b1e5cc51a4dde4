"""``kaufland-sync import offers``: the seller's units on Kaufland → the built-in catalogue.

Binds every unit to a local product (SKU, then EAN), reports units without one, and — as the
storefront's sync directions say — creates local products and takes Kaufland's price and stock
(see docs/import-offers.md). Exit status 0 even with unmatched units: they are a report, not a
failure; 1 when the account or storefront is wrong.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import open_account
from kaufland_sync.cli._output import print_json

if TYPE_CHECKING:
    from kaufland_sync.sync.import_offers import ImportReport

app = typer.Typer(
    name="import", help="Bring data from Kaufland into the local store.", no_args_is_help=True
)

SHOWN = 20


@app.command("offers")
def offers(
    account: Annotated[str, typer.Option("--account", help="Account name.")],
    storefront: Annotated[
        str | None, typer.Option("--storefront", help="Only this storefront (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """List the account's units per storefront and bind them to local products."""
    from kaufland_sync.sync.import_offers import import_offers

    ctx = open_account(account)
    chosen = ctx.storefronts(storefront)

    async def run() -> list[ImportReport]:
        reports = []
        for settings in chosen:
            async with ctx.client(settings.storefront) as client:
                reports.append(await import_offers(client, ctx.factory, ctx.account, settings))
        return reports

    reports = asyncio.run(run())
    if as_json:
        print_json([r.as_dict() for r in reports])
        return
    out = Console(highlight=False)
    for r in reports:
        out.print(
            f"[bold]{r.storefront}[/bold]: {r.units} units; bound {r.bound_by_sku} by SKU, "
            f"{r.bound_by_ean} by EAN, {r.already_bound} already bound; "
            f"{len(r.created)} products created; {r.prices_updated} prices and "
            f"{r.stock_updated} stock levels taken; {len(r.unmatched)} without local product"
        )
        for conflict in r.conflicts:
            out.print(f"  [yellow]conflict:[/yellow] {conflict}")
        if r.unmatched:
            table = Table(title="Units without a local product", title_justify="left")
            for column in ("id_unit", "SKU", "EAN", "title", "reason"):
                table.add_column(column, overflow="fold")
            for u in r.unmatched[:SHOWN]:
                table.add_row(
                    str(u.id_unit), u.id_offer or "", u.ean or "", u.title or "", u.reason
                )
            out.print(table)
            if len(r.unmatched) > SHOWN:
                out.print(f"… and {len(r.unmatched) - SHOWN} more (--json lists all)")
