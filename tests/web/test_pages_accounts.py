"""The Accounts pages (``web/pages/accounts.py``) through the whole app (``ui=True``) on SQLite:
who may read and change what, CSRF, forms that name the bad field and change nothing, the
secret key encrypted at rest and never in a page, storefront settings and sync directions, job
schedules, and Test Connection against the sandbox served over loopback HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.accounts import AccountService
from kaufland_sync.config import Settings
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials
from kaufland_sync.secrets import secret_box
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, Environment, SyncDirection
from kaufland_sync.store.models.jobs import Job, JobKind, JobSchedule, JobState, JobTrigger
from tests.builders import at
from tests.web.support import RecordingQueue, add_users, client_of, csrf_in, page_app, sign_in

NOW = at("2026-03-10", "15:30")
SELLER_KEY = "web_accounts_client_key_000000001"
SELLER_SECRET = "web_accounts_secret_" + "a" * 44
OTHER_SECRET = "a-completely-different-secret-" + "b" * 30


pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """Kaufland's stand-in over loopback HTTP; its seller sells on de and cz only."""
    config = SandboxConfig(
        sellers=[SellerCredentials(SELLER_KEY, SELLER_SECRET, ("de", "cz"))], seed="empty"
    )
    with RunningSandbox(config) as running:
        yield running


@pytest.fixture
def queue(store: sessionmaker[Session]) -> RecordingQueue:
    return RecordingQueue(store, lambda: NOW)


@pytest.fixture
def app(settings: Settings, store: sessionmaker[Session], queue: RecordingQueue) -> FastAPI:
    add_users(store)
    return page_app(settings, store, lambda: NOW, queue)


@asynccontextmanager
async def browser(app: FastAPI, name: str | None) -> AsyncIterator[httpx.AsyncClient]:
    """A client with its own cookies, signed in through the login form as ``name``."""
    async with client_of(app) as client:
        if name is not None:
            await sign_in(client, name)
        yield client


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app, "ada") as client:
        yield client


@pytest.fixture
async def operator(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app, "otto") as client:
        yield client


@pytest.fixture
async def viewer(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app, "vera") as client:
        yield client


def csrf(page: httpx.Response) -> str:
    """The CSRF token a page carries (meta tag, or the login form's hidden field)."""
    return csrf_in(page.text)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, page: str = "/accounts"
) -> httpx.Response:
    """Submit a form the way the browser does: with the token of a page it just loaded."""
    token = csrf(await client.get(page))
    return await client.post(path, data={**data, "csrf_token": token})


def add_account(
    store: sessionmaker[Session],
    settings: Settings,
    name: str = "shop",
    *,
    base_url: str = "http://127.0.0.1:9/v2",
    secret: str = SELLER_SECRET,
    client_key: str = SELLER_KEY,
    storefronts: tuple[str, ...] = ("de", "cz"),
) -> None:
    with transaction(store) as session:
        AccountService(AccountRepository(session), secret_box(settings)).add(
            name,
            client_key=client_key,
            secret_key=secret,
            environment=Environment.CUSTOM,
            base_url=base_url,
            storefronts=storefronts,
        )


def load(store: sessionmaker[Session], name: str = "shop") -> Account | None:
    with store() as session:
        account = session.scalar(select(Account).where(Account.name == name))
        if account is not None:
            session.expunge(account)
        return account


def snapshot(store: sessionmaker[Session], name: str = "shop") -> dict[str, Any]:
    """Everything the pages may change about an account, to prove a refusal changed nothing."""
    with store() as session:
        account = session.scalars(select(Account).where(Account.name == name)).one()
        return {
            "account": {
                c: getattr(account, c)
                for c in (
                    "client_key",
                    "secret_key_encrypted",
                    "environment",
                    "base_url",
                    "base_currency",
                    "restock_returns",
                )
            },
            "storefronts": {
                s.storefront.value: {
                    c.key: getattr(s, c.key)
                    for c in s.__table__.columns
                    if c.key not in ("updated_at", "created_at")
                }
                | {"warehouses": s.warehouse_map()}
                for s in account.storefronts
            },
            "schedules": {
                s.kind.value: s.interval_minutes
                for s in session.scalars(
                    select(JobSchedule).where(JobSchedule.account_id == account.id)
                )
            },
        }


NEW_ACCOUNT = {
    "name": "shop",
    "client_key": SELLER_KEY,
    "secret_key": SELLER_SECRET,
    "environment": "custom",
    "base_url": "http://127.0.0.1:9/v2",
    "storefront": ["de", "cz"],
    "base_currency": "CZK",
    "restock_returns": "on",
}


# ---------------------------------------------------------------------------------------------
# Reading, roles


async def test_a_visitor_is_sent_to_sign_in(app: FastAPI) -> None:
    async with browser(app, None) as client:
        answer = await client.get("/accounts")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Faccounts"
        answer = await client.post("/accounts/_new", data=NEW_ACCOUNT)
        assert answer.status_code == 403  # no session, so no CSRF token either
    with app.state.kaufland.factory() as session:
        assert list(session.scalars(select(Account.name))) == []


async def test_the_list_shows_accounts_to_a_viewer_without_keys(
    viewer: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    add_account(store, settings)
    with transaction(store) as session:
        account = session.scalars(select(Account)).one()
        account.push_callback_url = "https://shop.example/webhooks/kaufland/shop"
        session.add(
            Job(
                kind=JobKind.ORDERS,
                account_id=account.id,
                trigger=JobTrigger.SCHEDULE,
                state=JobState.DONE,
                enqueued_at=at("2026-03-10", "15:00"),
                not_before=at("2026-03-10", "15:00"),
                finished_at=at("2026-03-10", "15:01"),
            )
        )
    page = await viewer.get("/accounts")
    assert page.status_code == 200
    html = page.text
    assert 'href="/accounts/shop"' in html
    assert "CZ · CZK" in html and "DE · EUR" in html
    assert "custom" in html and "http://127.0.0.1:9/v2" in html
    assert "2026-03-10 15:01 UTC" in html  # the last successful orders job
    assert ">on<" in html  # push notifications
    assert SELLER_SECRET not in html and SELLER_KEY not in html
    assert 'href="/accounts/_new"' not in html  # only admins add

    detail = await viewer.get("/accounts/shop")
    assert detail.status_code == 200
    assert SELLER_SECRET not in detail.text and SELLER_KEY not in detail.text
    assert SELLER_KEY[-4:] in detail.text  # masked: the last characters only
    assert "Test connection" not in detail.text  # viewers do not call Kaufland
    assert 'action="/accounts/shop/storefronts/de"' not in detail.text  # nor change settings
    assert (await viewer.get("/accounts/shop/edit")).status_code == 403
    assert (await viewer.get("/accounts/_new")).status_code == 403
    assert (await viewer.get("/accounts/nobody")).status_code == 404


async def test_viewers_and_operators_change_nothing(
    viewer: httpx.AsyncClient,
    operator: httpx.AsyncClient,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_account(store, settings)
    before = snapshot(store)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("/accounts/_new", NEW_ACCOUNT | {"name": "second"}),
        ("/accounts/shop/edit", {"client_key": "x", "environment": "playground"}),
        ("/accounts/shop/storefronts", {"storefront": "sk"}),
        ("/accounts/shop/storefronts/de", {"direction_stock": "off"}),
        ("/accounts/shop/storefronts/cz/remove", {}),
        ("/accounts/shop/schedules", {"interval_orders": "60"}),
    ]
    for client in (viewer, operator):
        for path, data in attempts:
            answer = await post_form(client, path, data)
            assert answer.status_code == 403, (path, answer.text)
    assert snapshot(store) == before
    assert load(store, "second") is None


# ---------------------------------------------------------------------------------------------
# Adding


async def test_an_admin_adds_an_account_whose_secret_is_stored_encrypted(
    admin: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    form = await admin.get("/accounts/_new")
    assert form.status_code == 200
    assert 'name="secret_key" type="password" value=""' in form.text
    answer = await post_form(admin, "/accounts/_new", NEW_ACCOUNT, page="/accounts/_new")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/accounts/shop?added=1"

    account = load(store)
    assert account is not None
    assert account.environment is Environment.CUSTOM
    assert account.base_url == "http://127.0.0.1:9/v2"
    assert account.base_currency == "CZK"
    assert account.restock_returns is True
    assert [s.storefront for s in account.storefronts] == [Storefront.CZ, Storefront.DE]
    assert SELLER_SECRET not in account.secret_key_encrypted
    assert (
        secret_box(settings).decrypt(account.secret_key_encrypted, account="shop") == SELLER_SECRET
    )

    for path in ("/accounts/shop?added=1", "/accounts", "/accounts/shop/edit"):
        page = await admin.get(path)
        assert page.status_code == 200
        assert SELLER_SECRET not in page.text, path
    assert "Added the account" in (await admin.get("/accounts/shop?added=1")).text


async def test_production_and_playground_need_no_base_url(
    admin: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    for name, environment in (("live", "production"), ("test", "playground")):
        data = NEW_ACCOUNT | {
            "name": name,
            "environment": environment,
            "base_url": "",
            "client_key": f"key_{name}",
        }
        answer = await post_form(admin, "/accounts/_new", data)
        assert answer.status_code == 303, answer.text
        account = load(store, name)
        assert account is not None
        assert account.environment.value == environment
        assert account.base_url is None


async def test_bad_input_names_each_field_and_adds_nothing(
    admin: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    answer = await post_form(
        admin,
        "/accounts/_new",
        {
            "name": "no spaces please",
            "client_key": "",
            "secret_key": SELLER_SECRET,
            "environment": "custom",
            "base_url": "",
            "base_currency": "USD",
        },
    )
    assert answer.status_code == 422
    html = answer.text
    assert "was not saved" in html
    assert "Name: use 1-64 letters" in html
    assert "Client key: must not be empty" in html
    assert "Base URL: required for the" in html
    assert "Storefronts: choose at least one storefront" in html
    assert "Catalogue currency: USD — must be one of EUR, CZK, PLN" in html
    assert 'aria-invalid="true" aria-describedby="account-name-error"' in html
    assert SELLER_SECRET not in html  # a refused form does not echo the secret key
    assert 'value="no spaces please"' in html  # what was typed is kept
    assert load_names_of(store) == []

    answer = await post_form(
        admin, "/accounts/_new", NEW_ACCOUNT | {"base_url": "ftp://example.com/v2"}
    )
    assert answer.status_code == 422
    assert "Base URL: ftp://example.com/v2 — must be an absolute http(s) URL" in answer.text
    answer = await post_form(admin, "/accounts/_new", NEW_ACCOUNT | {"secret_key": ""})
    assert answer.status_code == 422
    assert "Secret key: must not be empty" in answer.text
    answer = await post_form(
        admin,
        "/accounts/_new",
        NEW_ACCOUNT | {"client_key": "k" * 129, "base_url": "http://x.test/" + "v" * 500},
    )
    assert answer.status_code == 422
    assert "Client key: is 129 characters long; at most 128 fit" in answer.text
    assert "Base URL: is 514 characters long; at most 500 fit" in answer.text
    assert load_names_of(store) == []


def load_names_of(store: sessionmaker[Session]) -> list[str]:
    with store() as session:
        return list(session.scalars(select(Account.name)))


async def test_a_taken_name_or_seller_is_refused_by_name(
    admin: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    add_account(store, settings)
    answer = await post_form(admin, "/accounts/_new", NEW_ACCOUNT | {"client_key": "another"})
    assert answer.status_code == 422
    assert "Name: shop — an account with this name already exists" in answer.text
    answer = await post_form(admin, "/accounts/_new", NEW_ACCOUNT | {"name": "twin"})
    assert answer.status_code == 422
    assert "Client key: account &#39;shop&#39; already uses this client key" in answer.text
    assert load_names_of(store) == ["shop"]


async def test_a_post_without_the_csrf_token_is_refused(
    admin: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    answer = await admin.post("/accounts/_new", data=NEW_ACCOUNT)
    assert answer.status_code == 403
    answer = await admin.post("/accounts/_new", data=NEW_ACCOUNT | {"csrf_token": "forged"})
    assert answer.status_code == 403
    assert load_names_of(store) == []
    add_account(store, settings)
    before = snapshot(store)
    for path in (
        "/accounts/shop/edit",
        "/accounts/shop/storefronts/de",
        "/accounts/shop/schedules",
        "/accounts/shop/test",
    ):
        assert (await admin.post(path, data={"environment": "playground"})).status_code == 403
    assert snapshot(store) == before


# ---------------------------------------------------------------------------------------------
# Editing


async def test_editing_keeps_the_secret_unless_a_new_one_is_given(
    admin: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    add_account(store, settings)
    stored = snapshot(store)["account"]["secret_key_encrypted"]
    page = await admin.get("/accounts/shop/edit")
    assert page.status_code == 200
    assert f'value="{SELLER_KEY}"' in page.text  # admins see the client key to edit it
    assert SELLER_SECRET not in page.text

    edit = {
        "client_key": SELLER_KEY,
        "secret_key": "",
        "environment": "playground",
        "base_url": "",
        "base_currency": "",
    }
    answer = await post_form(admin, "/accounts/shop/edit", edit)
    assert answer.status_code == 303, answer.text
    account = load(store)
    assert account is not None
    assert account.environment is Environment.PLAYGROUND and account.base_url is None
    assert account.secret_key_encrypted == stored  # kept as it was
    assert account.restock_returns is False

    edit |= {"secret_key": OTHER_SECRET, "environment": "custom", "base_url": "http://x.test/v2"}
    answer = await post_form(admin, "/accounts/shop/edit", edit | {"restock_returns": "on"})
    assert answer.status_code == 303, answer.text
    account = load(store)
    assert account is not None
    assert (
        secret_box(settings).decrypt(account.secret_key_encrypted, account="shop") == OTHER_SECRET
    )
    assert account.base_url == "http://x.test/v2" and account.restock_returns is True


async def test_a_refused_edit_changes_nothing(
    admin: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    add_account(store, settings)
    add_account(store, settings, "other", client_key="key_other", base_url="http://o.test/v2")
    before = snapshot(store)
    for edit, message in [
        (
            {"client_key": SELLER_KEY, "environment": "custom", "base_currency": "GBP"},
            "Catalogue currency: GBP — must be one of",
        ),
        (
            {"client_key": "", "environment": "production", "secret_key": OTHER_SECRET},
            "Client key: must not be empty (copy it from the seller portal)",
        ),
        (
            # The other account's seller: one seller is one account.
            {
                "client_key": "key_other",
                "environment": "custom",
                "base_url": "http://o.test/v2",
                "secret_key": OTHER_SECRET,
            },
            "Client key: account &#39;other&#39; already uses this client key",
        ),
    ]:
        answer = await post_form(admin, "/accounts/shop/edit", edit)
        assert answer.status_code == 422, answer.text
        assert message in answer.text
        assert OTHER_SECRET not in answer.text
        assert snapshot(store) == before
    answer = await post_form(admin, "/accounts/ghost/edit", {"client_key": "k"})
    assert answer.status_code == 404


# ---------------------------------------------------------------------------------------------
# Storefronts, their settings and sync directions


def storefront_form(**changes: str) -> dict[str, str]:
    form = {
        "direction_offers": "to_kaufland",
        "direction_stock": "to_kaufland",
        "direction_prices": "to_kaufland",
        "direction_orders": "from_kaufland",
        "currency_rate": "1",
        "rounding": "0.01",
        "markup_percent": "0",
        "buffer_stock": "0",
        "max_stock": "",
        "handling_time": "",
        "id_shipping_group": "",
        "condition": "",
        "vat_indicator": "",
        "minimum_price_percent": "",
        "on_deactivate": "onhold",
        "warehouses": "",
    }
    form.update(changes)
    return form


async def test_storefront_settings_and_directions_are_saved(
    admin: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    add_account(store, settings)
    page = await admin.get("/accounts/shop")
    assert 'action="/accounts/shop/storefronts/cz"' in page.text
    form = storefront_form(
        direction_stock="off",
        direction_orders="both",
        currency_rate="25,2",
        rounding="1",
        markup_percent="5.5",
        buffer_stock="2",
        max_stock="40",
        handling_time="3",
        condition="NEW",
        vat_indicator="standard_rate",
        minimum_price_percent="90",
        use_minimum_price="on",
        on_deactivate="delete",
        warehouses="main=1001\n\n  north = 1002 ",
    )
    answer = await post_form(admin, "/accounts/shop/storefronts/cz", form)
    assert answer.status_code == 303, answer.text
    account = load(store)
    assert account is not None
    cz = account.storefront("cz")
    assert cz is not None
    assert cz.direction("stock") is SyncDirection.OFF
    assert cz.direction("orders") is SyncDirection.BOTH
    assert str(cz.currency_rate) == "25.2" and cz.rounding == "1"
    assert (cz.buffer_stock, cz.max_stock, cz.handling_time) == (2, 40, 3)
    assert cz.use_minimum_price and str(cz.minimum_price_percent) == "90"
    assert cz.warehouse_map() == {"main": 1001, "north": 1002}
    html = (await admin.get("/accounts/shop")).text
    assert "both ways" in html and "main=1001" in html

    # Emptying optional fields clears them; a dropped warehouse line unmaps it.
    answer = await post_form(
        admin, "/accounts/shop/storefronts/cz", storefront_form(warehouses="main=1001")
    )
    assert answer.status_code == 303, answer.text
    cz = load(store).storefront("cz")  # type: ignore[union-attr]
    assert cz is not None
    assert (cz.max_stock, cz.handling_time, cz.condition, cz.use_minimum_price) == (
        None,
        None,
        None,
        False,
    )
    assert cz.warehouse_map() == {"main": 1001}


async def test_bad_storefront_settings_name_every_field_and_change_nothing(
    admin: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    add_account(store, settings)
    before = snapshot(store)
    form = storefront_form(
        direction_stock="sideways",
        currency_rate="abc",
        rounding="0.5x",
        handling_time="500",
        buffer_stock="-1",
        use_minimum_price="on",
        warehouses="main=1001\nbroken",
    )
    answer = await post_form(admin, "/accounts/shop/storefronts/de", form)
    assert answer.status_code == 422
    html = answer.text
    assert "Storefront DE of shop was not saved" in html
    for message in (
        "Stock direction: sideways — must be one of to_kaufland",
        "Currency rate: abc — must be a decimal number",
        "Rounding: 0.5x",
        "Handling time: 500 — must be between 0 and 100",
        "Buffer stock: -1 — must be 0 or more",
        "Send a minimum price: true — needs minimum_price_percent as well",
        "Warehouses: line 2 (broken) — write LOCAL=ID",
    ):
        assert message in html, message
    assert 'value="abc"' in html  # what was typed is shown again
    assert snapshot(store) == before


async def test_storefronts_are_added_and_removed(
    admin: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    add_account(store, settings)
    answer = await post_form(admin, "/accounts/shop/storefronts", {"storefront": "sk"})
    assert answer.status_code == 303, answer.text
    account = load(store)
    assert account is not None
    assert sorted(s.storefront.value for s in account.storefronts) == ["cz", "de", "sk"]

    answer = await post_form(admin, "/accounts/shop/storefronts", {"storefront": "de"})
    assert answer.status_code == 422
    assert "account shop already sells on de" in answer.text
    answer = await post_form(admin, "/accounts/shop/storefronts", {"storefront": "xx"})
    assert answer.status_code == 422
    assert "Storefront: unknown storefront &#39;xx&#39;" in answer.text

    answer = await post_form(admin, "/accounts/shop/storefronts/cz/remove", {})
    assert answer.status_code == 422
    assert "Storefront CZ of shop: tick the box to confirm" in answer.text
    answer = await post_form(admin, "/accounts/shop/storefronts/cz/remove", {"confirm": "yes"})
    assert answer.status_code == 303, answer.text
    account = load(store)
    assert account is not None
    assert sorted(s.storefront.value for s in account.storefronts) == ["de", "sk"]
    answer = await post_form(admin, "/accounts/shop/storefronts/cz/remove", {"confirm": "yes"})
    assert answer.status_code == 422
    assert "does not sell on storefront &#39;cz&#39;" in answer.text


# ---------------------------------------------------------------------------------------------
# Schedules


async def test_schedules_show_defaults_and_an_admin_changes_them(
    admin: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_account(store, settings)
    page = (await viewer.get("/accounts/shop")).text
    assert "Orders (import)" in page and "every 5 min" in page and "every 60 min" in page
    assert snapshot(store)["schedules"] == {}  # reading writes nothing

    answer = await post_form(
        admin,
        "/accounts/shop/schedules",
        {"interval_offers": "5", "interval_tickets": "0", "interval_orders": "5"},
    )
    assert answer.status_code == 303, answer.text
    schedules = snapshot(store)["schedules"]
    assert schedules["offers"] == 5 and schedules["tickets"] == 0 and schedules["orders"] == 5
    with store() as session:
        offers = session.scalars(
            select(JobSchedule).where(JobSchedule.kind == JobKind.OFFERS)
        ).one()
        assert offers.next_due_at <= NOW.replace(minute=35)
    page = (await admin.get("/accounts/shop")).text
    assert re.search(r'<option value="0" selected>off</option>', page)

    before = snapshot(store)
    answer = await post_form(
        admin, "/accounts/shop/schedules", {"interval_offers": "60", "interval_stock": "7"}
    )
    assert answer.status_code == 422
    assert "Stock (push amounts): 7 — choose every 5, 15 or 60 minutes, or off" in answer.text
    assert snapshot(store) == before  # offers was not changed either


async def test_an_operator_queues_a_job_now(
    operator: httpx.AsyncClient,
    queue: RecordingQueue,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_account(store, settings)
    token = csrf(await operator.get("/accounts/shop"))
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    answer = await operator.post("/accounts/shop/jobs/stock", headers=headers)
    assert answer.status_code == 200
    assert "Queued job" in answer.text
    again = await operator.post("/accounts/shop/jobs/stock", headers=headers)
    assert "Already queued as job" in again.text
    assert [(s.kind, s.trigger, s.created) for s in queue.submits] == [
        (JobKind.STOCK, JobTrigger.MANUAL, True),
        (JobKind.STOCK, JobTrigger.MANUAL, False),
    ]
    assert (await operator.post("/accounts/shop/jobs/nonsense", headers=headers)).status_code == 404


async def test_run_now_works_without_scripts(
    admin: httpx.AsyncClient,
    operator: httpx.AsyncClient,
    queue: RecordingQueue,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    """The button posts to the job address itself: an operator's sits in a form of its own; an
    admin's sits in the schedules form (forms do not nest) and borrows it with ``formaction``,
    so the schedule fields come along and change nothing. The page answers with the notice."""
    add_account(store, settings)
    page = (await operator.get("/accounts/shop")).text
    assert '<form method="post" action="/accounts/shop/jobs/stock"' in page
    answer = await post_form(operator, "/accounts/shop/jobs/stock", {}, page="/accounts/shop")
    assert answer.status_code == 200
    assert re.search(r'id="account-notice">Queued job \d+: stock\.</p>', answer.text)

    page = (await admin.get("/accounts/shop")).text
    assert 'formaction="/accounts/shop/jobs/orders" formmethod="post"' in page
    before = snapshot(store)["schedules"]
    answer = await post_form(
        admin,
        "/accounts/shop/jobs/orders",
        {"interval_orders": "0", "interval_stock": "60"},
        page="/accounts/shop",
    )
    assert re.search(r'id="account-notice">Queued job \d+: orders\.</p>', answer.text)
    assert snapshot(store)["schedules"] == before
    assert [(s.kind, s.created) for s in queue.submits] == [
        (JobKind.STOCK, True),
        (JobKind.ORDERS, True),
    ]


async def test_the_schedule_table_shows_last_runs_and_queued_jobs(
    viewer: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    add_account(store, settings)
    add_account(store, settings, "other", client_key="key_other")
    with transaction(store) as session:
        shop, other = (
            session.scalars(select(Account).where(Account.name == n)).one()
            for n in ("shop", "other")
        )
        runs = [
            (shop, JobKind.ORDERS, JobState.DONE, "14:01", None),
            (shop, JobKind.STOCK, JobState.DONE, "13:01", None),
            (shop, JobKind.STOCK, JobState.FAILED, "14:31", "timed out talking to Kaufland"),
            (shop, JobKind.RETURNS, JobState.QUEUED, None, None),
            (other, JobKind.OFFERS, JobState.DONE, "15:11", None),
        ]
        for account, kind, state, finished, error in runs:
            session.add(
                Job(
                    kind=kind,
                    account_id=account.id,
                    trigger=JobTrigger.SCHEDULE,
                    state=state,
                    enqueued_at=at("2026-03-10", "12:00"),
                    not_before=at("2026-03-10", "12:00"),
                    finished_at=at("2026-03-10", finished) if finished else None,
                    last_error=error,
                )
            )
    html = (await viewer.get("/accounts/shop")).text
    rows = dict(re.findall(r'<tr data-kind="(\w+)">(.*?)</tr>', html, flags=re.S))
    assert "2026-03-10 14:01 UTC" in rows["orders"]
    assert "2026-03-10 13:01 UTC" in rows["stock"]  # the last success...
    assert "failed" in rows["stock"] and "timed out talking to Kaufland" in rows["stock"]
    assert "queued" in rows["returns"] and "never" in rows["returns"]
    assert "15:11" not in rows["offers"]  # another account's run
    assert "<select" not in html.split('id="schedules"')[1]  # viewers read the intervals


# ---------------------------------------------------------------------------------------------
# Test Connection, against the sandbox over loopback HTTP


async def run_test(client: httpx.AsyncClient, name: str = "shop") -> httpx.Response:
    token = csrf(await client.get(f"/accounts/{name}"))
    return await client.post(
        f"/accounts/{name}/test", headers={"HX-Request": "true", "X-CSRF-Token": token}
    )


async def test_test_connection_says_connected(
    operator: httpx.AsyncClient,
    sandbox: RunningSandbox,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_account(store, settings, base_url=sandbox.base_url)
    answer = await run_test(operator)
    assert answer.status_code == 200, answer.text
    assert 'data-level="ok"' in answer.text
    assert "Connected: storefronts cz, de available; clock within 2 s" in answer.text
    assert "<html" not in answer.text  # a fragment for htmx
    assert SELLER_SECRET not in answer.text


async def test_test_connection_explains_a_wrong_secret(
    admin: httpx.AsyncClient,
    sandbox: RunningSandbox,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_account(store, settings, base_url=sandbox.base_url, secret=OTHER_SECRET)
    answer = await run_test(admin)
    assert answer.status_code == 200
    assert 'data-level="error"' in answer.text
    assert "The secret key is wrong: Kaufland refused the signature" in answer.text
    assert "Copy both keys again from the seller portal" in answer.text
    assert OTHER_SECRET not in answer.text


async def test_test_connection_names_what_else_is_wrong(
    operator: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    sandbox: RunningSandbox,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_account(store, settings, base_url=sandbox.base_url, storefronts=("de", "pl"))
    answer = await run_test(operator)
    assert "Connected, but storefront pl is not set up for this seller" in answer.text

    add_account(store, settings, "gone", client_key="gone_key", base_url="http://127.0.0.1:9/v2")
    answer = await run_test(operator, "gone")
    assert "Cannot reach http://127.0.0.1:9/v2" in answer.text

    add_account(
        store, settings, "stranger", client_key="unknown_client_key", base_url=sandbox.base_url
    )
    answer = await run_test(operator, "stranger")
    assert "The client key is wrong: Kaufland does not know it" in answer.text

    # Without htmx the whole account page answers, with the result in it.
    token = csrf(await operator.get("/accounts/shop"))
    page = await operator.post("/accounts/shop/test", data={"csrf_token": token})
    assert page.status_code == 200
    assert "<html" in page.text and "Connected, but storefront pl" in page.text

    assert (await run_test(viewer)).status_code == 403


async def test_test_connection_reports_a_clock_behind_kauflands(
    operator: httpx.AsyncClient,
    sandbox: RunningSandbox,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_account(store, settings, base_url=sandbox.base_url)
    async with httpx.AsyncClient(base_url=f"{sandbox.root_url}/_sandbox") as control:
        (await control.put("/clock", json={"offset_seconds": 420})).raise_for_status()
        try:
            answer = await run_test(operator)
        finally:
            (await control.put("/clock", json={"offset_seconds": 0})).raise_for_status()
    assert 'data-level="error"' in answer.text
    assert "Your server clock is 7 minutes behind Kaufland&#39;s" in answer.text

    # Two minutes off still works, with a warning.
    async with httpx.AsyncClient(base_url=f"{sandbox.root_url}/_sandbox") as control:
        (await control.put("/clock", json={"offset_seconds": -120})).raise_for_status()
        try:
            answer = await run_test(operator)
        finally:
            (await control.put("/clock", json={"offset_seconds": 0})).raise_for_status()
    assert 'data-level="warning"' in answer.text
    assert re.search(
        r"Connected: storefronts cz, de available; your server clock is \d minutes ahead of",
        answer.text,
    )


async def test_a_secret_that_cannot_be_decrypted_is_said_plainly(
    operator: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    add_account(store, settings)
    with transaction(store) as session:
        session.scalars(select(Account)).one().secret_key_encrypted = "not a fernet token"
    answer = await run_test(operator)
    assert "cannot be decrypted with this installation" in answer.text
