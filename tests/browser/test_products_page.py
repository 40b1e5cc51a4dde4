"""The products pages in Chromium: the list, filtering it down to failed offers (htmx swaps the
table and the address bar follows), a product's detail with its error in plain words, and
pausing an offer from the detail page. Screenshots land in var/screenshots/.

The app here is served with ``ui=True`` (every page, as ``kaufland-sync run`` serves it) on a
store of its own; the browser is the package's (tests/browser/conftest.py), so Playwright is
started once for the package and only synchronous code runs in these tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.catalog import Currency, Product, StockLevel, Warehouse
from kaufland_sync.store.models.categories import ProductDataStatus
from kaufland_sync.store.models.sync import BindingState, OfferBinding
from kaufland_sync.web.auth import create_user
from tests.browser.conftest import Screenshot, Site, Sites, sign_in
from tests.builders import at, new_account

NOW = at("2026-03-10", "15:30")
USER = "otto"
PASSWORD = "operator password for the browser"
FAILED_ERROR = "listing_price: 1200000.00 EUR is above Kaufland's maximum of 1000000.00"


def _clock() -> datetime:
    return NOW


def seed(session: Session) -> None:
    """Thirty products on two storefronts: every fifth failed on cz, one paused, one waiting
    for product data."""
    shop = new_account(session, "shop", rates={"de": "1", "cz": "25"})
    warehouse = Warehouse(code="default", name="Main warehouse")
    session.add(warehouse)
    session.flush()
    for n in range(30):
        sku = f"SKU-{n:03d}"
        product = Product(
            sku=sku,
            ean="4006381333931",
            title=f"Garden tool {n}",
            price_minor=1_000 + 25 * n,
            currency=Currency.EUR,
            content_hash="0" * 64,
        )
        session.add(product)
        session.flush()
        session.add(StockLevel(product_id=product.id, warehouse_id=warehouse.id, quantity=n % 9))
        session.add(
            OfferBinding(
                account_id=shop.id,
                storefront=Storefront.DE,
                sku=sku,
                id_unit=10_000 + n,
                state=BindingState.ONHOLD if n == 3 else BindingState.ACTIVE,
                paused=n == 3,
                synced_at=NOW,
            )
        )
        failed = n % 5 == 0
        session.add(
            OfferBinding(
                account_id=shop.id,
                storefront=Storefront.CZ,
                sku=sku,
                id_unit=None if failed else 20_000 + n,
                state=BindingState.FAILED if failed else BindingState.ACTIVE,
                last_error=f"{sku}: {FAILED_ERROR}" if failed else None,
                attempts=1 if failed else 0,
            )
        )
    session.add(
        ProductDataStatus(
            account_id=shop.id,
            ean="4006381333931",
            locale="de-DE",
            sku="SKU-001",
            update_status="FAILED",
            missing_attributes=["material"],
        )
    )
    create_user(session, USER, "operator", PASSWORD)


@pytest.fixture(scope="module")
def site(sites: Sites) -> Iterator[Site]:
    """The app with ``ui=True`` on the store of :func:`seed` (the tests pause offers)."""
    with sites.open("products-browser", clock=_clock) as opened:
        with transaction(opened.factory) as session:
            seed(session)
        with opened.serve() as served:
            yield served


@pytest.fixture
def page(page: Page) -> Page:
    """The package's page, signed in as the operator."""
    sign_in(page, USER, PASSWORD)
    return page


def rows(page: Page) -> list[str]:
    return [
        row.get_attribute("data-sku") or ""
        for row in page.locator("#products-table tbody tr[data-sku]").all()
    ]


def test_the_list_filters_down_to_failed_offers(page: Page, screenshot: Screenshot) -> None:
    page.goto("/products")
    expect(page.locator('nav.site-nav a[aria-current="page"]')).to_have_text("Products")
    expect(page.locator("#products-count")).to_contain_text("30 products")
    assert len(rows(page)) == 30
    expect(page.locator('tr[data-sku="SKU-003"] .badge.state-paused')).to_be_visible()
    screenshot(page, "products-list")

    page.select_option("#filter-state", "failed")
    expect(page).to_have_url(re.compile(r"/products\?.*state=failed"))
    expect(page.locator("#products-count")).to_contain_text("6 products match")
    assert rows(page) == [f"SKU-{n:03d}" for n in range(0, 30, 5)]
    expect(page.locator("#products-table .badge.state-failed").first).to_be_visible()
    screenshot(page, "products-list-failed")

    page.fill("#filter-q", "SKU-010")
    expect(page.locator("#products-count")).to_contain_text("1 product match")
    assert rows(page) == ["SKU-010"]

    page.click("#theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "products-list-dark")


def test_a_product_shows_its_error_in_plain_words_and_can_be_paused(
    page: Page, screenshot: Screenshot
) -> None:
    page.goto("/products?state=failed")
    page.click('tr[data-sku="SKU-005"] th a')
    expect(page).to_have_url(re.compile(r"/products/SKU-005$"))
    expect(page.locator("h1")).to_have_text("Garden tool 5")
    cz = page.locator('#offers-table tr[data-storefront="cz"]')
    expect(cz.locator(".badge.state-failed")).to_be_visible()
    expect(cz.locator(".advice")).to_contain_text("not one Kaufland accepts")
    expect(cz.locator(".raw-error")).to_contain_text("above Kaufland's maximum")
    expect(page.locator("#ean-check")).to_have_text("valid")
    screenshot(page, "products-detail")

    de = page.locator('#offers-table tr[data-storefront="de"]')
    de.locator('button[data-action="pause"]').click()
    expect(page.locator("#action-notice")).to_contain_text("Paused for SKU-005 on shop (de)")
    de = page.locator('#offers-table tr[data-storefront="de"]')
    expect(de.locator(".badge.state-paused")).to_be_visible()
    expect(de.locator('button[data-action="resume"]')).to_be_visible()
    screenshot(page, "products-detail-paused")


def test_the_detail_shows_the_product_data_review(page: Page) -> None:
    page.goto("/products/SKU-001")
    review = page.locator("#review")
    expect(review.locator(".badge.review-missing")).to_have_text("Missing attributes")
    expect(review.locator("td.missing")).to_have_text("material")
