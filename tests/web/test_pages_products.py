"""The products pages (web/pages/products.py) on a real SQLite store: the list with its search,
filters and keyset pages; a product's detail (EAN check, stock, reservations, offer errors in
plain words, product-data review); the operator's actions (push now, pause, resume) with roles,
CSRF and bad input; and a pause carried through the offers exporter to the sandbox and back."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.config import Settings
from kaufland_sync.sandbox.app import create_app as create_sandbox
from kaufland_sync.sandbox.seed import seed_world
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials, World
from kaufland_sync.sellerapi import KauflandClient, RetryPolicy
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Currency, Product
from kaufland_sync.store.models.categories import ProductDataStatus
from kaufland_sync.store.models.jobs import JobKind, JobTrigger
from kaufland_sync.store.models.orders import StockState
from kaufland_sync.store.models.sync import BindingState, OfferBinding, SyncKind
from kaufland_sync.sync.exporters.offers import SyncSummary, sync_account_offers
from kaufland_sync.sync.mappers.offers import OfferSettings
from kaufland_sync.web.pages.products import explain_error
from tests.builders import at, import_catalogue, new_account, new_order
from tests.web.support import (
    STAFF,
    RecordingQueue,
    add_users,
    client_of,
    csrf_in,
    direct_sign_in,
    page_app,
)

NOW = at("2026-03-10", "15:30")

# Three products with valid EANs in two warehouses; the fourth (BAD-EAN) is written directly,
# since the importer refuses its check digit.
CATALOGUE = """sku,ean,title,price,currency,stock,warehouse
SKU-A,4006381333931,Garden spade,12.34,EUR,5,default
SKU-A,4006381333931,Garden spade,12.34,EUR,3,prague
SKU-B,4033449356984,Blue kettle,29.99,EUR,2,default
SKU-C,4020034454088,Red T-shirt,9.90,EUR,0,default
"""
HANDLING = "SKU-A: handling_time: no handling time: set one for storefront cz"

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@dataclass
class Shop:
    client: httpx.AsyncClient
    queue: RecordingQueue
    factory: sessionmaker[Session]
    shop_id: int
    other_id: int

    async def sign_in(self, name: str) -> str:
        """Sign ``name`` in; the session's CSRF token (from a page's meta tag)."""
        assert (await self.client.get(f"/test/sign-in/{name}")).status_code == 200
        return csrf_in((await self.client.get("/products")).text)

    def binding(self, sku: str, account_id: int, storefront: str) -> OfferBinding | None:
        with self.factory() as session:
            return session.scalar(
                select(OfferBinding).where(
                    OfferBinding.sku == sku,
                    OfferBinding.account_id == account_id,
                    OfferBinding.storefront == Storefront(storefront),
                )
            )


def seed(factory: sessionmaker[Session], folder: Path) -> tuple[int, int]:
    import_catalogue(factory, CATALOGUE, folder)
    with transaction(factory) as session:
        shop = new_account(session, "shop", rates={"de": "1", "cz": "25"})
        other = new_account(session, "other", storefronts=("de",))
        session.add(
            Product(
                sku="BAD-EAN",
                ean="4006381333932",
                title="Wrong check digit",
                price_minor=500,
                currency=Currency.EUR,
                active=False,
                content_hash="0" * 64,
            )
        )
        session.add_all(
            [
                OfferBinding(
                    account_id=shop.id,
                    storefront=Storefront.DE,
                    sku="SKU-A",
                    id_unit=501,
                    state=BindingState.ACTIVE,
                    payload_hash="p" * 64,
                    stock_hash="s" * 64,
                    synced_at=at("2026-03-10", "14:00"),
                ),
                OfferBinding(
                    account_id=shop.id,
                    storefront=Storefront.CZ,
                    sku="SKU-A",
                    state=BindingState.FAILED,
                    last_error=HANDLING,
                    attempts=2,
                ),
                OfferBinding(
                    account_id=shop.id,
                    storefront=Storefront.DE,
                    sku="SKU-B",
                    id_unit=502,
                    state=BindingState.ONHOLD,
                    paused=True,
                ),
                OfferBinding(
                    account_id=other.id,
                    storefront=Storefront.DE,
                    sku="SKU-B",
                    id_unit=503,
                    state=BindingState.ACTIVE,
                ),
                ProductDataStatus(
                    account_id=shop.id,
                    ean="4020034454088",
                    locale="de-DE",
                    sku="SKU-C",
                    update_status="FAILED",
                    product_ready=False,
                    missing_attributes=["colour", "size"],
                    checked_at=at("2026-03-10", "10:00"),
                ),
                ProductDataStatus(
                    account_id=shop.id,
                    ean="4033449356984",
                    locale="de-DE",
                    sku="SKU-B",
                    update_status="SUCCESS",
                    product_ready=True,
                    id_product=360000001,
                ),
            ]
        )
        # Two pieces of SKU-A sold on shop and not shipped yet.
        new_order(
            session,
            shop,
            "o1",
            "de",
            NOW,
            [
                {"sku": "SKU-A", "stock_state": StockState.RESERVED, "status": "open"},
                {"sku": "SKU-A", "stock_state": StockState.RESERVED, "status": "open"},
            ],
        )
        shop_id, other_id = shop.id, other.id
    add_users(factory, STAFF[:2])
    return shop_id, other_id


def app_for(settings: Settings, store: sessionmaker[Session], queue: RecordingQueue) -> FastAPI:
    return page_app(settings, store, lambda: NOW, queue, routers=[direct_sign_in])


@pytest.fixture
async def shop(
    settings: Settings, store: sessionmaker[Session], tmp_path: Path
) -> AsyncIterator[Shop]:
    shop_id, other_id = seed(store, tmp_path)
    queue = RecordingQueue(store, lambda: NOW)
    async with client_of(app_for(settings, store, queue)) as client:
        yield Shop(client, queue, store, shop_id, other_id)


def skus(html: str) -> list[str]:
    """The SKUs of the list's rows, in order."""
    return re.findall(r'<tr data-sku="([^"]+)"', html)


async def listed(shop: Shop, **params: Any) -> list[str]:
    answer = await shop.client.get("/products", params=params)
    assert answer.status_code == 200, answer.text
    return skus(answer.text)


# ------------------------------------------------------------------------------ the list


async def test_the_list_needs_a_signed_in_user(shop: Shop) -> None:
    answer = await shop.client.get("/products")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


async def test_the_list_shows_each_product_with_its_offer_per_storefront(shop: Shop) -> None:
    await shop.sign_in("vera")
    answer = await shop.client.get("/products")
    assert answer.status_code == 200
    html = answer.text
    assert skus(html) == ["BAD-EAN", "SKU-A", "SKU-B", "SKU-C"]
    assert "<strong>4</strong> products" in html
    # One column per account and storefront: other/DE, shop/CZ, shop/DE.
    assert re.findall(r'title="Offer state on ([^"]+)"', html) == [
        "other / DE",
        "shop / CZ",
        "shop / DE",
    ]
    row_a = html.split('data-sku="SKU-A"')[1].split("</tr>")[0]
    assert "state-failed" in row_a and "state-active" in row_a
    assert '<td class="num">8</td>' in row_a  # 5 + 3 pieces in two warehouses
    assert "12.34 EUR" in row_a
    row_b = html.split('data-sku="SKU-B"')[1].split("</tr>")[0]
    assert "state-paused" in row_b and "review-ready" in row_b
    row_bad = html.split('data-sku="BAD-EAN"')[1].split("</tr>")[0]
    assert ">invalid</span>" in row_bad and "inactive" in row_bad
    # The nav links the page now that it is served.
    assert '<a href="/products" aria-current="page">Products</a>' in html


async def test_search_finds_by_sku_ean_and_title(shop: Shop) -> None:
    await shop.sign_in("vera")
    assert await listed(shop, q="sku-b") == ["SKU-B"]
    assert await listed(shop, q="4020034454088") == ["SKU-C"]
    assert await listed(shop, q="KETTLE") == ["SKU-B"]
    assert await listed(shop, q="nothing like this") == []
    # LIKE's wildcards are taken literally.
    assert await listed(shop, q="%") == []


async def test_filters_by_state_account_storefront_and_review(shop: Shop) -> None:
    await shop.sign_in("vera")
    assert await listed(shop, state="failed") == ["SKU-A"]
    assert await listed(shop, state="paused") == ["SKU-B"]
    assert await listed(shop, state="active") == ["SKU-A", "SKU-B"]
    assert await listed(shop, state="active", account=str(shop.other_id)) == ["SKU-B"]
    assert await listed(shop, state="active", storefront="cz") == []
    assert await listed(shop, state="failed", storefront="cz") == ["SKU-A"]
    assert await listed(shop, state="unpublished") == ["BAD-EAN", "SKU-C"]
    assert await listed(shop, state="unpublished", account=str(shop.other_id)) == [
        "BAD-EAN",
        "SKU-A",
        "SKU-C",
    ]
    assert await listed(shop, review="missing") == ["SKU-C"]
    assert await listed(shop, review="ready") == ["SKU-B"]
    assert await listed(shop, review="none") == ["BAD-EAN", "SKU-A"]
    assert await listed(shop, review="missing", account=str(shop.other_id)) == []
    # The storefront filter also narrows the columns.
    page = await shop.client.get("/products", params={"storefront": "cz"})
    assert re.findall(r'title="Offer state on ([^"]+)"', page.text) == ["shop / CZ"]


async def test_a_bad_filter_names_the_field_and_is_ignored(shop: Shop) -> None:
    await shop.sign_in("vera")
    answer = await shop.client.get(
        "/products", params={"state": "sleeping", "account": "999", "storefront": "xx"}
    )
    assert answer.status_code == 400
    fields = re.findall(r'<li data-field="([^"]+)">', answer.text)
    assert fields == ["state", "account", "storefront"]
    assert "Offer state: &#39;sleeping&#39; is not one of" in answer.text
    assert "there is no account &#39;999&#39;" in answer.text
    assert skus(answer.text) == ["BAD-EAN", "SKU-A", "SKU-B", "SKU-C"]


async def test_htmx_gets_the_results_alone(shop: Shop) -> None:
    await shop.sign_in("vera")
    answer = await shop.client.get(
        "/products",
        params={"state": "failed"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    assert answer.status_code == 200
    assert "<html" not in answer.text and skus(answer.text) == ["SKU-A"]


async def test_keyset_pages_walk_forward_and_back(shop: Shop) -> None:
    with transaction(shop.factory) as session:
        for n in range(60):
            session.add(
                Product(
                    sku=f"P-{n:03d}",
                    ean="4006381333931",
                    title=f"Bulk {n}",
                    price_minor=100,
                    currency=Currency.EUR,
                    content_hash="0" * 64,
                )
            )
    await shop.sign_in("vera")
    first = await shop.client.get("/products", params={"size": "25"})
    assert skus(first.text)[0] == "BAD-EAN" and len(skus(first.text)) == 25
    assert 'rel="prev"' not in first.text
    following = re.search(r'rel="next" href="/products\?([^"]+)"', first.text)
    assert following is not None
    second = await shop.client.get("/products?" + following.group(1).replace("&amp;", "&"))
    assert skus(second.text)[0] == "P-024" and len(skus(second.text)) == 25
    back = re.search(r'rel="prev" href="/products\?([^"]+)"', second.text)
    assert back is not None
    again = await shop.client.get("/products?" + back.group(1).replace("&amp;", "&"))
    assert skus(again.text) == skus(first.text)
    last = await shop.client.get("/products", params={"size": "25", "after": "P-049"})
    assert skus(last.text) == [f"P-{n:03d}" for n in range(50, 60)] + [
        "SKU-A",
        "SKU-B",
        "SKU-C",
    ]
    assert 'rel="next"' not in last.text
    bad = await shop.client.get("/products", params={"size": "7"})
    assert bad.status_code == 400 and 'data-field="size"' in bad.text


# ---------------------------------------------------------------------------- the detail


async def test_the_detail_shows_stock_reservations_errors_and_review(shop: Shop) -> None:
    await shop.sign_in("vera")
    answer = await shop.client.get("/products/SKU-A")
    assert answer.status_code == 200
    html = answer.text
    assert "Garden spade" in html and "4006381333931" in html
    assert 'id="ean-check">valid<' in html
    stock = html.split('id="stock-table"')[1].split("</table>")[0]
    assert "prague" in stock and '<td class="num">3</td>' in stock
    assert '<td class="num">8</td>' in stock  # the total
    reserved = html.split('id="reserved-table"')[1].split("</table>")[0]
    assert re.search(r"shop</th><td class=\"num\">2</td>", reserved)
    assert re.search(r"other</th><td class=\"num\">0</td>", reserved)
    offers = html.split('id="offers-table"')[1].split("</table>")[0]
    cz = offers.split('data-storefront="cz"')[1].split("</tr>")[0]
    assert "state-failed" in cz and HANDLING in cz and "(2 attempts)" in cz
    assert "Kaufland needs a handling time" in cz
    de = offers.split(f'data-account="{shop.shop_id}" data-storefront="de"')[1].split("</tr>")[0]
    assert "2026-03-10 14:00 UTC" in de and "501" in de
    # A viewer sees no actions.
    assert 'data-action="' not in html and "Push now" not in html


async def test_the_detail_shows_missing_attributes_and_a_bad_ean(shop: Shop) -> None:
    await shop.sign_in("vera")
    html = (await shop.client.get("/products/SKU-C")).text
    review = html.split('id="review"')[1].split("</section>")[0]
    assert 'data-review="missing"' in review and "colour, size" in review
    assert "Kaufland needs more data: missing colour, size" in review
    bad = (await shop.client.get("/products/BAD-EAN")).text
    assert 'id="ean-check">invalid<' in bad and "wrong check digit" in bad
    missing = await shop.client.get("/products/NOPE")
    assert missing.status_code == 404 and "No product NOPE" in missing.text


def test_errors_are_explained_in_plain_words() -> None:
    assert explain_error(None) is None
    assert "handling time" in (explain_error(HANDLING) or "")
    assert "currency rate" in (explain_error("X: currency: set a currency rate") or "")
    assert "interrupted" in (
        explain_error("an earlier create did not complete; created again") or ""
    )
    assert "quoted below" in (explain_error("something new and strange") or "")


# ----------------------------------------------------------------------------- actions


async def test_a_viewer_may_not_act(shop: Shop) -> None:
    token = await shop.sign_in("vera")
    answer = await shop.client.post(
        "/products/SKU-A/push", data={"csrf_token": token, "account": str(shop.shop_id)}
    )
    assert answer.status_code == 403
    assert shop.queue.submits == []


async def test_actions_need_the_csrf_token(shop: Shop) -> None:
    await shop.sign_in("otto")
    answer = await shop.client.post(
        "/products/SKU-A/pause", data={"account": str(shop.shop_id), "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    binding = shop.binding("SKU-A", shop.shop_id, "de")
    assert binding is not None and not binding.paused
    assert shop.queue.submits == []


async def test_push_now_marks_the_bindings_and_queues_each_accounts_offers_run(
    shop: Shop,
) -> None:
    token = await shop.sign_in("otto")
    page = await shop.client.get("/products/SKU-A")
    assert 'data-action="push"' in page.text and 'data-action="pause"' in page.text
    answer = await shop.client.post("/products/SKU-A/push", data={"csrf_token": token})
    assert answer.status_code == 200
    assert "Marked for sending for SKU-A on other (de); shop (cz, de)" in answer.text
    assert [(s.account_id, s.kind, s.trigger) for s in shop.queue.submits] == [
        (shop.other_id, JobKind.OFFERS, JobTrigger.MANUAL),
        (shop.shop_id, JobKind.OFFERS, JobTrigger.MANUAL),
    ]
    binding = shop.binding("SKU-A", shop.shop_id, "de")
    assert binding is not None
    assert binding.payload_hash is None and binding.stock_hash is None
    assert binding.state is BindingState.ACTIVE  # the run decides, not the page


async def test_push_now_for_one_account_by_htmx_answers_with_the_offers_panel(
    shop: Shop,
) -> None:
    await shop.sign_in("otto")
    token = await shop.sign_in("otto")
    answer = await shop.client.post(
        "/products/SKU-B/push",
        data={"account": str(shop.other_id)},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section class="card" aria-labelledby="offers-head"')
    assert "<html" not in answer.text and 'id="action-notice"' in answer.text
    assert [s.account_id for s in shop.queue.submits] == [shop.other_id]
    untouched = shop.binding("SKU-B", shop.shop_id, "de")
    assert untouched is not None and untouched.payload_hash is None  # was None already
    with shop.factory() as session:
        kept = session.scalar(
            select(OfferBinding.stock_hash).where(
                OfferBinding.sku == "SKU-A", OfferBinding.storefront == Storefront.DE
            )
        )
    assert kept == "s" * 64  # another product is not touched


async def test_pause_and_resume_one_storefront(shop: Shop) -> None:
    token = await shop.sign_in("otto")
    answer = await shop.client.post(
        "/products/SKU-A/pause",
        data={"csrf_token": token, "account": str(shop.shop_id), "storefront": "de"},
    )
    assert answer.status_code == 200
    assert "Paused for SKU-A on shop (de)" in answer.text
    de = shop.binding("SKU-A", shop.shop_id, "de")
    cz = shop.binding("SKU-A", shop.shop_id, "cz")
    assert de is not None and de.paused and de.state is BindingState.ACTIVE
    assert cz is not None and not cz.paused
    assert [(s.account_id, s.kind) for s in shop.queue.submits] == [(shop.shop_id, JobKind.OFFERS)]
    assert 'data-action="resume"' in answer.text
    resumed = await shop.client.post(
        "/products/SKU-A/resume",
        data={"csrf_token": token, "account": str(shop.shop_id), "storefront": "de"},
    )
    assert resumed.status_code == 200 and "Resumed for SKU-A on shop (de)" in resumed.text
    de = shop.binding("SKU-A", shop.shop_id, "de")
    assert de is not None and not de.paused and de.id_unit == 501
    assert len(shop.queue.submits) == 2


async def test_pausing_a_product_never_published_keeps_it_unpublished(shop: Shop) -> None:
    token = await shop.sign_in("otto")
    await shop.client.post(
        "/products/SKU-C/pause", data={"csrf_token": token, "account": str(shop.shop_id)}
    )
    for code in ("de", "cz"):
        binding = shop.binding("SKU-C", shop.shop_id, code)
        assert binding is not None and binding.paused and binding.id_unit is None
    assert await listed(shop, state="paused") == ["SKU-B", "SKU-C"]
    await shop.client.post(
        "/products/SKU-C/resume", data={"csrf_token": token, "account": str(shop.shop_id)}
    )
    assert shop.binding("SKU-C", shop.shop_id, "de") is None
    assert shop.binding("SKU-C", shop.shop_id, "cz") is None


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    [
        ("pause", {}, "account", "Account: choose the account to change &#39;SKU-A&#39; on."),
        ("pause", {"account": "999"}, "account", "there is no account &#39;999&#39;"),
        ("pause", {"account": "shop"}, "account", "is not an account id"),
        ("resume", {"account": "{shop}", "storefront": "xx"}, "storefront", "Storefront:"),
        (
            "pause",
            {"account": "{other}", "storefront": "cz"},
            "storefront",
            "account &#39;other&#39; does not sell on &#39;cz&#39;",
        ),
        ("push", {"storefront": "de"}, "storefront", "choose an account too"),
    ],
)
async def test_bad_input_names_the_field_and_changes_nothing(
    shop: Shop, action: str, data: dict[str, str], field: str, message: str
) -> None:
    token = await shop.sign_in("otto")
    ids = {"{shop}": str(shop.shop_id), "{other}": str(shop.other_id)}
    form = {key: ids.get(value, value) for key, value in data.items()}
    answer = await shop.client.post(f"/products/SKU-A/{action}", data={"csrf_token": token, **form})
    assert answer.status_code == 400
    assert f'data-field="{field}"' in answer.text and message in answer.text
    assert shop.queue.submits == []
    with shop.factory() as session:
        rows = session.scalars(select(OfferBinding).where(OfferBinding.sku == "SKU-A")).all()
    assert not any(b.paused for b in rows)
    assert {b.payload_hash for b in rows} == {"p" * 64, None}


async def test_an_action_on_an_unknown_product_is_a_404(shop: Shop) -> None:
    token = await shop.sign_in("otto")
    answer = await shop.client.post(
        "/products/NOPE/pause", data={"csrf_token": token, "account": str(shop.shop_id)}
    )
    assert answer.status_code == 404 and shop.queue.submits == []


async def test_a_queue_that_is_down_is_reported(shop: Shop) -> None:
    token = await shop.sign_in("otto")
    shop.queue.broken = True
    answer = await shop.client.post(
        "/products/SKU-A/pause", data={"csrf_token": token, "account": str(shop.shop_id)}
    )
    assert answer.status_code == 503
    assert "could not be queued (ConnectionError)" in answer.text
    binding = shop.binding("SKU-A", shop.shop_id, "de")
    assert binding is not None and binding.paused  # the pause itself is stored


# --------------------------------------------------- a pause on the sandbox, through the page

KEY = "pages_products_client_key_000001"
SECRET = "pages_products_secret_" + "d" * 42


async def test_a_paused_offer_goes_on_hold_on_the_sandbox_and_comes_back(
    settings: Settings, store: sessionmaker[Session], tmp_path: Path
) -> None:
    config = SandboxConfig(sellers=[SellerCredentials(KEY, SECRET)], rate_limit=0.0)
    world = World(config)
    seed_world(world, "demo")
    sandbox = create_sandbox(config, world=world)
    # EANs the sandbox knows, so the units are AVAILABLE (not waiting for product data).
    known = [p["eans"][0] for p in world.catalog["products"].values() if p.get("eans")][:2]
    rows = "".join(f"PAUSE-{n},{ean},Product {n},19.99,EUR,4\n" for n, ean in enumerate(known, 1))
    import_catalogue(store, "sku,ean,title,price,currency,stock\n" + rows, tmp_path)
    with transaction(store) as session:
        account = new_account(session, "seller", client_key=KEY, base_url="http://sandbox.test/v2")
        # Inactive products' units are deleted on this storefront; a paused one must be held.
        AccountRepository(session).update_storefront(
            account, "de", {"handling_time": 2, "on_deactivate": "delete"}
        )
        account_id = account.id
    add_users(store, [("otto", "operator")])

    def units() -> dict[str, str]:
        table = world.seller(KEY).table("units")
        return {
            str(u["id_offer"]): str(u.get("status"))
            for u in table.values()
            if str(u.get("id_offer", "")).startswith("PAUSE-")
        }

    async def offers_run(kind: SyncKind = SyncKind.OFFERS) -> list[SyncSummary]:
        with store() as session:
            seller = session.get(Account, account_id)
            assert seller is not None
            pairs = [
                (OfferSettings.from_storefront(s), s.direction_offers) for s in seller.storefronts
            ]
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=sandbox), base_url="http://sandbox.test"
            ) as http,
            KauflandClient(
                KEY,
                SECRET,
                base_url="http://sandbox.test/v2",
                http_client=http,
                rate_limit=None,
                retry=RetryPolicy(max_attempts=1, base_delay=0.0, max_delay=0.0),
            ) as client,
        ):
            summaries = await sync_account_offers(
                factory=store,
                backoffice=BuiltinCatalog(store),
                client=client,
                account_id=account_id,
                storefronts=pairs,
                kind=kind,
            )
        assert all(s.ok for s in summaries), [s.failed for s in summaries]
        return summaries

    await offers_run()
    assert units() == {"PAUSE-1": "AVAILABLE", "PAUSE-2": "AVAILABLE"}

    queue = RecordingQueue(store, lambda: NOW)
    async with client_of(app_for(settings, store, queue)) as web:
        shop = Shop(web, queue, store, account_id, account_id)
        token = await shop.sign_in("otto")
        paused = await web.post(
            "/products/PAUSE-1/pause", data={"csrf_token": token, "account": str(account_id)}
        )
        assert paused.status_code == 200
        assert [s.kind for s in queue.submits] == [JobKind.OFFERS]

        await offers_run()  # what the queued job runs
        assert units() == {"PAUSE-1": "ONHOLD", "PAUSE-2": "AVAILABLE"}
        held = shop.binding("PAUSE-1", account_id, "de")
        assert held is not None and held.state is BindingState.ONHOLD and held.paused
        again = await offers_run()  # still paused: nothing sent, still on hold
        assert units()["PAUSE-1"] == "ONHOLD" and again[0].write_calls == 0
        stock = await offers_run(SyncKind.STOCK)  # the stock push leaves it alone too
        assert stock[0].not_run_reason is None and stock[0].skipped == 1
        assert stock[0].write_calls == 0 and units()["PAUSE-1"] == "ONHOLD"

        resumed = await web.post(
            "/products/PAUSE-1/resume", data={"csrf_token": token, "account": str(account_id)}
        )
        assert resumed.status_code == 200
        await offers_run()
        assert units() == {"PAUSE-1": "AVAILABLE", "PAUSE-2": "AVAILABLE"}
        back = shop.binding("PAUSE-1", account_id, "de")
        assert back is not None and back.state is BindingState.ACTIVE and not back.paused
