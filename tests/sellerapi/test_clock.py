"""Clock skew: a 401 while the server ``Date`` is far from our clock is corrected once, or
reported in plain words."""

from __future__ import annotations

import email.utils
import logging

import httpx
import pytest

from kaufland_sync.sellerapi._clock import SkewTracker, parse_http_date, server_skew
from kaufland_sync.sellerapi.errors import (
    AuthenticationError,
    ClockSkewError,
    MissingHeaderError,
    error_from_response,
)
from tests.sellerapi.conftest import NOW, FakeTime, MakeClient, verifies

UNAUTHORIZED = {
    "type": "/problems/missing-or-invalid-request-header",
    "message": "Shop-Timestamp is outside the allowed window",
    "errors": [],
}


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


class SkewedServer:
    """Kaufland whose clock runs ``skew`` seconds ahead of the test's clock: it rejects
    timestamps more than 300 s off its own time and stamps every answer with its ``Date``."""

    def __init__(self, fake_time: FakeTime, skew: float) -> None:
        self.fake_time = fake_time
        self.skew = skew
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        server_now = self.fake_time.now + self.skew
        headers = {"Date": http_date(server_now)}
        if not verifies(request):
            return httpx.Response(401, json={"message": "bad signature"}, headers=headers)
        if abs(int(request.headers["Shop-Timestamp"]) - server_now) > 300:
            return httpx.Response(401, json=UNAUTHORIZED, headers=headers)
        return httpx.Response(200, json={"data": {"message": "pong"}}, headers=headers)


def test_parse_http_date() -> None:
    assert parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT") == NOW
    assert parse_http_date(None) is None
    assert parse_http_date("yesterday") is None
    assert parse_http_date("Tue, 14 Nov 2023 22:13:20") is None  # no zone: unusable


def test_server_skew_reads_date_case_insensitively() -> None:
    assert server_skew({"date": http_date(NOW + 420)}, NOW) == 420
    assert server_skew({"DATE": http_date(NOW - 60)}, NOW) == -60
    assert server_skew({}, NOW) is None


async def test_skew_is_corrected_and_request_resent_once(
    make_client: MakeClient, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    server = SkewedServer(fake_time, skew=7 * 60)
    client = make_client(server)
    with caplog.at_level(logging.WARNING, logger="kaufland_sync.sellerapi"):
        response = await client.request("POST", "/units", json={"id_offer": "A"})
    assert response.data == {"message": "pong"}
    assert [int(r.headers["Shop-Timestamp"]) for r in server.requests] == [
        int(NOW),
        int(NOW) + 420,
    ]
    assert all(verifies(r) for r in server.requests)
    assert client.clock_offset == 420
    assert "your server clock is 7 minutes behind Kaufland's" in caplog.text
    assert fake_time.sleeps == []  # resent at once, no backoff

    # Later requests are signed with the corrected time straight away.
    await client.request("GET", "/status/ping")
    assert len(server.requests) == 3
    assert server.requests[-1].headers["Shop-Timestamp"] == str(int(NOW) + 420)


async def test_skew_without_correction_raises_in_plain_words(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    server = SkewedServer(fake_time, skew=7 * 60)
    client = make_client(server, correct_clock_skew=False)
    with pytest.raises(ClockSkewError) as caught:
        await client.request("GET", "/status/ping")
    error = caught.value
    assert error.skew_seconds == pytest.approx(420)
    assert "your server clock is 7 minutes behind Kaufland's" in str(error)
    assert str(error).startswith("GET /v2/status/ping: HTTP 401")
    assert isinstance(error, AuthenticationError)
    assert len(server.requests) == 1


async def test_clock_ahead_is_described_as_ahead(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    client = make_client(SkewedServer(fake_time, skew=-600), correct_clock_skew=False)
    with pytest.raises(ClockSkewError, match="10 minutes ahead of Kaufland's"):
        await client.request("GET", "/status/ping")


async def test_small_skew_leaves_the_401_alone(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(
            401, json=UNAUTHORIZED, headers={"Date": http_date(fake_time.now + 30)}
        )

    client = make_client(handler)
    with pytest.raises(MissingHeaderError) as caught:
        await client.request("GET", "/status/ping")
    assert not isinstance(caught.value, ClockSkewError)
    assert len(calls) == 1
    assert client.clock_offset == 0


async def test_only_one_correction_per_request(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    """A server whose Date keeps jumping: after one corrected resend the error is raised."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        jump = 420 * len(calls)
        return httpx.Response(
            401, json=UNAUTHORIZED, headers={"Date": http_date(fake_time.now + jump)}
        )

    client = make_client(handler)
    with pytest.raises(ClockSkewError, match="14 minutes behind"):
        await client.request("GET", "/status/ping")
    assert len(calls) == 2


async def test_raw_returns_the_401_instead_of_raising(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    client = make_client(SkewedServer(fake_time, skew=420), correct_clock_skew=False)
    response = await client.raw("GET", "/status/ping")
    assert response.status_code == 401


def test_tracker_without_date_header_does_nothing() -> None:
    tracker = SkewTracker(lambda: NOW)
    error = error_from_response("GET", "https://x/v2/a", 401, {}, b"")
    assert tracker.on_unauthorized(error, already_corrected=False) is False
    assert tracker.timestamp() == int(NOW)
