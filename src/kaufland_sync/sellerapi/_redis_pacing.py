"""A pacer shared by every process and machine that uses one client key, kept in Redis.

``RedisPacer`` implements the same ``Pacer`` contract as the in-process ``RateLimiter`` (GCRA with
the same rate and burst), but the limiter state lives in one Redis hash per client key, so all
workers together stay under Kaufland's 111 requests per second:

- **One atomic step.** Every decision (book a slot, confirm a slot after sleeping, start a
  back-off) is one run of one Lua script, which reads and writes the state with nothing in
  between. The script is sent with EVALSHA; when the server does not know it yet (restart,
  ``SCRIPT FLUSH``, a fresh replica) the pacer falls back to EVAL, which also caches it.
- **One clock.** The script reads the Redis server's ``TIME``, never a caller's clock, so clock
  differences between machines cannot break the bound. Callers only ever sleep for *durations*
  the script computed ("your slot is 4.2 ms from now"), then ask again.
- **Integer microseconds.** Times are microseconds of Redis time (exact in Lua's doubles). The
  emission interval is rounded *up* to a whole microsecond (1/109 s -> 9175 us, i.e. 108.99/s
  sustained), because rounding down would let a 112th request into some second.
- **Shared back-off.** After a 429, ``back_off`` moves the key's pause and theoretical arrival
  time forward in Redis; every process's next booking, and every slot booked before the pause
  but not yet used, is pushed past it.

Guarantee: with ``rate`` r and ``burst`` b, no 1-second window of Redis time contains more than r
granted slots for one key, across all processes that use the same key, rate and burst. A caller
is released only once Redis time has reached its slot, so requests leave at or after their
slots; what Kaufland sees then differs only by each request's own network latency.

State: hash ``<namespace>:pace:<sha256 of client key>`` with fields ``tat`` (theoretical arrival
time) and ``paused`` (back-off end), both in microseconds. The raw client key is never written to
Redis or to logs. The hash expires on its own once both times are in the past (an absent hash
means "idle", which is exactly what stale state would mean), so idle keys leave nothing behind.
Needs Redis 5 or newer (scripts that call ``TIME`` and then write are replicated by effects).

Event loops: a ``redis.asyncio`` connection belongs to the loop that opened it. A pacer made with
``from_url`` therefore opens one client per event loop on first use there (so the sync facade's
private loop works too); a pacer given a ready ``Redis`` client uses it as-is, on its loop only.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

__all__ = ["DEFAULT_NAMESPACE", "Admission", "Grant", "RedisPacer", "pace_key"]

DEFAULT_NAMESPACE = "kaufland-sync"
_DEFAULT_RATE = 111.0  # Kaufland's limit; the same default as RateLimiter (not imported: layering)
_MICROS = 1_000_000

Sleep = Callable[[float], Awaitable[object]]

# KEYS[1]: the state hash. ARGV: op, interval_us, tolerance_us, op argument, injected now_us ("" =
# read Redis TIME). Reply: {granted (0/1), slot_us, now_us}.
#
# reserve: book the next slot (GCRA); granted at once when the slot is not in the future.
# confirm: the caller slept until its slot ARGV[4]; granted if Redis time has reached it and no
#          back-off started after it was booked, "wait more" if time has not reached it yet, and
#          otherwise (a pause now covers the slot) the slot is void and a new one is booked.
# backoff: hold every caller for ARGV[4] microseconds from now. Reply slot_us = the pause end.
_SCRIPT = """
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local now
if ARGV[5] ~= '' then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local state = redis.call('HMGET', KEYS[1], 'tat', 'paused')
local tat = tonumber(state[1]) or now
local paused = tonumber(state[2]) or now
local op = ARGV[1]

local function save()
  redis.call('HSET', KEYS[1], 'tat', tat, 'paused', paused)
  -- Keep the state until both times are in the past, plus a second of slack; after that an
  -- absent hash means the same as the stale one would.
  local horizon = math.max(tat, paused) - now
  redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(horizon, 0) / 1000) + 1000)
end

if op == 'backoff' then
  local pause_end = now + tonumber(ARGV[4])
  paused = math.max(paused, pause_end)
  tat = math.max(tat, pause_end)
  save()
  return {1, paused, now}
end

if op == 'confirm' then
  local held = tonumber(ARGV[4])
  if paused <= held then
    if now >= held then
      return {1, held, now}
    end
    return {0, held, now}
  end
end

tat = math.max(tat, now, paused)
local allowed = math.max(now, tat - tolerance, paused)
tat = tat + interval
save()
if allowed <= now then
  return {1, allowed, now}
end
return {0, allowed, now}
"""

_SCRIPT_SHA = hashlib.sha1(_SCRIPT.encode("utf-8"), usedforsecurity=False).hexdigest()


def pace_key(client_key: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The Redis key holding the pacing state of ``client_key``: the key's SHA-256, never the
    key itself."""
    digest = hashlib.sha256(client_key.encode("utf-8")).hexdigest()
    return f"{namespace}:pace:{digest}"


@dataclass(frozen=True, slots=True)
class Grant:
    """One answer of the pacing script, in microseconds of Redis server time.

    ``granted``: the caller may send now. ``slot_us``: the booked send time (for a back-off, the
    pause end). ``now_us``: Redis time when the script ran.
    """

    granted: bool
    slot_us: int
    now_us: int

    @property
    def wait(self) -> float:
        """Seconds from ``now_us`` until ``slot_us`` (0 when the slot has come)."""
        return max(0, self.slot_us - self.now_us) / _MICROS


@dataclass(frozen=True, slots=True)
class Admission:
    """A send that ``RedisPacer.admit`` let through.

    ``slot_us``: the slot it used (the limit is stated over these). ``granted_us``: Redis time
    when it was released (never before ``slot_us``). ``waited``: seconds of Redis time between
    asking and being released, the figure to report as a rate-limit wait.
    """

    slot_us: int
    granted_us: int
    waited: float


class RedisPacer:
    """A ``Pacer`` for one client key whose GCRA state is shared through Redis.

    Build it with ``RedisPacer.from_url(url, client_key)`` (owns its connections; call
    ``aclose``), or hand it a ``redis.asyncio.Redis`` you manage. ``rate`` and ``burst`` mean what
    they mean for ``RateLimiter`` (defaults 111 and 3: 109/s sustained, never more than 111 in
    any second) and must be the same in every process sharing the key. ``sleep`` is awaited to
    wait (tests may wrap it); waiting lengths come from Redis time, not from a local clock.
    """

    def __init__(
        self,
        redis: Redis | Callable[[], Redis],
        client_key: str,
        *,
        rate: float = _DEFAULT_RATE,
        burst: int = 3,
        namespace: str = DEFAULT_NAMESPACE,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if not rate > burst - 1 or math.isinf(rate):
            raise ValueError(f"rate must be a finite number above burst - 1 ({burst - 1})")
        self.rate = float(rate)
        self.burst = burst
        # Rounded up: a shorter interval would let one request too many into some second.
        self.interval_us = math.ceil(_MICROS / (self.rate - (burst - 1)))
        self.tolerance_us = (burst - 1) * self.interval_us
        self.key = pace_key(client_key, namespace)
        self._sleep = sleep
        self._fixed: Redis | None = None
        self._connect: Callable[[], Redis] | None = None
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = (
            weakref.WeakKeyDictionary()
        )
        if isinstance(redis, Redis):
            self._fixed = redis
        else:
            self._connect = redis

    @classmethod
    def from_url(
        cls,
        url: str,
        client_key: str,
        *,
        rate: float = _DEFAULT_RATE,
        burst: int = 3,
        namespace: str = DEFAULT_NAMESPACE,
        sleep: Sleep = asyncio.sleep,
        **redis_options: Any,
    ) -> RedisPacer:
        """A pacer on the Redis at ``url`` (``redis://``, ``rediss://``, ``unix://``), opening one
        connection pool per event loop it is used on. ``redis_options`` go to
        ``Redis.from_url``."""

        def connect() -> Redis:
            client: Redis = Redis.from_url(url, **redis_options)
            return client

        return cls(connect, client_key, rate=rate, burst=burst, namespace=namespace, sleep=sleep)

    def __repr__(self) -> str:
        # The key name is a hash already; still, keep reprs short and free of connection details.
        return f"RedisPacer(rate={self.rate:g}, burst={self.burst})"

    def _client(self) -> Redis:
        if self._fixed is not None:
            return self._fixed
        assert self._connect is not None
        loop = asyncio.get_running_loop()
        client = self._per_loop.get(loop)
        if client is None:
            client = self._per_loop[loop] = self._connect()
        return client

    async def aclose(self) -> None:
        """Close the connections this pacer opened on the running loop (a client passed in is
        the caller's to close). Safe to call twice."""
        if self._connect is None:
            return
        client = self._per_loop.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def _run(self, op: str, argument: int, now_us: int | None) -> Grant:
        args: Sequence[str | int] = (
            op,
            self.interval_us,
            self.tolerance_us,
            argument,
            "" if now_us is None else now_us,
        )
        client = self._client()
        try:
            reply: Any = await client.evalsha(_SCRIPT_SHA, 1, self.key, *args)
        except NoScriptError:
            # Not cached on this server (yet): EVAL runs it and caches it for the next EVALSHA.
            reply = await client.eval(_SCRIPT, 1, self.key, *args)
        granted, slot, now = (int(value) for value in reply)
        return Grant(granted=bool(granted), slot_us=slot, now_us=now)

    async def reserve(self, *, now_us: int | None = None) -> Grant:
        """Book the next send slot. ``now_us`` replaces Redis time (tests only)."""
        return await self._run("reserve", 0, now_us)

    async def confirm(self, slot_us: int, *, now_us: int | None = None) -> Grant:
        """Ask whether the booked ``slot_us`` may be used now: granted, not yet (same slot), or
        void because a back-off started (a new slot is booked and returned)."""
        return await self._run("confirm", slot_us, now_us)

    async def hold(self, seconds: float, *, now_us: int | None = None) -> Grant:
        """Start a shared back-off of ``seconds`` from Redis time now (extends, never shortens,
        a running one). The reply's ``slot_us`` is the pause end."""
        return await self._run("backoff", math.ceil(seconds * _MICROS), now_us)

    async def admit(self) -> Admission:
        """Wait until one more request may be sent and count it as sent; say when and how long
        the caller waited (in Redis time)."""
        grant = await self.reserve()
        asked_us = grant.now_us
        while not grant.granted:
            await self._sleep(grant.wait)
            grant = await self.confirm(grant.slot_us)
        return Admission(
            slot_us=grant.slot_us,
            granted_us=grant.now_us,
            waited=(grant.now_us - asked_us) / _MICROS,
        )

    async def acquire(self) -> None:
        """``Pacer.acquire``: wait for a send slot shared with every process using this key."""
        await self.admit()

    async def back_off(self, seconds: float) -> None:
        """``Pacer.back_off``: Kaufland answered 429; hold every caller of this key, in every
        process, for ``seconds``."""
        if seconds <= 0:
            return
        await self.hold(seconds)
