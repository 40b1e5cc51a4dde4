"""``/settings`` (``web/pages/settings.py``): the page shows every setting with its current value,
the preview publishes what the pricing code computes, each form saves through the function the
command line uses, and a refused form (bad value, wrong role, no CSRF token) changes nothing.

Kaufland is the sandbox over loopback HTTP: the carrier list, the category tree and the
category guesses come from it as they would from Kaufland.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.pricing import (
    CurrencyMismatchError,
    PriceRule,
    RoundingRule,
    StockRule,
    convert_price,
    minimum_price,
    offered_stock,
    rule_for_currency,
)
from kaufland_sync.sandbox import catalog as sandbox_catalog
from kaufland_sync.sandbox.seed import carriers as sandbox_carriers
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials
from kaufland_sync.secrets import secret_box
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.accounts import SETTING_FIELDS, AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, Environment
from kaufland_sync.store.models.catalog import Currency, Product, StockLevel, Warehouse
from kaufland_sync.store.models.categories import CategoryMapping, KauflandCategory
from kaufland_sync.store.models.orders import Order, OrderLine, OrderMapping
from tests.builders import at, new_account, new_order
from tests.web.support import add_users, client_of, csrf_in, direct_sign_in, page_app

NOW = at("2026-03-10", "15:30")
KEY = "settings_page_client_key"
SECRET = "settings_page_secret_" + "s" * 40

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(sellers=[SellerCredentials(KEY, SECRET, ("de", "cz"))], rate_limit=0)
    with RunningSandbox(config) as running:
        yield running


def _product(sku: str, title: str, category: str | None, price: int, **extra: Any) -> Product:
    return Product(
        sku=sku,
        ean="4006381333931",
        title=title,
        description=extra.pop("description", None),
        brand="Acme",
        category=category,
        price_minor=price,
        currency=extra.pop("currency", Currency.EUR),
        content_hash="0" * 64,
        **extra,
    )


def seed(store: sessionmaker[Session], settings: Settings, sandbox_url: str) -> None:
    """Account ``shop`` (de, cz) on the sandbox with price rules that differ per storefront,
    ``other`` (de), a catalogue of three categories with stock, an order, and three users."""
    with transaction(store) as session:
        repository = AccountRepository(session)
        shop = repository.add(
            "shop",
            client_key=KEY,
            secret_key_encrypted=secret_box(settings).encrypt(SECRET),
            environment=Environment.CUSTOM,
            base_url=sandbox_url,
            storefronts=["de", "cz"],
        )
        repository.update_storefront(
            shop, "cz", {"currency_rate": "25.2", "markup_percent": "5", "rounding": "1"}
        )
        repository.update_storefront(
            shop,
            "de",
            {"rounding": "0.99", "minimum_price_percent": "80", "use_minimum_price": True},
        )
        repository.update_storefront(shop, "de", {"buffer_stock": "2"})
        repository.map_warehouse(shop, "de", "main", 7001)
        new_account(session, "other", storefronts=("de",))
        phone = _product("PHONE-1", "Acme X1 Smartphone", "Electronics > Phones", 19_999)
        session.add_all(
            [
                phone,
                _product("EAR-1", "Acme earbuds in-ear headset", "Audio > Headphones", 4_990),
                _product("ODD-1", "Zzyzx qwv", "Misc > Qqq", 1_000),
                _product("CZK-1", "Acme phone case", None, 25_000, currency=Currency.CZK),
            ]
        )
        main = Warehouse(code="main", name="Main warehouse")
        spare = Warehouse(code="spare", name="Spare room")
        session.add_all([main, spare])
        session.flush()
        session.add_all(
            [
                StockLevel(product_id=phone.id, warehouse_id=main.id, quantity=12),
                StockLevel(product_id=phone.id, warehouse_id=spare.id, quantity=5),
            ]
        )
        line = {"status": "need_to_be_sent", "local_status": "Not dispatched", "price": 1000}
        new_order(session, shop, "o1", "de", NOW, [line])
    add_users(store)


def app_for(settings: Settings, store: sessionmaker[Session]) -> FastAPI:
    return page_app(settings, store, lambda: NOW, routers=[direct_sign_in])


@pytest.fixture
async def anonymous(
    settings: Settings, store: sessionmaker[Session], sandbox: RunningSandbox
) -> AsyncIterator[httpx.AsyncClient]:
    seed(store, settings, sandbox.base_url)
    async with client_of(app_for(settings, store)) as client:
        yield client


async def _as(client: httpx.AsyncClient, name: str) -> httpx.AsyncClient:
    assert (await client.get(f"/test/sign-in/{name}")).status_code == 200
    return client


@pytest.fixture
async def admin(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    return await _as(anonymous, "ada")


@pytest.fixture
async def viewer(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    return await _as(anonymous, "vera")


# ---------------------------------------------------------------------------------- helpers


class _Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def elements(html: str, tag: str, **wanted: str) -> list[dict[str, str]]:
    """Attributes of every ``tag`` whose attributes include ``wanted`` (``_`` for ``-``)."""
    parser = _Elements()
    parser.feed(html)
    want = {k.replace("_", "-"): v for k, v in wanted.items()}
    return [
        attrs
        for name, attrs in parser.tags
        if name == tag and all(attrs.get(k) == v for k, v in want.items())
    ]


def preview_rows(html: str) -> dict[str, dict[str, str]]:
    """The preview table's rows by storefront (minor units, as data attributes)."""
    return {
        row["data-storefront"]: row for row in elements(html, "tr") if "data-listing-price" in row
    }


async def token(client: httpx.AsyncClient, page: str = "/settings") -> str:
    return csrf_in((await client.get(page)).text)


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, str], *, csrf: bool = True
) -> httpx.Response:
    body = dict(data)
    if csrf:
        body["csrf_token"] = await token(client)
    return await client.post(path, data=body)


def storefront_settings(store: sessionmaker[Session], account: str = "shop") -> dict[str, Any]:
    """Every setting of every storefront of ``account``, its warehouses and catalogue
    currency: what a refused form must leave as it was."""
    with store() as session:
        found = session.scalars(select(Account).where(Account.name == account)).one()
        return {
            "base_currency": found.base_currency,
            **{
                s.storefront.value: {
                    **{name: getattr(s, name) for name in SETTING_FIELDS},
                    "warehouses": s.warehouse_map(),
                }
                for s in found.storefronts
            },
        }


def rules(store: sessionmaker[Session]) -> set[tuple[str, str, str, str]]:
    with store() as session:
        return {
            (m.kind.value, m.storefront, m.source, m.target)
            for m in session.scalars(select(OrderMapping))
        }


def expected_price(
    store: sessionmaker[Session], code: str, price_minor: int, currency: str
) -> tuple[int, int | None]:
    """The listing and minimum price by the pricing functions alone, from the stored rule."""
    with store() as session:
        account = session.scalars(select(Account).where(Account.name == "shop")).one()
        settings = account.storefront(code)
        assert settings is not None
        percent = settings.minimum_price_percent if settings.use_minimum_price else None
        rule = PriceRule(
            currency_rate=settings.currency_rate,
            markup_percent=settings.markup_percent,
            rounding=RoundingRule.parse(settings.rounding),
            minimum_price_percent=percent,
        )
        storefront = Storefront(code)
        applied = rule_for_currency(
            rule,
            price_currency=currency,
            storefront=code,
            storefront_currency=storefront.currency.value,
            base_currency=account.base_currency,
        )
    listing = convert_price(price_minor, applied, max_minor=storefront.max_listing_price)
    return listing, minimum_price(listing, applied)


# ---------------------------------------------------------------------------------- reading


async def test_a_visitor_is_sent_to_sign_in(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/settings")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


async def test_a_viewer_sees_every_setting_with_its_value_but_cannot_change_it(
    viewer: httpx.AsyncClient,
) -> None:
    page = await viewer.get("/settings", params={"account": "shop", "storefront": "cz"})
    assert page.status_code == 200
    html = page.text
    assert elements(html, "input", name="currency_rate", value="25.2")
    assert elements(html, "input", name="markup_percent", value="5")
    assert elements(html, "option", value="1", selected="")  # rounding of cz
    assert 'id="read-only"' in html
    # Every settings form is shut for a viewer.
    assert html.count("<fieldset disabled>") >= 5
    for anchor in ("prices", "stock", "categories", "carriers", "orders"):
        assert f'id="{anchor}"' in html
    # The built-in order mappings are listed as defaults.
    assert elements(html, "tr", data_kind="status", data_source="open", data_origin="default")

    de = (await viewer.get("/settings", params={"account": "shop", "storefront": "de"})).text
    assert elements(de, "input", name="minimum_price_percent", value="80")
    assert elements(de, "input", name="buffer_stock", value="2")
    assert elements(de, "tr", data_local="main")
    assert ">7001<" in de
    # The local warehouses are offered for a new mapping.
    assert elements(de, "option", value="spare")


async def test_an_unknown_account_or_storefront_is_404_naming_it(viewer: httpx.AsyncClient) -> None:
    missing = await viewer.get("/settings", params={"account": "nobody"})
    assert missing.status_code == 404
    assert "no account named &#39;nobody&#39;" in missing.text
    not_sold = await viewer.get("/settings", params={"account": "other", "storefront": "cz"})
    assert not_sold.status_code == 404
    assert "does not sell on storefront" in not_sold.text


async def test_the_secret_key_never_reaches_the_page(admin: httpx.AsyncClient) -> None:
    html = (await admin.get("/settings")).text
    assert SECRET not in html
    assert KEY not in html


# ---------------------------------------------------------------------------------- preview


@pytest.mark.parametrize(
    ("price", "currency", "minor"),
    [
        ("10.00", "EUR", 1_000),
        ("12,34", "EUR", 1_234),
        ("0.99", "EUR", 99),
        ("1234.5", "CZK", 123_450),
    ],
)
async def test_the_preview_is_what_the_pricing_functions_compute(
    viewer: httpx.AsyncClient, store: sessionmaker[Session], price: str, currency: str, minor: int
) -> None:
    answer = await viewer.get(
        "/settings/preview", params={"account": "shop", "price": price, "currency": currency}
    )
    assert answer.status_code == 200
    rows = preview_rows(answer.text)
    assert set(rows) == {"de", "cz"}
    for code, row in rows.items():
        try:
            listing, minimum = expected_price(store, code, minor, currency)
        except CurrencyMismatchError:
            # No rate converts this currency here: the page says so instead of a price.
            assert row["data-listing-price"] == ""
            continue
        assert row["data-listing-price"] == str(listing)
        assert row["data-minimum-price"] == ("" if minimum is None else str(minimum))


async def test_the_preview_applies_unsaved_values_to_one_storefront_only(
    viewer: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    before = storefront_settings(store)
    draft = {"currency_rate": "30", "markup_percent": "0", "rounding": "0.99"}
    answer = await viewer.get(
        "/settings/preview",
        params={"account": "shop", "storefront": "cz", "price": "12.34", **draft},
    )
    rows = preview_rows(answer.text)
    rule = PriceRule(currency_rate=Decimal(30), rounding=RoundingRule.parse("0.99"))
    assert rows["cz"]["data-listing-price"] == str(convert_price(1_234, rule))
    assert rows["cz"].get("class") == "draft"
    assert rows["de"]["data-listing-price"] == str(expected_price(store, "de", 1_234, "EUR")[0])
    assert storefront_settings(store) == before  # a preview saves nothing


async def test_the_preview_names_a_refused_draft_value_and_a_bad_sample(
    viewer: httpx.AsyncClient,
) -> None:
    bad_rate = await viewer.get(
        "/settings/preview",
        params={"account": "shop", "storefront": "cz", "price": "10", "currency_rate": "-1"},
    )
    assert elements(bad_rate.text, "p", id="preview-error", data_field="currency_rate")
    assert "Currency rate" in bad_rate.text
    assert not preview_rows(bad_rate.text)
    bad_price = await viewer.get("/settings/preview", params={"account": "shop", "price": "ten"})
    assert elements(bad_price.text, "p", id="preview-error", data_field="price")
    assert "Sample price" in bad_price.text
    unknown = await viewer.get("/settings/preview", params={"account": "shop", "sku": "NOPE"})
    assert "no product &#39;NOPE&#39; in the catalogue" in unknown.text


async def test_the_preview_of_an_sku_shows_its_prices_and_offered_stock(
    viewer: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    html = (
        await viewer.get("/settings/preview", params={"account": "shop", "sku": "PHONE-1"})
    ).text
    rows = preview_rows(html)
    for code in ("de", "cz"):
        assert rows[code]["data-listing-price"] == str(
            expected_price(store, code, 19_999, "EUR")[0]
        )
    # de maps only "main" (12 pieces) and holds 2 back; cz maps no warehouse, so both count.
    assert rows["de"]["data-amount"] == str(offered_stock(12, 0, StockRule(buffer=2)))
    assert rows["cz"]["data-amount"] == str(offered_stock(17, 0, StockRule()))


async def test_a_product_in_a_currency_without_a_rate_is_reported_not_priced(
    viewer: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    html = (await viewer.get("/settings/preview", params={"account": "shop", "sku": "CZK-1"})).text
    rows = preview_rows(html)
    # Already in CZK: not converted, but marked up and rounded.
    assert rows["cz"]["data-listing-price"] == str(expected_price(store, "cz", 25_000, "CZK")[0])
    assert rows["de"]["data-listing-price"] == ""
    assert "Not offered: currency" in html


async def test_the_page_shows_a_preview_without_scripts(viewer: httpx.AsyncClient) -> None:
    html = (await viewer.get("/settings", params={"account": "shop", "price": "20"})).text
    assert set(preview_rows(html)) == {"de", "cz"}
    assert elements(html, "input", name="price", value="20")


# ---------------------------------------------------------------------------------- prices


async def test_an_admin_saves_a_price_rule_as_accounts_set_would(
    admin: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    form = {
        "account": "shop",
        "storefront": "cz",
        "currency_rate": "26,5",
        "markup_percent": "3",
        "rounding": "0,99",
        "minimum_price_percent": "90",
        "base_currency": "",
    }
    answer = await post(admin, "/settings/prices", form)
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("saved=prices#prices")
    cz = storefront_settings(store)["cz"]
    assert cz["currency_rate"] == Decimal("26.5")
    assert cz["markup_percent"] == Decimal(3)
    assert cz["rounding"] == "0.99"
    assert (cz["use_minimum_price"], cz["minimum_price_percent"]) == (True, Decimal(90))
    page = await admin.get(answer.headers["location"])
    assert "Price settings saved." in page.text
    assert elements(page.text, "p", id="prices-saved")
    assert elements(page.text, "input", name="currency_rate", value="26.5")

    # An empty minimum price switches it off again (as --no-minimum-price).
    await post(admin, "/settings/prices", form | {"minimum_price_percent": ""})
    assert storefront_settings(store)["cz"]["use_minimum_price"] is False


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("currency_rate", "abc", "Currency rate"),
        ("currency_rate", "0", "Currency rate"),
        ("markup_percent", "-100", "Markup (%)"),
        ("rounding", "0.3", "Rounding"),
        ("minimum_price_percent", "150", "Minimum price (%)"),
        ("base_currency", "USD", "Catalogue currency"),
    ],
)
async def test_a_refused_price_changes_nothing_and_names_the_field(
    admin: httpx.AsyncClient, store: sessionmaker[Session], field: str, value: str, label: str
) -> None:
    before = storefront_settings(store)
    form = {
        "account": "shop",
        "storefront": "cz",
        "currency_rate": "30",
        "markup_percent": "0",
        "rounding": "1",
        "minimum_price_percent": "",
        "base_currency": "CZK",
    } | {field: value}
    answer = await post(admin, "/settings/prices", form)
    assert answer.status_code == 422
    assert storefront_settings(store) == before
    notice = elements(answer.text, "p", id="prices-error")
    assert notice and notice[0]["data-field"] == field
    assert label in answer.text and "&#39;shop&#39;" in answer.text
    assert "Nothing was saved." in answer.text
    # The typed values stay in the form, the bad one marked.
    if field != "base_currency":
        assert elements(
            answer.text, "input", name="currency_rate", value=form["currency_rate"]
        ) or (field == "rounding")
    marked = [a for _, a in _all(answer.text) if a.get("aria-invalid") == "true"]
    assert any(a.get("name") == field for a in marked)


def _all(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


async def test_only_admins_change_settings_and_every_post_needs_the_csrf_token(
    anonymous: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    before = storefront_settings(store)
    form = {
        "account": "shop",
        "storefront": "cz",
        "currency_rate": "99",
        "markup_percent": "0",
        "rounding": "1",
        "minimum_price_percent": "",
        "base_currency": "",
    }
    for name in ("vera", "otto"):
        await _as(anonymous, name)
        refused = await post(anonymous, "/settings/prices", form)
        assert refused.status_code == 403
        assert "needs the role admin" in refused.text
    await _as(anonymous, "ada")
    no_token = await post(anonymous, "/settings/prices", form, csrf=False)
    assert no_token.status_code == 403
    wrong = await anonymous.post("/settings/prices", data=form | {"csrf_token": "forged"})
    assert wrong.status_code == 403
    for path, data in (
        ("/settings/stock", {"account": "shop", "storefront": "cz", "buffer_stock": "9"}),
        ("/settings/warehouses", {"account": "shop", "storefront": "cz", "local_warehouse": "x"}),
        ("/settings/categories", {"account": "shop", "storefront": "cz", "local_category": "x"}),
        ("/settings/categories/refresh", {"account": "shop", "storefront": "cz"}),
        ("/settings/mappings", {"account": "shop", "kind": "status", "source": "open"}),
    ):
        assert (await post(anonymous, path, data, csrf=False)).status_code == 403, path
    assert storefront_settings(store) == before
    assert rules(store) == set()


# ---------------------------------------------------------------------------------- stock


async def test_stock_settings_and_warehouses_are_saved_and_cleared(
    admin: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    form = {
        "account": "shop",
        "storefront": "cz",
        "buffer_stock": "3",
        "max_stock": "50",
        "handling_time": "2",
        "id_shipping_group": "123",
    }
    answer = await post(admin, "/settings/stock", form)
    assert answer.status_code == 303
    cz = storefront_settings(store)["cz"]
    assert (cz["buffer_stock"], cz["max_stock"], cz["handling_time"]) == (3, 50, 2)
    assert cz["id_shipping_group"] == 123
    assert (
        "Stock and shipping settings saved." in (await admin.get(answer.headers["location"])).text
    )

    cleared = form | {"max_stock": "", "handling_time": "", "id_shipping_group": ""}
    await post(admin, "/settings/stock", cleared)
    cz = storefront_settings(store)["cz"]
    assert (cz["max_stock"], cz["handling_time"], cz["id_shipping_group"]) == (None, None, None)

    mapped = await post(
        admin,
        "/settings/warehouses",
        {"account": "shop", "storefront": "cz", "local_warehouse": "spare", "id_warehouse": "42"},
    )
    assert mapped.status_code == 303
    assert storefront_settings(store)["cz"]["warehouses"] == {"spare": 42}
    removed = await post(
        admin,
        "/settings/warehouses",
        {"account": "shop", "storefront": "cz", "local_warehouse": "spare", "remove": "1"},
    )
    assert removed.status_code == 303
    assert "Warehouse mapping removed." in (await admin.get(removed.headers["location"])).text
    assert storefront_settings(store)["cz"]["warehouses"] == {}


@pytest.mark.parametrize(
    ("path", "changes", "field"),
    [
        ("/settings/stock", {"buffer_stock": "-1"}, "buffer_stock"),
        ("/settings/stock", {"buffer_stock": ""}, "buffer_stock"),
        ("/settings/stock", {"handling_time": "101"}, "handling_time"),
        ("/settings/stock", {"id_shipping_group": "zero"}, "id_shipping_group"),
        (
            "/settings/warehouses",
            {"local_warehouse": "spare", "id_warehouse": "x1"},
            "id_warehouse",
        ),
        ("/settings/warehouses", {"local_warehouse": " ", "id_warehouse": "5"}, "local_warehouse"),
        ("/settings/warehouses", {"local_warehouse": "nope", "remove": "1"}, "local_warehouse"),
    ],
)
async def test_refused_stock_values_change_nothing(
    admin: httpx.AsyncClient,
    store: sessionmaker[Session],
    path: str,
    changes: dict[str, str],
    field: str,
) -> None:
    before = storefront_settings(store)
    form = {
        "account": "shop",
        "storefront": "de",
        "buffer_stock": "4",
        "max_stock": "",
        "handling_time": "1",
        "id_shipping_group": "",
    } | changes
    answer = await post(admin, path, form)
    assert answer.status_code == 422
    assert elements(answer.text, "p", id="stock-error", data_field=field)
    assert "storefront de" in answer.text
    assert storefront_settings(store) == before


# ---------------------------------------------------------------------------------- categories


async def test_categories_are_suggested_by_kaufland_and_applied_with_one_click(
    admin: httpx.AsyncClient, store: sessionmaker[Session], sandbox: RunningSandbox
) -> None:
    base = {"account": "shop", "storefront": "de"}
    refreshed = await post(admin, "/settings/categories/refresh", base)
    assert refreshed.status_code == 303, refreshed.text
    with store() as session:
        cached = session.scalars(
            select(KauflandCategory).where(KauflandCategory.storefront == Storefront.DE)
        ).all()
    assert len(cached) == len(sandbox_catalog.categories(sandbox.world))

    page = (await admin.get("/settings", params=base)).text
    assert elements(page, "tr", data_local="Electronics > Phones", data_id_category="")

    suggested = await post(admin, "/settings/categories/suggest", base)
    assert suggested.status_code == 303, suggested.text
    best = sandbox_catalog.decide_categories(
        sandbox.world, "Acme X1 Smartphone Electronics > Phones Acme"
    )
    with store() as session:
        mappings = {
            m.local_category: m
            for m in session.scalars(
                select(CategoryMapping).where(CategoryMapping.storefront == Storefront.DE)
            )
        }
    phone = mappings["Electronics > Phones"]
    assert (phone.id_category, phone.source.value) == (best[0]["id_category"], "suggested")
    assert "Misc > Qqq" not in mappings  # Kaufland had no guess: left unmapped

    page = (await admin.get(suggested.headers["location"])).text
    assert "suggestions stored" in page
    row = elements(page, "tr", data_local="Electronics > Phones")
    assert row and row[0]["data-source"] == "suggested"
    assert 'class="link-button apply-suggestion"' in page

    # One click keeps the suggestion as a manual mapping; another applies an alternative.
    kept = await post(
        admin,
        "/settings/categories",
        base | {"local_category": "Electronics > Phones", "id_category": str(phone.id_category)},
    )
    assert kept.status_code == 303
    ear = mappings["Audio > Headphones"]
    choice = ear.alternatives[0] if ear.alternatives else ear.id_category
    applied = await post(
        admin,
        "/settings/categories",
        base | {"local_category": "Audio > Headphones", "id_category": str(choice)},
    )
    assert applied.status_code == 303
    with store() as session:
        now = {
            m.local_category: (m.id_category, m.source.value)
            for m in session.scalars(select(CategoryMapping))
        }
    assert now["Electronics > Phones"] == (phone.id_category, "manual")
    assert now["Audio > Headphones"] == (choice, "manual")


@pytest.mark.parametrize(
    ("id_category", "local", "field", "words"),
    [
        ("abc", "Misc > Qqq", "id_category", "must be a whole number"),
        ("99999999", "Misc > Qqq", "id_category", "is not in Kaufland's tree"),
        ("100", "Misc > Qqq", "id_category", "has subcategories"),
        ("10011", "  ", "local_category", "must not be empty"),
    ],
)
async def test_a_refused_category_mapping_changes_nothing(
    admin: httpx.AsyncClient,
    store: sessionmaker[Session],
    id_category: str,
    local: str,
    field: str,
    words: str,
) -> None:
    base = {"account": "shop", "storefront": "de"}
    assert (await post(admin, "/settings/categories/refresh", base)).status_code == 303
    answer = await post(
        admin, "/settings/categories", base | {"local_category": local, "id_category": id_category}
    )
    assert answer.status_code == 422
    assert elements(answer.text, "p", id="categories-error", data_field=field)
    assert words in answer.text.replace("&#39;", "'")
    with store() as session:
        assert session.scalars(select(CategoryMapping)).all() == []


async def test_kaufland_refusing_the_keys_is_reported_in_the_section(
    admin: httpx.AsyncClient, store: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(store) as session:
        shop = session.scalars(select(Account).where(Account.name == "shop")).one()
        shop.secret_key_encrypted = secret_box(settings).encrypt("wrong_" + "x" * 50)
    answer = await post(
        admin, "/settings/categories/refresh", {"account": "shop", "storefront": "de"}
    )
    assert answer.status_code == 502
    assert elements(answer.text, "p", id="categories-error")
    assert "Kaufland could not refresh the category tree" in answer.text
    with store() as session:
        assert session.scalars(select(KauflandCategory)).all() == []


# ---------------------------------------------------------------------------------- mappings


async def test_the_carrier_choice_is_kauflands_list_and_a_rule_is_saved(
    admin: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    page = (await admin.get("/settings", params={"account": "shop"})).text
    offered = [o["value"] for o in elements(page, "option") if "value" in o]
    names = [c["name"] for c in sandbox_carriers()]
    assert set(names) <= set(offered)
    target = names[0]
    answer = await post(
        admin,
        "/settings/mappings",
        {
            "account": "shop",
            "storefront": "de",
            "kind": "carrier",
            "source": "Our van",
            "target": target,
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("#carriers")
    assert rules(store) == {("carrier", "", "Our van", target)}
    page = (await admin.get(answer.headers["location"])).text
    assert elements(page, "tr", data_kind="carrier", data_source="Our van", data_origin="override")
    assert elements(page, "p", id="carriers-saved")
    assert "Mapping saved." in page

    empty = await post(
        admin,
        "/settings/mappings",
        {"account": "shop", "kind": "carrier", "source": " ", "target": target},
    )
    assert empty.status_code == 422
    assert elements(empty.text, "p", id="carriers-error", data_field="source")
    assert rules(store) == {("carrier", "", "Our van", target)}


async def test_a_status_rule_maps_the_stored_orders_again_and_removing_it_restores_the_default(
    admin: httpx.AsyncClient, store: sessionmaker[Session]
) -> None:
    base = {"account": "shop", "storefront": "de", "kind": "status", "source": "need_to_be_sent"}
    answer = await post(admin, "/settings/mappings", base | {"target": "To pack", "scope": "de"})
    assert answer.status_code == 303
    assert "remapped=1" in answer.headers["location"]
    assert rules(store) == {("status", "de", "need_to_be_sent", "To pack")}
    with store() as session:
        assert session.scalars(select(Order.local_status)).one() == "To pack"
    page = (await admin.get(answer.headers["location"])).text
    assert "1 order(s) mapped again." in page
    assert elements(page, "p", id="orders-saved")
    assert elements(
        page, "tr", data_kind="status", data_source="need_to_be_sent", data_storefront="de"
    )

    removed = await post(admin, "/settings/mappings", base | {"scope": "de", "remove": "1"})
    assert removed.status_code == 303
    assert rules(store) == set()
    with store() as session:
        assert session.scalars(select(OrderLine.local_status)).one() == "Not dispatched"


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        (
            {"kind": "status", "source": "lost", "target": "x"},
            "source",
            "is not a Kaufland order status",
        ),
        ({"kind": "status", "source": "open", "target": " "}, "target", "must not be empty"),
        ({"kind": "payment", "source": "card", "target": "x"}, "source", "is not a payment source"),
        (
            {"kind": "shipping", "source": "fulfilled_by_merchant", "target": "x", "scope": "pl"},
            "scope",
            "does not sell on",
        ),
        (
            {"kind": "cancel_reason", "source": "gone", "target": "because"},
            "target",
            "is not a Kaufland cancel reason",
        ),
        ({"kind": "colour", "source": "a", "target": "b"}, "kind", "is not a mapping kind"),
        ({"kind": "status", "source": "open", "remove": "1"}, "source", "no status rule"),
    ],
)
async def test_refused_mapping_rules_change_nothing(
    admin: httpx.AsyncClient,
    store: sessionmaker[Session],
    form: dict[str, str],
    field: str,
    words: str,
) -> None:
    answer = await post(admin, "/settings/mappings", {"account": "shop", "storefront": "de"} | form)
    assert answer.status_code == 422
    assert elements(answer.text, "p", id="orders-error", data_field=field), answer.text
    assert words in answer.text
    assert rules(store) == set()
    with store() as session:
        assert session.scalars(select(OrderLine.local_status)).one() == "Not dispatched"


async def test_kauflands_warehouses_and_shipping_groups_are_offered_for_the_id_fields(
    viewer: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    answer = await viewer.get("/settings/kaufland", params={"account": "shop", "storefront": "cz"})
    assert answer.status_code == 200
    seller = sandbox.world.seller(KEY)
    warehouses = {str(w["id_warehouse"]) for w in seller.table("warehouses").values()}
    groups = {
        str(g["id_shipping_group"])
        for g in seller.table("shipping_groups").values()
        if g["storefront"] == "cz"
    }
    assert warehouses and groups
    html = answer.text
    assert {r["data-id"] for r in elements(html, "tr") if "data-id" in r} == warehouses | groups
    assert elements(html, "datalist", id="kaufland-warehouses")
    page = (await viewer.get("/settings", params={"account": "shop", "storefront": "cz"})).text
    assert elements(page, "input", name="id_warehouse", list="kaufland-warehouses")
    assert elements(page, "a", id="load-kaufland-lists")

    unknown = await viewer.get(
        "/settings/kaufland", params={"account": "nobody", "storefront": "cz"}
    )
    assert elements(unknown.text, "p", id="kaufland-lists-error")
    assert "no account named" in unknown.text
