"""``kaufland-sync report``: commission, fee estimates and seller performance of an account.

Reports read the local store only (run ``import orders`` / ``sync orders`` first for fresh
figures); see docs/reports.md for what every figure means. Each command prints a table, or
with ``--json`` the whole report as JSON, or with ``--csv`` one CSV row per table row (header
line first). Money in JSON and CSV is in integer minor units (cents) of the row's currency;
tables show major units.

Exit codes: 0 success; 1 no such account, or a storefront the account does not sell on;
2 bad arguments.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._output import print_json
from kaufland_sync.reports._period import Period

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kaufland_sync.reports._common import Ratio
    from kaufland_sync.reports._period import DateRange
    from kaufland_sync.reports.commission import CommissionReport, CommissionRow
    from kaufland_sync.reports.fees import FeeReport
    from kaufland_sync.reports.performance import PerformanceReport, PerformanceRow
    from kaufland_sync.sellerapi.storefronts import Storefront
    from kaufland_sync.store.models.accounts import Account

app = typer.Typer(
    name="report",
    help="Commission, fee estimates and seller-performance reports.",
    no_args_is_help=True,
)

AccountOption = Annotated[
    str | None,
    typer.Option("--account", help="Account name (required when there is more than one)."),
]
StorefrontOption = Annotated[
    str | None, typer.Option("--storefront", help="Only this storefront (de, cz, sk, ...).")
]
FromOption = Annotated[
    str | None, typer.Option("--from", help="First order date, YYYY-MM-DD (UTC), inclusive.")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Last order date, YYYY-MM-DD (UTC), inclusive.")
]
ByOption = Annotated[Period, typer.Option("--by", help="One row per day, week or month.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print the rows as CSV.")]


# -- arguments --------------------------------------------------------------------------------


def _format(as_json: bool, as_csv: bool) -> str:
    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv", param_hint="--json/--csv")
    return "json" if as_json else "csv" if as_csv else "table"


def _date(value: str | None, hint: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO date (YYYY-MM-DD)", param_hint=hint
        ) from None


def _range(first: str | None, last: str | None) -> DateRange:
    from kaufland_sync.reports._period import DateRange

    start, end = _date(first, "--from"), _date(last, "--to")
    if start is not None and end is not None and start > end:
        raise typer.BadParameter(f"--from {start} is after --to {end}", param_hint="--from")
    return DateRange(start, end)


def _storefront(value: str | None) -> Storefront | None:
    from kaufland_sync.cli._account import parse_storefront

    return None if value is None else parse_storefront(value)


@contextmanager
def _account(
    name: str | None, storefront: Storefront | None = None
) -> Iterator[tuple[Session, Account]]:
    """A session on the store and the account to report on (the only one when not named);
    refuses a ``storefront`` the account does not sell on (it could only report zeros)."""
    from sqlalchemy import select

    from kaufland_sync.cli._account import fail
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.models.accounts import Account

    factory = open_store()
    with factory() as session:
        if name is None:
            accounts = session.scalars(select(Account).order_by(Account.name)).all()
            if not accounts:
                fail("no accounts yet: add one with `kaufland-sync accounts add`")
            if len(accounts) > 1:
                names = ", ".join(a.name for a in accounts)
                fail(f"several accounts ({names}): choose one with --account")
            found = accounts[0]
        else:
            maybe = session.scalar(select(Account).where(Account.name == name))
            if maybe is None:
                fail(f"no account named {name!r}")
            found = maybe
        if storefront is not None and found.storefront(storefront) is None:
            sold = ", ".join(s.storefront.value for s in found.storefronts) or "none"
            fail(
                f"account {found.name!r} does not sell on storefront {storefront.value!r} "
                f"(its storefronts: {sold})"
            )
        yield session, found


# -- output helpers ---------------------------------------------------------------------------


def _major(minor: int | None) -> str:
    """Minor units as major units with two decimals (every Kaufland currency has cents)."""
    return "" if minor is None else f"{Decimal(minor).scaleb(-2):.2f}"


def _percent(ratio: Ratio) -> str:
    value = ratio.percent
    return "-" if value is None else f"{value} %"


def _ratio(ratio: Ratio) -> str:
    return f"{ratio.numerator}/{ratio.denominator} ({_percent(ratio)})"


def _age(seconds: int | None) -> str:
    if seconds is None:
        return ""
    days, rest = divmod(seconds, 86_400)
    return f"{days}d {rest // 3600}h"


def _csv(header: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(name) is None else row[name] for name in header])
    sys.stdout.flush()


def _console() -> Console:
    return Console(highlight=False)


def _flat_ratio(prefix: str, ratio: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{prefix}_numerator": ratio["numerator"],
        f"{prefix}_denominator": ratio["denominator"],
        f"{prefix}_percent": ratio["percent"],
    }


# -- commission -------------------------------------------------------------------------------


def _commission_table(report: CommissionReport) -> Table:
    base = report.base_currency
    table = Table(
        title=(
            f"Commission of {report.account}, by {report.by.value} "
            f"({report.range.first or '…'} to {report.range.last or '…'})"
        ),
        title_justify="left",
    )
    for column in ("storefront", "period", "lines", "cancelled", "returned", "currency"):
        table.add_column(column, overflow="fold")
    for column in ("sales", "revenue gross", "revenue net", "commission", "rate", "refunded"):
        table.add_column(column, justify="right", overflow="fold")
    table.add_column(f"commission {base}", justify="right", overflow="fold")

    def add(row: CommissionRow, *, end_section: bool = False, style: str | None = None) -> None:
        f = row.figures
        table.add_row(
            row.storefront.value,
            row.period,
            str(f.lines),
            str(f.cancelled),
            str(f.returned),
            row.currency,
            _major(f.sales),
            _major(f.revenue_gross),
            _major(f.revenue_net),
            _major(f.commission),
            _percent(f.commission_rate),
            _major(f.refunded),
            "no rate" if row.base is None else _major(row.base["commission"]),
            end_section=end_section,
            style=style,
        )

    _add_sections(report.rows, report.totals, add)
    return table


def _add_sections(rows: Sequence[Any], totals: Sequence[Any], add: Callable[..., None]) -> None:
    """Add period rows (a section line after each storefront's last one), then the totals."""
    for index, row in enumerate(rows):
        following = rows[index + 1] if index + 1 < len(rows) else None
        add(row, end_section=following is None or following.storefront != row.storefront)
    for row in totals:
        add(row, style="bold")


@app.command("commission")
def commission(
    account: AccountOption = None,
    storefront: StorefrontOption = None,
    first: FromOption = None,
    last: ToOption = None,
    by: ByOption = Period.MONTH,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Commission Kaufland kept per storefront and period (price + shipping - revenue_gross
    of each order line), in the storefront's currency and the account's base currency."""
    from kaufland_sync.reports.commission import commission_csv, commission_report

    output = _format(as_json, as_csv)
    span = _range(first, last)
    code = _storefront(storefront)
    with _account(account, code) as (session, found):
        report = commission_report(session, found, storefront=code, span=span, by=by)
    if output == "json":
        print_json(report.as_dict())
    elif output == "csv":
        sys.stdout.write(commission_csv(report))
        sys.stdout.flush()
    else:
        console = _console()
        console.print(_commission_table(report))
        total = report.total
        rate = _percent(_ratio_of(total["commission"], total["sales"]))
        console.print(
            f"Total in {report.base_currency}: {total['lines']} lines, sales "
            f"{_major(total['sales'])}, commission {_major(total['commission'])} ({rate}), "
            f"revenue gross {_major(total['revenue_gross'])}"
        )
        if report.unconverted:
            codes = ", ".join(code.value for code in report.unconverted)
            console.print(
                f"Not in the total (no currency rate to {report.base_currency}): {codes}; "
                "set one with `accounts set NAME --storefront SF --currency-rate RATE`."
            )


def _ratio_of(numerator: int, denominator: int) -> Ratio:
    from kaufland_sync.reports._common import Ratio

    return Ratio(numerator, denominator)


# -- performance ------------------------------------------------------------------------------

_PERFORMANCE_COUNTS = (
    "lines",
    "cancelled",
    "seller_cancelled",
    "sent",
    "sent_timed",
    "late",
    "overdue",
    "tracking_valid",
    "tracking_invalid",
    "tracking_unknown",
    "handled",
    "handling_seconds",
    "average_handling_hours",
    "returns",
    "open_tickets",
    "seller_responsible_tickets",
    "ticket_age_seconds",
    "average_ticket_age_seconds",
    "oldest_ticket_age_seconds",
)
_PERFORMANCE_RATES = (
    "late_shipment_rate",
    "seller_cancellation_rate",
    "valid_tracking_rate",
    "return_rate",
)
_PERFORMANCE_CSV = (
    "storefront",
    "period",
    "start",
    "end",
    *_PERFORMANCE_COUNTS,
    *(
        f"{rate}_{part}"
        for rate in _PERFORMANCE_RATES
        for part in ("numerator", "denominator", "percent")
    ),
)


def _performance_csv_rows(report: PerformanceReport) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in [*report.rows, *report.totals, report.total]:
        values = row.as_dict()
        for rate in _PERFORMANCE_RATES:
            values |= _flat_ratio(rate, values.pop(rate))
        out.append(values)
    return out


def _performance_table(report: PerformanceReport) -> Table:
    table = Table(
        title=(
            f"Seller performance of {report.account}, by {report.by.value} "
            f"({report.range.first or '…'} to {report.range.last or '…'}), "
            f"at {report.now:%Y-%m-%d %H:%M} UTC"
        ),
        title_justify="left",
    )
    for column in ("storefront", "period", "lines"):
        table.add_column(column, overflow="fold")
    for column in (
        "late shipment",
        "overdue",
        "seller cancellations",
        "valid tracking",
        "tracking unknown",
        "handling h",
        "returns",
        "open tickets",
        "seller resp.",
        "oldest",
        "average age",
    ):
        table.add_column(column, justify="right", overflow="fold")

    def add(row: PerformanceRow, *, end_section: bool = False, style: str | None = None) -> None:
        f = row.figures
        hours = f.average_handling_hours
        table.add_row(
            "all" if row.storefront is None else row.storefront.value,
            row.period,
            str(f.lines),
            _ratio(f.late_shipment),
            str(f.overdue),
            _ratio(f.seller_cancellation),
            _ratio(f.valid_tracking),
            str(f.tracking_unknown),
            "" if hours is None else str(hours),
            _ratio(f.return_rate),
            str(f.open_tickets),
            str(f.seller_responsible_tickets),
            _age(f.oldest_ticket_age_seconds),
            _age(f.average_ticket_age_seconds),
            end_section=end_section,
            style=style,
        )

    _add_sections(report.rows, report.totals, add)
    if len(report.totals) > 1:
        add(report.total, style="bold")
    return table


@app.command("performance")
def performance(
    account: AccountOption = None,
    storefront: StorefrontOption = None,
    first: FromOption = None,
    last: ToOption = None,
    by: ByOption = Period.MONTH,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Late shipments, seller-caused cancellations, valid tracking, handling time, returns and
    open tickets per storefront and period (each rate as numerator/denominator)."""
    from kaufland_sync.reports.performance import performance_report
    from kaufland_sync.store.base import utc_now

    output = _format(as_json, as_csv)
    span = _range(first, last)
    code = _storefront(storefront)
    now: datetime = utc_now()
    with _account(account, code) as (session, found):
        report = performance_report(session, found, now=now, storefront=code, span=span, by=by)
    if output == "json":
        print_json(report.as_dict())
    elif output == "csv":
        _csv(_PERFORMANCE_CSV, _performance_csv_rows(report))
    else:
        console = _console()
        console.print(_performance_table(report))
        unmatched = sum(report.unmatched_return_units.values())
        if unmatched:
            console.print(f"{unmatched} return units match no imported order line (not counted).")
        if report.unattributed_open_tickets:
            console.print(
                f"{report.unattributed_open_tickets} open tickets have no known storefront "
                "(not counted)."
            )


# -- fees -------------------------------------------------------------------------------------

_FEES_CSV = (
    "sku",
    "storefront",
    "currency",
    "status",
    "price",
    "local_category",
    "id_category",
    "category",
    "variable_fee",
    "fixed_fee",
    "fee",
    "revenue",
    "note",
)


def _fees_table(report: FeeReport) -> Table:
    table = Table(title=f"Fee estimates of {report.account}", title_justify="left")
    for column in ("SKU", "storefront", "currency"):
        table.add_column(column, overflow="fold")
    table.add_column("price", justify="right")
    table.add_column("Kaufland category", overflow="fold")
    for column in ("variable %", "fixed", "fee", "revenue"):
        table.add_column(column, justify="right")
    table.add_column("status", overflow="fold")
    for row in report.rows:
        category = "" if row.id_category is None else f"{row.id_category} {row.category or ''}"
        table.add_row(
            row.sku,
            row.storefront.value,
            row.currency,
            _major(row.price),
            category.strip(),
            "" if row.variable_fee is None else f"{row.variable_fee.normalize():f}",
            "" if row.fixed_fee is None else f"{row.fixed_fee:.2f}",
            _major(row.fee),
            _major(row.revenue),
            row.status.value if row.note is None else f"{row.status.value}: {row.note}",
        )
    return table


@app.command("fees")
def fees(
    account: AccountOption = None,
    storefront: StorefrontOption = None,
    skus: Annotated[
        list[str] | None, typer.Option("--sku", help="Only this SKU (repeat for more).")
    ] = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Estimated Kaufland fee and revenue per active SKU and storefront at the price the offers
    sync publishes, from the category fee table (SKUs without a mapped category say so)."""
    from kaufland_sync.reports.fees import fee_report

    output = _format(as_json, as_csv)
    code = _storefront(storefront)
    with _account(account, code) as (session, found):
        report = fee_report(session, found, storefront=code, skus=skus)
    if output == "json":
        print_json(report.as_dict())
    elif output == "csv":
        _csv(_FEES_CSV, [row.as_dict() for row in report.rows])
    else:
        console = _console()
        console.print(_fees_table(report))
        counts = ", ".join(f"{status} {count}" for status, count in report.counts().items())
        console.print(f"{len(report.rows)} rows: {counts}")
