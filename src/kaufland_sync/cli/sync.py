"""``kaufland-sync sync offers|stock|orders``: publish the catalogue's offers (or only their
stock), or run one pass of the order work (outbox, orders, returns, tickets, stock push).

Exit codes: 0 everything planned was done; 1 some products failed (the others were synced) or
the account cannot be used; 2 bad arguments.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._output import print_json

if TYPE_CHECKING:
    from kaufland_sync.store.models.sync import SyncKind
    from kaufland_sync.sync.exporters.offers import SyncSummary
    from kaufland_sync.sync.orders_sync import OrdersSyncReport

app = typer.Typer(
    name="sync",
    help="Send the catalogue to Kaufland: offers (every field) or stock only.",
    no_args_is_help=True,
)

err = Console(stderr=True, highlight=False)
FAILURES_SHOWN = 20

AccountOption = Annotated[str, typer.Option("--account", help="Account name.")]
StorefrontOption = Annotated[
    list[str] | None,
    typer.Option("--storefront", help="Only this storefront (repeatable; default: all)."),
]
FullOption = Annotated[
    bool, typer.Option("--full", help="Send every offer, changed or not (a forced resync).")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print the plan; send nothing to Kaufland.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _run(
    kind: SyncKind,
    account_name: str,
    storefronts: list[str] | None,
    *,
    full: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    import asyncio

    from kaufland_sync.accounts import AccountService
    from kaufland_sync.backoffice.catalog import BuiltinCatalog
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.config import load_settings
    from kaufland_sync.pricing import PricingError
    from kaufland_sync.secrets import MasterKeyError, SecretDecryptionError, secret_box
    from kaufland_sync.sellerapi.errors import KauflandError
    from kaufland_sync.sellerapi.storefronts import Storefront
    from kaufland_sync.store.accounts import AccountError, AccountRepository
    from kaufland_sync.sync.exporters.offers import sync_account_offers
    from kaufland_sync.sync.mappers.offers import OfferSettings

    try:
        wanted = [Storefront.parse(code) for code in storefronts or ()]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--storefront") from None
    settings = load_settings()
    factory = open_store()
    try:
        with factory() as session:
            account = AccountRepository(session).get(account_name)
            chosen = [s for s in account.storefronts if not wanted or s.storefront in wanted]
            missing = [w.value for w in wanted if account.storefront(w) is None]
            if missing:
                _fail(f"account {account_name!r} does not sell on {', '.join(missing)}")
            pairs = [
                (
                    OfferSettings.from_storefront(s, base_currency=account.base_currency),
                    s.direction_offers,
                )
                for s in chosen
            ]
            client = AccountService(AccountRepository(session), secret_box(settings)).client_for(
                account
            )
            account_id = account.id
    except (AccountError, MasterKeyError, SecretDecryptionError, PricingError) as exc:
        _fail(str(exc))
        return
    show_progress = not as_json and sys.stderr.isatty()

    async def run() -> list[SyncSummary]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from sqlalchemy import func, select

        from kaufland_sync.store.models.catalog import Product

        # Every storefront walks the whole catalogue, so its size is each bar's total.
        with factory() as session:
            total = session.scalar(select(func.count()).select_from(Product)) or None

        async with client:
            if not show_progress:
                return await sync_account_offers(
                    factory=factory,
                    backoffice=BuiltinCatalog(factory),
                    client=client,
                    account_id=account_id,
                    storefronts=pairs,
                    kind=kind,
                    full=full,
                    dry_run=dry_run,
                )
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("products"),
                TimeElapsedColumn(),
                console=err,
            ) as progress:
                tasks: dict[str, Any] = {}

                def advance(code: str, done: int) -> None:
                    if code not in tasks:
                        tasks[code] = progress.add_task(f"{kind.value} → {code}", total=total)
                    progress.advance(tasks[code], done)

                return await sync_account_offers(
                    factory=factory,
                    backoffice=BuiltinCatalog(factory),
                    client=client,
                    account_id=account_id,
                    storefronts=pairs,
                    kind=kind,
                    full=full,
                    dry_run=dry_run,
                    on_progress=advance,
                )

    try:
        summaries = asyncio.run(run())
    except KauflandError as exc:
        _fail(str(exc))
        return
    if as_json:
        print_json({"account": account_name, "storefronts": [s.as_dict() for s in summaries]})
    else:
        _print(summaries, dry_run=dry_run, account=account_name)
    if any(s.failed for s in summaries):
        raise typer.Exit(1)


def _print(summaries: list[SyncSummary], *, dry_run: bool, account: str) -> None:
    out = Console(highlight=False, width=120)
    title = "Plan (dry run: nothing sent)" if dry_run else "Sync summary"
    table = Table(title=title, title_justify="left")
    columns = ("storefront", "created", "updated", "unchanged", "held", "deleted")
    for name in (*columns, "skipped", "failed", "calls"):
        table.add_column(name, justify="left" if name == "storefront" else "right")
    for s in summaries:
        if s.not_run_reason:
            table.add_row(s.storefront, *["-"] * 8)
            continue
        table.add_row(
            s.storefront,
            *(str(getattr(s, name)) for name in columns[1:]),
            str(s.skipped),
            str(len(s.failed)),
            str(s.write_calls),
        )
    out.print(table)
    for s in summaries:
        if s.not_run_reason:
            out.print(f"{s.storefront}: not synced: {s.not_run_reason}")
    for s in summaries:
        if s.incomplete:
            out.print(
                f"{s.storefront}: {len(s.incomplete)} new offer(s) wait as INCOMPLETE because "
                "Kaufland does not know their EAN yet; send product data with "
                f"kaufland-sync product-data push --account {account} --storefront {s.storefront}"
            )
    for s in summaries:
        if not s.failed:
            continue
        failed = Table(title=f"Failed on {s.storefront}", title_justify="left")
        failed.add_column("SKU", overflow="fold")
        failed.add_column("reason", overflow="fold")
        for sku, reason in s.failed[:FAILURES_SHOWN]:
            failed.add_row(sku, reason)
        out.print(failed)
        if len(s.failed) > FAILURES_SHOWN:
            out.print(f"... and {len(s.failed) - FAILURES_SHOWN} more (use --json for all)")


@app.command("offers")
def offers(
    account: AccountOption,
    storefront: StorefrontOption = None,
    full: FullOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Create, update, hold or delete units so Kaufland shows the catalogue (only changes)."""
    from kaufland_sync.store.models.sync import SyncKind

    _run(SyncKind.OFFERS, account, storefront, full=full, dry_run=dry_run, as_json=as_json)


@app.command("stock")
def stock(
    account: AccountOption,
    storefront: StorefrontOption = None,
    full: FullOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Send only the offered amount of units that already exist (only changes)."""
    from kaufland_sync.store.models.sync import SyncKind

    _run(SyncKind.STOCK, account, storefront, full=full, dry_run=dry_run, as_json=as_json)


@app.command("orders")
def orders(
    account: AccountOption,
    storefront: StorefrontOption = None,
    as_json: JsonOption = False,
) -> None:
    """One pass of everything order-related: send queued actions (outbox), import orders,
    returns and tickets, then push the stock of SKUs whose reservations or stock changed.
    A failed step is reported (exit status 1) and the others still run; rerunning is safe."""
    import asyncio
    from datetime import UTC, datetime

    from kaufland_sync.cli._account import open_account
    from kaufland_sync.sync.orders_sync import sync_orders

    ctx = open_account(account)
    if storefront:
        chosen = [s for code in storefront for s in ctx.storefronts(code)]
    else:
        chosen = ctx.storefronts(None)
    storefronts = list(dict.fromkeys(s.storefront for s in chosen))

    async def run() -> OrdersSyncReport:
        async with ctx.client() as client:
            return await sync_orders(
                client, ctx.factory, ctx.account, storefronts, clock=lambda: datetime.now(UTC)
            )

    report = asyncio.run(run())
    if as_json:
        print_json({"account": account} | report.as_dict())
    else:
        _print_orders(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_orders(report: OrdersSyncReport) -> None:
    out = Console(highlight=False, width=120)
    if report.outbox is not None:
        o = report.outbox
        out.print(
            f"outbox: {o.sent} sent ({o.already} had already taken effect), "
            f"{o.retrying} to retry, {o.failed} refused, {o.unknown} unknown"
        )
    if report.orders is not None:
        s = report.orders
        out.print(
            f"orders: {s.orders_new} new, {s.orders_updated} updated; lines: {s.lines_new} new, "
            f"{s.lines_updated} updated; stock: {s.reserved} reserved, {s.consumed} shipped, "
            f"{s.released} released"
        )
    if report.returns is not None:
        r = report.returns
        out.print(
            f"returns: {r.returns_new} new, {r.returns_updated} updated; units: {r.units_new} new,"
            f" {r.units_updated} updated; {r.arrived} arrived, {r.decided} decided, "
            f"{len(r.restocked_skus)} restocked"
        )
    if report.tickets is not None:
        t = report.tickets
        out.print(f"tickets: {t.new} new, {t.updated} updated")
    for p in report.stock:
        failed = f", {len(p.failed)} refused" if p.failed else ""
        out.print(f"stock pushed to {p.storefront}: {p.updated} updated{failed}")
        for sku, reason in p.failed[:FAILURES_SHOWN]:
            out.print(f"  [yellow]{sku}[/yellow]: {reason}")
    for step, reason in report.errors.items():
        err.print(f"[red]{step} failed:[/red] {reason} (rerun: nothing is done twice)")
