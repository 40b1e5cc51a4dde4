"""RateLimiter shared by threads that each run their own event loop (the worker's layout).

Time is virtual and shared: a thread-safe clock that every read moves forward a little (so
bookings arrive at different times, as they would), and a sleep that only records the slot the
caller was told to wait for. The bound is checked on those slots: the limiter promises that no
1-second window of its clock holds more than ``rate`` of them, however the threads interleave.
Times handed to the limiter pause the thread whenever they are compared, and the switch interval
is shortened, so threads really do interleave inside a booking: without the lock, bookings are
lost and both bound checks fail.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator

import pytest

from kaufland_sync.sellerapi._pacing import RateLimiter

THREADS = 8
PER_THREAD = 300


# The slot the current task was given by its latest booking: the clock sets it to the time it
# returns (the limiter reads the clock once per booking), the sleep adds the wait it was told.
# Both run inside the booking task, so a ContextVar keeps tasks and threads apart.
_slot: contextvars.ContextVar[float] = contextvars.ContextVar("slot")


class YieldingTime(float):
    """A time value whose comparisons hand the GIL to another thread first.

    The limiter compares times while it books a slot; pausing there widens the window in which an
    unguarded limiter would let two threads read the same state and hand out one slot twice, so
    the tests below fail reliably without the lock instead of once in a while.
    """

    def _pause(self) -> None:
        time.sleep(0)

    def __lt__(self, other: float) -> bool:
        self._pause()
        return float(self) < other

    def __gt__(self, other: float) -> bool:
        self._pause()
        return float(self) > other

    def __le__(self, other: float) -> bool:
        self._pause()
        return float(self) <= other

    def __ge__(self, other: float) -> bool:
        self._pause()
        return float(self) >= other


class SharedClock:
    """Virtual seconds shared by every thread; each read advances it by ``step``."""

    def __init__(self, step: float) -> None:
        self._now = 0.0
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self._now += self._step
            now = YieldingTime(self._now)
        _slot.set(now)
        return now


async def recording_sleep(seconds: float) -> None:
    """Wake-up time = booking time + wait; yields once so this loop's other tasks book."""
    _slot.set(_slot.get() + seconds)
    await asyncio.sleep(0)


def max_in_any_window(times: list[float], width: float = 1.0) -> int:
    """Largest number of ``times`` inside any half-open window ``[t, t + width)``."""
    ordered = sorted(times)
    return max(
        (bisect_left(ordered, start + width - 1e-9) - i for i, start in enumerate(ordered)),
        default=0,
    )


@pytest.fixture
def tight_switching() -> Iterator[None]:
    """Make the interpreter switch threads very often, so races show up in a short test."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def run_in_threads(count: int, target: Callable[[], object]) -> None:
    """Run ``target`` in ``count`` threads at once; re-raise the first error here."""
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            target()
        except BaseException as exc:  # handed to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=guarded) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


@pytest.mark.usefixtures("tight_switching")
def test_reservations_from_many_threads_never_exceed_the_rate() -> None:
    rate, burst = 50.0, 3
    clock = SharedClock(step=1e-5)
    limiter = RateLimiter(rate, burst=burst, clock=clock)
    slots: list[float] = []
    slots_lock = threading.Lock()

    def book() -> None:
        mine = [limiter.reserve(clock()) for _ in range(PER_THREAD)]
        with slots_lock:
            slots.extend(mine)

    run_in_threads(THREADS, book)

    assert len(slots) == THREADS * PER_THREAD
    assert max_in_any_window(slots) <= rate
    # Nothing was lost either: the limiter ran at its full sustained pace, so the last slot is
    # where THREADS * PER_THREAD back-to-back bookings must end (minus the burst allowance).
    interval = 1.0 / (rate - (burst - 1))
    assert max(slots) == pytest.approx((len(slots) - burst) * interval, abs=0.01)


@pytest.mark.usefixtures("tight_switching")
def test_acquire_from_loops_in_many_threads_never_exceeds_the_rate() -> None:
    """Each thread runs ``asyncio.run`` with three tasks acquiring concurrently, all on one
    shared limiter: the granted send times obey the bound across every thread and loop."""
    rate, burst = 40.0, 3
    limiter = RateLimiter(rate, burst=burst, clock=SharedClock(step=1e-5), sleep=recording_sleep)
    granted: list[float] = []
    granted_lock = threading.Lock()

    async def sender(count: int) -> list[float]:
        mine = []
        for _ in range(count):
            await limiter.acquire()
            mine.append(_slot.get())
        return mine

    async def worker_loop() -> None:
        results = await asyncio.gather(*(sender(PER_THREAD // 3) for _ in range(3)))
        with granted_lock:
            for mine in results:
                granted.extend(mine)

    run_in_threads(THREADS, lambda: asyncio.run(worker_loop()))

    assert len(granted) == THREADS * (PER_THREAD // 3) * 3
    assert max_in_any_window(granted) <= rate
    interval = 1.0 / (rate - (burst - 1))
    assert max(granted) == pytest.approx((len(granted) - burst) * interval, abs=0.01)


def test_threads_asking_for_one_key_share_one_limiter() -> None:
    RateLimiter.clear_registry()
    found: list[RateLimiter] = []
    found_lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def ask() -> None:
        start.wait()
        limiter = RateLimiter.for_key("same-client-key", 111)
        with found_lock:
            found.append(limiter)

    try:
        run_in_threads(THREADS, ask)
    finally:
        RateLimiter.clear_registry()
    assert len(found) == THREADS
    assert len({id(limiter) for limiter in found}) == 1
