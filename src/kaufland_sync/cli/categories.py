"""``kaufland-sync categories refresh|suggest|map|list``: local categories → Kaufland's.

Mappings are per storefront and shared by every account (Kaufland's tree is the same for all
sellers); ``refresh`` and ``suggest`` use an account only to ask Kaufland. Exit status 1 when a
mapping is refused or a suggestion could not be made.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import fail, open_account, parse_storefront
from kaufland_sync.cli._output import err, print_json

app = typer.Typer(
    name="categories",
    help="Map local categories to Kaufland categories (per storefront).",
    no_args_is_help=True,
)

AccountOpt = Annotated[str, typer.Option("--account", help="Account whose keys ask Kaufland.")]
StorefrontOpt = Annotated[str, typer.Option("--storefront", help="Storefront code (de, cz…).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("refresh")
def refresh(account: AccountOpt, storefront: StorefrontOpt) -> None:
    """Fetch Kaufland's category tree for the storefront into the local cache."""
    from kaufland_sync.sync.categories import CategoryService

    code = parse_storefront(storefront)
    ctx = open_account(account)
    ctx.storefronts(code.value)
    service = CategoryService(ctx.factory)

    async def run() -> int:
        async with ctx.client(code) as client:
            return await service.refresh_tree(client, code)

    count = asyncio.run(run())
    err.print(f"{count} categories cached for {code.value}")


@app.command("suggest")
def suggest(account: AccountOpt, storefront: StorefrontOpt, as_json: JsonOpt = False) -> None:
    """Ask Kaufland to guess the category of every local category not mapped by hand."""
    from kaufland_sync.sync.categories import CategoryService

    code = parse_storefront(storefront)
    ctx = open_account(account)
    settings = ctx.storefronts(code.value)[0]
    service = CategoryService(ctx.factory)

    async def run() -> list[dict[str, object]]:
        async with ctx.client(code) as client:
            found = await service.suggest(client, code, currency_rate=settings.currency_rate)
        return [s.as_dict() for s in found]

    results = asyncio.run(run())
    if as_json:
        print_json(results)
    else:
        table = Table(title=f"Category suggestions for {code.value}", title_justify="left")
        for column in ("local category", "Kaufland category", "source", "note"):
            table.add_column(column, overflow="fold")
        for r in results:
            target = "" if r["id_category"] is None else f"{r['id_category']} {r['name'] or ''}"
            table.add_row(str(r["local_category"]), target, str(r["source"]), str(r["note"] or ""))
        Console(highlight=False).print(table)
    if any(r["source"] == "none" for r in results):
        raise typer.Exit(1)


@app.command("map")
def map_command(
    local_category: Annotated[str, typer.Argument(help="The catalogue's category text.")],
    id_category: Annotated[int, typer.Argument(help="Kaufland id_category (a leaf).")],
    storefront: StorefrontOpt,
) -> None:
    """Map a local category to a Kaufland category by hand (suggestions never replace it)."""
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.sync.categories import CategoryError, CategoryService

    code = parse_storefront(storefront)
    try:
        CategoryService(open_store()).map(code, local_category, id_category)
    except CategoryError as exc:
        fail(str(exc))
    err.print(f"{local_category!r} → {id_category} on {code.value} (manual)")


@app.command("list")
def list_command(
    storefront: Annotated[
        str | None, typer.Option("--storefront", help="Only this storefront.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the category mappings with the cached Kaufland names."""
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.sync.categories import CategoryService

    service = CategoryService(open_store())
    code = parse_storefront(storefront) if storefront else None
    rows = service.mappings(code)
    names: dict[tuple[str, int], str] = {}
    for sf in {r.storefront for r in rows}:
        for id_category, node in service.cached(sf).items():
            names[(sf.value, id_category)] = node.title or node.name
    items = [
        {
            "storefront": r.storefront.value,
            "local_category": r.local_category,
            "id_category": r.id_category,
            "name": names.get((r.storefront.value, r.id_category)),
            "source": r.source.value,
            "alternatives": list(r.alternatives),
        }
        for r in rows
    ]
    if as_json:
        print_json(items)
        return
    table = Table(title=f"{len(items)} category mappings", title_justify="left")
    for column in ("storefront", "local category", "Kaufland category", "source"):
        table.add_column(column, overflow="fold")
    for i in items:
        table.add_row(
            str(i["storefront"]),
            str(i["local_category"]),
            f"{i['id_category']} {i['name'] or ''}",
            str(i["source"]),
        )
    Console(highlight=False).print(table)
