"""``kaufland-sync import offers``: the seller's units on Kaufland → the built-in catalogue.

Binds every unit to a local product (SKU, then EAN), reports units without one, and — as the
storefront's sync directions say — creates local products and takes Kaufland's price and stock
(see docs/import-offers.md). Exit status 0 even with unmatched units: they are a report, not a
failure; 1 when the account or storefront is wrong.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import AccountContext, fail, open_account
from kaufland_sync.cli._output import print_json

if TYPE_CHECKING:
    from rich.progress import TaskID

    from kaufland_sync.sellerapi.client import KauflandClient
    from kaufland_sync.sellerapi.storefronts import Storefront
    from kaufland_sync.sync.exporters.offers import SyncSummary
    from kaufland_sync.sync.import_offers import ImportReport

T = TypeVar("T")

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


def _moment(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time; without a zone it is UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO date (YYYY-MM-DD) or date-time", param_hint=option
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


async def _push(
    client: KauflandClient, ctx: AccountContext, skus: Iterable[str], into: list[SyncSummary]
) -> str | None:
    """Push the stock of ``skus`` to every storefront (nothing when there are none), adding the
    summaries to ``into``; the error when Kaufland refused the push as a whole, else None."""
    from kaufland_sync.sellerapi.errors import KauflandError
    from kaufland_sync.sync.stock_push import push_stock

    wanted = sorted(set(skus))
    if not wanted:
        return None
    try:
        into.extend(await push_stock(client, ctx.factory, ctx.account.id, wanted, clock=_now))
    except KauflandError as exc:
        return str(exc)
    return None


@contextmanager
def _units_progress(wanted: bool) -> Iterator[Callable[[Storefront, int], None] | None]:
    """A live count of order units written per storefront on stderr, when it is a terminal
    (Kaufland does not say how many units a history holds, so a count, not a bar)."""
    if not (wanted and sys.stderr.isatty()):
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} order units"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(storefront: Storefront, written: int) -> None:
            if storefront.value not in tasks:
                tasks[storefront.value] = progress.add_task(f"orders ← {storefront.value}")
            progress.advance(tasks[storefront.value], written)

        yield advance


@app.command("orders")
def orders(
    account: Annotated[str, typer.Option("--account", help="Account name.")],
    since: Annotated[
        str | None,
        typer.Option("--since", help="Read changes from this date (default: where the last left)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Leave out changes after this date.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import the account's order units changed since the last import (or ``--since``) into
    local orders, exactly once; the import cursor only moves forward. The stock of SKUs whose
    reservation changed (new, shipped or cancelled orders) is then pushed to every storefront
    at once (exit status 1 if that push fails: the next ``sync stock`` sends it)."""
    from kaufland_sync.sellerapi.errors import KauflandError
    from kaufland_sync.sync.importers.orders import OrderImportSummary, import_orders

    start, end = _moment(since, "--since"), _moment(until, "--until")
    if start is not None and end is not None and start > end:
        fail("--since is after --until")
    ctx = open_account(account)
    storefronts = [s.storefront for s in ctx.storefronts(None)]

    def clock() -> datetime:
        return datetime.now(UTC)

    pushed: list[SyncSummary] = []
    push_error: str | None = None

    async def run() -> OrderImportSummary:
        nonlocal push_error
        # One client (one event loop) for the import and the push: they share its pacing.
        async with ctx.client() as client:
            with _units_progress(not as_json) as advance:
                summary = await import_orders(
                    client,
                    ctx.factory,
                    ctx.account,
                    storefronts,
                    since=start,
                    until=end,
                    clock=clock,
                    on_progress=advance,
                )
            push_error = await _push(client, ctx, summary.stock_changed, pushed)
            return summary

    try:
        summary = asyncio.run(run())
    except KauflandError as exc:
        fail(f"import stopped (rerun to resume; nothing is imported twice): {exc}")
    if as_json:
        print_json(
            summary.as_dict()
            | {"stock_push": [p.as_dict() for p in pushed], "stock_push_error": push_error}
        )
    else:
        out = Console(highlight=False)
        out.print(
            f"orders: {summary.orders_new} new, {summary.orders_updated} updated; "
            f"lines: {summary.lines_new} new, {summary.lines_updated} updated, "
            f"{summary.unchanged} unchanged; addresses released for "
            f"{summary.addresses_released} orders"
        )
        if summary.reserved or summary.consumed or summary.released:
            out.print(
                f"stock: {summary.reserved} reserved, {summary.consumed} shipped (taken off the "
                f"catalogue), {summary.released} released, for "
                f"{len(summary.stock_changed)} SKU(s)"
            )
        for p in pushed:
            failed = f", {len(p.failed)} failed" if p.failed else ""
            out.print(
                f"stock pushed to {p.storefront}: {p.updated} updated, {p.unchanged} unchanged, "
                f"{p.skipped} not published{failed}"
            )
            for sku, reason in p.failed[:SHOWN]:
                out.print(f"  [yellow]{sku}[/yellow]: {reason}")
    if push_error is not None:
        fail(
            "orders imported, but the stock push failed (run kaufland-sync sync stock "
            f"--account {account}): {push_error}"
        )
    if any(p.failed for p in pushed):
        raise typer.Exit(1)


def _run_import(
    account: str,
    storefront: str | None,
    work: Callable[[KauflandClient, AccountContext, list[Storefront]], Awaitable[T]],
) -> T:
    """Open ``account``, run ``work`` with one client on the chosen storefronts, and turn a
    Kaufland failure into one error line (exit 1): every import resumes where it stopped."""
    from kaufland_sync.sellerapi.errors import KauflandError

    ctx = open_account(account)
    storefronts = [s.storefront for s in ctx.storefronts(storefront)]

    async def run() -> T:
        async with ctx.client() as client:
            return await work(client, ctx, storefronts)

    try:
        return asyncio.run(run())
    except KauflandError as exc:
        fail(f"import stopped (rerun to resume; nothing is imported twice): {exc}")


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("returns")
def returns(
    account: Annotated[str, typer.Option("--account", help="Account name.")],
    storefront: Annotated[
        str | None, typer.Option("--storefront", help="Only this storefront (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import the account's returns and return units changed since the last import (exactly
    once; arrivals, decisions and, when the account restocks returns, accepted pieces back into
    stock, which is then pushed to every storefront at once). See docs/returns.md."""
    from kaufland_sync.sync.importers.returns import ReturnImportSummary, import_returns

    pushed: list[SyncSummary] = []
    push_error: str | None = None

    async def work(
        client: KauflandClient, ctx: AccountContext, storefronts: list[Storefront]
    ) -> ReturnImportSummary:
        nonlocal push_error
        summary = await import_returns(client, ctx.factory, ctx.account, storefronts, clock=_now)
        push_error = await _push(client, ctx, summary.restocked_skus, pushed)
        return summary

    summary = _run_import(account, storefront, work)
    if as_json:
        print_json(
            summary.as_dict()
            | {"stock_push": [p.as_dict() for p in pushed], "stock_push_error": push_error}
        )
    else:
        out = Console(highlight=False)
        restocked = ", ".join(summary.restocked_skus) or "none"
        out.print(
            f"returns: {summary.returns_new} new, {summary.returns_updated} updated; "
            f"return units: {summary.units_new} new, {summary.units_updated} updated, "
            f"{summary.unchanged} unchanged; {summary.arrived} arrived, {summary.decided} "
            f"decided; restocked: {restocked}"
        )
        for p in pushed:
            out.print(f"stock pushed to {p.storefront}: {p.updated} updated")
    if push_error is not None:
        fail(
            "returns imported, but the stock push failed (run kaufland-sync sync stock "
            f"--account {account}): {push_error}"
        )


@app.command("tickets")
def tickets(
    account: Annotated[str, typer.Option("--account", help="Account name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import the account's buyer tickets changed since the last import (for the performance
    report: open tickets and their age)."""
    from kaufland_sync.sync.importers.tickets import TicketImportSummary, import_tickets

    async def work(
        client: KauflandClient, ctx: AccountContext, storefronts: list[Storefront]
    ) -> TicketImportSummary:
        return await import_tickets(client, ctx.factory, ctx.account, storefronts, clock=_now)

    summary = _run_import(account, None, work)
    if as_json:
        print_json(summary.as_dict())
        return
    Console(highlight=False).print(
        f"tickets: {summary.new} new, {summary.updated} updated, {summary.unchanged} unchanged"
    )
