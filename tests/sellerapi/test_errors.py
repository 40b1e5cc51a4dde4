"""Error tree: which leaf each answer becomes, and what the messages say."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kaufland_sync.sellerapi import errors
from kaufland_sync.sellerapi.errors import (
    ActionNotAllowedError,
    ApiError,
    AuthenticationError,
    ClockSkewError,
    ConflictError,
    FieldError,
    ForbiddenError,
    InactiveAccountError,
    InvalidCredentialsError,
    KauflandError,
    MissingHeaderError,
    NotFoundError,
    OutcomeUnknownError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
    SignatureError,
    StorefrontNotConfiguredError,
    TransportError,
    ValidationError,
    describe_skew,
    error_from_response,
)

URL = "https://sellerapi.kaufland.com/v2/units?storefront=de"


def problem(status: int, type_: str | None, message: str = "nope", **extra: Any) -> ApiError:
    body: dict[str, Any] = {"message": message, "errors": [], **extra}
    if type_ is not None:
        body["type"] = type_
    return error_from_response("POST", URL, status, {}, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("status", "problem_type", "expected"),
    [
        (401, "/problems/corrupted-signature", SignatureError),
        (401, "/problems/invalid-credentials", InvalidCredentialsError),
        (401, "/problems/missing-or-invalid-request-header", MissingHeaderError),
        (401, "/problems/inactive-account", InactiveAccountError),
        (401, "/problems/unauthorized", AuthenticationError),
        (401, None, AuthenticationError),
        (400, "/problems/storefront-not-configured", StorefrontNotConfiguredError),
        (400, "/problems/validation-error", ValidationError),
        (422, "/problems/shipping-labels/warehouse-missing", ValidationError),
        (400, "/problems/bad-request", ValidationError),
        (403, "/problems/forbidden", ForbiddenError),
        (403, "/problems/tickets/fbk-action-restriction", ForbiddenError),
        (404, "/problems/not-found", NotFoundError),
        (400, "/problems/already-exists", ConflictError),
        (400, "/problems/duplicate-action", ConflictError),
        (409, None, ConflictError),
        (400, "/problems/action-not-allowed", ActionNotAllowedError),
        (400, "/problems/order-units/cancel-not-possible", ActionNotAllowedError),
        (400, "/problems/returns/unit-wrong-status", ActionNotAllowedError),
        (423, None, QuotaExceededError),
        (429, None, RateLimitedError),
        (500, "/problems/server-error", ServerError),
        (503, "/problems/service-unavailable", ServerError),
        (418, None, ApiError),
    ],
)
def test_leaf_follows_status_and_problem_type(
    status: int, problem_type: str | None, expected: type[ApiError]
) -> None:
    error = problem(status, problem_type)
    assert type(error) is expected
    assert error.status_code == status
    assert error.problem_type == problem_type
    assert isinstance(error, KauflandError)


def test_validation_error_lists_field_messages() -> None:
    error = error_from_response(
        "POST",
        URL,
        400,
        {"X-Request-ID": "abc-1"},
        json.dumps(
            {
                "type": "/problems/validation-error",
                "message": "Invalid request",
                "errors": [
                    {"field": "listing_price", "message": "must be at least 1"},
                    {"field": "ean", "message": "unknown product"},
                ],
            }
        ).encode(),
    )
    assert isinstance(error, ValidationError)
    assert error.field_errors == [
        FieldError("listing_price", "must be at least 1"),
        FieldError("ean", "unknown product"),
    ]
    text = str(error)
    assert text.startswith("POST /v2/units?storefront=de: HTTP 400 /problems/validation-error")
    assert "listing_price: must be at least 1; ean: unknown product" in text
    assert "request id abc-1" in text
    assert error.request_id == "abc-1"


def test_not_found_response_with_message_only() -> None:
    error = error_from_response(
        "GET", "https://x/v2/units/9", 404, {}, b'{"message":"Unit not found"}'
    )
    assert isinstance(error, NotFoundError)
    assert error.message == "Unit not found"
    assert error.problem_type is None
    assert str(error) == "GET /v2/units/9: HTTP 404: Unit not found"


def test_html_502_page_becomes_server_error_with_title() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 5000 + b"</body>"
    error = error_from_response("GET", URL, 502, {"content-type": "text/html"}, page)
    assert isinstance(error, ServerError)
    assert error.message == "502 Bad Gateway"
    assert isinstance(error.body, str)
    assert len(error.body) == 2000


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"not json", b"\xff\xfe\x00garbage", b"[1,2]", b'"text"', b"null", b"{"],
)
def test_odd_bodies_never_break_error_building(body: bytes) -> None:
    error = error_from_response("DELETE", URL, 500, {}, body)
    assert isinstance(error, ServerError)
    assert str(error).startswith("DELETE /v2/units?storefront=de: HTTP 500")


def test_odd_json_members_are_tolerated() -> None:
    body = {"type": 7, "message": {"nested": True}, "errors": [{"field": None}, "plain", None]}
    error = error_from_response("GET", URL, 400, {}, json.dumps(body).encode())
    assert isinstance(error, ValidationError)
    assert error.problem_type is None
    assert error.message == '{"nested": true}'
    assert error.field_errors == [FieldError("", ""), FieldError("", "plain")]


def test_empty_message_falls_back_to_http_reason() -> None:
    assert error_from_response("GET", URL, 403, {}, b"").message == "Forbidden"
    assert error_from_response("GET", URL, 599, {}, b"").message == "error"


def test_rate_limited_carries_retry_after() -> None:
    error = error_from_response("GET", URL, 429, {}, b"", retry_after=2.5)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 2.5
    assert error.retryable


def test_clock_skew_error_words() -> None:
    base = problem(401, "/problems/missing-or-invalid-request-header", "Invalid timestamp")
    error = ClockSkewError(base, 420.0)
    assert isinstance(error, AuthenticationError)
    assert error.skew_seconds == 420.0
    assert str(error).endswith("your server clock is 7 minutes behind Kaufland's")
    assert "POST /v2/units?storefront=de" in str(error)


@pytest.mark.parametrize(
    ("skew", "words"),
    [
        (420, "your server clock is 7 minutes behind Kaufland's"),
        (-420, "your server clock is 7 minutes ahead of Kaufland's"),
        (1, "your server clock is 1 second behind Kaufland's"),
        (-45, "your server clock is 45 seconds ahead of Kaufland's"),
        (3 * 3600 + 60, "your server clock is 3 hours 1 minute behind Kaufland's"),
        (7200, "your server clock is 2 hours behind Kaufland's"),
    ],
)
def test_describe_skew(skew: float, words: str) -> None:
    assert describe_skew(skew) == words


def test_transport_and_outcome_errors_name_method_and_path() -> None:
    cause = httpx.ReadTimeout("timed out")
    transport = TransportError("get", URL, cause)
    assert str(transport) == "GET /v2/units?storefront=de: network error (ReadTimeout: timed out)"
    assert transport.retryable
    unknown = OutcomeUnknownError("post", URL, cause)
    assert str(unknown).startswith("POST /v2/units?storefront=de: outcome unknown")
    assert "before sending it again" in str(unknown)
    assert unknown.cause is cause
    assert not isinstance(unknown, TransportError)


def test_messages_never_contain_request_secrets() -> None:
    # Errors only ever see the URL, response headers and body; make sure a hostile server
    # echoing nothing secret cannot make them print request headers.
    error = error_from_response(
        "GET", URL, 401, {"Shop-Signature": "deadbeef"}, b'{"message":"bad"}'
    )
    assert "deadbeef" not in str(error)


def test_every_public_error_is_exported() -> None:
    for name in errors.__all__:
        assert hasattr(errors, name)
