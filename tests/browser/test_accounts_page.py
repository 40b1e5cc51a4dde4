"""The Accounts pages in Chromium against the whole web app and the sandbox, both on loopback
HTTP: an admin adds an account through the form, Test Connection answers in plain words, a
wrong secret key is named as such, and a bad form names its field. Screenshots of the list, the
form and the account page go to var/screenshots/.

The app is this module's own (its store is written to); the sandbox (two of its sellers) and
the browser are the package's (conftest.py), so only one Playwright runs at a time whatever
order modules run in. Everything here is synchronous: Playwright's sync API owns the main
thread's event loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.secrets import secret_box
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.web.auth import create_user
from tests.browser.conftest import (
    ACCOUNTS_OTHER_SELLER,
    ACCOUNTS_SELLER,
    PageOptions,
    Screenshot,
    Site,
    Sites,
    sign_in,
)

ADMIN = "admin"
PASSWORD = "correct horse battery staple"
CLIENT_KEY, SECRET_KEY = ACCOUNTS_SELLER
OTHER_KEY, OTHER_SECRET = ACCOUNTS_OTHER_SELLER
WRONG_SECRET = "browser_accounts_wrong_secret_" + "0" * 34


@pytest.fixture(scope="module")
def site(sites: Sites) -> Iterator[Site]:
    """The app as ``kaufland-sync run`` serves it (``ui=True``) on a store of its own, with
    an admin and no account."""
    with sites.open("accounts-browser") as opened:
        with transaction(opened.factory) as session:
            create_user(session, ADMIN, "admin", PASSWORD)
        with opened.serve() as served:
            yield served


@pytest.fixture(scope="module")
def page_options() -> PageOptions:
    return PageOptions(timeout_ms=15_000)


def log_in(page: Page) -> None:
    sign_in(page, ADMIN, PASSWORD, next_path="/accounts")


def test_an_admin_adds_an_account_and_tests_the_connection(
    page: Page,
    sandbox: RunningSandbox,
    site: Site,
    screenshot: Screenshot,
) -> None:
    log_in(page)
    expect(page.locator('nav.site-nav a[aria-current="page"]')).to_have_text("Accounts")
    page.click("text=Add account")
    expect(page).to_have_url(re.compile(r"/accounts/_new$"))

    # A first try without storefronts and without the URL the "other" environment needs.
    page.fill("#account-name", "sandbox-shop")
    page.fill("#account-client-key", CLIENT_KEY)
    page.fill("#account-secret-key", SECRET_KEY)
    page.check("input[name=environment][value=custom]")
    page.click("#account-form button[type=submit]")
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("Base URL: required")
    expect(errors).to_contain_text("Storefronts: choose at least one storefront")
    expect(page.locator("#account-base-url")).to_have_attribute("aria-invalid", "true")
    assert SECRET_KEY not in page.content()  # the secret key is not sent back, even here

    page.fill("#account-secret-key", SECRET_KEY)
    page.fill("#account-base-url", sandbox.base_url)
    page.check("input[name=storefront][value=de]")
    page.check("input[name=storefront][value=cz]")
    page.select_option("#account-base-currency", "EUR")
    screenshot(page, "accounts-add-form")
    page.click("#account-form button[type=submit]")

    expect(page).to_have_url(re.compile(r"/accounts/sandbox-shop\?added=1$"))
    expect(page.locator("#account-notice")).to_contain_text("Added the account")
    expect(page.locator("#storefronts-table tbody tr")).to_have_count(2)
    page.click("#test-button")
    verdict = page.locator("#test-result .test-verdict")
    expect(verdict).to_have_attribute("data-level", "ok")
    expect(verdict).to_contain_text("Connected: storefronts cz, de available; clock within")
    assert SECRET_KEY not in page.content()
    screenshot(page, "account-detail")

    # Stored encrypted with the app's master key.
    with site.factory() as session:
        account = session.scalars(select(Account).where(Account.name == "sandbox-shop")).one()
        assert SECRET_KEY not in account.secret_key_encrypted
        box = secret_box(site.settings)
        assert box.decrypt(account.secret_key_encrypted, account=account.name) == SECRET_KEY

    # A storefront's sync direction and settings, then a schedule.
    page.click("#storefront-de summary")
    page.select_option("#sf-de-direction_stock", "off")
    page.fill("#sf-de-handling_time", "2")
    screenshot(page, "account-storefront-settings")
    page.click("#storefront-de button[type=submit]:has-text('Save DE')")
    expect(page.locator("#account-notice")).to_have_text("Saved the storefront settings.")
    de_row = page.locator('#storefronts-table tr[data-storefront="de"]')
    expect(de_row.locator("td").nth(1)).to_have_text("off")  # offers, stock, prices, orders
    page.select_option("#interval-offers", "15")
    page.click("#schedules-form button:has-text('Save schedules')")
    expect(page.locator("#account-notice")).to_have_text("Saved the schedules.")
    expect(page.locator("#interval-offers")).to_have_value("15")

    page.goto("/accounts")
    row = page.locator('#accounts-table tr[data-account="sandbox-shop"]')
    expect(row).to_contain_text("DE · EUR")
    expect(row).to_contain_text("CZ · CZK")
    screenshot(page, "accounts-list")


def test_a_wrong_secret_key_is_named_by_test_connection(
    page: Page, sandbox: RunningSandbox
) -> None:
    log_in(page)
    page.click("text=Add account")
    page.fill("#account-name", "wrong-secret")
    page.fill("#account-client-key", OTHER_KEY)
    page.fill("#account-secret-key", WRONG_SECRET)
    page.check("input[name=environment][value=custom]")
    page.fill("#account-base-url", sandbox.base_url)
    page.check("input[name=storefront][value=de]")
    page.click("#account-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/accounts/wrong-secret\?added=1$"))

    page.click("#test-button")
    verdict = page.locator("#test-result .test-verdict")
    expect(verdict).to_have_attribute("data-level", "error")
    expect(verdict).to_contain_text("The secret key is wrong: Kaufland refused the signature")
    assert WRONG_SECRET not in page.content()
