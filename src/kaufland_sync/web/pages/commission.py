"""The commission page: what Kaufland kept on the account's sales, per storefront and period,
in each storefront's currency and converted to the account's base currency.

``GET /commission`` shows :func:`kaufland_sync.reports.commission.commission_report` for the
filters (account, storefront, ``from``, ``to``, ``by``); ``GET /commission.csv`` with the same
filters answers the CSV ``kaufland-sync report commission --csv`` prints for them, byte for byte:
both write :func:`kaufland_sync.reports.commission.commission_csv` (the period rows, the
storefront totals, then one ``all``/``total`` row in the base currency; money in minor units).
Viewers and up.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy.orm import Session

from kaufland_sync.reports._common import Ratio
from kaufland_sync.reports.commission import (
    CommissionReport,
    commission_csv,
    commission_report,
)
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.web.pages._common import (
    Context,
    Viewer,
)
from kaufland_sync.web.pages._reports import (
    ReportFilters,
    day,
    major,
    percent,
    read_report,
    report_page,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _build(session: Session, account: Account, filters: ReportFilters) -> CommissionReport:
    return commission_report(
        session, account, storefront=filters.storefront, span=filters.span, by=filters.by
    )


@router.get("/commission", response_class=HTMLResponse)
def commission_page(request: Request, context: Context, user: Viewer) -> HTMLResponse:
    """The report as tables; a bad filter answers 400 naming it and shows no figures."""
    read = read_report(context, request.query_params, _build)
    report = read.report
    total = None
    if report is not None:
        total = report.total | {"rate": Ratio(report.total["commission"], report.total["sales"])}
    return report_page(
        request,
        user,
        "pages/commission_page.html",
        read,
        {"total": total, "major": major, "percent": percent},
    )


@router.get("/commission.csv")
def commission_csv_download(request: Request, context: Context, _: Viewer) -> Response:
    """The report as ``kaufland-sync report commission --csv`` prints it; 400 (plain text
    naming the field) for a bad filter, 404 without any account."""
    read = read_report(context, request.query_params, _build)
    filters, report = read.filters, read.report
    if read.error is not None:
        return PlainTextResponse(f"{read.error.field}: {read.error}\n", status_code=400)
    if filters is None or report is None:
        return PlainTextResponse("no accounts yet\n", status_code=404)
    parts = [filters.account.name, filters.storefront.value if filters.storefront else ""]
    parts += [day(filters.span.first), day(filters.span.last), filters.by.value]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(p for p in parts if p)).strip("-")
    return Response(
        commission_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="commission-{stem}.csv"'},
    )
