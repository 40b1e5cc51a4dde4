"""When to send a request again, and after how long (pure; no I/O, no sleeping).

One predicate, ``RetryPolicy.decide``, with one named reason per rule, so logs say why a
request was (not) retried. The rules, first match wins:

1. attempts used up → stop.
2. 429 → retry, whatever the method: Kaufland did not process the request.
3. a retryable 5xx (``retry_statuses``) → retry only if the request is replay-safe; otherwise
   stop with ``outcome_unknown`` (the server may have acted before failing).
4. any other status → stop (the answer is final).
5. a network error that proves the request never reached Kaufland (connect error, connect
   timeout, no free pooled connection) → retry, whatever the method.
6. a network error after the request may have been sent (read timeout, dropped connection,
   write error) → retry if replay-safe, else stop with ``outcome_unknown``.
7. anything else → stop.

Delays: ``Retry-After`` (seconds or HTTP date) wins when present. It is honoured, never
shortened: if it asks for more than ``max_delay`` the policy stops instead of retrying early, so
the caller can reschedule (the error carries ``retry_after``). Otherwise capped exponential
backoff ``min(max_delay, base_delay * 2**(attempt-1))`` with full or equal jitter.
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import httpx

__all__ = ["RetryDecision", "RetryPolicy", "parse_retry_after"]

# Errors raised before any byte of the request reached the server: replaying is always safe.
_NEVER_SENT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
)
# Errors after which the server may have received (and acted on) the request.
_AMBIGUOUS: tuple[type[BaseException], ...] = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.NetworkError,
    httpx.TimeoutException,
)

# Errors raised after a response arrived (so the request was processed) but could not be used.
_ANSWERED: tuple[type[BaseException], ...] = (httpx.DecodingError, httpx.TooManyRedirects)


@dataclass(frozen=True)
class RetryDecision:
    """The outcome of ``RetryPolicy.decide``.

    ``retry``: send again after ``delay`` seconds. ``reason``: the rule that decided, in words.
    ``outcome_unknown``: when not retrying, the request may have taken effect on the server
    (the client raises ``OutcomeUnknownError``).
    """

    retry: bool
    delay: float
    reason: str
    outcome_unknown: bool = False


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value (delta-seconds or an HTTP date),
    measured from ``now`` (Unix seconds). None when absent or unreadable; never negative."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is always GMT
            return None
        seconds = when.timestamp() - now
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """A bounded retry policy: capped exponential backoff with jitter, safe replays only.

    ``max_attempts`` counts every send including the first (1 disables retries). ``jitter``:
    ``"full"`` draws the delay from ``[0, cap]``, ``"equal"`` from ``[cap/2, cap]``, ``"none"``
    uses ``cap``. ``random`` returns floats in ``[0, 1)``; inject a fixed one in tests.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: Literal["full", "equal", "none"] = "full"
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, attempt: int) -> float:
        """The jittered delay after the ``attempt``-th failed send (1-based)."""
        cap = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        if self.jitter == "full":
            return cap * self.random()
        if self.jitter == "equal":
            return cap / 2 + (cap / 2) * self.random()
        return cap

    def _wait(self, attempt: int, retry_after: float | None, why: str) -> RetryDecision:
        if retry_after is None:
            delay = self.backoff(attempt)
            return RetryDecision(True, delay, f"{why}; backing off {delay:.2f}s")
        if retry_after > self.max_delay:
            return RetryDecision(
                False,
                0.0,
                f"{why} but Retry-After asks for {retry_after:.0f}s, more than max_delay "
                f"{self.max_delay:.0f}s; giving up so the caller can reschedule",
            )
        return RetryDecision(True, retry_after, f"{why}; waiting {retry_after:.2f}s (Retry-After)")

    def decide(
        self,
        outcome: BaseException | int,
        attempt: int,
        replay_safe: bool,
        retry_after: float | None = None,
    ) -> RetryDecision:
        """Decide whether to send again after ``attempt`` sends ended in ``outcome``.

        ``outcome`` is the HTTP status received or the exception raised while sending (an
        ``httpx`` exception). ``replay_safe``: the request may be applied twice without harm.
        ``retry_after``: the parsed ``Retry-After`` seconds, if the server sent one.
        """
        if isinstance(outcome, int):
            return self._decide_status(outcome, attempt, replay_safe, retry_after)
        return self._decide_exception(outcome, attempt, replay_safe)

    def _decide_status(
        self, status: int, attempt: int, replay_safe: bool, retry_after: float | None
    ) -> RetryDecision:
        if status < 400:
            return RetryDecision(False, 0.0, f"HTTP {status} is a success")
        if status not in self.retry_statuses:
            return RetryDecision(False, 0.0, f"HTTP {status} is final")
        if status == 429:
            if attempt >= self.max_attempts:
                return RetryDecision(False, 0.0, f"rate limited after {attempt} attempts")
            return self._wait(attempt, retry_after, "HTTP 429: not processed, safe to resend")
        if not replay_safe:
            return RetryDecision(
                False,
                0.0,
                f"HTTP {status} on a request that is not safe to replay; it may have taken effect",
                outcome_unknown=True,
            )
        if attempt >= self.max_attempts:
            return RetryDecision(False, 0.0, f"HTTP {status} after {attempt} attempts")
        return self._wait(attempt, retry_after, f"HTTP {status} on a replay-safe request")

    def _decide_exception(
        self, error: BaseException, attempt: int, replay_safe: bool
    ) -> RetryDecision:
        name = type(error).__name__
        if isinstance(error, _NEVER_SENT):
            if attempt >= self.max_attempts:
                return RetryDecision(False, 0.0, f"{name} after {attempt} attempts")
            return self._wait(attempt, None, f"{name}: request never reached the server")
        if isinstance(error, _AMBIGUOUS):
            if not replay_safe:
                return RetryDecision(
                    False,
                    0.0,
                    f"{name} after the request may have been received; not safe to replay",
                    outcome_unknown=True,
                )
            if attempt >= self.max_attempts:
                return RetryDecision(False, 0.0, f"{name} after {attempt} attempts")
            return self._wait(attempt, None, f"{name} on a replay-safe request")
        return RetryDecision(
            False,
            0.0,
            f"{name} is not a retryable error",
            # A response arrived but could not be read: the server has acted on the request.
            outcome_unknown=not replay_safe and isinstance(error, _ANSWERED),
        )
