"""The operations pages in Chromium: the queue (retrying a failed job through its button), the
logs (a row opened, a filter applied by htmx), performance and commission (the CSV export
downloaded). Screenshots of each land in var/screenshots/ for review.

The app is served once for this module, on a store of its own (the retry changes it), with the
seller-performance data of tests/reports/test_performance.py, a failed job, sync runs and a
failed outbox message. Everything here is synchronous: Playwright's sync API keeps an event
loop running in the main thread while it is started.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import Job, JobKind, JobState
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun
from kaufland_sync.web.auth import create_user
from tests.browser.conftest import PageOptions, Screenshot, Site, Sites, sign_in
from tests.reports import test_performance
from tests.web.ops_support import SendingQueue, add_failed_job, add_job

NOW = test_performance.NOW
USER = "otto"
PASSWORD = "an operator's long password"


@dataclass
class OpsApp:
    site: Site
    queue: SendingQueue
    failed_job: int
    failed_run: int

    @property
    def factory(self) -> sessionmaker[Session]:
        return self.site.factory


def seed(factory: sessionmaker[Session]) -> tuple[int, int]:
    """The performance data (account ``shop``), plus queue and log entries; (failed job id,
    failed sync run id)."""
    test_performance.seed(factory)
    with transaction(factory) as session:
        create_user(session, USER, "operator", PASSWORD)
        shop = session.scalars(select(Account.id).where(Account.name == "shop")).one()
        failed = add_failed_job(
            session, shop, JobKind.ORDERS, "HTTP 503 from Kaufland: Service Unavailable"
        )
        add_job(session, shop, JobKind.STOCK, JobState.QUEUED, minutes_ago=-3)
        add_job(session, shop, JobKind.RETURNS, JobState.DONE, counts={"imported": 2})
        session.add(
            OutboxMessage(
                account_id=shop,
                action=OutboxAction.CANCEL,
                target="314567896599999",
                payload={"reason": "NoInventory"},
                state=OutboxState.FAILED,
                attempts=2,
                last_error="409: the order unit is already sent",
            )
        )
        runs = [
            (SyncKind.OFFERS, "de", RunOutcome.OK, None),
            (SyncKind.STOCK, "cz", RunOutcome.PARTIAL, "SKU-7: stock buffer makes it negative"),
            (SyncKind.ORDERS, "de", RunOutcome.FAILED, "signature mismatch: check the clock"),
        ]
        ids = []
        for hours, (kind, code, outcome, error) in enumerate(runs, start=1):
            run = SyncRun(
                kind=kind,
                account_id=shop,
                storefront=Storefront(code),
                started_at=NOW - timedelta(hours=hours),
                finished_at=NOW - timedelta(hours=hours, minutes=-1),
                outcome=outcome,
                updated=4,
                failed=0 if outcome is RunOutcome.OK else 1,
                error_summary=error,
            )
            session.add(run)
            session.flush()
            ids.append(run.id)
    return failed, ids[-1]


@pytest.fixture(scope="module")
def ops_app(sites: Sites) -> Iterator[OpsApp]:
    with sites.open("ops-pages", clock=lambda: NOW, queue=SendingQueue) as opened:
        failed_job, failed_run = seed(opened.factory)
        assert isinstance(opened.queue, SendingQueue)
        with opened.serve() as served:
            yield OpsApp(served, opened.queue, failed_job, failed_run)


@pytest.fixture(scope="module")
def site(ops_app: OpsApp) -> Site:
    return ops_app.site


@pytest.fixture(scope="module")
def page_options() -> PageOptions:
    return PageOptions(width=1440, accept_downloads=True)


@pytest.fixture
def page(page: Page) -> Page:
    """The package's page, signed in as the operator."""
    sign_in(page, USER, PASSWORD)
    return page


def test_the_queue_retries_a_failed_job(
    page: Page, ops_app: OpsApp, screenshot: Screenshot
) -> None:
    page.goto("/queue")
    expect(page.locator('nav.site-nav a[aria-current="page"]')).to_have_text("Queue")
    row = page.locator(f'tr[data-job="{ops_app.failed_job}"]')
    expect(row).to_contain_text("HTTP 503 from Kaufland")
    expect(page.locator('[data-state-count="failed"] .count')).to_have_text("1")
    expect(page.locator("#outbox-table")).to_contain_text("409: the order unit is already sent")
    screenshot(page, "queue")

    row.get_by_role("button", name="Retry").click()
    expect(page.locator(".notice.ok")).to_have_text(f"job {ops_app.failed_job} queued again")
    expect(page.locator('[data-state-count="failed"] .count')).to_have_text("0")
    expect(row.locator(".state")).to_have_text("queued")
    expect(page).to_have_url(re.compile(r"/queue$"))  # htmx swapped the panel, no reload
    with ops_app.factory() as session:
        job = session.get(Job, ops_app.failed_job)
        assert job is not None and (job.state, job.attempts) == (JobState.QUEUED, 0)
    assert ops_app.queue.sent == [ops_app.failed_job]
    screenshot(page, "queue-after-retry")

    # A job failing meanwhile shows up by itself: the panel reloads every few seconds.
    with transaction(ops_app.factory) as session:
        shop = session.scalars(select(Account.id).where(Account.name == "shop")).one()
        late = add_failed_job(session, shop, JobKind.TICKETS, "timed out")
    expect(page.locator(f'tr[data-job="{late}"]')).to_contain_text("timed out", timeout=15_000)
    expect(page.locator('[data-state-count="failed"] .count')).to_have_text("1")


def test_the_log_filters_and_opens_a_row(
    page: Page, ops_app: OpsApp, screenshot: Screenshot
) -> None:
    page.goto("/logs")
    entry = page.locator(f'tr[data-entry="sync-{ops_app.failed_run}"]')
    entry.locator("summary").click()
    detail = entry.locator(".log-detail")
    expect(detail).to_contain_text("signature mismatch: check the clock")
    expect(detail.locator("dd").first).to_have_text("shop")
    screenshot(page, "logs")

    page.select_option("select[name=outcome]", "partial")
    expect(page).to_have_url(re.compile(r"outcome=partial"))
    rows = page.locator("#log-results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("SKU-7: stock buffer makes it negative")
    screenshot(page, "logs-filtered")


def test_performance_shows_rates_against_the_target(page: Page, screenshot: Screenshot) -> None:
    page.goto("/performance?account=shop&from=2026-03-01&to=2026-04-30")
    totals = page.locator("#performance-totals")
    de = totals.locator('tr[data-storefront="de"]')
    expect(de.locator('[data-rate="late_shipment"] .rate-text')).to_have_text("1/3 · 33.33 %")
    expect(de.locator('[data-rate="seller_cancellation"] .verdict')).to_have_text(
        "above the 1 % target"
    )
    expect(de.locator("meter").first).to_be_visible()
    screenshot(page, "performance")


def test_commission_and_its_csv_export(page: Page, screenshot: Screenshot, tmp_path: Path) -> None:
    page.goto("/commission?account=shop&from=2026-03-01&to=2026-04-30")
    expect(page.locator("#commission-totals tbody tr")).to_have_count(2)
    expect(page.locator('[data-total="commission"]')).not_to_have_text("")
    screenshot(page, "commission")

    with page.expect_download() as info:
        page.click("#commission-csv")
    saved = tmp_path / "commission.csv"
    info.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("storefront,period,start,end,currency,lines")
    assert lines[-1].startswith("all,total,2026-03-01,2026-04-30,")
    assert info.value.suggested_filename == "commission-shop-2026-03-01-2026-04-30-month.csv"

    # Another account: the results and the storefront choices (its storefronts) follow.
    expect(page.locator("#report-storefront option")).to_have_count(3)  # all, cz, de
    page.select_option("select[name=account]", label="other")
    expect(page).to_have_url(re.compile(r"account=\d+"))
    expect(page.locator("#report-storefront option")).to_have_count(2)  # all, de
    expect(page.locator("#commission-totals tbody tr")).to_have_count(1)
    expect(page.locator("#commission-totals tbody tr th")).to_have_text("DE")
