"""The Returns and Customers pages in Chromium: the returns list urgent first with the time
left in words, a filter applied by htmx, a decision given through the form (and a refused
refund naming its field), the customers list searched as one types and a customer's page.
Screenshots of each land in var/screenshots/ for review.

The app is served once for this module on a store of its own (the decision changes it), seeded
by the web tests' builders. Everything here is synchronous: Playwright's sync API keeps an event
loop running in the main thread while it is started.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.jobs import JobKind
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage
from tests.browser.conftest import PageOptions, Screenshot, Site, Sites, sign_in
from tests.web.support import PASSWORD
from tests.web.test_pages_customers import add_customers
from tests.web.test_pages_returns import NOW
from tests.web.test_pages_returns import seed as seed_returns

USER = "otto"  # an operator of the seed


@pytest.fixture(scope="module")
def site(sites: Sites) -> Iterator[Site]:
    with sites.open("returns-customers", clock=lambda: NOW) as opened:
        with transaction(opened.factory) as session:
            shop, other = seed_returns(session)
            add_customers(session, shop, other)
        with opened.serve() as served:
            yield served


@pytest.fixture(scope="module")
def page_options() -> PageOptions:
    return PageOptions(width=1360)


@pytest.fixture
def page(page: Page) -> Page:
    """The package's page, signed in as the operator."""
    sign_in(page, USER, PASSWORD)
    return page


def shown_returns(page: Page) -> list[str]:
    return page.locator(".returns-table tbody th[scope=row] a").all_inner_texts()


def test_the_returns_list_puts_urgent_returns_first_and_filters_with_htmx(
    page: Page, screenshot: Screenshot
) -> None:
    page.goto("/returns")
    expect(page.locator("h1")).to_have_text("Returns")
    expect(page.locator('nav.site-nav a[aria-current="page"]')).to_have_text("Returns")
    assert shown_returns(page) == ["7002", "7001", "7003", "7004"]
    first = page.locator(".returns-table tbody tr").first
    expect(first.locator(".time-left")).to_have_text("overdue by 1 day 5 h")
    expect(first).to_have_class(re.compile(r"\bis-overdue\b"))
    expect(page.locator(".returns-table tbody tr").nth(1).locator(".time-left")).to_have_text(
        "1 day 20 h left"
    )
    screenshot(page, "returns-list")

    page.select_option("#returns-storefront", "cz")
    expect(page).to_have_url(re.compile(r"storefront=cz"))
    expect(page.locator(".returns-table tbody tr")).to_have_count(1)
    assert shown_returns(page) == ["7003"]

    page.select_option("#returns-storefront", "")
    page.fill("#returns-q", "spade")
    expect(page).to_have_url(re.compile(r"q=spade"))
    expect(page.locator(".returns-table tbody tr")).to_have_count(1)
    assert shown_returns(page) == ["7002"]


def test_a_decision_given_on_the_page_is_queued_and_a_bad_refund_is_named(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    page.goto("/returns")
    page.click("text=7001")
    expect(page.locator("h1")).to_have_text("Return 7001")
    unit = page.locator("#unit-71")
    expect(unit.locator(".time-left")).to_have_text("1 day 20 h left")
    screenshot(page, "returns-detail")

    # A refused refund: the amount is named, nothing is queued.
    page.fill("#refund-amount", "lots")
    page.fill("#refund-reason", "late")
    page.click("#refund-form button[type=submit]")
    expect(page.locator("#return-error")).to_contain_text("Amount")
    expect(page.locator("#refund-error")).to_contain_text("not an amount")
    expect(page.locator("#refund-amount")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "returns-detail-refund-error")
    with site.factory() as session:
        assert session.scalars(select(OutboxMessage)).all() == []

    form = page.locator("#decide-71-clarify")
    form.locator("textarea").fill("Which part is missing?")
    form.locator("button[type=submit]").click()
    expect(page.locator("#return-notice")).to_contain_text("Queued: clarify of return unit 71")
    expect(unit.locator("table")).to_contain_text("Which part is missing?")
    with site.factory() as session:
        (message,) = session.scalars(select(OutboxMessage)).all()
        assert (message.action, message.target) == (OutboxAction.RETURN_CLARIFY, "71")
        assert message.payload == {"message": "Which part is missing?"}
    assert [s.kind for s in site.queue.submits] == [JobKind.OUTBOX]


def test_customers_are_searched_as_one_types_and_open_with_their_orders(
    page: Page, screenshot: Screenshot
) -> None:
    page.goto("/customers")
    expect(page.locator("h1")).to_have_text("Customers")
    rows = page.locator(".customers-table tbody tr")
    expect(rows).to_have_count(4)
    screenshot(page, "customers-list")

    page.fill("#customers-q", "novak")
    expect(page).to_have_url(re.compile(r"q=novak"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("502.50 CZK")

    rows.first.locator("a").click()
    expect(page.locator("h1")).to_have_text("Anna Novak")
    expect(page.locator("address")).to_have_count(3)
    links = page.locator("table a")
    expect(links).to_have_count(2)
    expect(links.first).to_have_attribute("href", "/orders/A-2?account=shop")
    screenshot(page, "customers-detail")

    page.click("#theme-toggle")
    page.goto("/returns")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "returns-list-dark")
