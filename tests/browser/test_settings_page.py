"""The settings page in Chromium: the price preview follows the sample and the unsaved form
values as they are typed (figures from the pricing functions), and a carrier mapping chosen
from Kaufland's list (the sandbox's) is saved and shown. Screenshots in var/screenshots/.

The app is ``create_app(..., ui=True)`` served on a loopback port with its own store (the
tests save mappings), for this module only; the account's Kaufland is the package's sandbox
over loopback HTTP (only read from). Only synchronous code here: Playwright's sync API keeps an
event loop running in this thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.pricing import PriceRule, RoundingRule, convert_price
from kaufland_sync.sandbox.seed import carriers as sandbox_carriers
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.secrets import secret_box
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, Environment
from kaufland_sync.store.models.catalog import Currency, Product
from kaufland_sync.store.models.categories import CategoryMapping
from kaufland_sync.store.models.orders import OrderMapping
from kaufland_sync.web.auth import create_user
from tests.browser.conftest import SETTINGS_SELLER, Screenshot, Site, Sites, sign_in
from tests.builders import at

NOW = at("2026-03-10", "15:30")
KEY, SECRET = SETTINGS_SELLER
USER = "ada"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def site(sites: Sites, sandbox: RunningSandbox) -> Iterator[Site]:
    """Account ``shop`` (de, cz) on the package's sandbox, two products, an admin."""
    with sites.open("settings-page", clock=lambda: NOW) as opened:
        with transaction(opened.factory) as session:
            repository = AccountRepository(session)
            shop = repository.add(
                "shop",
                client_key=KEY,
                secret_key_encrypted=secret_box(opened.settings).encrypt(SECRET),
                environment=Environment.CUSTOM,
                base_url=sandbox.base_url,
                storefronts=["de", "cz"],
            )
            repository.update_storefront(
                shop, "cz", {"currency_rate": "25.2", "markup_percent": "5", "rounding": "1"}
            )
            for sku, title, category in (
                ("PHONE-1", "Acme X1 Smartphone", "Electronics > Phones"),
                ("EAR-1", "Acme earbuds in-ear headset", "Audio > Headphones"),
            ):
                session.add(
                    Product(
                        sku=sku,
                        ean="4006381333931",
                        title=title,
                        brand="Acme",
                        category=category,
                        price_minor=4_990,
                        currency=Currency.EUR,
                        content_hash="0" * 64,
                    )
                )
            create_user(session, USER, "admin", PASSWORD)
        with opened.serve() as served:
            yield served


def log_in(page: Page) -> None:
    sign_in(page, USER, PASSWORD)


def stored_rule(factory: sessionmaker[Session], code: str) -> PriceRule:
    with factory() as session:
        account = session.scalars(select(Account).where(Account.name == "shop")).one()
        settings = account.storefront(code)
        assert settings is not None
        return PriceRule(
            currency_rate=settings.currency_rate,
            markup_percent=settings.markup_percent,
            rounding=RoundingRule.parse(settings.rounding),
        )


def test_the_preview_follows_the_sample_and_the_unsaved_rule(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    log_in(page)
    page.goto("/settings?account=shop&storefront=cz")
    expect(page.locator("h1")).to_have_text("Settings and mappings")
    cz_row = page.locator('#preview-table tr[data-storefront="cz"]')
    de_row = page.locator('#preview-table tr[data-storefront="de"]')

    page.fill("#preview-price", "12.34")
    saved_rule = stored_rule(site.factory, "cz")
    expect(cz_row).to_have_attribute("data-listing-price", str(convert_price(1_234, saved_rule)))
    expect(de_row).to_have_attribute(
        "data-listing-price", str(convert_price(1_234, stored_rule(site.factory, "de")))
    )

    # Typing a new rate previews it for cz before anything is saved.
    page.fill("#currency_rate", "30")
    draft = PriceRule(
        currency_rate=Decimal(30),
        markup_percent=saved_rule.markup_percent,
        rounding=saved_rule.rounding,
    )
    expect(cz_row).to_have_attribute("data-listing-price", str(convert_price(1_234, draft)))
    expect(cz_row).to_have_class("draft")
    assert stored_rule(site.factory, "cz") == saved_rule

    # A rate the store would refuse is named, not previewed.
    page.fill("#currency_rate", "-2")
    expect(page.locator("#preview-error")).to_contain_text("Currency rate")
    expect(page.locator("#preview-table")).to_have_count(0)
    page.fill("#currency_rate", "30")
    expect(cz_row).to_have_attribute("data-listing-price", str(convert_price(1_234, draft)))
    screenshot(page, "settings-preview")


def test_a_carrier_mapping_chosen_from_kauflands_list_is_saved(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    log_in(page)
    page.goto("/settings?account=shop&storefront=de#carriers")
    names = [c["name"] for c in sandbox_carriers()]
    options = page.locator("#carrier-target option")
    expect(options).to_have_count(len(set(names)))
    target = sorted(names, key=str.casefold)[1]

    page.fill("#carrier-source", "Our van")
    page.select_option("#carrier-target", target)
    page.click("#save-carrier")

    expect(page.locator("#carriers .notice.saved")).to_contain_text("Mapping saved.")
    row = page.locator('#carrier-table tr[data-source="Our van"]')
    expect(row).to_contain_text(target)
    with site.factory() as session:
        stored = [(m.source, m.target) for m in session.scalars(select(OrderMapping))]
    assert stored == [("Our van", target)]
    screenshot(page, "settings-page")

    page.click("#theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "settings-page-dark")


def test_kauflands_category_suggestion_is_applied_with_one_click(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    log_in(page)
    page.goto("/settings?account=shop&storefront=de#categories")
    phones = page.locator('#category-table tr[data-local="Electronics > Phones"]')
    expect(phones).to_have_attribute("data-source", "")

    page.click("#refresh-tree")
    expect(page.locator("#categories-saved")).to_contain_text("category tree refreshed")
    page.click("#suggest-categories")
    expect(page.locator("#categories-saved")).to_contain_text("suggestions stored")
    expect(phones).to_have_attribute("data-source", "suggested")
    suggested = phones.get_attribute("data-id-category")
    assert suggested

    phones.locator("button.apply-suggestion").click()
    expect(page.locator("#categories-saved")).to_contain_text("Category mapping saved")
    expect(phones).to_have_attribute("data-source", "manual")
    with site.factory() as session:
        stored = session.scalars(
            select(CategoryMapping).where(CategoryMapping.local_category == "Electronics > Phones")
        ).one()
    assert (str(stored.id_category), stored.source.value) == (suggested, "manual")
    page.locator("#categories").scroll_into_view_if_needed()
    screenshot(page, "settings-categories")
