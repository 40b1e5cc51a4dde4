"""RetryPolicy.decide: one test per rule, plus backoff and Retry-After parsing."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaufland_sync.sellerapi._retry import RetryPolicy, parse_retry_after

NOW = 1_700_000_000.0
REQ = httpx.Request("POST", "https://x/v2/units")


def fixed(value: float) -> RetryPolicy:
    return RetryPolicy(random=lambda: value)


def test_429_is_retried_even_when_not_replay_safe() -> None:
    decision = fixed(1.0).decide(429, 1, replay_safe=False)
    assert decision.retry
    assert "429" in decision.reason
    assert not decision.outcome_unknown


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_retried_when_replay_safe(status: int) -> None:
    decision = fixed(1.0).decide(status, 1, replay_safe=True)
    assert decision.retry
    assert decision.delay == pytest.approx(0.5)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_unsafe_request_is_outcome_unknown(status: int) -> None:
    decision = fixed(1.0).decide(status, 1, replay_safe=False)
    assert not decision.retry
    assert decision.outcome_unknown
    assert "may have taken effect" in decision.reason


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 423, 501])
def test_other_statuses_are_final(status: int) -> None:
    decision = fixed(1.0).decide(status, 1, replay_safe=True)
    assert not decision.retry
    assert not decision.outcome_unknown
    assert "final" in decision.reason


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused", request=REQ),
        httpx.ConnectTimeout("slow", request=REQ),
        httpx.PoolTimeout("busy", request=REQ),
    ],
)
def test_never_sent_errors_retried_for_post(error: Exception) -> None:
    decision = fixed(1.0).decide(error, 1, replay_safe=False)
    assert decision.retry
    assert "never reached the server" in decision.reason


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("slow", request=REQ),
        httpx.RemoteProtocolError("dropped", request=REQ),
        httpx.ReadError("reset", request=REQ),
        httpx.WriteTimeout("slow", request=REQ),
    ],
)
def test_ambiguous_errors(error: Exception) -> None:
    policy = fixed(1.0)
    unsafe = policy.decide(error, 1, replay_safe=False)
    assert not unsafe.retry
    assert unsafe.outcome_unknown
    safe = policy.decide(error, 1, replay_safe=True)
    assert safe.retry
    assert not safe.outcome_unknown


def test_unknown_errors_are_not_retried() -> None:
    decision = fixed(1.0).decide(ValueError("bug"), 1, replay_safe=True)
    assert not decision.retry
    assert not decision.outcome_unknown
    undecodable = fixed(1.0).decide(httpx.DecodingError("bad gzip"), 1, replay_safe=False)
    assert not undecodable.retry
    assert undecodable.outcome_unknown  # an answer came: the server has acted


def test_attempts_exhausted() -> None:
    policy = RetryPolicy(max_attempts=3, random=lambda: 1.0)
    assert policy.decide(503, 2, replay_safe=True).retry
    last = policy.decide(503, 3, replay_safe=True)
    assert not last.retry
    assert "after 3 attempts" in last.reason
    assert not policy.decide(429, 3, replay_safe=True).retry
    assert not policy.decide(httpx.ConnectError("x"), 3, replay_safe=False).retry
    assert not policy.decide(httpx.ReadTimeout("x"), 3, replay_safe=True).retry


def test_backoff_is_exponential_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0, jitter="none")
    assert [policy.backoff(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_full_and_equal_jitter_use_the_random_source() -> None:
    full = RetryPolicy(base_delay=1.0, jitter="full", random=lambda: 0.25)
    assert full.backoff(3) == pytest.approx(1.0)  # 4 * 0.25
    equal = RetryPolicy(base_delay=1.0, jitter="equal", random=lambda: 0.25)
    assert equal.backoff(3) == pytest.approx(2.5)  # 2 + 2 * 0.25


@given(
    attempt=st.integers(min_value=1, max_value=60),
    draw=st.floats(min_value=0.0, max_value=0.999999),
    jitter=st.sampled_from(["full", "equal", "none"]),
)
def test_backoff_always_within_bounds(attempt: int, draw: float, jitter: str) -> None:
    policy = RetryPolicy(jitter=jitter, random=lambda: draw)  # type: ignore[arg-type]
    delay = policy.backoff(attempt)
    cap = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    assert 0.0 <= delay <= cap
    if jitter == "equal":
        assert delay >= cap / 2


def test_retry_after_wins_over_backoff() -> None:
    decision = fixed(0.0).decide(429, 1, replay_safe=False, retry_after=7.0)
    assert decision.retry
    assert decision.delay == 7.0
    assert "Retry-After" in decision.reason
    on_503 = fixed(0.0).decide(503, 2, replay_safe=True, retry_after=3.0)
    assert on_503.delay == 3.0


def test_retry_after_above_max_delay_is_honoured_by_giving_up() -> None:
    decision = RetryPolicy(max_delay=30.0).decide(429, 1, replay_safe=True, retry_after=120.0)
    assert not decision.retry
    assert "120s" in decision.reason


def test_policy_validates_its_settings() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base_delay=-1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        ("soon", None),
        ("nan", None),
        ("Tue, 14 Nov 2023 22:13:30 GMT", 10.0),  # NOW + 10 s
        ("Tue, 14 Nov 2023 22:13:00 GMT", 0.0),  # in the past
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected
