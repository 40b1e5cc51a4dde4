"""The web app in Chromium: signing in through the form, the dashboard's charts drawn with the
store's data, the period filter changing the figures, dark mode surviving a reload. Screenshots
of the login page and the dashboard (light and dark) land in var/screenshots/ for review.

The app is the package's default ``site`` (tests/browser/conftest.py): the dashboard app on a
store these tests only read."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PASSWORD, USER, Screenshot, submit_login

DASHBOARD = "#dashboard"


def log_in(page: Page, password: str = PASSWORD) -> None:
    submit_login(page, USER, password)


def open_dashboard(page: Page, query: str = "") -> Locator:
    """Sign in, open the dashboard and wait until its figures are drawn."""
    log_in(page)
    if query:
        page.goto("/" + query)
    expect(page).to_have_url(re.compile(r"/(\?.*)?$"))
    section = page.locator(DASHBOARD)
    expect(section).to_have_attribute("data-state", "ready")
    return section


def loads(section: Locator) -> int:
    return int(section.get_attribute("data-loads") or "0")


def kpi_texts(page: Page) -> dict[str, str]:
    cards = page.locator("#kpis [data-kpi]")
    return {
        card.get_attribute("data-kpi") or "": card.locator(".kpi-value").inner_text()
        for card in cards.all()
    }


def chart_figures(page: Page, canvas: str) -> tuple[int, float]:
    """What the chart on ``canvas`` reported after drawing: (points, sum of values)."""
    element = page.locator(canvas)
    expect(element).to_have_attribute("data-points", re.compile(r"^\d+$"))
    return int(element.get_attribute("data-points") or "0"), float(
        element.get_attribute("data-total") or "0"
    )


def test_a_visitor_is_sent_to_the_login_form_and_signs_in(
    page: Page, screenshot: Screenshot
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("nav.site-nav")).to_have_count(0)  # nothing to navigate before login
    screenshot(page, "login-light")

    log_in(page, password="not the password")
    expect(page.locator(".form-error")).to_contain_text("Wrong name or password")
    expect(page).to_have_url(re.compile(r"/login$"))

    log_in(page)
    expect(page).to_have_url(re.compile(r"/(\?period=30d)?$"))  # the script adds the filters
    expect(page.locator(".user-name")).to_have_text(USER)
    expect(page.locator('nav.site-nav a[aria-current="page"]')).to_have_text("Dashboard")
    # Pages this app does not serve are shown, but not as links.
    expect(page.locator("nav.site-nav .disabled", has_text="Orders")).to_be_visible()


def test_the_dashboard_draws_its_charts_with_the_stores_data(
    page: Page, screenshot: Screenshot
) -> None:
    section = open_dashboard(page, "?period=30d")

    kpis = kpi_texts(page)
    assert list(kpis) == ["revenue", "orders", "customers", "products", "aov", "sync_health"]
    assert kpis["orders"] == "31"  # one a day for 30 days, and the cancelled one
    assert all(text and text != "…" for text in kpis.values())
    # 31 orders against the previous 30 days' 10.
    expect(page.locator('[data-kpi="orders"] .kpi-change')).to_have_text(
        re.compile(r"^▲ 210% vs previous$")
    )

    trend_points, trend_total = chart_figures(page, "#trend-chart")
    assert trend_points == 2 * 30  # revenue and orders, a point per day
    assert trend_total > 0
    status_points, status_total = chart_figures(page, "#status-chart")
    assert status_points >= 2
    assert status_total > 0

    feed = page.locator("#activity-feed li[data-kind]")
    expect(feed.first).to_be_visible()
    assert feed.count() >= 5
    expect(page.locator("#activity-feed .outcome-failed").first).to_be_visible()
    expect(section.locator('[data-footer="queued"]')).to_have_text("1")
    expect(section.locator('[data-footer="failed"]')).to_have_text("1")
    screenshot(page, "dashboard-light")

    # htmx (served from /static/vendor) is there and sends the page's CSRF token.
    assert page.evaluate("typeof htmx.ajax") == "function"
    headers = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    assert headers == {"X-CSRF-Token": token}


def test_the_dashboard_refreshes_itself_every_minute(page: Page) -> None:
    page.clock.install()  # the page's timers run when the test says so
    section = open_dashboard(page)
    expect(section).to_have_attribute("data-loads", "1")
    page.clock.run_for(59_000)
    expect(section).to_have_attribute("data-loads", "1")
    page.clock.run_for(1_000)
    expect(section).to_have_attribute("data-loads", "2")


def test_the_period_filter_changes_the_figures(page: Page) -> None:
    section = open_dashboard(page, "?period=30d")
    month = kpi_texts(page)
    before = loads(section)

    page.select_option("#filter-period", "7d")
    expect(section).to_have_attribute("data-loads", str(before + 1))
    week = kpi_texts(page)
    assert week["orders"] == "8"  # 7 days, one a day, and the cancelled one
    assert week["revenue"] != month["revenue"]
    assert chart_figures(page, "#trend-chart")[0] == 2 * 7
    expect(page).to_have_url(re.compile(r"\?period=7d$"))

    # A custom range: only the chosen days' orders.
    page.select_option("#filter-period", "custom")
    expect(page.locator("#custom-range")).to_be_visible()
    page.fill("#filter-from", "2026-03-09")
    page.fill("#filter-to", "2026-03-10")
    expect(section).to_have_attribute("data-loads", str(before + 2))
    assert kpi_texts(page)["orders"] == "2"
    assert chart_figures(page, "#trend-chart")[0] == 2 * 2

    # The filters live in the address, so a reload shows the same figures.
    page.reload()
    expect(section).to_have_attribute("data-state", "ready")
    expect(page.locator("#filter-period")).to_have_value("custom")
    assert kpi_texts(page)["orders"] == "2"

    # Today: a point per hour, which a click cannot narrow further (no hint).
    page.select_option("#filter-period", "today")
    expect(section).to_have_attribute("data-loads", "2")
    assert kpi_texts(page)["orders"] == "1"
    assert chart_figures(page, "#trend-chart")[0] == 2 * 24
    expect(page.locator("#trend-hint")).to_be_hidden()

    # An account filter narrows the figures to that account.
    page.select_option("#filter-period", "30d")
    expect(section).to_have_attribute("data-loads", "3")
    page.select_option("#filter-account", label="other")
    expect(section).to_have_attribute("data-loads", "4")
    assert kpi_texts(page)["orders"] == "4"  # days 3, 10, 17 and 24


def test_dark_mode_is_remembered_across_reloads_and_pages(
    page: Page, screenshot: Screenshot
) -> None:
    section = open_dashboard(page, "?period=30d")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")

    page.click("#theme-toggle")
    expect(html).to_have_attribute("data-theme", "dark")
    expect(page.locator("#theme-toggle")).to_have_attribute("aria-pressed", "true")

    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(section).to_have_attribute("data-state", "ready")
    # Applied before the first paint: the stylesheet's dark background is there at once.
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 21, 27)"
    chart_figures(page, "#trend-chart")
    screenshot(page, "dashboard-dark")

    page.click(".logout-form button")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(html).to_have_attribute("data-theme", "dark")
    screenshot(page, "login-dark")

    page.click("#theme-toggle")
    page.reload()
    expect(html).to_have_attribute("data-theme", "light")


def test_a_click_on_a_day_of_the_sales_trend_narrows_the_dashboard_to_it(page: Page) -> None:
    section = open_dashboard(page, "?period=7d")
    expect(page.locator("#trend-hint")).to_be_visible()
    # Where Chart.js drew the orders point of the day before NOW (2026-03-09), in CSS pixels of
    # the canvas.
    point = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById("trend-chart"));
            const index = chart.data.labels.indexOf("2026-03-09");
            const element = chart.getDatasetMeta(1).data[index];
            return {x: element.x, y: element.y};
        }"""
    )
    page.locator("#trend-chart").click(position={"x": point["x"], "y": point["y"]})

    expect(section).to_have_attribute("data-loads", "2")
    expect(page.locator("#filter-period")).to_have_value("custom")
    expect(page.locator("#filter-from")).to_have_value("2026-03-09")
    expect(page.locator("#filter-to")).to_have_value("2026-03-09")
    assert kpi_texts(page)["orders"] == "1"


def test_the_dashboard_fits_a_phone_screen(page: Page, screenshot: Screenshot) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_dashboard(page, "?period=30d")
    chart_figures(page, "#trend-chart")
    # One column, nothing wider than the screen (the nav scrolls sideways by itself).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "dashboard-phone")
