"""Prometheus metrics: what the jobs, the Seller API client and the pacer did, and what the
database says about the job ledger at scrape time.

Everything lives in this module's own ``REGISTRY`` (not prometheus_client's global one), so
nothing else in the process leaks into our ``/metrics`` and tests can read exact values. Import
defines the metric objects and nothing more: no server, no database access.

Two kinds of figures:

* **Measured in-process** (counters and histograms below). Each process counts what it did: the
  web app its webhooks, every worker its jobs and API calls. API calls are measured by
  ``MeteredAsyncClient`` (an ``httpx.AsyncClient`` measuring around ``send``, so transport
  errors are seen too); time spent waiting for the rate limit by ``MeteredPacer``.
* **Read from the database when scraped** (``StoreCollector``): jobs by state, how long ago each
  account's kinds last succeeded, and the queue backlog. The database is shared, so every
  process that exposes these reports the same values; scrape them from one (the web app).

Label values are bounded: API endpoints are path templates (``endpoint_label``), reasons are a
status class or an exception class name, kinds and outcomes are fixed sets.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from sqlalchemy.orm import Session, sessionmaker

    from kaufland_sync.sellerapi import Pacer

__all__ = [
    "API_ERRORS",
    "API_REQUESTS",
    "API_SECONDS",
    "JOBS",
    "JOB_SECONDS",
    "POLL_RECOVERED",
    "PUSH_EVENTS",
    "RATE_LIMIT_BACKOFFS",
    "RATE_LIMIT_WAIT_SECONDS",
    "REGISTRY",
    "MeteredAsyncClient",
    "MeteredPacer",
    "StoreCollector",
    "endpoint_label",
    "render_metrics",
    "start_metrics_server",
]

log = logging.getLogger("kaufland_sync.metrics")

REGISTRY: Final = CollectorRegistry()

# -- jobs ----------------------------------------------------------------------------------------

#: Job runs finished, by kind and outcome: ``done``, ``retrying`` (failed, runs again),
#: ``failed`` (gave up: the failed list), ``busy`` (another run held the account's lock).
JOBS: Final = Counter(
    "kaufland_sync_job_runs",
    "Job runs by kind and outcome (done, retrying, failed, busy).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS: Final = Histogram(
    "kaufland_sync_job_duration_seconds",
    "Wall time of one job run, by kind.",
    ["kind"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)

# -- Seller API ----------------------------------------------------------------------------------

API_REQUESTS: Final = Counter(
    "kaufland_sync_api_requests",
    "HTTP requests sent to the Seller API (every attempt), by method, endpoint and status.",
    ["method", "endpoint", "status"],
    registry=REGISTRY,
)
#: Failed attempts: ``reason`` is the status class (``4xx``, ``5xx``) or, when no answer came,
#: the httpx exception class (``ConnectTimeout``, ``ReadError``...).
API_ERRORS: Final = Counter(
    "kaufland_sync_api_errors",
    "Seller API attempts that failed, by endpoint and reason (status class or transport error).",
    ["endpoint", "reason"],
    registry=REGISTRY,
)
API_SECONDS: Final = Histogram(
    "kaufland_sync_api_request_duration_seconds",
    "Time from sending a Seller API request until its response headers arrived, by endpoint.",
    ["endpoint"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)

# -- pacing --------------------------------------------------------------------------------------

RATE_LIMIT_WAIT_SECONDS: Final = Histogram(
    "kaufland_sync_rate_limit_wait_seconds",
    "Time a request waited for the per-client-key rate limit before it could be sent.",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
    registry=REGISTRY,
)
RATE_LIMIT_BACKOFFS: Final = Counter(
    "kaufland_sync_rate_limit_backoffs",
    "429 answers from Kaufland that paused every caller of the client key.",
    registry=REGISTRY,
)

# -- push notifications --------------------------------------------------------------------------

PUSH_EVENTS: Final = Counter(
    "kaufland_sync_push_events",
    "Push notifications received from Kaufland, by event name.",
    ["event"],
    registry=REGISTRY,
)
#: Changes a scheduled poll found although push notifications are on: pushes that never came.
POLL_RECOVERED: Final = Counter(
    "kaufland_sync_poll_recovered",
    "Changes found by a scheduled poll on an account with push notifications on, by job kind.",
    ["kind"],
    registry=REGISTRY,
)

# -- endpoint templates --------------------------------------------------------------------------

_VERSION = re.compile(r"v\d+")
_HEX = re.compile(r"[0-9a-fA-F]{8,}")
# Every fixed segment of a Seller API path is lower-case words and hyphens ("order-units",
# "by-name"); ids are numbers, EANs, order ids ("MB7UWLD"), hex or UUIDs. So a segment with a
# digit or an upper-case letter, or a long run of hex, is an id.
_ID_HINT = re.compile(r"[0-9A-Z%]")
_LONGEST_WORD = 40  # longer segments are never fixed words


def _is_id(segment: str) -> bool:
    if _ID_HINT.search(segment) or len(segment) > _LONGEST_WORD:
        return True
    return bool(_HEX.fullmatch(segment.replace("-", "")))


def endpoint_label(path: str) -> str:
    """A bounded ``endpoint`` label for a request path or URL: query string dropped, anything up
    to and including the API version segment dropped (``/v2``), ids replaced by ``{id}``.

    ``/v2/order-units/314567898654242/cancel?x=1`` -> ``/order-units/{id}/cancel``;
    ``/v2/attributes/by-name/colour`` -> ``/attributes/by-name/{name}`` (the only path whose
    parameter is a word).
    """
    if "://" in path:
        path = httpx.URL(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    segments = [s for s in path.split("/") if s]
    for index, segment in enumerate(segments):
        if _VERSION.fullmatch(segment):
            segments = segments[index + 1 :]
            break
    templated: list[str] = []
    for index, segment in enumerate(segments):
        if index > 0 and segments[index - 1] == "by-name":
            templated.append("{name}")
        elif _is_id(segment):
            templated.append("{id}")
        else:
            templated.append(segment)
    return "/" + "/".join(templated)


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


# -- instrumentation -----------------------------------------------------------------------------


class MeteredAsyncClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that records ``API_REQUESTS``, ``API_ERRORS`` and
    ``API_SECONDS`` for every request it sends, then returns the response (or raises the error)
    unchanged. Constructor arguments are ``httpx.AsyncClient``'s.

    Measured around ``send`` rather than in a transport, so every route is seen, also the proxy
    transports httpx mounts from ``HTTPS_PROXY``, and requests that got no answer (connect
    errors, timeouts) count as errors named after their exception. The time runs until the
    response body is read (``KauflandClient`` never streams).
    """

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        endpoint = endpoint_label(request.url.path)
        started = time.perf_counter()
        try:
            response = await super().send(request, **kwargs)
        except httpx.RequestError as exc:
            API_ERRORS.labels(endpoint=endpoint, reason=type(exc).__name__).inc()
            raise
        status = response.status_code
        API_SECONDS.labels(endpoint=endpoint).observe(time.perf_counter() - started)
        API_REQUESTS.labels(method=request.method, endpoint=endpoint, status=str(status)).inc()
        if status >= 400:
            API_ERRORS.labels(endpoint=endpoint, reason=_status_class(status)).inc()
        return response


class MeteredPacer:
    """A ``Pacer`` that times ``inner.acquire()`` into ``RATE_LIMIT_WAIT_SECONDS`` and counts
    ``back_off`` calls (429 answers) in ``RATE_LIMIT_BACKOFFS``; pacing itself is ``inner``'s.

    ``clock`` must be monotonic and should be the one ``inner`` waits on (tests inject the same
    fake clock into both).
    """

    def __init__(self, inner: Pacer, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.inner = inner
        self._clock = clock

    def __repr__(self) -> str:
        return f"MeteredPacer({self.inner!r})"

    async def acquire(self) -> None:
        started = self._clock()
        await self.inner.acquire()
        RATE_LIMIT_WAIT_SECONDS.observe(max(0.0, self._clock() - started))

    async def back_off(self, seconds: float) -> None:
        RATE_LIMIT_BACKOFFS.inc()
        await self.inner.back_off(seconds)


# -- figures read from the database --------------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; the store writes UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class StoreCollector(Collector):
    """Reads the job ledger when scraped:

    * ``kaufland_sync_jobs{state}``: jobs per state (every state, zeros included);
    * ``kaufland_sync_sync_lag_seconds{account,kind}``: seconds since the newest ``done`` job of
      that account and kind finished (absent until one has);
    * ``kaufland_sync_queue_pending``: messages waiting in the queue (when ``queue_pending`` is
      given);
    * ``kaufland_sync_store_up``: 1 when the database answered, 0 when reading it failed (the
      failure is logged; the scrape itself still succeeds, without the database figures).

    ``factory`` makes sync SQLAlchemy sessions; ``clock`` gives aware UTC (tests inject it).
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        queue_pending: Callable[[], int] | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.factory = factory
        self.queue_pending = queue_pending
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        # Described, not collected, when registered: registering must not touch the database.
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "kaufland_sync_store_up", "1 when the job ledger could be read at scrape time."
        )
        try:
            states, lags = self._read()
        except Exception:  # a scrape must not fail because the database is away
            log.exception("reading the job ledger for metrics failed")
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            yield up
            yield states
            yield lags
        if self.queue_pending is not None:
            pending = GaugeMetricFamily(
                "kaufland_sync_queue_pending", "Messages waiting in the job queue."
            )
            try:
                pending.add_metric([], float(self.queue_pending()))
            except Exception:
                log.exception("reading the queue backlog for metrics failed")
            else:
                yield pending

    def _read(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        # Imported here: importing this module must not load the store (nor need a database).
        from sqlalchemy import func, select

        from kaufland_sync.jobs import ledger
        from kaufland_sync.store.models.accounts import Account
        from kaufland_sync.store.models.jobs import Job, JobState

        states = GaugeMetricFamily(
            "kaufland_sync_jobs", "Jobs in the ledger by state.", labels=["state"]
        )
        lags = GaugeMetricFamily(
            "kaufland_sync_sync_lag_seconds",
            "Seconds since the newest successful job of each account and kind finished.",
            labels=["account", "kind"],
        )
        now = self.clock()
        with self.factory() as session:
            rows = session.execute(select(Job.state, func.count()).group_by(Job.state))
            counts = {JobState(state): int(count) for state, count in rows}
            names = {id_: name for id_, name in session.execute(select(Account.id, Account.name))}
            last = ledger.last_success(session)
        for state in JobState:
            states.add_metric([state.value], float(counts.get(state, 0)))
        for (account_id, kind), finished_at in sorted(last.items()):
            name = names.get(account_id)
            if name is None:
                continue
            seconds = (now - _aware(finished_at)).total_seconds()
            lags.add_metric([name, str(kind)], max(0.0, seconds))
        return states, lags


class _Joined(Collector):
    """Several collectors scraped as one (our registry plus a per-request ``StoreCollector``)."""

    def __init__(self, *parts: Collector) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self.parts:
            yield from part.collect()


def _source(
    factory: sessionmaker[Session] | None, queue_pending: Callable[[], int] | None
) -> Collector:
    if factory is None:
        return REGISTRY
    return _Joined(REGISTRY, StoreCollector(factory, queue_pending))


def render_metrics(
    factory: sessionmaker[Session] | None = None,
    queue_pending: Callable[[], int] | None = None,
) -> tuple[bytes, str]:
    """The Prometheus text exposition of ``REGISTRY`` (plus the ledger figures when ``factory``
    is given, and the queue backlog when ``queue_pending`` is too) and its content type: what
    ``/metrics`` answers."""
    return generate_latest(_source(factory, queue_pending)), CONTENT_TYPE_LATEST


def start_metrics_server(
    port: int,
    addr: str = "0.0.0.0",  # every interface: a metrics endpoint is scraped from outside
    *,
    factory: sessionmaker[Session] | None = None,
    queue_pending: Callable[[], int] | None = None,
) -> WSGIServer:
    """Serve ``/metrics`` from a daemon thread (for a worker process that has no web app).

    Returns the server; ``server.shutdown()`` then ``server.server_close()`` stop it. Port 0
    picks a free port (``server.server_port``).
    """
    server, _thread = start_http_server(port, addr=addr, registry=_source(factory, queue_pending))
    return server
