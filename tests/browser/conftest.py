"""Fixtures and helpers shared by every browser test: Debian's Chromium driven by Playwright,
web apps served on free loopback ports on seeded SQLite stores, one sandbox for the modules that
only read from Kaufland, signing in through the login form, and screenshots.

What is built once for the package and what per module:

* ``browser`` (Chromium) and ``sandbox`` (Kaufland's stand-in, several sellers) are the
  package's: nothing a test does on them is seen by another test.
* ``site`` is the app a test's ``page`` opens. The package's default is the dashboard app on the
  store of :func:`seed` (its tests only read). A module whose tests write to their store (ship,
  pause, retry, add an account) overrides ``site`` with an app of its own, built with
  :meth:`Sites.open` on a copy of one migrated store (migrating costs about a second each).
* ``page`` is a fresh browser context per test (fresh cookies and localStorage), in light colour
  scheme and with reduced motion, so charts are drawn without animation and screenshots show
  the final picture; a module changes its viewport or timeouts by overriding ``page_options``.

Only synchronous code runs here: Playwright's sync API keeps an asyncio loop running in the
main thread while it is started. A missing Chromium or missing vendor assets fail the tests
(never skip): ``make test`` installs both (``system-deps`` and ``assets``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from kaufland_sync.store.models.orders import Customer
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun
from kaufland_sync.web import auth_routes, dashboard_data, ui
from kaufland_sync.web.app import create_app
from kaufland_sync.web.auth import create_user, install_auth
from kaufland_sync.web.ui import STATIC_DIR, mount_static
from tests.builders import at, new_account, new_order
from tests.web.support import (
    LiveApp,
    RecordingQueue,
    copied_store,
    migrate_template,
    settings_for,
    use_cheap_hashing,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where the tests leave screenshots for people to look at (``/var/`` is git-ignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

#: The dashboard app's clock: every figure on the dashboard is relative to it.
NOW = at("2026-03-10", "15:30")
USER = "admin"
PASSWORD = "correct horse battery staple"

#: Sellers of the package's sandbox (``sandbox``): (client key, secret key, storefronts).
ACCOUNTS_SELLER = ("browser_accounts_client_key_0001", "browser_accounts_secret_" + "e" * 40)
ACCOUNTS_OTHER_SELLER = (
    "browser_accounts_client_key_0002",
    "browser_accounts_other_secret_" + "f" * 34,
)
SETTINGS_SELLER = ("browser_settings_key", "browser_settings_secret_" + "s" * 40)

# The states an order line goes through, spread over the seeded orders so the status doughnut
# has several slices: (Kaufland status, local status).
_STATUSES = [("sent", "shipped"), ("need_to_be_sent", "new"), ("open", "new"), ("sent", "shipped")]


def _clock() -> datetime:
    return NOW


def seed(session: Session) -> None:
    """Two accounts; one order a day for the 30 days up to NOW (so every period holds a
    different number of orders and a different revenue) and one every third day in the 30
    days before, a cancelled one, orders in CZK, sync runs and jobs for the activity feed and
    the footer."""
    shop = new_account(session, "shop", rates={"de": "1", "cz": "25"})
    other = new_account(session, "other", storefronts=("de",))
    customers = [Customer(account_id=shop.id, id_buyer=n) for n in range(1, 6)]
    session.add_all(customers)
    session.flush()
    for day in range(30):
        when = NOW - timedelta(days=day, hours=day % 5)
        status, local = _STATUSES[day % len(_STATUSES)]
        account, storefront, price = (
            (shop, "cz", 25_000 + 500 * day) if day % 6 == 5 else (shop, "de", 1_000 + 150 * day)
        )
        if day % 7 == 3:
            account, storefront, price = other, "de", 1_000 + 150 * day
        order = new_order(
            session,
            account,
            f"o{day:02d}",
            storefront,
            when,
            [{"status": status, "local_status": local, "price": price, "shipping_rate": 300}],
        )
        if account is shop:
            order.customer_id = customers[day % len(customers)].id
    # The 30 days before: an order every third day, for the changes against the previous period.
    for day in range(30, 60, 3):
        new_order(
            session,
            shop,
            f"p{day:02d}",
            "de",
            NOW - timedelta(days=day),
            [{"status": "sent", "local_status": "shipped", "price": 2_000, "shipping_rate": 0}],
        )
    new_order(
        session,
        shop,
        "cancelled",
        "de",
        NOW - timedelta(days=2),
        [{"status": "cancelled", "local_status": "cancelled", "price": 900}],
    )
    runs = [
        (SyncKind.OFFERS, RunOutcome.OK, None),
        (SyncKind.STOCK, RunOutcome.OK, None),
        (SyncKind.ORDERS, RunOutcome.OK, None),
        (SyncKind.OFFERS, RunOutcome.PARTIAL, "1 offer refused: EAN required"),
        (SyncKind.RETURNS, RunOutcome.FAILED, "signature mismatch: check the clock"),
    ]
    for hours, (kind, outcome, error) in enumerate(runs, start=1):
        session.add(
            SyncRun(
                kind=kind,
                account_id=shop.id,
                storefront=shop.storefronts[0].storefront,
                started_at=NOW - timedelta(hours=hours * 3),
                finished_at=NOW - timedelta(hours=hours * 3, minutes=-2),
                outcome=outcome,
                created=2,
                updated=5,
                failed=1 if outcome is not RunOutcome.OK else 0,
                error_summary=error,
            )
        )
    for minutes, state in enumerate((JobState.DONE, JobState.QUEUED, JobState.FAILED), start=1):
        finished = None if state is JobState.QUEUED else NOW - timedelta(minutes=minutes * 10)
        session.add(
            Job(
                kind=JobKind.ORDERS,
                account_id=other.id,
                trigger=JobTrigger.SCHEDULE,
                state=state,
                enqueued_at=NOW - timedelta(minutes=minutes * 11),
                not_before=NOW - timedelta(minutes=minutes * 11),
                finished_at=finished,
                counts={"imported": 4} if state is JobState.DONE else {},
                last_error="timed out" if state is JobState.FAILED else None,
            )
        )
    create_user(session, USER, "admin", PASSWORD)


def build_dashboard_app(site: Site) -> FastAPI:
    """The dashboard app as an early ``kaufland-sync run`` served it: auth, the dashboard, its
    data routes and the static files, without the management pages (their nav entries show
    disabled)."""
    app = create_app(
        site.settings,
        factory=site.factory,
        queue=site.queue,
        clock=site.clock,
        routers=[auth_routes.router, ui.router, dashboard_data.router],
    )
    install_auth(app, site.settings)
    mount_static(app)
    return app


class Served(Protocol):
    """Anything a browser page can be opened on: a :class:`Site` or a ``LiveService``."""

    @property
    def url(self) -> str: ...


@dataclass
class Site:
    """A web app on a store of its own in ``folder``: its settings (master key), the recording
    queue it submits jobs to, its clock, and - once :meth:`serve` runs - its loopback address."""

    folder: Path
    factory: sessionmaker[Session]
    settings: Settings
    queue: RecordingQueue
    clock: Callable[[], datetime]
    live: LiveApp | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        assert self.live is not None, "the site is not served yet: use `with site.serve()`"
        return self.live.url

    @contextmanager
    def serve(self, build: Callable[[Site], FastAPI] | None = None) -> Iterator[Site]:
        """Serve the app (default: ``create_app(..., ui=True)``, as ``kaufland-sync run`` does)
        on a free loopback port until the block ends."""
        if build is None:
            app = create_app(
                self.settings, factory=self.factory, queue=self.queue, clock=self.clock, ui=True
            )
        else:
            app = build(self)
        with LiveApp(app) as live:
            self.live = live
            try:
                yield self
            finally:
                self.live = None


@dataclass(frozen=True)
class Sites:
    """Opens :class:`Site` s on copies of one migrated store (see ``sites``)."""

    tmp_path_factory: pytest.TempPathFactory
    template: Path

    @contextmanager
    def open(
        self,
        name: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        queue: type[RecordingQueue] = RecordingQueue,
    ) -> Iterator[Site]:
        """A new site in a fresh folder named after ``name``: an empty migrated store, settings
        and a ``queue`` on ``clock``. Seed ``site.factory``, then ``with site.serve()``."""
        folder = self.tmp_path_factory.mktemp(name)
        with copied_store(self.template, folder / "store.db") as factory:
            yield Site(folder, factory, settings_for(folder / "data"), queue(factory, clock), clock)


@pytest.fixture(scope="package", autouse=True)
def cheap_hashing() -> Iterator[None]:
    """argon2 with small parameters for the apps served in this process (a login with the
    defaults costs up to a second on a busy machine). ``kaufland-sync run`` in a child process
    (test_orders_ship.py) keeps the real ones."""
    with pytest.MonkeyPatch.context() as patch:
        use_cheap_hashing(patch)
        yield


@pytest.fixture(scope="package")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Sites:
    """Migrates one store for the package; every :meth:`Sites.open` starts from a copy."""
    template = migrate_template(tmp_path_factory.mktemp("browser-template") / "store.db")
    return Sites(tmp_path_factory, template)


@pytest.fixture(scope="package")
def sandbox() -> Iterator[RunningSandbox]:
    """Kaufland's stand-in over loopback HTTP for the modules that only read from it (Test
    Connection, the carrier list, the category tree): one seller per use, ``empty`` world."""
    config = SandboxConfig(
        sellers=[
            SellerCredentials(*ACCOUNTS_SELLER, ("de", "cz")),
            SellerCredentials(*ACCOUNTS_OTHER_SELLER, ("de",)),
            SellerCredentials(*SETTINGS_SELLER, ("de", "cz")),
        ],
        seed="empty",
        rate_limit=0,
    )
    with RunningSandbox(config) as running:
        yield running


def _check_vendor_assets() -> None:
    missing = [
        name
        for name in ("htmx.min.js", "chart.umd.min.js")
        if not (STATIC_DIR / "vendor" / name).is_file()
    ]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)} in web/static/vendor: run `make assets`", pytrace=False
        )


@pytest.fixture(scope="package")
def site(sites: Sites) -> Iterator[Site]:
    """The package's default app: the dashboard app on the store of :func:`seed`. Modules
    with an app of their own override this fixture."""
    _check_vendor_assets()
    with sites.open("browser", clock=_clock) as opened:
        with transaction(opened.factory) as session:
            seed(session)
        with opened.serve(build_dashboard_app) as served:
            yield served


# Package scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is started, and every later test that calls asyncio.run would fail.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run `make system-deps` (apt-get install chromium)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass(frozen=True)
class PageOptions:
    """What a module may change about its pages (override the ``page_options`` fixture)."""

    width: int = 1280
    height: int = 900
    #: Playwright's default wait for what a page shows, in milliseconds (a deadline).
    timeout_ms: float = 10_000
    accept_downloads: bool = False


@pytest.fixture(scope="module")
def page_options() -> PageOptions:
    return PageOptions()


@pytest.fixture
def page(browser: Browser, site: Served, page_options: PageOptions) -> Iterator[Page]:
    """A page in a fresh browser context on the module's ``site``. Script errors on the page
    fail the test (checked when it ends)."""
    context = browser.new_context(
        base_url=site.url,
        viewport={"width": page_options.width, "height": page_options.height},
        color_scheme="light",
        reduced_motion="reduce",
        locale="en-GB",
        timezone_id="UTC",
        accept_downloads=page_options.accept_downloads,
    )
    context.set_default_timeout(page_options.timeout_ms)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(error.stack or str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], f"script errors on the page: {errors}"


def submit_login(page: Page, name: str, password: str, *, next_path: str | None = None) -> None:
    """Fill in and send the login form (whatever the outcome)."""
    page.goto("/login" if next_path is None else f"/login?next={next_path}")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, name: str, password: str, *, next_path: str | None = None) -> None:
    """Sign ``name`` in through the login form and wait until a page greets them by name (and,
    with ``next_path``, is that page)."""
    submit_login(page, name, password, next_path=next_path)
    if next_path is not None:
        expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))
    expect(page.locator(".user-name")).to_have_text(name)


Screenshot = Callable[[Page, str], Path]


def take_screenshot(page: Page, name: str) -> Path:
    """A full-page PNG ``var/screenshots/<name>.png`` for people to review."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot() -> Screenshot:
    """``screenshot(page, name)``: see :func:`take_screenshot`."""
    return take_screenshot
