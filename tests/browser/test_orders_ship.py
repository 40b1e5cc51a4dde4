"""Shipping an order from the web app, end to end: Chromium drives ``kaufland-sync run`` (a real
process) whose account is a seller on the sandbox (a real process too).

* An operator signs in, finds the buyer's order in the list, opens it and ships it with a
  carrier and a tracking number; the page's outbox panel shows the send going through, and the
  sandbox ends up with the order unit ``sent`` carrying that tracking number.
* A bad tracking number is refused on the page with the field named, and nothing is queued in
  the local outbox or reaches the sandbox.

Screenshots of the orders list and the order page land in var/screenshots/ for review.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kaufland_sync.store.models.jobs import Job, JobKind
from kaufland_sync.store.models.orders import Order
from kaufland_sync.store.models.outbox import OutboxMessage
from tests.browser.conftest import PageOptions, Screenshot, sign_in
from tests.browser.live_service import PASSWORD, USER, LiveService
from tests.e2e.processes import wait_until

CARRIER = "DHL"
TRACKING = "00340434161094042557"
#: How long the sandbox may take to show the shipment (outbox job, sandbox save): a deadline.
SHIP_DEADLINE = 45.0
#: Playwright's wait for what the page shows, in milliseconds (a deadline as well).
PAGE_DEADLINE_MS = 30_000


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveService, list[str]]]:
    service = LiveService(tmp_path_factory.mktemp("orders-ship"))
    try:
        orders = service.start(orders=2)
        yield service, orders
    finally:
        service.close()


@pytest.fixture(scope="module")
def site(live: tuple[LiveService, list[str]]) -> LiveService:
    """The pages are the running service's."""
    return live[0]


@pytest.fixture(scope="module")
def page_options() -> PageOptions:
    return PageOptions(timeout_ms=PAGE_DEADLINE_MS)


def log_in(page: Page) -> None:
    sign_in(page, USER, PASSWORD)


def open_order(page: Page, id_order: str) -> None:
    """From the orders list, through the order's link."""
    page.goto("/orders")
    row = page.locator(f'tr[data-id-order="{id_order}"]')
    expect(row).to_be_visible()
    row.get_by_role("link", name=id_order).click()
    expect(page.locator("h1")).to_have_text(f"Order {id_order}")


def outbox_of(service: LiveService, id_order: str) -> list[OutboxMessage]:
    assert service.engine is not None
    with Session(service.engine) as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .join(Order, Order.id == OutboxMessage.order_id)
                .where(Order.id_order == id_order)
            )
        )


def outbox_jobs(service: LiveService) -> int:
    assert service.engine is not None
    with Session(service.engine) as session:
        return session.scalar(select(func.count()).where(Job.kind == JobKind.OUTBOX)) or 0


def test_an_order_shipped_from_the_page_is_sent_on_the_sandbox(
    page: Page, live: tuple[LiveService, list[str]], screenshot: Screenshot
) -> None:
    service, (id_order, _) = live
    units = service.units(id_order)
    assert units and set(units.values()) == {"need_to_be_sent"}, units
    log_in(page)
    page.goto("/orders")
    expect(page.locator(f'tr[data-id-order="{id_order}"]')).to_be_visible()
    screenshot(page, "orders-list")
    open_order(page, id_order)
    form = page.locator("#ship-form")
    for unit in units:
        expect(form.locator(f'input[name=units][value="{unit}"]')).to_be_checked()
    screenshot(page, "order-detail")

    form.get_by_label("Carrier").select_option(CARRIER)
    form.get_by_label(re.compile("^Tracking numbers")).fill(TRACKING)
    form.get_by_role("button", name="Ship").click()

    expect(page.locator("#order-notice")).to_contain_text("Shipment queued")
    # The outbox panel refreshes itself (htmx) until Kaufland - the sandbox - has accepted.
    sends = page.locator('#outbox tr[data-action="send"]')
    expect(sends).to_have_count(len(units))
    for row in sends.all():
        expect(row).to_have_attribute("data-state", "done")
    expect(page.locator("#outbox")).to_have_attribute("data-moving", "false")
    # The units table came along with the panel (out of band): each unit's parcel, done.
    for unit in units:
        cell = page.locator(f'#order-lines tr[data-id-order-unit="{unit}"] td.tracking')
        expect(cell).to_contain_text(f"{CARRIER} {TRACKING}")
        expect(cell.locator(".state")).to_have_text("done")
    screenshot(page, "order-shipped")

    def sent_on_sandbox() -> bool:
        return all(service.sandbox_unit(unit) == ("sent", [(CARRIER, TRACKING)]) for unit in units)

    wait_until(
        sent_on_sandbox,
        f"order {id_order} sent with {CARRIER} {TRACKING} on the sandbox",
        deadline=SHIP_DEADLINE,
        describe=lambda: f"{[service.sandbox_unit(u) for u in units]}\n{service.report()}",
    )


def test_a_bad_tracking_number_is_refused_and_nothing_is_sent(
    page: Page, live: tuple[LiveService, list[str]], screenshot: Screenshot
) -> None:
    service, (_, id_order) = live
    units = service.units(id_order)
    assert units and set(units.values()) == {"need_to_be_sent"}, units
    jobs_before = outbox_jobs(service)
    log_in(page)
    open_order(page, id_order)
    form = page.locator("#ship-form")
    form.get_by_label("Carrier").select_option(CARRIER)
    form.get_by_label(re.compile("^Tracking numbers")).fill("0034,0435")
    form.get_by_role("button", name="Ship").click()

    alert = page.locator("#ship-errors")
    expect(alert).to_contain_text(f"Nothing was queued for order {id_order}")
    expect(alert).to_contain_text("Tracking numbers: tracking number '0034,0435' contains a comma")
    tracking = page.locator("#ship-tracking")
    expect(tracking).to_have_attribute("aria-invalid", "true")
    expect(tracking).to_have_value("0034,0435")  # kept for the correction
    screenshot(page, "order-ship-refused")

    # An empty tracking number is refused the same way (DHL needs one).
    page.locator("#ship-form").get_by_label(re.compile("^Tracking numbers")).fill("")
    page.locator("#ship-form").get_by_role("button", name="Ship").click()
    expect(page.locator("#ship-errors")).to_contain_text("needs a tracking number")

    # Nothing queued locally, no outbox job, nothing on the sandbox.
    assert outbox_of(service, id_order) == []
    assert outbox_jobs(service) == jobs_before
    for unit in units:
        assert service.sandbox_unit(unit) == ("need_to_be_sent", [])
