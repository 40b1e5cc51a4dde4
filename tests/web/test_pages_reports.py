"""The report pages (``web/pages/performance.py``, ``web/pages/commission.py``) on the
hand-computed stores of tests/reports: the figures shown, the filters, a bad filter named, and
the commission CSV equal to what ``kaufland-sync report commission --csv`` prints."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.store.db import transaction
from tests.builders import at, new_account, new_order
from tests.cli.runner import run_cli
from tests.reports import test_performance
from tests.reports.test_commission import sale, seed_sales
from tests.web.ops_support import serve
from tests.web.support import add_users, sign_in

MARCH_APRIL = {"account": "shop", "from": "2026-03-01", "to": "2026-04-30"}


pytestmark = pytest.mark.usefixtures("cheap_hashing")


def cell(html: str, table: str, storefront: str, period: str, attribute: str) -> str:
    """The text of the cell ``attribute`` in the row of ``storefront`` and ``period`` of the
    table with id ``table``."""
    section = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    row = section.split(f'data-storefront="{storefront}" data-period="{period}"', 1)[1]
    row = row.split("</tr>", 1)[0]
    match = re.search(rf"{attribute}[^>]*>(.*?)</td>", row, re.S)
    assert match is not None, row
    return " ".join(re.sub(r"<[^>]+>", " ", unescape(match.group(1))).split())


# --- commission ------------------------------------------------------------------------------


@pytest.fixture
async def sales(
    settings: Settings, store: sessionmaker[Session]
) -> AsyncIterator[httpx.AsyncClient]:
    seed_sales(store)
    add_users(store)
    async with serve(settings, store, user="vera") as client:
        yield client


async def test_commission_per_storefront_and_period_in_both_currencies(
    sales: httpx.AsyncClient,
) -> None:
    page = await sales.get("/commission", params=MARCH_APRIL)
    assert page.status_code == 200, page.text
    html = page.text
    # The worked example of docs/reports.md: de March 34.53 EUR, cz March 45.63 CZK = 1.81 EUR.
    assert cell(html, "commission-rows", "de", "2026-03", 'data-figure="commission"') == "34.53"
    assert cell(html, "commission-rows", "cz", "2026-03", 'data-figure="commission"') == "45.63"
    assert cell(html, "commission-rows", "cz", "2026-03", 'data-figure="base-commission"') == (
        "1.81"
    )
    assert cell(html, "commission-rows", "cz", "2026-04", 'data-figure="commission"') == "0.00"
    assert cell(html, "commission-totals", "de", "total", 'data-figure="commission"') == "42.03"
    assert re.search(r'data-total="commission">43\.84<', html)
    assert re.search(r'data-total="sales">288\.83<', html)
    assert "15.18 % of sales" in html
    assert 'href="/commission.csv?account=' in html


async def test_commission_filters_and_a_bad_one(sales: httpx.AsyncClient) -> None:
    only_de = await sales.get("/commission", params=MARCH_APRIL | {"storefront": "de"})
    assert 'data-storefront="cz"' not in only_de.text
    assert 'data-storefront="de" data-period="2026-03"' in only_de.text
    weekly = await sales.get(
        "/commission",
        params={"account": "shop", "from": "2026-03-01", "to": "2026-03-10", "by": "week"},
    )
    assert 'data-period="2026-W09"' in weekly.text and 'data-period="2026-W11"' in weekly.text
    assert 'data-period="2026-03"' not in weekly.text

    other = await sales.get("/commission", params={"account": "other", "storefront": "cz"})
    assert other.status_code == 400
    assert 'data-field="storefront"' in other.text
    assert "account &#39;other&#39; does not sell on storefront &#39;cz&#39;" in other.text
    assert "data-figure" not in other.text
    bad_by = await sales.get("/commission", params={"by": "year"})
    assert bad_by.status_code == 400 and "by &#39;year&#39; is unknown" in bad_by.text


@pytest.mark.parametrize(
    "params",
    [
        MARCH_APRIL,
        MARCH_APRIL | {"by": "week", "storefront": "cz"},
        {"account": "shop", "by": "day", "from": "2026-03-14", "to": "2026-03-21"},
        {"account": "shop"},  # open range: first to last order
        {"account": "other"},
    ],
)
async def test_the_csv_is_what_the_command_line_prints(
    sales: httpx.AsyncClient, store: sessionmaker[Session], params: dict[str, str]
) -> None:
    answer = await sales.get("/commission.csv", params=params)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith('attachment; filename="commission-')

    url = str(store.kw["bind"].url)
    flags = [f"--{name}={value}" for name, value in params.items()]
    printed = run_cli(
        "report", "commission", *flags, "--csv", env={"KAUFLAND_SYNC_DATABASE_URL": url}
    )
    assert printed.returncode == 0, printed.stderr
    assert answer.text == printed.stdout
    assert answer.text.count("\n") > 2  # header, rows and totals: not two empty outputs

    page = await sales.get("/commission", params=params)
    link = re.search(r'href="(/commission\.csv\?[^"]+)"', page.text)
    assert link is not None
    assert (await sales.get(unescape(link.group(1)))).text == answer.text


async def test_a_bad_csv_request_names_the_field(sales: httpx.AsyncClient) -> None:
    answer = await sales.get("/commission.csv", params={"account": "shop", "to": "31.03.2026"})
    assert answer.status_code == 400
    assert answer.text == "to: to: '31.03.2026' is not a date (YYYY-MM-DD)\n"


async def test_a_storefront_without_a_rate_stays_out_of_the_base_total(
    settings: Settings, store: sessionmaker[Session]
) -> None:
    add_users(store)
    with transaction(store) as session:
        shop = new_account(session, rates={"de": "1", "pl": "1"})
        new_order(session, shop, "A", "pl", at("2026-03-02"), [sale("sent", 4000, 0, 3400, 2800)])
        new_order(session, shop, "B", "de", at("2026-03-03"), [sale("sent", 1000, 0, 850, 700)])
    async with serve(settings, store, user="vera") as client:
        page = await client.get("/commission", params={"account": "shop"})
    html = page.text
    assert cell(html, "commission-totals", "pl", "total", 'data-figure="commission"') == "6.00"
    assert cell(html, "commission-totals", "pl", "total", 'data-figure="base-commission"') == (
        "no rate"
    )
    assert re.search(r'data-total="commission">1\.50<', html)
    assert re.search(r"Not in the EUR total \(no currency rate set\):\s+PL\.", html)


async def test_report_pages_without_accounts_and_without_a_session(
    settings: Settings, store: sessionmaker[Session]
) -> None:
    add_users(store)
    async with serve(settings, store) as client:
        for path in ("/commission", "/performance", "/commission.csv"):
            assert (await client.get(path)).status_code == 303
        await sign_in(client, "vera")
        for path in ("/commission", "/performance"):
            page = await client.get(path)
            assert page.status_code == 200 and "No accounts yet" in page.text
        assert (await client.get("/commission.csv")).status_code == 404


# --- performance -----------------------------------------------------------------------------


@pytest.fixture
async def performance(
    settings: Settings, store: sessionmaker[Session]
) -> AsyncIterator[httpx.AsyncClient]:
    test_performance.seed(store)
    add_users(store)
    async with serve(settings, store, clock=test_performance.NOW, user="vera") as client:
        yield client


async def test_performance_rates_with_their_parts_and_the_cancellation_target(
    performance: httpx.AsyncClient,
) -> None:
    page = await performance.get("/performance", params=MARCH_APRIL)
    assert page.status_code == 200, page.text
    html = page.text

    def rate(storefront: str, period: str, key: str, table: str = "performance-rows") -> str:
        return cell(html, table, storefront, period, f'data-rate="{key}"')

    # tests/reports/test_performance.py's de in March.
    assert rate("de", "2026-03", "late_shipment") == "1/3 · 33.33 %"
    assert rate("de", "2026-03", "seller_cancellation") == ("1/8 · 12.50 % above the 1 % target")
    assert rate("de", "2026-03", "valid_tracking") == "1/2 · 50.00 %"
    assert rate("de", "2026-03", "return_rate") == "2/4 · 50.00 %"
    assert rate("de", "2026-04", "late_shipment") == "0/0 · -"
    assert rate("cz", "2026-03", "seller_cancellation") == "0/1 · 0.00 % within the 1 % target"
    assert 'class="rate rate-over" data-rate="seller_cancellation"' in html
    assert '<meter min="0" max="100" value="12.50" low="1" high="1" optimum="0"' in html
    # The all-storefront total row and the handling time.
    assert rate("all", "total", "valid_tracking", "performance-totals") == "2/3 · 66.67 %"
    row = html.split('data-storefront="de" data-period="2026-03"', 1)[1].split("</tr>", 1)[0]
    assert "40.00 h" in row and "2d 0h" in row
    assert "1 return unit matches no imported order line" in html
    assert "1 open ticket has no known storefront" in html
    assert "measured at 2026-03-31 12:00 UTC" in html


async def test_performance_filters(performance: httpx.AsyncClient) -> None:
    weekly = await performance.get(
        "/performance",
        params={
            "account": "shop",
            "storefront": "de",
            "from": "2026-03-23",
            "to": "2026-03-31",
            "by": "week",
        },
    )
    assert weekly.status_code == 200
    periods = re.findall(r'data-storefront="de" data-period="([^"]+)"', weekly.text)
    assert periods == ["total", "2026-W13", "2026-W14"]
    assert 'data-storefront="cz"' not in weekly.text

    bad = await performance.get("/performance", params={"from": "2026-04-01", "to": "2026-03-01"})
    assert bad.status_code == 400
    assert 'data-field="from"' in bad.text and "from 2026-04-01 is after to 2026-03-01" in bad.text
    assert "data-rate" not in bad.text
