"""The filters of the report pages (performance, commission) and how they show figures.

The filters are the ones of ``kaufland-sync report``: an account, optionally one of its
storefronts, ``from`` and ``to`` (UTC dates, inclusive; open when left empty) and ``by`` (day,
week or month). Unlike the command, the page does not insist on an account when there are
several: it opens on the first by name, and the select changes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from kaufland_sync.reports._common import Ratio
from kaufland_sync.reports._period import DateRange, Period
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.users import User
from kaufland_sync.web.deps import WebContext
from kaufland_sync.web.pages._common import (
    AccountChoice,
    FilterError,
    account_choices,
    answer_status,
    parse_account,
    parse_date,
    parse_storefront,
)
from kaufland_sync.web.templating import templates

__all__ = [
    "PERIODS",
    "ReportFilters",
    "ReportRead",
    "age",
    "load_account",
    "major",
    "parse_report_filters",
    "percent",
    "read_report",
    "report_page",
]

#: The ``by`` select's choices.
PERIODS: tuple[tuple[str, str], ...] = (
    (Period.MONTH.value, "Month"),
    (Period.WEEK.value, "Week"),
    (Period.DAY.value, "Day"),
)


@dataclass(frozen=True, slots=True)
class ReportFilters:
    """Checked report filters. ``values`` are the form's texts, to fill the form again."""

    account: AccountChoice
    storefront: Storefront | None
    span: DateRange
    by: Period
    values: dict[str, str]

    def query(self) -> str:
        """The filters as a query string (for the CSV link and bookmarks)."""
        params = {
            "account": str(self.account.id),
            "storefront": "" if self.storefront is None else self.storefront.value,
            "from": "" if self.span.first is None else self.span.first.isoformat(),
            "to": "" if self.span.last is None else self.span.last.isoformat(),
            "by": self.by.value,
        }
        return urlencode({key: value for key, value in params.items() if value})


def form_values(params: Any) -> dict[str, str]:
    """The filter fields of a query string, as typed (for the form after an error)."""
    return {
        name: (params.get(name) or "").strip()
        for name in ("account", "storefront", "from", "to", "by")
    }


def parse_report_filters(params: Any, choices: list[AccountChoice]) -> ReportFilters | None:
    """The filters of a query string (None when the store has no account yet);
    :class:`FilterError` names a bad one."""
    values = form_values(params)
    if not choices:
        return None
    account = parse_account(values["account"], choices) or choices[0]
    storefront = parse_storefront(values["storefront"])
    if storefront is not None and storefront.value not in account.storefronts:
        sold = ", ".join(account.storefronts) or "none"
        raise FilterError(
            "storefront",
            f"account {account.name!r} does not sell on storefront {storefront.value!r} "
            f"(its storefronts: {sold})",
        )
    first, last = parse_date(values["from"], "from"), parse_date(values["to"], "to")
    if first is not None and last is not None and first > last:
        raise FilterError("from", f"from {first} is after to {last}")
    by_text = values["by"].lower() or Period.MONTH.value
    try:
        by = Period(by_text)
    except ValueError:
        raise FilterError("by", f"by {by_text!r} is unknown; one of day, week, month") from None
    return ReportFilters(account, storefront, DateRange(first, last), by, values)


def load_account(session: Session, filters: ReportFilters) -> Account:
    """The filtered account, with its storefronts (the reports read their settings)."""
    account = session.get(Account, filters.account.id)
    if account is None:  # removed between the two reads
        raise FilterError("account", f"there is no account {filters.account.name!r}")
    return account


def major(minor: int | None) -> str:
    """Minor units as major units with two decimals (every Kaufland currency has cents)."""
    return "" if minor is None else f"{Decimal(minor).scaleb(-2):,.2f}"


def percent(ratio: Ratio) -> str:
    """A rate as ``12.50 %``, or a dash when there was nothing to measure."""
    value = ratio.percent
    return "-" if value is None else f"{value} %"


def age(seconds: int | None) -> str:
    """A duration in days and hours, as ``2d 4h``."""
    if seconds is None:
        return ""
    days, rest = divmod(seconds, 86_400)
    return f"{days}d {rest // 3600}h"


def day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ReportRead(Generic[R]):
    """A report page's reading: the account choices, and either the checked filters with the
    report (both None when the store has no account yet) or the filter error."""

    choices: list[AccountChoice]
    filters: ReportFilters | None
    report: R | None
    error: FilterError | None


def read_report(
    context: WebContext,
    params: Any,
    build: Callable[[Session, Account, ReportFilters], R],
) -> ReportRead[R]:
    """Check the filters of ``params`` and ``build(session, account, filters)`` the report,
    in one session; a bad filter gives no report and the error naming it."""
    with context.factory() as session:
        choices = account_choices(session)
        try:
            filters = parse_report_filters(params, choices)
            report = (
                None if filters is None else build(session, load_account(session, filters), filters)
            )
        except FilterError as exc:
            return ReportRead(choices, None, None, exc)
    return ReportRead(choices, filters, report, None)


def report_page(
    request: Request,
    user: User,
    template: str,
    read: ReportRead[Any],
    values: dict[str, Any],
) -> HTMLResponse:
    """A report page: the filter form (as typed after an error), the error or the report,
    and the page's own ``values``; 400 for a bad filter (200 to htmx, see ``answer_status``)."""
    filters = read.filters
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "accounts": read.choices,
            "periods": PERIODS,
            "values": form_values(request.query_params) if filters is None else filters.values,
            "filters": filters,
            "selected": None if filters is None else filters.account,
            "error": read.error,
            "report": read.report,
            "day": day,
            **values,
        },
        status_code=answer_status(request, 400 if read.error else 200),
    )
