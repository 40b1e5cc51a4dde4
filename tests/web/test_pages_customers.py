"""The Customers pages (``web/pages/customers.py``) through the whole app on a seeded SQLite
store: buyers with their order count, revenue per currency (cancelled lines left out) and last
order, newest first; search by name (from their orders' addresses), email and buyer id; paging;
the detail with each address once and links to the orders; viewers may read."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Customer
from kaufland_sync.web.auth import create_user
from kaufland_sync.web.pages import customers as customers_page
from tests.builders import at, new_account, new_order
from tests.web.support import PASSWORD, client_of
from tests.web.test_pages_returns import build_app, sign_in

pytestmark = pytest.mark.usefixtures("cheap_hashing")

NOW = at("2026-03-10", "15:30")


def address(first: str, last: str, city: str, **extra: str) -> dict[str, str]:
    return {
        "first_name": first,
        "last_name": last,
        "street": "Hauptstr.",
        "house_number": "5",
        "postcode": "10115",
        "city": city,
        "country": "DE",
        **extra,
    }


def add_customers(session: Session, shop: Account, other: Account) -> None:
    """Customers of ``shop`` (de and cz) and ``other``: Anna (two storefronts, a cancelled
    line, three addresses), Bernd (company address), a buyer whose addresses are still hidden,
    and Carla of the other account (the same id_buyer as Anna)."""
    anna = Customer(account_id=shop.id, id_buyer=501, email="anna.novak@buyer.example")
    bernd = Customer(account_id=shop.id, id_buyer=502, email="b.maier@buyer.example")
    hidden = Customer(account_id=shop.id, id_buyer=503, email=None)
    carla = Customer(account_id=other.id, id_buyer=501, email="carla@buyer.example")
    session.add_all([anna, bernd, hidden, carla])
    session.flush()
    sent = {"status": "sent", "local_status": "shipped", "price": 1000, "shipping_rate": 250}
    cancelled = sent | {"status": "cancelled", "local_status": "cancelled"}
    orders = [
        (anna, shop, "A-1", "de", at("2026-03-01"), [sent, cancelled],
         address("Anna", "Novak", "Berlin"), address("Anna", "Novak", "Berlin")),
        (anna, shop, "A-2", "cz", at("2026-03-08"), [sent | {"price": 50000}],
         address("Anna", "Novak", "Praha"), address("Anna", "Novak", "Brno")),
        (bernd, shop, "B-1", "de", at("2026-03-05"), [sent],
         address("Bernd", "Maier", "Köln", company_name="Maier GmbH"), None),
        (hidden, shop, "H-1", "de", at("2026-03-10", "15:00"), [sent | {"status": "open"}],
         None, None),
        (carla, other, "C-1", "de", at("2026-02-01"), [sent], address("Carla", "Ruiz", "Bonn"),
         None),
    ]  # fmt: skip
    for customer, account, id_order, sf, when, lines, billing, shipping in orders:
        order = new_order(session, account, id_order, sf, when, lines)
        order.customer_id = customer.id
        order.billing_address = billing
        order.shipping_address = shipping


@pytest.fixture
async def web(settings: Settings, store: sessionmaker[Session]) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in as a viewer, on the customers of :func:`add_customers`."""
    with transaction(store) as session:
        create_user(session, "vera", "viewer", PASSWORD)
        shop = new_account(session, "shop", rates={"de": "1", "cz": "25"})
        other = new_account(session, "other", storefronts=("de",))
        add_customers(session, shop, other)
    app, _ = build_app(settings, store)
    async with client_of(app) as client:
        await sign_in(client, "vera")
        yield client


def names(html: str) -> list[str]:
    """The customers of a list page, in the order shown."""
    return re.findall(r'<th scope="row"><a href="/customers/\d+">([^<]+)</a>', html)


def row_of(html: str, name: str) -> str:
    found = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]+>{name}</a>.*?</tr>", html, re.S)
    assert found is not None, name
    return found.group(0)


async def test_a_visitor_is_sent_to_sign_in(
    settings: Settings, store: sessionmaker[Session]
) -> None:
    app, _ = build_app(settings, store)
    async with client_of(app) as client:
        answer = await client.get("/customers/1")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")


async def test_the_list_shows_orders_revenue_and_last_order(web: httpx.AsyncClient) -> None:
    page = await web.get("/customers")
    assert page.status_code == 200, page.text
    assert names(page.text) == ["Buyer 503", "Anna Novak", "Bernd Maier (Maier GmbH)", "Carla Ruiz"]
    assert "4</strong> customers" in page.text
    anna = row_of(page.text, "Anna Novak")
    # 10.00 + 2.50 of the sent line; the cancelled line does not count; CZK on its own.
    assert "12.50 EUR" in anna and "502.50 CZK" in anna
    assert '<td class="number">2</td>' in anna and "2026-03-08" in anna
    assert "hidden by Kaufland" in row_of(page.text, "Buyer 503")
    assert 'aria-current="page">Customers<' in page.text


async def test_search_by_name_email_and_buyer_id(web: httpx.AsyncClient) -> None:
    async def found(**params: str) -> list[str]:
        answer = await web.get("/customers", params=params)
        assert answer.status_code == 200, answer.text
        return names(answer.text)

    assert await found(q="novak") == ["Anna Novak"]
    assert await found(q="anna novak") == ["Anna Novak"]  # first and last name together
    assert await found(q="GMBH") == ["Bernd Maier (Maier GmbH)"]
    assert await found(q="b.maier@") == ["Bernd Maier (Maier GmbH)"]
    assert await found(q="501") == ["Anna Novak", "Carla Ruiz"]  # id_buyer, per account
    assert await found(q="501", account="other") == ["Carla Ruiz"]
    assert await found(q="%") == []  # a LIKE wildcard is text
    assert await found(q="nobody") == []

    bad = await web.get("/customers", params={"account": "ghost"})
    assert "Account: there is no account named &#39;ghost&#39;." in bad.text
    assert len(names(bad.text)) == 4

    fragment = await web.get("/customers", params={"q": "anna"}, headers={"HX-Request": "1"})
    assert fragment.text.lstrip().startswith('<div id="customers-results"')
    assert "<html" not in fragment.text and names(fragment.text) == ["Anna Novak"]


async def test_the_list_is_paged(
    web: httpx.AsyncClient, store: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(customers_page, "PAGE_SIZE", 3)
    first = await web.get("/customers")
    assert len(names(first.text)) == 3 and "Page 1 of 2" in first.text
    assert 'href="/customers?page=2"' in first.text
    second = await web.get("/customers", params={"page": "2"})
    assert names(second.text) == ["Carla Ruiz"] and 'href="/customers"' in second.text
    beyond = await web.get("/customers", params={"page": "99"})
    assert names(beyond.text) == ["Carla Ruiz"]  # the last page
    junk = await web.get("/customers", params={"page": "x"})
    assert len(names(junk.text)) == 3


async def test_the_detail_lists_addresses_once_and_links_the_orders(
    web: httpx.AsyncClient,
) -> None:
    page = await web.get("/customers")
    link = re.search(r'href="(/customers/\d+)">Anna Novak<', page.text)
    assert link is not None
    detail = await web.get(link.group(1))
    assert detail.status_code == 200, detail.text
    assert "<h1>Anna Novak</h1>" in detail.text and "anna.novak@buyer.example" in detail.text
    # Berlin was billing and shipping on A-1: shown once; Praha and Brno from A-2.
    assert detail.text.count("10115 Berlin") == 1 and "Billing and shipping" in detail.text
    assert "10115 Praha" in detail.text and "10115 Brno" in detail.text
    orders = re.findall(r'<a href="(/orders/[^"]+)">', detail.text)
    assert orders == ["/orders/A-2?account=shop", "/orders/A-1?account=shop"]
    assert "502.50 CZK" in detail.text and "12.50 EUR" in detail.text

    hidden = re.search(r'href="(/customers/\d+)">Buyer 503<', page.text)
    assert hidden is not None
    shown = await web.get(hidden.group(1))
    assert "No address yet" in shown.text and "hidden by Kaufland" in shown.text

    missing = await web.get("/customers/99999")
    assert missing.status_code == 404 and "There is no customer 99999" in missing.text
    assert (await web.get(f"/customers/{2**63}")).status_code == 422


async def test_a_new_order_moves_its_buyer_to_the_top(
    web: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    with transaction(store) as session:
        bernd = session.scalars(select(Customer).where(Customer.id_buyer == 502)).one()
        shop = session.get_one(Account, bernd.account_id)
        order = new_order(session, shop, "B-2", "de", NOW + timedelta(minutes=5), [])
        order.customer_id = bernd.id
    page = await web.get("/customers")
    assert names(page.text)[0] == "Bernd Maier (Maier GmbH)"
    assert '<td class="number">2</td>' in row_of(page.text, r"Bernd Maier \(Maier GmbH\)")
