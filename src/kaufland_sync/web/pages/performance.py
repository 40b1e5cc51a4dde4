"""The seller-performance page: :func:`kaufland_sync.reports.performance.performance_report` per
storefront and period, for the filters account, storefront, ``from``, ``to`` and ``by``.

Every rate is shown with what it is made of (``1/8``) and a bar. The report carries no limits
of Kaufland's, and Kaufland publishes few: the one we know (docs/reports.md) is its seller
guide's monthly target of seller-caused cancellations below 1 %, so only that bar is judged
(:data:`TARGETS`); the others only show the size of the rate. Viewers and up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from kaufland_sync.reports._common import Ratio
from kaufland_sync.reports.performance import PerformanceReport, PerformanceRow, performance_report
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.web.pages._common import (
    Context,
    Viewer,
)
from kaufland_sync.web.pages._reports import (
    ReportFilters,
    age,
    percent,
    read_report,
    report_page,
)

__all__ = ["RATES", "TARGETS", "Meter", "router"]

router = APIRouter(include_in_schema=False)


#: The rates of a row: (key, label, the figures' property, whether lower is better).
RATES: tuple[tuple[str, str, str, bool], ...] = (
    ("late_shipment", "Late shipment", "late_shipment", True),
    ("seller_cancellation", "Seller cancellations", "seller_cancellation", True),
    ("valid_tracking", "Valid tracking", "valid_tracking", False),
    ("return_rate", "Returns", "return_rate", True),
)
#: Limits Kaufland sets on a rate, in percent (a rate above it is off target).
TARGETS: dict[str, Decimal] = {"seller_cancellation": Decimal(1)}


@dataclass(frozen=True, slots=True)
class Meter:
    """One rate as the page shows it: ``text`` (``1/8 · 12.50 %``), the percent for the bar
    (None: nothing measured), and the verdict against a target when there is one
    (``ok``/``over``; ``""`` without a target)."""

    key: str
    text: str
    value: Decimal | None
    target: Decimal | None
    verdict: str


def meter(key: str, ratio: Ratio) -> Meter:
    value = ratio.percent
    target = TARGETS.get(key)
    verdict = ""
    if target is not None and value is not None:
        verdict = "over" if value > target else "ok"
    text = f"{ratio.numerator}/{ratio.denominator} · {percent(ratio)}"
    return Meter(key, text, value, target, verdict)


def row_view(row: PerformanceRow) -> dict[str, Any]:
    """What a table row shows of ``row``."""
    f = row.figures
    hours = f.average_handling_hours
    return {
        "storefront": "all" if row.storefront is None else row.storefront.value,
        "period": row.period,
        "lines": f.lines,
        "meters": [meter(key, getattr(f, prop)) for key, _, prop, _ in RATES],
        "overdue": f.overdue,
        "tracking_unknown": f.tracking_unknown,
        "handling": "" if hours is None else f"{hours} h",
        "open_tickets": f.open_tickets,
        "seller_tickets": f.seller_responsible_tickets,
        "oldest": age(f.oldest_ticket_age_seconds),
        "average_age": age(f.average_ticket_age_seconds),
    }


def _totals(report: PerformanceReport) -> list[dict[str, Any]]:
    rows = [row_view(row) for row in report.totals]
    if len(report.totals) > 1:
        rows.append(row_view(report.total))
    return rows


@router.get("/performance", response_class=HTMLResponse)
def performance_page(request: Request, context: Context, user: Viewer) -> HTMLResponse:
    """The report as tables, measured now (the app's clock); a bad filter answers 400 naming
    it and shows no figures."""

    def build(session: Session, account: Account, filters: ReportFilters) -> PerformanceReport:
        return performance_report(
            session,
            account,
            now=context.clock(),
            storefront=filters.storefront,
            span=filters.span,
            by=filters.by,
        )

    read = read_report(context, request.query_params, build)
    report = read.report
    return report_page(
        request,
        user,
        "pages/performance_page.html",
        read,
        {
            "rates": RATES,
            "totals": [] if report is None else _totals(report),
            "rows": [] if report is None else [row_view(row) for row in report.rows],
            "unmatched": 0 if report is None else sum(report.unmatched_return_units.values()),
        },
    )
