"""``GET /ui/data/dashboard``: the JSON shape the dashboard page builds on, its filters, the
400 problems naming the bad parameter, and that it needs a signed-in user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from kaufland_sync.web import create_app
from kaufland_sync.web.auth import create_user, find_user, install_auth, start_session
from kaufland_sync.web.dashboard_data import router
from kaufland_sync.web.deps import get_context
from tests.builders import at, new_account, new_order
from tests.web.support import RecordingQueue

NOW = at("2026-03-10", "15:30")

# Signs a user in without the login form (whose own tests are elsewhere).
sign_in = APIRouter()


@sign_in.get("/test/sign-in/{name}")
def _sign_in(name: str, request: Request) -> dict[str, str]:
    with get_context(request).factory() as session:
        user = find_user(session, name)
    assert user is not None
    start_session(request, user, NOW)
    return {"signed_in": name}


def app_for(settings: Settings, store: sessionmaker[Session]) -> FastAPI:
    queue = RecordingQueue(store, lambda: NOW)
    app = create_app(settings, factory=store, queue=queue, clock=lambda: NOW, routers=[router])
    app.include_router(sign_in)
    install_auth(app, settings)
    return app


@pytest.fixture
async def anonymous(
    settings: Settings, store: sessionmaker[Session]
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_for(settings, store))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def web(
    anonymous: httpx.AsyncClient, store: sessionmaker[Session]
) -> AsyncIterator[httpx.AsyncClient]:
    with transaction(store) as session:
        create_user(session, "vera", "viewer", "a long enough password")
        shop = new_account(session, "shop", rates={"de": "1", "cz": "25"})
        new_account(session, "other", storefronts=("de",))
        line = {"status": "sent", "local_status": "shipped", "price": 1000, "shipping_rate": 250}
        new_order(session, shop, "o1", "de", at("2026-03-10", "09:00"), [line])
        new_order(session, shop, "o2", "cz", at("2026-03-09", "09:00"), [line | {"price": 2250}])
        session.add(
            Job(
                kind=JobKind.ORDERS,
                account_id=shop.id,
                trigger=JobTrigger.SCHEDULE,
                state=JobState.DONE,
                enqueued_at=at("2026-03-10", "15:00"),
                not_before=at("2026-03-10", "15:00"),
                finished_at=at("2026-03-10", "15:01"),
            )
        )
    assert (await anonymous.get("/test/sign-in/vera")).status_code == 200
    yield anonymous


async def get(web: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    answer = await web.get("/ui/data/dashboard", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_the_shape_the_page_builds_on(web: httpx.AsyncClient) -> None:
    body = await get(web, period="7d")
    assert set(body) == {
        "period",
        "currency",
        "kpis",
        "trend",
        "status",
        "activity",
        "footer",
        "per_currency",
    }
    assert body["period"] == {
        "key": "7d",
        "from": "2026-03-04",
        "to": "2026-03-10",
        "previous_from": "2026-02-25",
        "previous_to": "2026-03-03",
        "grain": "day",
    }
    assert body["currency"] == "EUR"
    assert [k["key"] for k in body["kpis"]] == [
        "revenue",
        "orders",
        "customers",
        "products",
        "aov",
        "sync_health",
    ]
    for kpi in body["kpis"]:
        assert {"key", "label", "value", "display", "previous", "change_pct"} <= set(kpi)
    revenue = body["kpis"][0]
    # 1000 + 250 EUR, and (2250 + 250) CZK / 25 = 100 EUR
    assert (revenue["value"], revenue["display"], revenue["previous"]) == (1350, "13.50 EUR", 0)
    assert body["trend"]["labels"][-2:] == ["2026-03-09", "2026-03-10"]
    revenue_series, orders_series = body["trend"]["series"]
    assert revenue_series["key"] == "revenue"
    assert revenue_series["data"] == [0, 0, 0, 0, 0, 1.0, 12.5]
    assert orders_series == {"key": "orders", "label": "Orders", "data": [0, 0, 0, 0, 0, 1, 1]}
    assert body["status"] == {"labels": ["shipped"], "data": [2]}
    assert body["footer"] == {
        "queued": 0,
        "failed": 0,
        "out_of_stock": 0,
        "sync_rate_per_hour": 1,
    }
    assert body["per_currency"] == [
        {"currency": "CZK", "amount": 2500, "converted": 100, "unconverted": 0},
        {"currency": "EUR", "amount": 1250, "converted": 1250, "unconverted": 0},
    ]
    assert body["activity"][0] | {"at": None} == {
        "at": None,
        "source": "job",
        "kind": "orders",
        "account": "shop",
        "storefront": None,
        "outcome": "done",
        "summary": "nothing to do",
    }


@pytest.mark.parametrize(("period", "points"), [("today", 24), ("30d", 30), ("year", 365)])
async def test_each_period(web: httpx.AsyncClient, period: str, points: int) -> None:
    body = await get(web, period=period)
    assert len(body["trend"]["labels"]) == points
    assert all(len(s["data"]) == points for s in body["trend"]["series"])


async def test_custom_period_and_filters(web: httpx.AsyncClient) -> None:
    body = await get(web, period="custom", **{"from": "2026-03-09", "to": "2026-03-09"})
    assert body["kpis"][1]["value"] == 1
    assert (await get(web, storefront="cz"))["kpis"][0]["value"] == 100
    assert (await get(web, account="other"))["kpis"][1]["value"] == 0
    assert (await get(web, account="shop"))["kpis"][1]["value"] == 2
    assert (await get(web))["period"]["key"] == "30d"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "week"}, "period"),
        ({"period": "custom", "to": "2026-03-01"}, "from"),
        ({"period": "custom", "from": "2026-03-01", "to": "tomorrow"}, "to"),
        ({"period": "custom", "from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"account": "nobody"}, "account"),
        ({"storefront": "xx"}, "storefront"),
    ],
)
async def test_bad_parameters_are_400_problems_naming_the_field(
    web: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    answer = await web.get("/ui/data/dashboard", params=params)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["field"] == field
    assert answer.json()["status"] == 400


async def test_a_signed_in_user_is_required(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/ui/data/dashboard")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    htmx = await anonymous.get("/ui/data/dashboard", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"].startswith("/login")
