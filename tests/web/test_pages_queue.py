"""The queue page (``web/pages/queue.py``): counts and lists of jobs and of the outbox, its
periodic panel, and retrying, dropping and resolving through the ledger and outbox functions
the command line uses: roles, CSRF, refusals that change nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from tests.builders import new_account
from tests.web.ops_support import NOW, SendingQueue, add_failed_job, add_job, serve
from tests.web.support import add_users, sign_in

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@dataclass
class Seeded:
    shop: int
    other: int
    failed: int
    queued: int
    running: int
    other_failed: int
    outbox_failed: int
    outbox_pending: int


def seed(store: sessionmaker[Session]) -> Seeded:
    add_users(store)
    with transaction(store) as session:
        shop = new_account(session, "shop").id
        other = new_account(session, "other").id
        failed = add_failed_job(session, shop, JobKind.ORDERS, "HTTP 503 from Kaufland")
        queued = add_job(session, shop, JobKind.STOCK, JobState.QUEUED, minutes_ago=-5).id
        running = add_job(session, shop, JobKind.OFFERS, JobState.RUNNING, worker="host-1#7").id
        add_job(session, shop, JobKind.RETURNS, JobState.DONE, counts={"imported": 3})
        other_failed = add_failed_job(session, other, JobKind.TICKETS, "timed out")
        failed_message = OutboxMessage(
            account_id=shop,
            action=OutboxAction.SEND,
            target="314567896590001",
            payload={"carrier_code": "DHL", "tracking_numbers": "JJD000"},
            state=OutboxState.FAILED,
            attempts=3,
            last_error="422: carrier_code not allowed",
        )
        pending_message = OutboxMessage(
            account_id=other,
            action=OutboxAction.CANCEL,
            target="314567896590002",
            payload={"reason": "NoInventory"},
            state=OutboxState.PENDING,
        )
        done_message = OutboxMessage(
            account_id=shop, action=OutboxAction.SEND, target="1", state=OutboxState.DONE
        )
        session.add_all([failed_message, pending_message, done_message])
        session.flush()
        return Seeded(
            shop,
            other,
            failed,
            queued,
            running,
            other_failed,
            failed_message.id,
            pending_message.id,
        )


@pytest.fixture
def seeded(store: sessionmaker[Session]) -> Seeded:
    return seed(store)


@pytest.fixture
def queue(store: sessionmaker[Session]) -> SendingQueue:
    return SendingQueue(store, lambda: NOW)


@pytest.fixture
async def client(
    settings: Settings, store: sessionmaker[Session], queue: SendingQueue, seeded: Seeded
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(settings, store, queue) as client:
        yield client


def job(store: sessionmaker[Session], job_id: int) -> Job:
    with store() as session:
        found = session.get(Job, job_id)
        assert found is not None
        session.expunge(found)
        return found


def message(store: sessionmaker[Session], message_id: int) -> OutboxMessage:
    with store() as session:
        found = session.get(OutboxMessage, message_id)
        assert found is not None
        session.expunge(found)
        return found


def count(html: str, state: str, attribute: str = "data-state-count") -> int:
    match = re.search(rf'{attribute}="{state}">\s*<span class="count">(\d+)</span>', html)
    assert match is not None, f"no count for {state}"
    return int(match.group(1))


HTMX = {"HX-Request": "true"}


async def test_a_visitor_is_sent_to_log_in(client: httpx.AsyncClient) -> None:
    answer = await client.get("/queue")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fqueue"
    panel = await client.get("/queue/panel", headers=HTMX)
    assert panel.status_code == 401 and panel.headers["HX-Redirect"].startswith("/login")


async def test_a_viewer_sees_counts_jobs_and_the_open_outbox_but_no_actions(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, "vera")
    page = await client.get("/queue")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/queue" aria-current="page">Queue</a>' in html
    assert (count(html, "failed"), count(html, "queued"), count(html, "running")) == (2, 1, 1)
    assert (count(html, "done"), count(html, "dropped")) == (1, 0)
    assert count(html, "failed", "data-outbox-count") == 1
    assert count(html, "done", "data-outbox-count") == 1
    for ident in (seeded.failed, seeded.queued, seeded.running, seeded.other_failed):
        assert f'data-job="{ident}"' in html
    assert "HTTP 503 from Kaufland" in html and "host-1#7" in html
    # The outbox lists what is not done, with its error and what it carries.
    assert f'data-outbox="{seeded.outbox_failed}"' in html
    assert f'data-outbox="{seeded.outbox_pending}"' in html
    assert "422: carrier_code not allowed" in html and "carrier_code: DHL" in html
    assert html.count("data-outbox=") == 2
    assert "/retry" not in html and "/drop" not in html and "Mark done" not in html
    # The panel reloads itself.
    assert 'hx-get="/queue/panel"' in html and "every 5s" in html


async def test_the_panel_alone_and_narrowed_to_one_account(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, "vera")
    panel = await client.get("/queue/panel", params={"account": "other"}, headers=HTMX)
    assert panel.status_code == 200
    assert "<html" not in panel.text and 'id="queue-panel"' in panel.text
    assert f'data-job="{seeded.other_failed}"' in panel.text
    assert f'data-job="{seeded.failed}"' not in panel.text
    assert count(panel.text, "failed") == 1 and count(panel.text, "queued") == 0
    assert f'hx-get="/queue/panel?account={seeded.other}"' in panel.text

    unknown = await client.get("/queue", params={"account": "nobody"})
    assert unknown.status_code == 400
    assert "there is no account &#39;nobody&#39;" in unknown.text


async def test_an_operator_retries_a_failed_job_which_is_sent_to_the_queue(
    client: httpx.AsyncClient, store: sessionmaker[Session], queue: SendingQueue, seeded: Seeded
) -> None:
    token = await sign_in(client, "otto")
    page = await client.get("/queue")
    assert f'action="/queue/jobs/{seeded.failed}/retry"' in page.text
    # No retry for a job that has not failed; a running one cannot be dropped either.
    assert f"/queue/jobs/{seeded.queued}/retry" not in page.text
    assert f"/queue/jobs/{seeded.running}/" not in page.text

    answer = await client.post(
        f"/queue/jobs/{seeded.failed}/retry",
        headers=HTMX | {"X-CSRF-Token": token},
        data={"account": ""},
    )
    assert answer.status_code == 200
    assert "<html" not in answer.text  # htmx gets the panel back
    assert f"job {seeded.failed} queued again" in answer.text
    retried = job(store, seeded.failed)
    assert (retried.state, retried.attempts, retried.trigger) == (
        JobState.QUEUED,
        0,
        JobTrigger.MANUAL,
    )
    assert retried.not_before == NOW
    assert queue.sent == [seeded.failed]
    assert count(answer.text, "failed") == 1


async def test_retrying_when_the_same_job_is_pending_runs_that_one(
    client: httpx.AsyncClient, store: sessionmaker[Session], queue: SendingQueue, seeded: Seeded
) -> None:
    with transaction(store) as session:
        stuck = add_failed_job(session, seeded.shop, JobKind.STOCK)
    token = await sign_in(client, "otto")
    answer = await client.post(f"/queue/jobs/{stuck}/retry", headers=HTMX | {"X-CSRF-Token": token})
    assert f"job {seeded.queued} of the same kind was pending" in answer.text
    assert job(store, stuck).state is JobState.DROPPED
    assert queue.sent == [seeded.queued]


async def test_a_plain_form_post_drops_a_failed_job_and_refuses_a_running_one(
    client: httpx.AsyncClient, store: sessionmaker[Session], seeded: Seeded
) -> None:
    token = await sign_in(client, "ada")
    dropped = await client.post(
        f"/queue/jobs/{seeded.other_failed}/drop", data={"csrf_token": token, "account": ""}
    )
    assert dropped.status_code == 200
    assert "<html" in dropped.text and f"job {seeded.other_failed} dropped" in dropped.text
    assert job(store, seeded.other_failed).state is JobState.DROPPED

    refused = await client.post(
        f"/queue/jobs/{seeded.running}/drop", data={"csrf_token": token, "account": ""}
    )
    assert refused.status_code == 409
    assert f"job {seeded.running} is running" in refused.text
    assert job(store, seeded.running).state is JobState.RUNNING

    not_failed = await client.post(f"/queue/jobs/{seeded.queued}/retry", data={"csrf_token": token})
    assert not_failed.status_code == 409
    assert "only failed jobs can be retried" in not_failed.text
    assert job(store, seeded.queued).state is JobState.QUEUED

    missing = await client.post("/queue/jobs/999999/retry", data={"csrf_token": token})
    assert missing.status_code == 404 and "job 999999 does not exist" in missing.text
    nonsense = await client.post("/queue/jobs/abc/drop", data={"csrf_token": token})
    assert nonsense.status_code == 404 and "not an id" in nonsense.text


async def test_acting_needs_an_operator_and_the_csrf_token(
    client: httpx.AsyncClient, store: sessionmaker[Session], queue: SendingQueue, seeded: Seeded
) -> None:
    token = await sign_in(client, "vera")
    as_viewer = await client.post(f"/queue/jobs/{seeded.failed}/retry", data={"csrf_token": token})
    assert as_viewer.status_code == 403
    assert "This needs the role operator" in as_viewer.text

    await client.post("/logout", data={"csrf_token": token})
    await sign_in(client, "otto")
    without_token = await client.post(f"/queue/jobs/{seeded.failed}/retry", data={})
    assert without_token.status_code == 403
    wrong_token = await client.post(
        f"/queue/outbox/{seeded.outbox_failed}/retry", headers={"X-CSRF-Token": "forged"}
    )
    assert wrong_token.status_code == 403

    assert job(store, seeded.failed).state is JobState.FAILED
    assert message(store, seeded.outbox_failed).state is OutboxState.FAILED
    assert queue.sent == [] and queue.submits == []


async def test_a_failed_outbox_message_is_retried_and_an_outbox_run_queued(
    client: httpx.AsyncClient, store: sessionmaker[Session], queue: SendingQueue, seeded: Seeded
) -> None:
    token = await sign_in(client, "otto")
    answer = await client.post(
        f"/queue/outbox/{seeded.outbox_failed}/retry",
        headers=HTMX | {"X-CSRF-Token": token},
    )
    assert answer.status_code == 200
    assert f"outbox message #{seeded.outbox_failed} (send 314567896590001) is due again" in (
        answer.text
    )
    again = message(store, seeded.outbox_failed)
    assert (again.state, again.next_attempt_at, again.attempts) == (OutboxState.PENDING, NOW, 3)
    assert again.last_error == "422: carrier_code not allowed"  # kept as history
    assert [(s.account_id, s.kind, s.trigger) for s in queue.submits] == [
        (seeded.shop, JobKind.OUTBOX, JobTrigger.MANUAL)
    ]
    with store() as session:
        outbox_jobs = session.scalars(select(Job).where(Job.kind == JobKind.OUTBOX)).all()
    assert [(j.account_id, j.state) for j in outbox_jobs] == [(seeded.shop, JobState.QUEUED)]


async def test_resolving_by_hand_needs_a_note(
    client: httpx.AsyncClient, store: sessionmaker[Session], seeded: Seeded
) -> None:
    token = await sign_in(client, "otto")
    page = await client.get("/queue")
    assert f'action="/queue/outbox/{seeded.outbox_failed}/resolve"' in page.text
    # A pending message can be retried (it skips its wait) but not resolved.
    assert f"/queue/outbox/{seeded.outbox_pending}/resolve" not in page.text

    empty = await client.post(
        f"/queue/outbox/{seeded.outbox_failed}/resolve",
        data={"csrf_token": token, "note": "   "},
    )
    assert empty.status_code == 400
    assert f"Note for outbox message #{seeded.outbox_failed} is required" in empty.text
    assert message(store, seeded.outbox_failed).state is OutboxState.FAILED

    too_long = await client.post(
        f"/queue/outbox/{seeded.outbox_failed}/resolve",
        data={"csrf_token": token, "note": "x" * 501},
    )
    assert too_long.status_code == 400 and "longer than 500 characters" in too_long.text
    assert message(store, seeded.outbox_failed).state is OutboxState.FAILED

    wrong_state = await client.post(
        f"/queue/outbox/{seeded.outbox_pending}/resolve",
        data={"csrf_token": token, "note": "shipped in the portal"},
    )
    assert wrong_state.status_code == 409
    assert "only failed or unknown messages can be resolved" in wrong_state.text

    done = await client.post(
        f"/queue/outbox/{seeded.outbox_failed}/resolve",
        headers=HTMX,
        data={"csrf_token": token, "note": "shipped in the portal"},
    )
    assert done.status_code == 200 and "marked done by hand" in done.text
    resolved = message(store, seeded.outbox_failed)
    assert resolved.state is OutboxState.DONE
    assert resolved.result == {"resolved_by_hand": "shipped in the portal"}
    assert f'data-outbox="{seeded.outbox_failed}"' not in done.text


async def test_a_queue_that_cannot_be_reached_still_retries_in_the_ledger(
    settings: Settings, store: sessionmaker[Session], seeded: Seeded
) -> None:
    broken = SendingQueue(store, lambda: NOW, broken=True)
    async with serve(settings, store, broken) as client:
        token = await sign_in(client, "otto")
        answer = await client.post(
            f"/queue/outbox/{seeded.outbox_failed}/retry", headers=HTMX | {"X-CSRF-Token": token}
        )
    assert "the queue cannot be reached" in answer.text
    assert message(store, seeded.outbox_failed).state is OutboxState.PENDING
