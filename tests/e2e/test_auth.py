"""Authentication end to end: the client's signatures against the sandbox's checks."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import sign_request
from kaufland_sync.sellerapi.errors import (
    ClockSkewError,
    InvalidCredentialsError,
    MissingHeaderError,
    SignatureError,
    StorefrontNotConfiguredError,
)
from tests.conformance import SpecRecorder
from tests.e2e.conftest import (
    DE_ONLY_KEY,
    DE_ONLY_SECRET,
    MAIN_KEY,
    MAIN_SECRET,
    Control,
    open_client,
)


async def test_signed_requests_are_accepted(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder) as api:
        ping = await api.status.ping()
        assert ping.message
        units = await api.units.list(embedded=["products"], limit=3)
        assert len(units.items) == 3
    assert control.status_counts() == {200: 2}


async def test_wrong_secret_is_a_signature_error(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder, secret="x" * 64) as api:
        with pytest.raises(SignatureError) as caught:
            await api.status.ping()
    assert caught.value.status_code == 401
    assert caught.value.problem_type == "/problems/corrupted-signature"
    assert "x" * 64 not in str(caught.value)


async def test_unknown_client_key_is_invalid_credentials(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder, key="unknown_key_0000000000000000000") as api:
        with pytest.raises(InvalidCredentialsError):
            await api.info.storefronts()


async def test_missing_headers_are_refused(sandbox: RunningSandbox, control: Control) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{sandbox.base_url}/status/ping")
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/missing-or-invalid-request-header"
    assert "date" in response.headers


async def test_signature_covers_the_raw_query_exactly(
    sandbox: RunningSandbox, control: Control
) -> None:
    """A query re-ordered after signing no longer matches: the server checks the raw target."""
    ts = str(int(time.time()))
    signed = f"{sandbox.base_url}/units?storefront=de&limit=2"
    sent = f"{sandbox.base_url}/units?limit=2&storefront=de"
    headers = {
        "Shop-Client-Key": MAIN_KEY,
        "Shop-Timestamp": ts,
        "Shop-Signature": sign_request("GET", signed, "", ts, MAIN_SECRET),
        "User-Agent": "e2e",
        "Accept": "application/json",
    }
    async with httpx.AsyncClient() as http:
        good = await http.get(signed, headers=headers)
        bad = await http.get(sent, headers=headers)
    assert good.status_code == 200
    assert bad.status_code == 401
    assert bad.json()["type"] == "/problems/corrupted-signature"


async def test_missing_user_agent_is_refused(sandbox: RunningSandbox, control: Control) -> None:
    ts = str(int(time.time()))
    url = f"{sandbox.base_url}/status/ping"
    headers = {
        "Shop-Client-Key": MAIN_KEY,
        "Shop-Timestamp": ts,
        "Shop-Signature": sign_request("GET", url, "", ts, MAIN_SECRET),
    }
    async with httpx.AsyncClient(headers={"User-Agent": ""}) as http:
        request = http.build_request("GET", url, headers=headers)
        del request.headers["User-Agent"]
        response = await http.send(request)
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/missing-or-invalid-request-header"


async def test_clock_seven_minutes_behind_is_explained(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    control.clock(7 * 60)  # Kaufland's clock runs 7 minutes ahead of ours
    async with open_client(sandbox, recorder, correct_clock_skew=False) as api:
        with pytest.raises(ClockSkewError) as caught:
            await api.status.ping()
    assert "7 minutes behind" in str(caught.value)


async def test_clock_skew_is_corrected_with_a_warning(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    control.clock(-9 * 60)  # our clock is 9 minutes ahead
    with caplog.at_level(logging.WARNING, logger="kaufland_sync.sellerapi"):
        async with open_client(sandbox, recorder) as api:
            first = await api.status.ping()
            second = await api.status.ping()
    assert first.message and second.message
    assert any("9 minutes ahead" in r.getMessage() for r in caplog.records)
    # One refused request, then every request signed with the corrected clock.
    assert control.status_counts() == {401: 1, 200: 2}


async def test_storefront_not_configured(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder, key=DE_ONLY_KEY, secret=DE_ONLY_SECRET) as api:
        assert await api.info.storefronts() == ["de"]
        with pytest.raises(StorefrontNotConfiguredError) as caught:
            await api.units.list(storefront="cz")
    assert "cz" in str(caught.value)


async def test_missing_header_error_type(sandbox: RunningSandbox, control: Control) -> None:
    """A timestamp that is not a number is a header problem, not a signature one."""
    url = f"{sandbox.base_url}/status/ping"
    headers = {
        "Shop-Client-Key": MAIN_KEY,
        "Shop-Timestamp": "yesterday",
        "Shop-Signature": sign_request("GET", url, "", "yesterday", MAIN_SECRET),
        "User-Agent": "e2e",
    }
    async with httpx.AsyncClient() as http:
        response = await http.get(url, headers=headers)
    assert response.status_code == 401
    from kaufland_sync.sellerapi.errors import error_from_response

    error = error_from_response("GET", url, 401, response.headers, response.content)
    assert isinstance(error, MissingHeaderError)
