"""``kaufland-sync product-data push|status|set``: content for EANs Kaufland does not know.

``push`` sends product data for the catalogue's products whose EAN has no Kaufland product
(only when it changed since the last push); ``status`` reads Kaufland's review of what was sent;
``set`` stores an extra attribute a category requires (``colour``…). Exit status 1 when a
product failed or Kaufland still needs data.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import fail, open_account
from kaufland_sync.cli._output import print_json

if TYPE_CHECKING:
    from kaufland_sync.sync.product_data import ProductDataOutcome

app = typer.Typer(
    name="product-data",
    help="Send product data for new EANs and follow Kaufland's review.",
    no_args_is_help=True,
)

AccountOpt = Annotated[str, typer.Option("--account", help="Account name.")]
StorefrontOpt = Annotated[
    str, typer.Option("--storefront", help="Storefront (its default locale is used).")
]
SkuOpt = Annotated[list[str] | None, typer.Option("--sku", help="Only these SKUs (repeatable).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _show(title: str, outcomes: list[ProductDataOutcome], as_json: bool) -> None:
    if as_json:
        print_json([o.as_dict() for o in outcomes])
    else:
        table = Table(title=title, title_justify="left")
        for column in ("SKU", "EAN", "result", "summary"):
            table.add_column(column, overflow="fold")
        for o in outcomes:
            table.add_row(o.sku or "", o.ean, o.action, o.summary)
        Console(highlight=False).print(table)
    if any(o.action == "failed" or o.missing_attributes for o in outcomes):
        raise typer.Exit(1)


@app.command("push")
def push(
    account: AccountOpt, storefront: StorefrontOpt, sku: SkuOpt = None, as_json: JsonOpt = False
) -> None:
    """Send product data for products whose EAN Kaufland does not know."""
    from kaufland_sync.sync.product_data import ProductDataService

    ctx = open_account(account)
    settings = ctx.storefronts(storefront)[0]
    service = ProductDataService(ctx.factory)

    async def run() -> list[ProductDataOutcome]:
        async with ctx.client(settings.storefront) as client:
            return await service.push(client, ctx.account, settings.storefront, skus=sku)

    _show(f"Product data on {settings.storefront.value}", asyncio.run(run()), as_json)


@app.command("status")
def status(
    account: AccountOpt,
    storefront: StorefrontOpt,
    sku: SkuOpt = None,
    as_json: JsonOpt = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Show the stored status without asking Kaufland.")
    ] = False,
) -> None:
    """Kaufland's review status of the product data sent, with the missing attributes."""
    from kaufland_sync.sync.product_data import ProductDataService

    ctx = open_account(account)
    settings = ctx.storefronts(storefront)[0]
    service = ProductDataService(ctx.factory)
    if offline:
        found = service.statuses(ctx.account, settings.storefront)
        wanted = set(sku) if sku else None
        _show(
            "Product data status", [o for o in found if wanted is None or o.sku in wanted], as_json
        )
        return

    async def run() -> list[ProductDataOutcome]:
        async with ctx.client(settings.storefront) as client:
            return await service.refresh_status(client, ctx.account, settings.storefront, skus=sku)

    _show("Product data status", asyncio.run(run()), as_json)


@app.command("set")
def set_command(
    sku: Annotated[str, typer.Argument(help="Product SKU.")],
    name: Annotated[str, typer.Argument(help="Kaufland attribute name (colour, material…).")],
    values: Annotated[
        list[str] | None, typer.Argument(help="Values; none removes the attribute.")
    ] = None,
) -> None:
    """Set an extra Kaufland attribute of a product, sent with its product data."""
    from kaufland_sync.cli._output import err
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.db import transaction
    from kaufland_sync.sync.product_data import set_attribute

    try:
        with transaction(open_store()) as session:
            set_attribute(session, sku, name, values or [])
    except (LookupError, ValueError) as exc:
        # A KeyError's str() is its repr ('...'); its message is the first argument.
        fail(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))
    err.print(f"{sku}: {name} = {', '.join(values or []) or '(removed)'}")
