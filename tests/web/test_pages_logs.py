"""The logs page (``web/pages/logs.py``): sync runs and finished jobs merged newest first, each
filter, pages, the 400 naming a bad filter, and a row's details loaded by htmx."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.jobs import JobKind, JobState
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun
from kaufland_sync.web.pages.logs import PAGE_SIZE
from tests.builders import new_account
from tests.web.ops_support import NOW, add_failed_job, add_job, serve
from tests.web.support import add_users

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@dataclass
class Seeded:
    shop: int
    other: int
    runs: dict[str, int]
    jobs: dict[str, int]


def run(
    session: Session,
    account: int,
    kind: SyncKind,
    storefront: str,
    outcome: RunOutcome,
    hours_ago: float,
    error: str | None = None,
    **counts: int,
) -> int:
    started = NOW - timedelta(hours=hours_ago)
    row = SyncRun(
        kind=kind,
        account_id=account,
        storefront=Storefront(storefront),
        started_at=started,
        finished_at=started + timedelta(minutes=1),
        outcome=outcome,
        error_summary=error,
        **counts,
    )
    session.add(row)
    session.flush()
    return row.id


def seed(store: sessionmaker[Session]) -> Seeded:
    add_users(store)
    with transaction(store) as session:
        shop = new_account(session, "shop", storefronts=("de", "cz")).id
        other = new_account(session, "other").id
        runs = {
            "offers-de": run(session, shop, SyncKind.OFFERS, "de", RunOutcome.OK, 1, created=2),
            "offers-cz": run(
                session,
                shop,
                SyncKind.OFFERS,
                "cz",
                RunOutcome.PARTIAL,
                3,
                "SKU-9: EAN required\nSKU-12: price too low",
                updated=5,
                failed=2,
                calls=7,
            ),
            "stock-other": run(session, other, SyncKind.STOCK, "de", RunOutcome.OK, 5, updated=1),
            "orders-old": run(
                session, shop, SyncKind.ORDERS, "de", RunOutcome.FAILED, 50, "signature mismatch"
            ),
        }
        jobs = {
            "orders-done": add_job(
                session, shop, JobKind.ORDERS, JobState.DONE, minutes_ago=120, counts={"new": 4}
            ).id,
            "categories-failed": add_failed_job(
                session, other, JobKind.CATEGORIES, "HTTP 500 from Kaufland", minutes_ago=240
            ),
            # Not in the log: still waiting (the queue page shows it).
            "stock-queued": add_job(session, shop, JobKind.STOCK, JobState.QUEUED).id,
        }
    return Seeded(shop, other, runs, jobs)


@pytest.fixture
def seeded(store: sessionmaker[Session]) -> Seeded:
    return seed(store)


@pytest.fixture
async def viewer(
    settings: Settings, store: sessionmaker[Session], seeded: Seeded
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(settings, store, user="vera") as client:
        yield client


def entries(html: str) -> list[str]:
    return [f"{source}-{ident}" for source, ident in re.findall(r'data-entry="(\w+)-(\d+)"', html)]


async def listed(client: httpx.AsyncClient, **params: str) -> list[str]:
    answer = await client.get("/logs", params=params)
    assert answer.status_code == 200, answer.text
    return entries(answer.text)


async def test_sync_runs_and_finished_jobs_newest_first(
    viewer: httpx.AsyncClient, seeded: Seeded
) -> None:
    r, j = seeded.runs, seeded.jobs
    assert await listed(viewer) == [
        f"sync-{r['offers-de']}",  # 1 h ago
        f"job-{j['orders-done']}",  # 2 h ago (finished 30 s after)
        f"sync-{r['offers-cz']}",  # 3 h ago
        f"job-{j['categories-failed']}",  # 4 h ago
        f"sync-{r['stock-other']}",  # 5 h ago
        f"sync-{r['orders-old']}",  # 50 h ago
    ]
    page = await viewer.get("/logs")
    assert "6 entries" in page.text
    assert "5 updated, 2 failed" in page.text and "SKU-9: EAN required SKU-12" in page.text
    assert "4 new" in page.text and "HTTP 500 from Kaufland" in page.text


async def test_each_filter(viewer: httpx.AsyncClient, seeded: Seeded) -> None:
    r, j = seeded.runs, seeded.jobs
    assert await listed(viewer, account=str(seeded.other)) == [
        f"job-{j['categories-failed']}",
        f"sync-{r['stock-other']}",
    ]
    assert await listed(viewer, account="other", source="sync") == [f"sync-{r['stock-other']}"]
    # Jobs have no storefront: a storefront filter shows sync runs only.
    assert await listed(viewer, storefront="cz") == [f"sync-{r['offers-cz']}"]
    assert await listed(viewer, kind="orders") == [
        f"job-{j['orders-done']}",
        f"sync-{r['orders-old']}",
    ]
    assert await listed(viewer, kind="categories") == [f"job-{j['categories-failed']}"]
    assert await listed(viewer, outcome="failed") == [
        f"job-{j['categories-failed']}",
        f"sync-{r['orders-old']}",
    ]
    assert await listed(viewer, outcome="done") == [f"job-{j['orders-done']}"]
    assert await listed(viewer, outcome="partial") == [f"sync-{r['offers-cz']}"]
    assert await listed(viewer, source="job") == [
        f"job-{j['orders-done']}",
        f"job-{j['categories-failed']}",
    ]
    # NOW is 2026-03-10 15:30: 50 hours earlier is 2026-03-08.
    assert await listed(viewer, **{"from": "2026-03-08", "to": "2026-03-08"}) == [
        f"sync-{r['orders-old']}"
    ]
    assert len(await listed(viewer, **{"from": "2026-03-10"})) == 5
    assert await listed(viewer, kind="stock", outcome="partial") == []


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        ({"from": "2026-13-01"}, "from", "from: &#39;2026-13-01&#39; is not a date (YYYY-MM-DD)"),
        ({"from": "2026-03-09", "to": "2026-03-01"}, "from", "from 2026-03-09 is after to"),
        ({"outcome": "exploded"}, "outcome", "outcome &#39;exploded&#39; is unknown"),
        ({"kind": "everything"}, "kind", "kind &#39;everything&#39; is unknown"),
        ({"storefront": "xx"}, "storefront", "&#39;xx&#39; is not a storefront"),
        ({"account": "nobody"}, "account", "there is no account &#39;nobody&#39;"),
        ({"page": "0"}, "page", "page &#39;0&#39; is not a page number"),
    ],
)
async def test_a_bad_filter_is_named_and_nothing_is_listed(
    viewer: httpx.AsyncClient, params: dict[str, str], field: str, text: str
) -> None:
    answer = await viewer.get("/logs", params=params)
    assert answer.status_code == 400
    assert f'data-field="{field}"' in answer.text and text in answer.text
    assert entries(answer.text) == []
    # The form keeps what was typed, to correct it.
    for value in params.values():
        assert f'value="{value}"' in answer.text or value in answer.text


async def test_htmx_gets_the_refusal_with_200_so_it_is_shown(viewer: httpx.AsyncClient) -> None:
    answer = await viewer.get(
        "/logs", params={"from": "2026-03-09", "to": "2026-03-01"}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    assert 'data-field="from"' in answer.text and entries(answer.text) == []


async def test_pages_hold_page_size_entries_and_keep_the_filters(
    viewer: httpx.AsyncClient, store: sessionmaker[Session], seeded: Seeded
) -> None:
    with transaction(store) as session:
        extra = [
            run(session, seeded.shop, SyncKind.STOCK, "de", RunOutcome.OK, 6 + n / 10)
            for n in range(PAGE_SIZE + 5)
        ]
    first = await viewer.get("/logs", params={"kind": "stock"})
    assert f"{PAGE_SIZE + 6} entries, page 1 of 2" in first.text
    assert entries(first.text) == [f"sync-{seeded.runs['stock-other']}"] + [
        f"sync-{ident}" for ident in extra[: PAGE_SIZE - 1]
    ]
    assert 'href="/logs?kind=stock&amp;page=2"' in first.text
    second = await viewer.get("/logs", params={"kind": "stock", "page": "2"})
    assert entries(second.text) == [f"sync-{ident}" for ident in extra[PAGE_SIZE - 1 :]]
    assert 'href="/logs?kind=stock&amp;page=1"' in second.text


async def test_a_row_opens_to_its_counts_and_whole_error(
    viewer: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await viewer.get("/logs")
    run_id = seeded.runs["offers-cz"]
    assert f'hx-get="/logs/sync/{run_id}" hx-trigger="toggle once"' in page.text

    detail = await viewer.get(f"/logs/sync/{run_id}", headers={"HX-Request": "true"})
    assert detail.status_code == 200 and "<html" not in detail.text
    assert "<dt>Storefront</dt><dd>cz</dd>" in detail.text
    assert '<th scope="col">calls</th>' in detail.text and '<td class="num">7</td>' in detail.text
    assert "SKU-9: EAN required\nSKU-12: price too low" in detail.text

    job = await viewer.get(f"/logs/job/{seeded.jobs['categories-failed']}")
    assert "<dt>Attempts</dt><dd>5/5</dd>" in job.text and "HTTP 500 from Kaufland" in job.text

    missing = await viewer.get("/logs/job/424242")
    assert "job 424242 does not exist" in missing.text


async def test_the_log_needs_a_signed_in_user(
    settings: Settings, store: sessionmaker[Session], seeded: Seeded
) -> None:
    async with serve(settings, store) as client:
        answer = await client.get("/logs", params={"kind": "stock"})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Flogs%3Fkind%3Dstock"
        detail = await client.get(f"/logs/sync/{seeded.runs['offers-de']}")
        assert detail.status_code == 303
