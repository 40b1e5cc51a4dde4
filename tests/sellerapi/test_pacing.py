"""RateLimiter: never more than ``rate`` sends in any 1-second window, FIFO, back-off after 429.

Concurrency tests run on virtual time: ``VirtualTime.sleep`` parks the caller on a heap and a
driver advances the clock to the earliest wake-up once every runnable task has settled.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from bisect import bisect_left
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaufland_sync.sellerapi._pacing import NoPacer, Pacer, RateLimiter


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def run(self, *coros: Awaitable[None]) -> None:
        tasks = [asyncio.ensure_future(c) for c in coros]
        while not all(t.done() for t in tasks):
            for _ in range(3):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._heap:
                wake, _, future = heapq.heappop(self._heap)
                self.now = max(self.now, wake)
                future.set_result(None)
        for task in tasks:
            task.result()


def max_in_any_window(times: list[float], width: float = 1.0) -> int:
    """Largest number of ``times`` inside any half-open window ``[t, t + width)``."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        # A tiny epsilon absorbs float noise from summing the interval many times.
        best = max(best, bisect_left(ordered, start + width - 1e-9) - i)
    return best


@given(
    rate=st.integers(min_value=3, max_value=200),
    burst=st.integers(min_value=1, max_value=3),
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.05), min_size=1, max_size=600),
)
@settings(max_examples=60, deadline=None)
def test_reservations_never_exceed_rate_in_any_second(
    rate: int, burst: int, gaps: list[float]
) -> None:
    limiter = RateLimiter(rate, burst=burst, clock=lambda: 0.0)
    arrivals = list(itertools.accumulate(gaps))
    slots = [limiter.reserve(t) for t in arrivals]
    assert all(s >= t for s, t in zip(slots, arrivals, strict=True))
    assert slots == sorted(slots)  # FIFO: later arrivals never overtake
    assert max_in_any_window(slots) <= rate


def test_idle_callers_go_immediately_up_to_the_burst() -> None:
    limiter = RateLimiter(111, burst=3, clock=lambda: 0.0)
    assert [limiter.reserve(10.0) for _ in range(4)] == [
        10.0,
        10.0,
        10.0,
        pytest.approx(10 + 1 / 109),
    ]


async def test_concurrent_acquirers_respect_the_rate_and_arrive_in_order() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(111, clock=vt.clock, sleep=vt.sleep)
    sent: list[tuple[int, float]] = []

    async def caller(i: int) -> None:
        await limiter.acquire()
        sent.append((i, vt.now))

    await vt.run(*(caller(i) for i in range(400)))
    times = [t for _, t in sent]
    assert len(sent) == 400
    assert max_in_any_window(times) <= 111
    assert [i for i, _ in sent] == list(range(400))
    # Steady state is close to the configured rate, not needlessly slow.
    assert times[-1] == pytest.approx((400 - 3) / 109, rel=1e-6)


async def test_back_off_holds_every_caller() -> None:
    vt = VirtualTime()
    limiter = RateLimiter(10, burst=1, clock=vt.clock, sleep=vt.sleep)
    sent: dict[str, float] = {}

    async def caller(name: str) -> None:
        await limiter.acquire()
        sent[name] = vt.now

    async def rate_limited(name: str) -> None:
        await caller(name)
        await limiter.back_off(5.0)  # this one got a 429

    # Slots booked up front: a=0.0, b=0.1, r=0.2, c=0.3, d=0.4, e=0.5.
    await vt.run(caller("a"), caller("b"), rate_limited("r"), caller("c"), caller("d"), caller("e"))
    assert sent["a"] == 0.0
    assert sent["b"] == pytest.approx(0.1)
    assert sent["r"] == pytest.approx(0.2)
    # c, d, e had slots before the pause ended; they re-booked after it, in their order.
    assert sent["c"] == pytest.approx(5.2)
    assert sent["c"] < sent["d"] < sent["e"]
    assert max_in_any_window(list(sent.values())) <= 10


async def test_back_off_ignores_non_positive_pause() -> None:
    limiter = RateLimiter(10, clock=lambda: 0.0)
    await limiter.back_off(0)
    assert limiter.reserve(0.0) == 0.0


def test_for_key_shares_one_limiter_per_key_and_rate() -> None:
    a = RateLimiter.for_key("key-a")
    assert RateLimiter.for_key("key-a") is a
    assert RateLimiter.for_key("key-b") is not a
    assert RateLimiter.for_key("key-a", 50) is not a
    assert "key-a" not in repr(RateLimiter._registry)
    RateLimiter.clear_registry()
    assert RateLimiter.for_key("key-a") is not a


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (2, 3), (float("inf"), 1), (10, 0)])
def test_invalid_settings(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match=r"rate|burst"):
        RateLimiter(rate, burst=burst)


async def test_pacer_protocol() -> None:
    none = NoPacer()
    await none.acquire()
    await none.back_off(3)
    pacers: list[Callable[[], object]] = [NoPacer, lambda: RateLimiter(5)]
    for make in pacers:
        assert isinstance(make(), Pacer)
