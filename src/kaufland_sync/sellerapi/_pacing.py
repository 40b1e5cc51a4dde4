"""Client-side pacing so one seller's requests stay under Kaufland's 111 requests per second.

Kaufland counts requests per seller across all endpoints and answers 429 above the limit. The
``RateLimiter`` here is a GCRA (generic cell rate algorithm, a token bucket without a timer):
each caller reserves the next free send time synchronously and then sleeps until it. Because
reservation happens in arrival order and never yields in between, callers go out in FIFO order.
Because it holds no asyncio objects, one limiter can serve several event loops at once, also
loops in different threads (a worker runs one loop per thread, and the sync facade runs its own
loop): a ``threading.Lock`` makes each reservation and each back-off one indivisible step. The
lock is only ever held around that bookkeeping, never across an ``await``, so it cannot block a
loop for longer than a few arithmetic operations.

Guarantee: with ``rate`` r and ``burst`` b, no sliding 1-second window ever contains more than r
sends. The sustained spacing is ``1 / (r - (b - 1))`` seconds, so the b-request burst allowance
fits inside the same window instead of adding to it (r=111, b=3: 109/s sustained, never more
than 111 in any second).

The ``Pacer`` protocol is what the client needs; a Redis-backed limiter shared between processes
can implement the same two coroutines.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import ClassVar, Protocol, runtime_checkable

__all__ = ["DEFAULT_RATE", "NoPacer", "Pacer", "RateLimiter"]

DEFAULT_RATE = 111.0

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


@runtime_checkable
class Pacer(Protocol):
    """Paces sends for one seller account."""

    async def acquire(self) -> None:
        """Wait until one more request may be sent, then return (it is counted as sent)."""
        ...

    async def back_off(self, seconds: float) -> None:
        """Kaufland answered 429: hold every caller for ``seconds`` before the next send."""
        ...


class NoPacer:
    """A pacer that never waits (pacing disabled, e.g. ``rate_limit=None``)."""

    async def acquire(self) -> None:
        return None

    async def back_off(self, seconds: float) -> None:
        return None


class RateLimiter:
    """An in-process GCRA limiter: at most ``rate`` sends in any 1-second window, bursts of up to
    ``burst`` back-to-back sends, FIFO among waiters.

    ``clock`` must be monotonic (default ``time.monotonic``); ``sleep`` is awaited to wait
    (default ``asyncio.sleep``). Tests inject both so nothing really sleeps.

    Share one limiter per client key: use ``RateLimiter.for_key`` (an explicit registry; nothing
    is created at import time).
    """

    _registry: ClassVar[dict[tuple[str, float, int], RateLimiter]] = {}
    # Guards ``_registry`` so two threads asking for the same key at once share one limiter.
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        burst: int = 3,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if not rate > burst - 1 or math.isinf(rate):
            raise ValueError(f"rate must be a finite number above burst - 1 ({burst - 1})")
        self.rate = float(rate)
        self.burst = burst
        self._interval = 1.0 / (self.rate - (burst - 1))
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        # Theoretical arrival time: when the bucket is "empty" again if nobody else comes.
        self._tat = -math.inf
        self._paused_until = -math.inf
        # Held only around the synchronous updates of ``_tat``/``_paused_until`` (see module).
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate:g}, burst={self.burst})"

    @classmethod
    def for_key(cls, client_key: str, rate: float = DEFAULT_RATE, *, burst: int = 3) -> RateLimiter:
        """The process-wide limiter for ``client_key`` at this rate and burst, created on first
        use with the real clock. Every client built with the same key shares it."""
        # Hashed so the registry never holds key material in a readable form.
        digest = hashlib.sha256(client_key.encode("utf-8")).hexdigest()
        slot = (digest, float(rate), burst)
        with cls._registry_lock:
            limiter = cls._registry.get(slot)
            if limiter is None:
                limiter = cls._registry[slot] = cls(rate, burst=burst)
            return limiter

    @classmethod
    def clear_registry(cls) -> None:
        """Forget every shared limiter (for tests)."""
        with cls._registry_lock:
            cls._registry.clear()

    def reserve(self, now: float) -> float:
        """Book the next send slot for a caller arriving at ``now``; return when it may send.

        Pure bookkeeping (no waiting), so a sequence of reservations can be checked without an
        event loop. Slots are handed out in call order; safe to call from several threads.
        """
        with self._lock:
            return self._book(now)

    def _book(self, now: float) -> float:
        # Caller holds ``_lock``: reading and advancing ``_tat`` must not interleave, or two
        # callers would get the same slot.
        tat = max(self._tat, now, self._paused_until)
        allowed = max(now, tat - self._tolerance, self._paused_until)
        self._tat = tat + self._interval
        return allowed

    async def acquire(self) -> None:
        while True:
            # The clock is read under the lock too, so bookings see non-decreasing times even
            # when threads race (the window bound holds either way; this keeps FIFO exact).
            with self._lock:
                now = self._clock()
                at = self._book(now)
            if at > now:
                await self._sleep(at - now)
            # A 429 may have arrived while we slept: the slot we held is void, book a new one
            # after the pause (slots are re-booked in wake order, which keeps FIFO order).
            if self._paused_until <= at:
                return

    async def back_off(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            until = self._clock() + seconds
            self._paused_until = max(self._paused_until, until)
            self._tat = max(self._tat, until)
