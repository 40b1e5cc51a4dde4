"""Metrics: bounded endpoint labels, API and pacer instrumentation, ledger figures read at scrape
time, and the exposition itself.

Counters live in one process-wide registry and other tests add to them too, so every check here
compares a value before and after the action under test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.metrics import (
    REGISTRY,
    MeteredAsyncClient,
    MeteredPacer,
    StoreCollector,
    endpoint_label,
    render_metrics,
    start_metrics_server,
)
from kaufland_sync.sellerapi._pacing import RateLimiter
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from tests.builders import new_account

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def value(name: str, **labels: str) -> float:
    """The current value of one sample of our registry (0 when it does not exist yet)."""
    found = REGISTRY.get_sample_value(name, labels)
    return 0.0 if found is None else found


def samples(metrics: Iterable[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of collected metric families."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in metrics
        for s in family.samples
    }


# -- endpoint labels -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/v2/status/ping", "/status/ping"),
        ("/v2/units?storefront=de&limit=100&offset=0", "/units"),
        ("/v2/units/411573215", "/units/{id}"),
        ("/v2/order-units/314567898654242/cancel", "/order-units/{id}/cancel"),
        ("/v2/orders/MB7UWLD", "/orders/{id}"),
        ("/v2/orders/MBXUWLD", "/orders/{id}"),  # an order id without a digit is upper-case
        ("/v2/order-invoices/MB7UWLD/987654", "/order-invoices/{id}/{id}"),
        ("/v2/products/ean/4009750243800", "/products/ean/{id}"),
        ("/v2/product-data/status/4009750243800", "/product-data/status/{id}"),
        ("/v2/tickets/5e8f8f8f8f8f8f8f8f8f8f8f/messages", "/tickets/{id}/messages"),
        ("/v2/tickets/deadbeefcafebabe", "/tickets/{id}"),  # hex with no digit at all
        ("/v2/tickets/messages", "/tickets/messages"),
        ("/v2/import-files/inventory-feed/17", "/import-files/inventory-feed/{id}"),
        ("/v2/attributes/by-name/colour", "/attributes/by-name/{name}"),
        ("/v2/subscriptions/123e4567-e89b-12d3-a456-426614174000", "/subscriptions/{id}"),
        ("/v2/units/some%20thing", "/units/{id}"),
        ("/v2/reports/bookings-new", "/reports/bookings-new"),
        ("/kaufland/v2/shipments", "/shipments"),  # a proxy prefix goes with the version
        ("/status/ping", "/status/ping"),  # no version segment: the path as it is
        ("https://sellerapi.kaufland.com/v2/returns/675849321?x=1", "/returns/{id}"),
        ("/v2/", "/"),
    ],
)
def test_endpoint_label_replaces_ids_and_drops_query_and_version(path: str, label: str) -> None:
    assert endpoint_label(path) == label


# -- API instrumentation -------------------------------------------------------------------------


async def test_metered_client_counts_answers_and_transport_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/ping"):
            return httpx.Response(200, json={"data": "pong"})
        if request.url.path.startswith("/v2/units/"):
            return httpx.Response(404, json={"message": "not found"})
        if request.url.path == "/v2/orders":
            return httpx.Response(503)
        raise httpx.ConnectError("refused", request=request)

    before = {
        "ping": value(
            "kaufland_sync_api_requests_total",
            method="GET",
            endpoint="/status/ping",
            status="200",
        ),
        "unit": value(
            "kaufland_sync_api_requests_total",
            method="DELETE",
            endpoint="/units/{id}",
            status="404",
        ),
        "unit_4xx": value("kaufland_sync_api_errors_total", endpoint="/units/{id}", reason="4xx"),
        "orders_5xx": value("kaufland_sync_api_errors_total", endpoint="/orders", reason="5xx"),
        "connect": value(
            "kaufland_sync_api_errors_total", endpoint="/shipments", reason="ConnectError"
        ),
        "ping_seconds": value(
            "kaufland_sync_api_request_duration_seconds_count", endpoint="/status/ping"
        ),
    }

    async with MeteredAsyncClient(
        transport=httpx.MockTransport(handler), base_url="https://api.test"
    ) as http:
        assert (await http.get("/v2/status/ping")).status_code == 200
        assert (await http.get("/v2/status/ping?x=1")).status_code == 200
        assert (await http.delete("/v2/units/411573215")).status_code == 404
        assert (await http.get("/v2/orders")).status_code == 503
        with pytest.raises(httpx.ConnectError):
            await http.get("/v2/shipments")

    ping = value(
        "kaufland_sync_api_requests_total", method="GET", endpoint="/status/ping", status="200"
    )
    unit = value(
        "kaufland_sync_api_requests_total", method="DELETE", endpoint="/units/{id}", status="404"
    )
    assert ping - before["ping"] == 2
    assert unit - before["unit"] == 1
    assert (
        value("kaufland_sync_api_errors_total", endpoint="/units/{id}", reason="4xx")
        - before["unit_4xx"]
        == 1
    )
    assert (
        value("kaufland_sync_api_errors_total", endpoint="/orders", reason="5xx")
        - before["orders_5xx"]
        == 1
    )
    assert (
        value("kaufland_sync_api_errors_total", endpoint="/shipments", reason="ConnectError")
        - before["connect"]
        == 1
    )
    assert (
        value("kaufland_sync_api_request_duration_seconds_count", endpoint="/status/ping")
        - before["ping_seconds"]
        == 2
    )
    # A request that got no answer has no status and no latency sample.
    assert (
        REGISTRY.get_sample_value(
            "kaufland_sync_api_request_duration_seconds_count", {"endpoint": "/shipments"}
        )
        is None
    )


# -- pacer instrumentation -----------------------------------------------------------------------


@dataclass
class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    now: float = 100.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_metered_pacer_times_waits_and_counts_back_offs() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, burst=1, clock=fake.clock, sleep=fake.sleep)  # one per 0.1 s
    pacer = MeteredPacer(limiter, clock=fake.clock)
    waits_before = value("kaufland_sync_rate_limit_wait_seconds_count")
    waited_before = value("kaufland_sync_rate_limit_wait_seconds_sum")
    backoffs_before = value("kaufland_sync_rate_limit_backoffs_total")

    for _ in range(3):
        await pacer.acquire()  # the first goes at once, then 0.1 s apart
    await pacer.back_off(2.0)  # a 429: everyone holds for 2 s
    await pacer.acquire()

    assert fake.sleeps == pytest.approx([0.1, 0.1, 2.0])
    assert value("kaufland_sync_rate_limit_wait_seconds_count") - waits_before == 4
    assert value("kaufland_sync_rate_limit_wait_seconds_sum") - waited_before == pytest.approx(2.2)
    assert value("kaufland_sync_rate_limit_backoffs_total") - backoffs_before == 1


# -- ledger figures ------------------------------------------------------------------------------


def _job(
    account_id: int,
    kind: JobKind,
    state: JobState,
    finished_at: datetime | None = None,
) -> Job:
    return Job(
        account_id=account_id,
        kind=kind,
        trigger=JobTrigger.SCHEDULE,
        state=state,
        enqueued_at=NOW - timedelta(hours=2),
        not_before=NOW - timedelta(hours=2),
        finished_at=finished_at,
    )


def test_store_collector_reports_jobs_by_state_lag_and_backlog(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        shop = new_account(session, "shop")
        other = new_account(session, "other")
        session.add_all(
            [
                _job(shop.id, JobKind.ORDERS, JobState.DONE, NOW - timedelta(minutes=30)),
                _job(shop.id, JobKind.ORDERS, JobState.DONE, NOW - timedelta(minutes=4)),
                _job(shop.id, JobKind.ORDERS, JobState.QUEUED),
                _job(shop.id, JobKind.STOCK, JobState.FAILED, NOW - timedelta(minutes=1)),
                _job(shop.id, JobKind.STOCK, JobState.RETRYING),
                _job(other.id, JobKind.OFFERS, JobState.DONE, NOW - timedelta(hours=1)),
                _job(other.id, JobKind.OFFERS, JobState.RUNNING),
            ]
        )

    collector = StoreCollector(factory, queue_pending=lambda: 3, clock=lambda: NOW)
    found = samples(collector.collect())

    jobs = {
        dict(labels)["state"]: count
        for (name, labels), count in found.items()
        if name == "kaufland_sync_jobs"
    }
    assert jobs == {
        "queued": 1,
        "running": 1,
        "retrying": 1,
        "done": 3,
        "failed": 1,
        "dropped": 0,
    }
    lags = {
        (dict(labels)["account"], dict(labels)["kind"]): seconds
        for (name, labels), seconds in found.items()
        if name == "kaufland_sync_sync_lag_seconds"
    }
    # The newest done job counts; a failed run is no success; no done job, no lag.
    assert lags == {("shop", "orders"): 240.0, ("other", "offers"): 3600.0}
    assert found[("kaufland_sync_queue_pending", ())] == 3
    assert found[("kaufland_sync_store_up", ())] == 1


def test_store_collector_survives_an_unreadable_database(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = create_engine("sqlite://")  # empty: no jobs table
    try:
        collector = StoreCollector(sessionmaker(engine), queue_pending=lambda: 0)
        with caplog.at_level(logging.ERROR, logger="kaufland_sync.metrics"):
            found = samples(collector.collect())
    finally:
        engine.dispose()
    assert found == {("kaufland_sync_store_up", ()): 0, ("kaufland_sync_queue_pending", ()): 0}
    assert "reading the job ledger for metrics failed" in caplog.text


# -- exposition ----------------------------------------------------------------------------------


def _families(text: bytes) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        family.name: [(s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(text.decode("utf-8"))
    }


def test_render_metrics_without_a_store_has_only_in_process_metrics() -> None:
    content, content_type = render_metrics()
    assert content_type.startswith("text/plain")
    families = _families(content)
    assert "kaufland_sync_job_runs" in families
    assert "kaufland_sync_api_requests" in families
    assert "kaufland_sync_jobs" not in families


def test_render_metrics_with_a_store_adds_the_ledger(factory: sessionmaker[Session]) -> None:
    content, _ = render_metrics(factory, queue_pending=lambda: 5)
    families = _families(content)
    assert ({"state": "queued"}, 0.0) in families["kaufland_sync_jobs"]
    assert families["kaufland_sync_queue_pending"] == [({}, 5.0)]
    assert "kaufland_sync_job_runs" in families  # the in-process ones are still there


def test_metrics_server_serves_the_registry() -> None:
    server = start_metrics_server(0, "127.0.0.1")
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200
    assert "kaufland_sync_rate_limit_backoffs_total" in response.text
