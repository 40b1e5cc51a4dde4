"""The REST API (/api/v1) over the app: tokens and roles, each resource, problem answers, and
the OpenAPI document of the API routes only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.jobs import ledger
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Product, StockLevel
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from kaufland_sync.store.models.outbox import OutboxMessage
from kaufland_sync.store.models.returns import Return, ReturnUnit
from kaufland_sync.store.models.sync import BindingState, OfferBinding
from kaufland_sync.store.models.users import Role
from kaufland_sync.web import auth
from kaufland_sync.web.api import mount_api
from kaufland_sync.web.api.orders import KauflandCarriers
from kaufland_sync.web.app import create_app
from kaufland_sync.web.deps import PROBLEM_MEDIA_TYPE, WebContext
from tests.builders import add_account, at, import_catalogue, new_order
from tests.web.support import RecordingQueue

NOW = at("2026-03-02", "10:00")
CARRIERS = ["DHL", "DPD", "Hermes", "GLS", "Other"]

CATALOGUE = (
    "sku,ean,title,price,currency,stock,warehouse\n"
    "SPADE-1,4006381333931,Garden spade,12.99,EUR,5,default\n"
    "SPADE-1,4006381333931,Garden spade,12.99,EUR,2,prague\n"
    "RAKE-2,4012345678901,Leaf rake,8.50,EUR,0,default\n"
    "HOSE-3,4000000000006,Garden hose 20 m,24.00,EUR,7,default\n"
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    factory: sessionmaker[Session]
    queue: RecordingQueue
    clock: Clock
    tokens: dict[str, str]
    carrier_calls: list[str]

    def headers(self, role: str = "operator") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def get(self, path: str, role: str = "viewer", **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers(role), **kwargs)

    async def put(self, path: str, body: Any, role: str = "operator") -> httpx.Response:
        return await self.client.put(path, json=body, headers=self.headers(role))

    async def post(
        self, path: str, body: Any = None, role: str = "operator", **kwargs: Any
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers(role), **kwargs)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tokens are checked by SHA-256; only creating users hashes a password.
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def make_tokens(factory: sessionmaker[Session]) -> dict[str, str]:
    tokens: dict[str, str] = {}
    with transaction(factory) as session:
        for role in Role:
            user = auth.create_user(session, f"{role.value}-user", role, "p" * 16)
            tokens[role.value] = auth.issue_token(session, user, "tests", now=NOW)
    return tokens


@pytest.fixture
async def api(
    store: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> AsyncIterator[Api]:
    clock = Clock(NOW)
    queue = RecordingQueue(store, clock)
    calls: list[str] = []

    async def carriers(_context: WebContext, account: Account) -> list[str]:
        calls.append(account.name)
        return CARRIERS

    app = create_app(settings, factory=store, queue=queue, clock=clock)
    auth.install_auth(app, settings)
    mount_api(app, carriers=carriers)
    add_account(store, "shop", storefronts=("de", "cz"))
    add_account(store, "outlet")
    import_catalogue(store, CATALOGUE, tmp_path)
    tokens = make_tokens(store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, app, store, queue, clock, tokens, calls)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


# --- the document and authentication -------------------------------------------------------


async def test_the_document_lists_only_the_api_routes(api: Api) -> None:
    response = await api.client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "kaufland-sync REST API"
    assert document["servers"] == [{"url": "/api"}]
    paths = set(document["paths"])
    assert all(path.startswith("/v1/") for path in paths)
    assert {"/v1/accounts", "/v1/products/{sku}/stock", "/v1/stock", "/v1/jobs/{job_id}"} <= paths
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert "Problem" in document["components"]["schemas"]
    # The HTML app's own document and docs pages stay off.
    assert (await api.client.get("/openapi.json")).status_code == 404
    assert (await api.client.get("/api/docs")).status_code == 404


def _concrete(path: str) -> str:
    return "/api" + re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize("credentials", [None, "Bearer ks_wrong", "Basic dXNlcjpwdw=="])
async def test_every_route_refuses_a_request_without_a_valid_token(
    api: Api, credentials: str | None
) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    headers = {"Authorization": credentials} if credentials else {}
    checked = 0
    for path, operations in document["paths"].items():
        for method in operations:
            response = await api.client.request(
                method.upper(), _concrete(path), headers=headers, json={}
            )
            body = assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "token" in body["detail"]
            checked += 1
    assert checked >= 18


async def test_a_revoked_token_or_an_inactive_user_is_refused(api: Api) -> None:
    assert (await api.get("/api/v1/accounts")).status_code == 200
    with transaction(api.factory) as session:
        user = auth.find_user(session, "viewer-user")
        assert user is not None
        auth.revoke_token(session, user, api.tokens["viewer"][:8])
    assert_problem(await api.get("/api/v1/accounts"), 401)
    with transaction(api.factory) as session:
        user = auth.find_user(session, "admin-user")
        assert user is not None
        user.active = False
    assert_problem(await api.get("/api/v1/accounts", role="admin"), 401)


async def test_writes_need_an_operator(api: Api) -> None:
    body = assert_problem(
        await api.put(
            "/api/v1/products/SPADE-1/stock", {"warehouse": "default", "quantity": 1}, "viewer"
        ),
        403,
    )
    assert "operator" in body["detail"]
    assert_problem(
        await api.post("/api/v1/jobs", {"account": "shop", "kind": "stock"}, "viewer"), 403
    )
    assert_problem(await api.client.delete("/api/v1/jobs/1", headers=api.headers("viewer")), 403)
    # An admin may do what an operator may.
    response = await api.put(
        "/api/v1/products/SPADE-1/stock", {"warehouse": "default", "quantity": 1}, "admin"
    )
    assert response.status_code == 200


async def test_errors_are_problems_naming_the_field(api: Api) -> None:
    body = assert_problem(
        await api.put("/api/v1/products/SPADE-1/stock", {"warehouse": "default", "quantity": -1}),
        422,
    )
    assert [e["field"] for e in body["errors"]] == ["body.quantity"]
    assert "body.quantity" in body["detail"]
    body = assert_problem(await api.get("/api/v1/products", params={"limit": 0}), 422)
    assert body["errors"][0]["field"] == "query.limit"
    body = assert_problem(await api.post("/api/v1/jobs", {"account": "shop", "kind": "nap"}), 422)
    assert body["errors"][0]["field"] == "body.kind"
    assert_problem(await api.get("/api/v1/nothing-here"), 404)
    assert_problem(await api.client.patch("/api/v1/accounts", headers=api.headers()), 405)


# --- accounts and offers ---------------------------------------------------------------------


async def test_accounts_show_settings_and_never_a_key(api: Api) -> None:
    response = await api.get("/api/v1/accounts")
    assert response.status_code == 200
    accounts = response.json()
    assert [a["name"] for a in accounts] == ["outlet", "shop"]
    shop = (await api.get("/api/v1/accounts/shop")).json()
    assert [s["storefront"] for s in shop["storefronts"]] == ["cz", "de"]
    assert shop["storefronts"][0]["direction_stock"] == "to_kaufland"
    text = response.text + (await api.get("/api/v1/accounts/shop")).text
    assert "key_shop" not in text and "secret" not in text
    assert_problem(await api.get("/api/v1/accounts/nobody"), 404)


async def test_offers_are_filtered_and_paged(api: Api) -> None:
    with transaction(api.factory) as session:
        accounts = {a.name: a.id for a in session.scalars(select(Account))}
        for sku, state in (("SPADE-1", BindingState.ACTIVE), ("RAKE-2", BindingState.FAILED)):
            session.add(
                OfferBinding(
                    account_id=accounts["shop"],
                    storefront="de",
                    sku=sku,
                    id_unit=7 if state is BindingState.ACTIVE else None,
                    state=state,
                    last_error="EAN refused" if state is BindingState.FAILED else None,
                )
            )
        session.add(OfferBinding(account_id=accounts["outlet"], storefront="de", sku="HOSE-3"))
    page = (await api.get("/api/v1/offers", params={"account": "shop"})).json()
    assert page["total"] == 2
    assert [o["sku"] for o in page["items"]] == ["RAKE-2", "SPADE-1"]
    failed = (await api.get("/api/v1/offers", params={"state": "failed"})).json()
    assert [(o["sku"], o["last_error"]) for o in failed["items"]] == [("RAKE-2", "EAN refused")]
    second = (await api.get("/api/v1/offers", params={"limit": 1, "offset": 1})).json()
    assert second["total"] == 3 and len(second["items"]) == 1 and second["offset"] == 1
    assert_problem(await api.get("/api/v1/offers", params={"storefront": "xx"}), 422)


# --- products, stock and prices --------------------------------------------------------------


async def test_products_are_searched_and_paged_with_their_stock(api: Api) -> None:
    page = (await api.get("/api/v1/products")).json()
    assert page["total"] == 3
    assert [(p["sku"], p["stock"]) for p in page["items"]] == [
        ("HOSE-3", 7),
        ("RAKE-2", 0),
        ("SPADE-1", 7),
    ]
    found = (
        await api.get("/api/v1/products", params={"q": "garden", "limit": 1, "offset": 1})
    ).json()
    assert found["total"] == 2 and [p["sku"] for p in found["items"]] == ["SPADE-1"]
    spade = (await api.get("/api/v1/products/SPADE-1")).json()
    assert spade["price"] == "12.99" and spade["price_minor"] == 1299
    assert [(s["warehouse"], s["quantity"]) for s in spade["stock_levels"]] == [
        ("default", 5),
        ("prague", 2),
    ]
    assert_problem(await api.get("/api/v1/products/NOPE"), 404)


def _updated(factory: sessionmaker[Session], sku: str) -> tuple[datetime, list[datetime]]:
    with factory() as session:
        product = session.scalars(select(Product).where(Product.sku == sku)).one()
        levels = session.scalars(
            select(StockLevel.updated_at).where(StockLevel.product_id == product.id)
        )
        return product.updated_at, sorted(levels)


async def test_stock_pushed_by_an_erp_moves_updated_at_only_when_it_changes(api: Api) -> None:
    product_before, _ = _updated(api.factory, "SPADE-1")
    api.clock.now = at("2026-03-02", "11:00")
    response = await api.put(
        "/api/v1/products/SPADE-1/stock", {"warehouse": "prague", "quantity": 9}
    )
    assert response.status_code == 200
    assert {s["warehouse"]: s["quantity"] for s in response.json()["stock_levels"]} == {
        "default": 5,
        "prague": 9,
    }
    product_after, levels = _updated(api.factory, "SPADE-1")
    assert product_after == product_before  # the product's own data did not change
    assert at("2026-03-02", "11:00").replace(tzinfo=None) in [
        level.replace(tzinfo=None) for level in levels
    ]
    # The same quantity again writes nothing.
    api.clock.now = at("2026-03-02", "12:00")
    await api.put("/api/v1/products/SPADE-1/stock", {"warehouse": "prague", "quantity": 9})
    assert _updated(api.factory, "SPADE-1")[1] == levels
    # A new warehouse is created, as the CSV import does.
    fresh = (
        await api.put("/api/v1/products/RAKE-2/stock", {"warehouse": "brno", "quantity": 3})
    ).json()
    assert {s["warehouse"] for s in fresh["stock_levels"]} == {"default", "brno"}
    assert_problem(
        await api.put("/api/v1/products/NOPE/stock", {"warehouse": "default", "quantity": 1}), 404
    )


async def test_bulk_stock_is_all_or_nothing(api: Api) -> None:
    response = await api.put(
        "/api/v1/stock",
        [
            {"sku": "SPADE-1", "warehouse": "default", "quantity": 5},
            {"sku": "RAKE-2", "warehouse": "default", "quantity": 4},
            {"sku": "HOSE-3", "warehouse": "default", "quantity": 1},
            {"sku": "HOSE-3", "warehouse": "default", "quantity": 2},
        ],
    )
    assert response.json() == {"written": 2, "unchanged": 1}
    body = assert_problem(
        await api.put(
            "/api/v1/stock",
            [
                {"sku": "SPADE-1", "warehouse": "default", "quantity": 0},
                {"sku": "GHOST", "warehouse": "default", "quantity": 1},
            ],
        ),
        422,
    )
    assert body["errors"] == [{"field": "body.1.sku", "message": "unknown SKU 'GHOST'"}]
    stock = (await api.get("/api/v1/products/SPADE-1")).json()["stock_levels"]
    assert {s["warehouse"]: s["quantity"] for s in stock}["default"] == 5  # nothing written
    assert_problem(await api.put("/api/v1/stock", []), 422)


async def test_a_price_change_moves_updated_at_and_the_content_hash(api: Api) -> None:
    with api.factory() as session:
        before = session.scalars(select(Product).where(Product.sku == "SPADE-1")).one()
        old_hash, old_updated = before.content_hash, before.updated_at
    api.clock.now = at("2026-03-02", "11:00")
    response = await api.put(
        "/api/v1/products/SPADE-1/price", {"price": "13.49", "currency": "EUR"}
    )
    assert response.status_code == 200
    assert response.json()["price"] == "13.49" and response.json()["price_minor"] == 1349
    with api.factory() as session:
        after = session.scalars(select(Product).where(Product.sku == "SPADE-1")).one()
        assert after.content_hash != old_hash
        assert after.updated_at != old_updated
        moved = after.updated_at
    # The same price again is no change.
    api.clock.now = at("2026-03-02", "12:00")
    await api.put("/api/v1/products/SPADE-1/price", {"price": 13.49, "currency": "EUR"})
    with api.factory() as session:
        again = session.scalars(select(Product).where(Product.sku == "SPADE-1")).one()
        assert again.updated_at == moved
    body = assert_problem(
        await api.put("/api/v1/products/SPADE-1/price", {"price": "1.234", "currency": "EUR"}), 422
    )
    assert body["errors"][0]["field"] == "body.price"
    assert_problem(
        await api.put("/api/v1/products/SPADE-1/price", {"price": "1", "currency": "USD"}), 422
    )


# --- orders ----------------------------------------------------------------------------------


def _orders(api: Api) -> dict[str, list[int]]:
    with transaction(api.factory) as session:
        shop = session.scalars(select(Account).where(Account.name == "shop")).one()
        outlet = session.scalars(select(Account).where(Account.name == "outlet")).one()
        first = new_order(
            session,
            shop,
            "MXQ7",
            "de",
            at("2026-03-01"),
            [
                {"sku": "SPADE-1", "status": "need_to_be_sent", "price": 1299},
                {"sku": "RAKE-2", "status": "need_to_be_sent", "price": 850},
            ],
        )
        first.status = "need_to_be_sent"
        later = new_order(
            session, shop, "MXQ8", "cz", at("2026-03-02"), [{"sku": "HOSE-3", "status": "open"}]
        )
        later.status = "open"
        new_order(
            session, outlet, "MXQ8", "de", at("2026-02-01"), [{"sku": "HOSE-3", "status": "open"}]
        )
        return {o.id_order: [line.id_order_unit for line in o.lines] for o in (first, later)}


async def test_orders_are_listed_newest_first_and_shown_with_their_lines(api: Api) -> None:
    units = _orders(api)
    page = (await api.get("/api/v1/orders")).json()
    assert [(o["account"], o["id_order"], o["units"]) for o in page["items"]] == [
        ("shop", "MXQ8", 1),
        ("shop", "MXQ7", 2),
        ("outlet", "MXQ8", 1),
    ]
    recent = (await api.get("/api/v1/orders", params={"since": "2026-03-01T00:00:00Z"})).json()
    assert recent["total"] == 2
    assert (await api.get("/api/v1/orders", params={"account": "outlet"})).json()["total"] == 1
    assert (await api.get("/api/v1/orders", params={"status": "open"})).json()["total"] == 1
    order = (await api.get("/api/v1/orders/MXQ7")).json()
    assert [(line["id_order_unit"], line["status"], line["price"]) for line in order["lines"]] == [
        (units["MXQ7"][0], "need_to_be_sent", 1299),
        (units["MXQ7"][1], "need_to_be_sent", 850),
    ]
    body = assert_problem(await api.get("/api/v1/orders/MXQ8"), 409)
    assert "outlet" in body["detail"] and "shop" in body["detail"]
    assert (await api.get("/api/v1/orders/MXQ8", params={"account": "outlet"})).json()[
        "account"
    ] == ("outlet")
    assert_problem(await api.get("/api/v1/orders/NOPE"), 404)


async def test_a_shipment_is_queued_in_the_outbox_and_an_outbox_job_submitted(api: Api) -> None:
    units = _orders(api)
    response = await api.post(
        "/api/v1/orders/MXQ7/shipments",
        {"carrier": "dhl", "tracking_numbers": ["00340434161094042557"]},
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert [(m["action"], m["target"], m["new"]) for m in answer["messages"]] == [
        ("send", str(unit), True) for unit in units["MXQ7"]
    ]
    assert api.carrier_calls == ["shop"]
    with api.factory() as session:
        messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [m.id for m in messages] == [m["message_id"] for m in answer["messages"]]
        assert messages[0].payload["carrier_code"] == "DHL"
    assert [(s.kind, s.trigger) for s in api.queue.submits] == [(JobKind.OUTBOX, JobTrigger.MANUAL)]
    assert answer["job_id"] == api.queue.submits[0].job_id
    # The same command again finds the same messages.
    again = (
        await api.post(
            "/api/v1/orders/MXQ7/shipments",
            {"carrier": "DHL", "tracking_numbers": ["00340434161094042557"]},
        )
    ).json()
    assert [m["new"] for m in again["messages"]] == [False, False]


async def test_an_unknown_carrier_is_refused_with_the_closest_names(api: Api) -> None:
    _orders(api)
    body = assert_problem(
        await api.post(
            "/api/v1/orders/MXQ7/shipments", {"carrier": "DHX", "tracking_numbers": ["1"]}
        ),
        422,
    )
    assert body["errors"][0]["field"] == "body.carrier"
    assert "DHL" in body["detail"]
    body = assert_problem(await api.post("/api/v1/orders/MXQ7/shipments", {"carrier": "DHL"}), 422)
    assert body["errors"][0]["field"] == "body.tracking_numbers"
    with api.factory() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
    assert api.queue.submits == []
    assert_problem(await api.post("/api/v1/orders/NOPE/shipments", {"carrier": "DHL"}), 404)
    assert_problem(
        await api.post("/api/v1/orders/MXQ7/shipments", {"carrier": "DHL"}, role="viewer"), 403
    )


async def test_a_cancellation_is_queued(api: Api) -> None:
    units = _orders(api)
    response = await api.post(
        "/api/v1/orders/MXQ8/cancel",
        {"reason": "out of stock", "units": units["MXQ8"]},
        params={"account": "shop"},
    )
    assert response.status_code == 202, response.text
    assert [m["action"] for m in response.json()["messages"]] == ["cancel"]
    body = assert_problem(
        await api.post("/api/v1/orders/MXQ7/cancel", {"reason": "out of stock", "units": [1]}), 422
    )
    assert body["errors"][0]["field"] == "body.units"


# --- returns ---------------------------------------------------------------------------------


async def test_returns_are_listed_and_shown(api: Api) -> None:
    with transaction(api.factory) as session:
        shop = session.scalars(select(Account).where(Account.name == "shop")).one()
        for id_return, status in ((501, "open"), (502, "closed")):
            item = Return(
                account_id=shop.id,
                id_return=id_return,
                storefront="de",
                status=status,
                ts_created=at("2026-03-01", f"1{id_return % 10}:00"),
                raw={},
            )
            session.add(item)
            session.flush()
            session.add(
                ReturnUnit(
                    return_id=item.id,
                    id_return_unit=id_return * 10,
                    status="return_requested",
                    reason="product_broken",
                    raw={},
                )
            )
    page = (await api.get("/api/v1/returns")).json()
    assert [r["id_return"] for r in page["items"]] == [502, 501]
    assert (await api.get("/api/v1/returns", params={"status": "open"})).json()["total"] == 1
    one = (await api.get("/api/v1/returns/501")).json()
    assert [(u["id_return_unit"], u["reason"]) for u in one["units"]] == [(5010, "product_broken")]
    assert_problem(await api.get("/api/v1/returns/999"), 404)


# --- jobs ------------------------------------------------------------------------------------


async def test_jobs_are_queued_listed_retried_and_dropped(api: Api) -> None:
    response = await api.post("/api/v1/jobs", {"account": "shop", "kind": "stock"})
    assert response.status_code == 202
    job = response.json()
    assert (job["kind"], job["trigger"], job["state"]) == ("stock", "manual", "queued")
    assert response.headers["x-job-created"] == "true"
    again = await api.post("/api/v1/jobs", {"account": "shop", "kind": "stock"})
    assert again.json()["id"] == job["id"] and again.headers["x-job-created"] == "false"
    assert_problem(await api.post("/api/v1/jobs", {"account": "nobody", "kind": "stock"}), 404)

    # A failed job of another kind, to retry.
    with transaction(api.factory) as session:
        shop = session.scalars(select(Account).where(Account.name == "shop")).one()
        failed = ledger.enqueue(
            session, account_id=shop.id, kind=JobKind.ORDERS, trigger=JobTrigger.SCHEDULE, now=NOW
        ).job_id
        row = session.get_one(Job, failed)
        row.state = JobState.FAILED
        row.last_error = "Kaufland answered 503"
    listed = (await api.get("/api/v1/jobs", params={"state": ["failed"]})).json()
    assert [(j["id"], j["last_error"]) for j in listed["items"]] == [
        (failed, "Kaufland answered 503")
    ]
    assert (await api.get("/api/v1/jobs", params={"kind": "stock", "account": "shop"})).json()[
        "total"
    ] == 1
    retried = await api.post(f"/api/v1/jobs/{failed}/retry")
    assert retried.status_code == 202
    assert (retried.json()["id"], retried.json()["state"]) == (failed, "queued")
    assert_problem(await api.post(f"/api/v1/jobs/{failed}/retry"), 409)

    dropped = await api.client.delete(f"/api/v1/jobs/{job['id']}", headers=api.headers())
    assert dropped.status_code == 200 and dropped.json()["state"] == "dropped"
    assert_problem(await api.client.delete(f"/api/v1/jobs/{job['id']}", headers=api.headers()), 409)
    assert_problem(await api.client.delete("/api/v1/jobs/99999", headers=api.headers()), 404)
    assert (await api.get(f"/api/v1/jobs/{failed}")).json()["kind"] == "orders"


async def test_a_queue_that_is_down_is_a_503_problem(api: Api) -> None:
    api.queue.broken = True
    body = assert_problem(
        await api.post("/api/v1/jobs", {"account": "shop", "kind": "offers"}), 503
    )
    assert "queue" in body["detail"]


async def test_the_default_carrier_list_falls_back_to_the_carriers_used_before(api: Api) -> None:
    # The test account's stored secret is no Fernet token: Kaufland cannot be asked, so the
    # carriers Kaufland accepted from the account before are used, as `orders ship` does.
    context: WebContext = api.app.state.kaufland
    with api.factory() as session:
        shop = session.scalars(select(Account).where(Account.name == "shop")).one()
    assert await KauflandCarriers()(context, shop) == ["Other", "Other Hauler"]
