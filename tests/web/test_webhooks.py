"""The push-notification receiver ``/webhooks/kaufland/{account}``: the subscribe challenge,
signature and timestamp checks, deduplication, event -> job mapping; and end to end, the
sandbox verifying the receiver and delivering a buyer's order as a job over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.metrics import REGISTRY
from kaufland_sync.sandbox import notify
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.sellerapi.models import EventName
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.models.jobs import Job, JobKind, JobTrigger, PushEvent
from kaufland_sync.sync.webhooks import callback_url_for, subscribe
from kaufland_sync.web.app import create_app
from kaufland_sync.web.webhooks import EVENT_KINDS, TIMESTAMP_TOLERANCE, candidate_urls
from tests.builders import at
from tests.web.support import (
    LiveApp,
    RecordingQueue,
    add_push_account,
    settings_for,
    signed_headers,
)

NOW = at("2026-03-02", "10:00")
TS = int(NOW.timestamp())
SECRET = "receiver_secret_" + "r" * 40
URL = "http://testserver/webhooks/kaufland/shop"


@pytest.fixture
def queue(store: sessionmaker[Session]) -> RecordingQueue:
    return RecordingQueue(store, lambda: NOW)


@pytest.fixture
def account_id(store: sessionmaker[Session], settings: Settings) -> int:
    return add_push_account(store, settings, secret=SECRET).id


def serve(app: FastAPI) -> httpx.AsyncClient:
    """A client calling ``app`` in process (the test server's name is ``testserver``)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def web(
    settings: Settings, store: sessionmaker[Session], queue: RecordingQueue, account_id: int
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings, factory=store, queue=queue, clock=lambda: NOW)) as c:
        yield c


def message(event: str = "order_new", id_message: str = "msg-1", **extra: Any) -> bytes:
    body = {
        "event_name": event,
        "id_message": id_message,
        "resource": "/v2/orders/MB7UWLD",
        "storefront": "de",
        **extra,
    }
    return json.dumps(body, separators=(",", ":")).encode()


async def push(
    web: httpx.AsyncClient,
    body: bytes,
    *,
    url: str = URL,
    ts: int = TS,
    secret: str = SECRET,
    path: str = "/webhooks/kaufland/shop",
) -> httpx.Response:
    return await web.post(path, content=body, headers=signed_headers(url, body, ts, secret))


def events(store: sessionmaker[Session]) -> list[PushEvent]:
    with store() as session:
        return list(session.scalars(select(PushEvent).order_by(PushEvent.id)))


# -- the subscribe challenge -------------------------------------------------------------------


async def test_the_challenge_comes_back_as_the_whole_body(web: httpx.AsyncClient) -> None:
    answer = await web.get(
        "/webhooks/kaufland/shop", params={"mode": "subscribe", "challenge": "c-3f9/x+Y="}
    )
    assert answer.status_code == 200
    assert answer.text == "c-3f9/x+Y="
    assert answer.headers["content-type"].startswith("text/plain")


async def test_a_challenge_for_an_unknown_account_is_404(web: httpx.AsyncClient) -> None:
    answer = await web.get(
        "/webhooks/kaufland/nobody", params={"mode": "subscribe", "challenge": "x"}
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "nobody" in answer.json()["detail"]


async def test_a_get_that_is_no_challenge_is_refused(web: httpx.AsyncClient) -> None:
    assert (await web.get("/webhooks/kaufland/shop")).status_code == 400
    answer = await web.get("/webhooks/kaufland/shop", params={"mode": "other", "challenge": "x"})
    assert answer.status_code == 400


# -- signed deliveries ---------------------------------------------------------------------------


async def test_a_signed_event_is_recorded_and_queued_as_a_push_job(
    web: httpx.AsyncClient, store: sessionmaker[Session], queue: RecordingQueue, account_id: int
) -> None:
    before = REGISTRY.get_sample_value("kaufland_sync_push_events_total", {"event": "order_new"})

    answer = await push(web, message())

    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], body["job_kind"]) == ("accepted", "orders")
    (submitted,) = queue.submits
    assert (submitted.account_id, submitted.kind, submitted.trigger) == (
        account_id,
        JobKind.ORDERS,
        JobTrigger.PUSH,
    )
    assert body["job_id"] == submitted.job_id
    (event,) = events(store)
    assert (event.id_message, event.event_name, event.storefront, event.resource) == (
        "msg-1",
        "order_new",
        "de",
        "/v2/orders/MB7UWLD",
    )
    assert (event.account_id, event.job_id, event.received_at) == (account_id, body["job_id"], NOW)
    with store() as session:
        job = session.get(Job, submitted.job_id)
        assert job is not None and job.trigger is JobTrigger.PUSH
    after = REGISTRY.get_sample_value("kaufland_sync_push_events_total", {"event": "order_new"})
    assert (after or 0) - (before or 0) == 1


async def test_a_repeated_message_answers_200_and_queues_nothing_new(
    web: httpx.AsyncClient, store: sessionmaker[Session], queue: RecordingQueue
) -> None:
    first = await push(web, message(id_message="again"))
    repeat = await push(web, message(id_message="again"))

    assert (first.status_code, repeat.status_code) == (202, 200)
    assert repeat.json()["status"] == "duplicate"
    assert repeat.json()["job_id"] == first.json()["job_id"]
    assert len(queue.submits) == 1
    assert len(events(store)) == 1


async def test_events_of_one_kind_share_the_pending_job(
    web: httpx.AsyncClient, queue: RecordingQueue
) -> None:
    first = await push(web, message("order_new", "a"))
    second = await push(web, message("order_unit_new", "b"))
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["job_id"] == second.json()["job_id"]
    assert [s.created for s in queue.submits] == [True, False]


@pytest.mark.parametrize("event", [e.value for e in EventName])
async def test_every_event_kaufland_sends_maps_to_a_job(
    web: httpx.AsyncClient, queue: RecordingQueue, event: str
) -> None:
    expected = {
        "order": JobKind.ORDERS,
        "return": JobKind.RETURNS,
        "item": JobKind.OFFERS,
        "category": JobKind.CATEGORIES,
    }[event.split("_", 1)[0]]
    assert (await push(web, message(event))).status_code == 202
    assert [s.kind for s in queue.submits] == [expected] == [EVENT_KINDS[event]]


async def test_an_unknown_event_is_recorded_but_queues_nothing(
    web: httpx.AsyncClient, store: sessionmaker[Session], queue: RecordingQueue
) -> None:
    answer = await push(web, message("buy_box_changed", "bb-1"))
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["job_kind"]) == ("ignored", None)
    assert queue.submits == []
    assert [(e.event_name, e.job_id) for e in events(store)] == [("buy_box_changed", None)]
    assert (await push(web, message("buy_box_changed", "bb-1"))).json()["status"] == "duplicate"


async def test_a_wrong_signature_is_401_without_secrets(
    web: httpx.AsyncClient, store: sessionmaker[Session], queue: RecordingQueue
) -> None:
    answer = await push(web, message(), secret="another_secret_" + "x" * 40)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 401 and "Shop-Signature does not match" in problem["detail"]
    assert SECRET not in answer.text
    assert (queue.submits, events(store)) == ([], [])


async def test_a_signature_over_another_body_is_refused(web: httpx.AsyncClient) -> None:
    body = message()
    headers = signed_headers(URL, message(id_message="other"), TS, SECRET)
    answer = await web.post("/webhooks/kaufland/shop", content=body, headers=headers)
    assert answer.status_code == 401


@pytest.mark.parametrize("missing", ["Shop-Timestamp", "Shop-Signature"])
async def test_missing_headers_are_401(web: httpx.AsyncClient, missing: str) -> None:
    body = message()
    headers = signed_headers(URL, body, TS, SECRET)
    del headers[missing]
    answer = await web.post("/webhooks/kaufland/shop", content=body, headers=headers)
    assert answer.status_code == 401
    assert "Shop-Timestamp and Shop-Signature" in answer.json()["detail"]


async def test_a_timestamp_that_is_not_a_number_is_401(web: httpx.AsyncClient) -> None:
    body = message()
    headers = signed_headers(URL, body, TS, SECRET) | {"Shop-Timestamp": "yesterday"}
    assert (
        await web.post("/webhooks/kaufland/shop", content=body, headers=headers)
    ).status_code == 401


@pytest.mark.parametrize("offset", [-TIMESTAMP_TOLERANCE - 1, TIMESTAMP_TOLERANCE + 1])
async def test_a_stale_or_future_timestamp_is_401_even_when_signed(
    web: httpx.AsyncClient, queue: RecordingQueue, offset: int
) -> None:
    answer = await push(web, message(), ts=TS + offset)
    assert answer.status_code == 401
    assert "301 s away" in answer.json()["detail"]
    assert queue.submits == []


@pytest.mark.parametrize("offset", [-TIMESTAMP_TOLERANCE, TIMESTAMP_TOLERANCE])
async def test_timestamps_within_five_minutes_are_accepted(
    web: httpx.AsyncClient, offset: int
) -> None:
    assert (await push(web, message(), ts=TS + offset)).status_code == 202


async def test_an_unknown_account_is_404(web: httpx.AsyncClient, queue: RecordingQueue) -> None:
    answer = await push(web, message(), path="/webhooks/kaufland/nobody")
    assert answer.status_code == 404
    assert answer.json()["type"].endswith("/unknown-account")
    assert queue.submits == []


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"id_message": "m"}', "'event_name'"),
        (b'{"event_name": "order_new", "id_message": 7}', "'id_message'"),
        (b'{"event_name": "order_new", "id_message": "' + b"m" * 256 + b'"}', "255"),
    ],
)
async def test_a_signed_but_malformed_body_is_400(
    web: httpx.AsyncClient, queue: RecordingQueue, body: bytes, complaint: str
) -> None:
    answer = await push(web, body)
    assert answer.status_code == 400
    assert complaint in answer.json()["detail"]
    assert queue.submits == []


async def test_a_malformed_body_with_a_bad_signature_is_401(web: httpx.AsyncClient) -> None:
    assert (await push(web, b"{not json", secret="wrong")).status_code == 401


async def test_the_signature_may_cover_the_registered_or_the_public_url(
    settings: Settings, store: sessionmaker[Session], queue: RecordingQueue
) -> None:
    """Behind a proxy the request arrives at an inner address; Kaufland signed the URL it was
    given: the account's push_callback_url, or the public URL + path."""
    add_push_account(
        store,
        settings,
        "registered",
        secret=SECRET,
        push_callback_url="https://old.example.com/sync/webhooks/kaufland/registered",
    )
    public = settings.model_copy(update={"public_url": "https://sync.example.com/"})
    app = create_app(public, factory=store, queue=queue, clock=lambda: NOW)
    async with serve(app) as web:
        body = message(id_message="via-registered")
        url = "https://old.example.com/sync/webhooks/kaufland/registered"
        path = "/webhooks/kaufland/registered"
        assert (await push(web, body, url=url, path=path)).status_code == 202
        url = "https://sync.example.com/webhooks/kaufland/registered"
        body = message(id_message="via-public")
        assert (await push(web, body, url=url, path=path)).status_code == 202
        url = "https://elsewhere.example.com/webhooks/kaufland/registered"
        body = message(id_message="via-elsewhere")
        assert (await push(web, body, url=url, path=path)).status_code == 401


def test_candidate_urls_are_tried_registered_first_without_repeats() -> None:
    urls = candidate_urls(
        request_url="http://10.0.0.5:8000/webhooks/kaufland/shop",
        public_url="https://sync.example.com",
        push_callback_url="https://sync.example.com/webhooks/kaufland/shop",
        account="shop",
    )
    assert urls == [
        "https://sync.example.com/webhooks/kaufland/shop",
        "http://10.0.0.5:8000/webhooks/kaufland/shop",
    ]


async def test_a_queue_failure_is_503_and_the_redelivery_queues_the_job(
    web: httpx.AsyncClient, store: sessionmaker[Session], queue: RecordingQueue
) -> None:
    queue.broken = True
    failed = await push(web, message(id_message="retry-me"))
    assert failed.status_code == 503
    assert "deliver it again" in failed.json()["detail"]
    assert [e.job_id for e in events(store)] == [None]

    queue.broken = False
    again = await push(web, message(id_message="retry-me"))
    assert again.status_code == 202
    assert [e.job_id for e in events(store)] == [again.json()["job_id"]]
    assert len(queue.submits) == 1


async def test_an_unreadable_secret_is_500_without_details(
    store: sessionmaker[Session], queue: RecordingQueue, account_id: int, tmp_path: Path
) -> None:
    other_key = settings_for(tmp_path / "other")  # another master key
    app = create_app(other_key, factory=store, queue=queue, clock=lambda: NOW)
    async with serve(app) as web:
        answer = await push(web, message())
    assert answer.status_code == 500
    assert answer.json()["type"].endswith("/secret-unavailable")
    assert "master" not in answer.text and SECRET not in answer.text


# -- end to end over loopback ------------------------------------------------------------------

SELLER_KEY = "web_push_client_key_00000000001"
SELLER_SECRET = "web_push_secret_" + "p" * 48


async def test_the_sandbox_verifies_the_receiver_and_delivers_an_order_as_a_job(
    tmp_path: Path, store: sessionmaker[Session]
) -> None:
    config = SandboxConfig(
        sellers=[SellerCredentials(SELLER_KEY, SELLER_SECRET, ("de",))],
        seed="demo",
        random_seed=11,
    )
    settings = settings_for(tmp_path / "data")
    queue = RecordingQueue(store, utc_now)
    with RunningSandbox(config) as sandbox:
        account = add_push_account(
            store,
            settings,
            client_key=SELLER_KEY,
            secret=SELLER_SECRET,
            base_url=sandbox.base_url,
        )
        with LiveApp(create_app(settings, factory=store, queue=queue)) as live:
            callback = callback_url_for(live.url, "shop")
            async with KauflandClient(
                SELLER_KEY, SELLER_SECRET, base_url=sandbox.base_url
            ) as client:
                report = await subscribe(
                    client, storefronts=["de"], callback_url=callback, fallback_email="o@x.de"
                )
            assert len(report.created) == len(EventName)
            subs = sandbox.world.sellers[SELLER_KEY].table("subscriptions").values()
            assert {(s["callback_url"], s["is_active"]) for s in subs} == {(callback, True)}

            async with httpx.AsyncClient() as http:
                placed = await http.post(
                    f"{sandbox.root_url}/_sandbox/orders",
                    json={"count": 1, "storefront": "de", "client_key": SELLER_KEY},
                )
            assert placed.status_code == 201

            deadline = time.monotonic() + 15
            notifier = notify.notifier_for(sandbox.world)
            # The sandbox logs an attempt once our answer is back, just after the job is queued.
            while not (
                any(s.kind is JobKind.ORDERS for s in queue.submits) and notifier.attempts_log
            ):
                assert time.monotonic() < deadline, "no orders job arrived by push"
                await asyncio.sleep(0.05)
            attempts = list(notifier.attempts_log)

    orders = [s for s in queue.submits if s.kind is JobKind.ORDERS]
    assert orders[0].account_id == account.id
    assert {s.trigger for s in queue.submits} == {JobTrigger.PUSH}
    assert attempts and {a["status"] for a in attempts} <= {200, 202}
    recorded = {e.event_name for e in events(store)}
    assert "order_new" in recorded
