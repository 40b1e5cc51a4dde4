"""The dashboard's data as JSON: ``GET /ui/data/dashboard`` (for the dashboard page's charts).

Query parameters: ``period`` (``today``, ``7d``, ``30d`` — the default —, ``90d``, ``year``,
``custom``), ``from`` and ``to`` (ISO dates, both required with ``custom``, inclusive, UTC),
``account`` (an account's name or id) and ``storefront`` (a storefront code). A bad parameter
answers 400 problem JSON whose ``field`` names it.

The answer (figures as :func:`kaufland_sync.reports.dashboard.dashboard` defines them)::

    {"period": {"key", "from", "to", "previous_from", "previous_to", "grain"},
     "currency": "EUR",
     "kpis": [{"key", "label", "value", "display", "previous", "change_pct", ...}],
     "trend": {"labels": [...], "series": [{"key": "revenue", "label", "data"},
                                          {"key": "orders", "label", "data"}]},
     "status": {"labels": [...], "data": [...]},
     "activity": [{"at", "source", "kind", "account", "storefront", "outcome", "summary"}],
     "footer": {"queued", "failed", "out_of_stock", "sync_rate_per_hour"},
     "per_currency": [{"currency", "amount", "converted"}]}

Money KPI values and ``per_currency`` amounts are integer minor units; the revenue series is
in major units of ``currency`` (what a chart axis shows). The base currency is the filtered
account's, else the one every account shares, else EUR.

Access: a signed-in user, any role (``require_user("viewer")``). Without a session the answer
is a 303 to the login page, or — when the request carries ``HX-Request`` — 401 with an
``HX-Redirect`` header; a page's script fetching this JSON should send that header so an
expired session shows up as a 401 rather than a login page parsed as JSON.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select

from kaufland_sync.pricing import DEFAULT_BASE_CURRENCY
from kaufland_sync.reports.dashboard import PRESETS, Dashboard, Period, dashboard
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.web.auth import require_user
from kaufland_sync.web.deps import WebContext, get_context, problem

__all__ = ["router"]

router = APIRouter()


class BadParameter(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _date(name: str, value: str | None) -> date:
    if not value:
        raise BadParameter(name, f"{name} is required with period=custom (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse_period(key: str, first: str | None, last: str | None) -> Period:
    """The period of the query parameters; :class:`BadParameter` naming the wrong one."""
    if key == "custom":
        start, end = _date("from", first), _date("to", last)
        try:
            return Period.custom(start, end)
        except ValueError as exc:
            raise BadParameter("from", str(exc)) from None
    if key not in PRESETS:
        raise BadParameter("period", f"{key!r}: one of {', '.join(PRESETS)}, custom")
    return Period(key)


def _account(accounts: list[Account], value: str | None) -> Account | None:
    if not value:
        return None
    for account in accounts:
        if account.name == value or (value.isdigit() and account.id == int(value)):
            return account
    raise BadParameter("account", f"no account {value!r}")


def _storefront(value: str | None) -> Storefront | None:
    if not value:
        return None
    try:
        return Storefront.parse(value)
    except ValueError:
        codes = ", ".join(code.value for code in Storefront)
        raise BadParameter("storefront", f"{value!r}: one of {codes}") from None


def _base_currency(accounts: list[Account], chosen: Account | None) -> str:
    if chosen is not None:
        return chosen.base_currency or DEFAULT_BASE_CURRENCY
    found = {account.base_currency or DEFAULT_BASE_CURRENCY for account in accounts}
    return found.pop() if len(found) == 1 else DEFAULT_BASE_CURRENCY


def as_json(board: Dashboard) -> dict[str, Any]:
    """The JSON body of a dashboard (the shape the module doc gives)."""
    day = timedelta(days=1)
    length = board.end - board.start
    return {
        "period": {
            "key": board.period.key,
            "from": board.start.date().isoformat(),
            "to": (board.end - day).date().isoformat(),
            "previous_from": (board.start - length).date().isoformat(),
            "previous_to": (board.start - day).date().isoformat(),
            "grain": "hour" if board.period.hourly else "day",
        },
        "currency": board.currency,
        "kpis": [kpi.as_dict() for kpi in board.kpis],
        "trend": {
            "labels": board.trend_labels,
            "series": [
                {
                    "key": "revenue",
                    "label": f"Revenue ({board.currency})",
                    "data": [round(amount / 100, 2) for amount in board.trend_revenue],
                },
                {"key": "orders", "label": "Orders", "data": board.trend_orders},
            ],
        },
        "status": {"labels": list(board.status), "data": list(board.status.values())},
        "activity": [entry.as_dict() for entry in board.activity],
        "footer": board.footer.as_dict(),
        "per_currency": [amount.as_dict() for amount in board.per_currency],
    }


@router.get("/ui/data/dashboard", dependencies=[Depends(require_user("viewer"))])
def dashboard_data(
    context: Annotated[WebContext, Depends(get_context)],
    period: str = "30d",
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    account: str | None = None,
    storefront: str | None = None,
) -> JSONResponse:
    """The dashboard's figures for the filters (see the module doc). A plain ``def``: FastAPI
    runs it in its thread pool, so the database work never blocks the event loop."""
    with context.factory() as session:
        accounts = list(session.scalars(select(Account).order_by(Account.name)))
        try:
            chosen_period = parse_period(period, first, last)
            chosen = _account(accounts, account)
            code = _storefront(storefront)
        except BadParameter as exc:
            return problem(400, "Bad parameter", str(exc), field=exc.name)
        board = dashboard(
            session,
            period=chosen_period,
            account_id=None if chosen is None else chosen.id,
            storefront=code,
            now=context.clock(),
            base_currency=_base_currency(accounts, chosen),
            alongside=context.factory,
        )
    return JSONResponse(as_json(board))
