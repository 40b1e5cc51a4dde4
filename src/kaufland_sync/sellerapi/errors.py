"""One error tree for the Seller API client, sorted by what the caller must do.

::

    KauflandError
    ├── TransportError            network failure or timeout; the request may be retried later
    ├── OutcomeUnknownError       a create/action failed ambiguously; reconcile before retrying
    ├── PaginationError           a list endpoint did not advance (server repeated a page)
    └── ApiError                  Kaufland answered with a 4xx/5xx status
        ├── AuthenticationError           401: fix credentials, signature or clock
        │   ├── SignatureError                /problems/corrupted-signature
        │   ├── InvalidCredentialsError       /problems/invalid-credentials
        │   ├── MissingHeaderError            /problems/missing-or-invalid-request-header
        │   ├── InactiveAccountError          /problems/inactive-account
        │   └── ClockSkewError                401 while the local clock is off by more than 300 s
        ├── StorefrontNotConfiguredError  /problems/storefront-not-configured
        ├── ValidationError               400/422: fix the request (``field_errors`` say what)
        ├── ForbiddenError                403: not allowed for this account/unit (e.g. FBK units)
        ├── NotFoundError                 404
        ├── ConflictError                 409, /problems/already-exists, /problems/duplicate-action
        │   └── ActionNotAllowedError         /problems/action-not-allowed and state-bound refusals
        ├── QuotaExceededError            423: a daily quota is used up (e.g. 30 feeds per day)
        ├── RateLimitedError              429: too many requests (``retry_after`` seconds, if known)
        └── ServerError                   5xx: Kaufland failed; retry later

``error_from_response`` builds the right leaf from a status code, headers and raw body and never
fails on odd bodies (HTML error pages, empty bodies, non-UTF-8). Every ``str()`` names the method
and path of the request and never contains credentials: errors only ever see the URL, the response
headers and the response body, never the request headers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ActionNotAllowedError",
    "ApiError",
    "AuthenticationError",
    "ClockSkewError",
    "ConflictError",
    "FieldError",
    "ForbiddenError",
    "InactiveAccountError",
    "InvalidCredentialsError",
    "KauflandError",
    "MissingHeaderError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PaginationError",
    "QuotaExceededError",
    "RateLimitedError",
    "ServerError",
    "SignatureError",
    "StorefrontNotConfiguredError",
    "TransportError",
    "ValidationError",
    "describe_skew",
    "error_from_response",
]

# Longest piece of a non-JSON body kept on an error (HTML error pages can be large).
_MAX_TEXT_BODY = 2000


def _target(url: str) -> str:
    """The path and query of ``url`` (what names a request in messages)."""
    parts = urlsplit(url)
    if not parts.scheme:
        return url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _amount(seconds: float) -> str:
    total = round(abs(seconds))
    if total < 90:
        return f"{total} second{'s' if total != 1 else ''}"
    minutes = round(total / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours, rest = divmod(minutes, 60)
    return f"{hours} hours" + (f" {rest} minute{'s' if rest != 1 else ''}" if rest else "")


def describe_skew(skew_seconds: float) -> str:
    """Plain words for a clock difference; ``skew_seconds`` is Kaufland's time minus ours.

    ``describe_skew(420)`` → ``"your server clock is 7 minutes behind Kaufland's"``.
    """
    direction = "behind" if skew_seconds > 0 else "ahead of"
    return f"your server clock is {_amount(skew_seconds)} {direction} Kaufland's"


class KauflandError(Exception):
    """Root of every error raised by ``kaufland_sync.sellerapi``."""

    #: Whether sending the same request again later may succeed without changing it.
    retryable: bool = False


class TransportError(KauflandError):
    """The request failed on the network (connect error, timeout, dropped connection) and was
    either never sent or is safe to send again. Retrying later is the right response."""

    retryable = True

    def __init__(self, method: str, url: str, cause: BaseException) -> None:
        self.method = method.upper()
        self.url = url
        self.cause = cause
        super().__init__(str(self))

    def __str__(self) -> str:
        kind = type(self.cause).__name__
        detail = str(self.cause) or kind
        return f"{self.method} {_target(self.url)}: network error ({kind}: {detail})"


class OutcomeUnknownError(KauflandError):
    """A request that must not be blindly replayed (a create such as ``POST /units``, an action
    such as a refund ``PATCH``) failed in a way that leaves its effect unknown: the connection
    dropped or timed out after the request was sent, or Kaufland answered with a 5xx.

    Kaufland may or may not have acted on it. Do not simply send it again: reconcile first, i.e.
    read the current state and decide (look the unit up by ``id_offer`` with ``GET /units``, re-read
    the order unit before cancelling or refunding again). ``cause`` is the underlying
    ``httpx`` exception or the ``ServerError`` that was received.
    """

    def __init__(self, method: str, url: str, cause: BaseException) -> None:
        self.method = method.upper()
        self.url = url
        self.cause = cause
        super().__init__(str(self))

    def __str__(self) -> str:
        detail = str(self.cause) or type(self.cause).__name__
        return (
            f"{self.method} {_target(self.url)}: outcome unknown, Kaufland may or may not have "
            f"applied it ({type(self.cause).__name__}: {detail}); check the current state "
            "before sending it again"
        )


class PaginationError(KauflandError):
    """A list endpoint did not advance (it repeated a page or kept growing past a sane bound);
    iteration stopped rather than loop forever or return duplicates."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"GET {_target(self.path)}: {self.message}"


@dataclass(frozen=True)
class FieldError:
    """One entry of ``ErrorResponse.errors``: which request field was wrong and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ApiError(KauflandError):
    """Kaufland answered with a 4xx or 5xx status.

    Attributes: ``status_code``; ``problem_type`` (the ``type`` of the ``ErrorResponse``, e.g.
    ``/problems/validation-error``, or None); ``message``; ``field_errors``; ``method``;
    ``url`` (absolute, as sent); ``body`` (parsed JSON, or the text of a non-JSON body cut to
    2000 characters, or None when empty); ``headers`` (response headers); ``request_id`` (from an
    ``X-Request-ID`` response header, when Kaufland sends one).
    """

    def __init__(
        self,
        status_code: int,
        problem_type: str | None,
        message: str,
        field_errors: list[FieldError] | None = None,
        *,
        method: str,
        url: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.problem_type = problem_type
        self.message = message
        self.field_errors: list[FieldError] = list(field_errors or [])
        self.method = method.upper()
        self.url = url
        self.body = body
        self.headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.request_id = self.headers.get("x-request-id")
        super().__init__(str(self))

    @property
    def path(self) -> str:
        """Path and query of the request, e.g. ``/v2/units?storefront=de``."""
        return _target(self.url)

    def _summary(self) -> str:
        kind = (
            f" {self.problem_type}"
            if self.problem_type and self.problem_type != "about:blank"
            else ""
        )
        text = f"{self.method} {self.path}: HTTP {self.status_code}{kind}"
        if self.message:
            text += f": {self.message}"
        return text

    def __str__(self) -> str:
        text = self._summary()
        if self.field_errors:
            text += " (" + "; ".join(str(e) for e in self.field_errors) + ")"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text


class AuthenticationError(ApiError):
    """401: Kaufland refused the request's authentication headers; it was not processed.
    Check the client key and secret key, the clock, and that nothing rewrites the URL or body."""


class SignatureError(AuthenticationError):
    """``/problems/corrupted-signature``: the signature did not match (wrong secret key, or the
    URL/body was changed between signing and sending)."""


class InvalidCredentialsError(AuthenticationError):
    """``/problems/invalid-credentials``: the client key is unknown or revoked."""


class MissingHeaderError(AuthenticationError):
    """``/problems/missing-or-invalid-request-header``: a ``Shop-*`` or ``User-Agent`` header
    was missing or malformed (an out-of-window ``Shop-Timestamp`` may also land here)."""


class InactiveAccountError(AuthenticationError):
    """``/problems/inactive-account``: the seller account is not active; fix it in the portal."""


class ClockSkewError(AuthenticationError):
    """401 while this machine's clock differs from Kaufland's by more than the allowed 300 s.

    Not a Kaufland problem type: the client infers it from the response ``Date`` header.
    ``skew_seconds`` is Kaufland's time minus ours (positive: our clock is behind). Fix the
    system clock (NTP), or let the client correct for it (``correct_clock_skew=True``).
    """

    def __init__(self, base: ApiError, skew_seconds: float) -> None:
        self.skew_seconds = skew_seconds
        super().__init__(
            base.status_code,
            base.problem_type,
            base.message,
            base.field_errors,
            method=base.method,
            url=base.url,
            body=base.body,
            headers=base.headers,
        )

    def __str__(self) -> str:
        return f"{super().__str__()} - {describe_skew(self.skew_seconds)}"


class StorefrontNotConfiguredError(ApiError):
    """``/problems/storefront-not-configured``: the seller has not set up this storefront in the
    seller portal; pick another storefront or configure it there."""


class ValidationError(ApiError):
    """400/422: Kaufland rejected the request's content. ``field_errors`` name the fields;
    ``str()`` lists them as ``field: message`` pairs. Fix the data; do not retry as is."""


class ForbiddenError(ApiError):
    """403: the account may not do this (e.g. actions on units fulfilled by Kaufland)."""


class NotFoundError(ApiError):
    """404: the addressed object does not exist (or is not visible to this account)."""


class ConflictError(ApiError):
    """The request clashes with existing state (409, ``/problems/already-exists``,
    ``/problems/duplicate-action``): it was most likely applied before; re-read and move on."""


class ActionNotAllowedError(ConflictError):
    """The action is not allowed in the object's current state (``/problems/action-not-allowed``,
    cancel-not-possible, unit-wrong-status, ...). Re-read the object before deciding."""


class QuotaExceededError(ApiError):
    """423: a quota of this endpoint is used up (e.g. 30 product-data feeds per day); try
    again after the quota resets."""


class RateLimitedError(ApiError):
    """429: more than the allowed requests per second; Kaufland did not process the request.
    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one."""

    retryable = True

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class ServerError(ApiError):
    """5xx: Kaufland failed to handle the request. Safe requests were already retried."""

    retryable = True


# Problem types that decide the class whatever the status code says.
_BY_PROBLEM: dict[str, type[ApiError]] = {
    "/problems/corrupted-signature": SignatureError,
    "/problems/invalid-credentials": InvalidCredentialsError,
    "/problems/missing-or-invalid-request-header": MissingHeaderError,
    "/problems/inactive-account": InactiveAccountError,
    "/problems/storefront-not-configured": StorefrontNotConfiguredError,
    "/problems/already-exists": ConflictError,
    "/problems/duplicate-action": ConflictError,
    "/problems/action-not-allowed": ActionNotAllowedError,
    "/problems/order-units/cancel-not-possible": ActionNotAllowedError,
    "/problems/order-units/cancel-not-allowed": ActionNotAllowedError,
    "/problems/returns/unit-wrong-status": ActionNotAllowedError,
    "/problems/tickets/finally-closed": ActionNotAllowedError,
    "/problems/tickets/non-closable-by-seller": ActionNotAllowedError,
    "/problems/validation-error": ValidationError,
    "/problems/not-found": NotFoundError,
    "/problems/forbidden": ForbiddenError,
}

_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    423: QuotaExceededError,
    429: RateLimitedError,
}


def _decode_body(body_bytes: bytes) -> Any:
    """Parsed JSON, else the (shortened) text, else None for an empty body."""
    if not body_bytes or not body_bytes.strip():
        return None
    text = body_bytes.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text[:_MAX_TEXT_BODY]


def _field_errors(raw: Any) -> list[FieldError]:
    if not isinstance(raw, list):
        return []
    found: list[FieldError] = []
    for item in raw:
        if isinstance(item, Mapping):
            found.append(FieldError(str(item.get("field") or ""), str(item.get("message") or "")))
        elif item is not None:
            found.append(FieldError("", str(item)))
    return found


def _short_text(text: str) -> str:
    """A one-line gist of a non-JSON body (e.g. the <title> of an HTML error page)."""
    lowered = text.lower()
    start = lowered.find("<title>")
    if start != -1:
        end = lowered.find("</title>", start)
        if end != -1:
            return " ".join(text[start + 7 : end].split())[:200]
    return " ".join(text.split())[:200]


def _class_for(status: int, problem_type: str | None) -> type[ApiError]:
    if problem_type in _BY_PROBLEM:
        cls = _BY_PROBLEM[problem_type]
        # A generic "not-found"/"forbidden"/"validation" type with an unrelated status keeps
        # the status' class: the status is what HTTP-level callers branch on.
        if cls in (ValidationError, NotFoundError, ForbiddenError) and status in _BY_STATUS:
            return _BY_STATUS[status]
        return cls
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return ApiError


def error_from_response(
    method: str,
    url: str,
    status: int,
    headers: Mapping[str, str],
    body_bytes: bytes,
    *,
    retry_after: float | None = None,
) -> ApiError:
    """Build the ``ApiError`` leaf for one 4xx/5xx answer.

    Reads Kaufland's ``ErrorResponse`` (``type``, ``message``, ``errors``) and the 404
    ``NotFoundResponse`` (``message`` only); any other body (HTML, plain text, empty, invalid
    JSON) still gives an error whose message is the HTTP reason or the page title. Never raises.
    ``retry_after`` (seconds, already parsed by the caller) is stored on ``RateLimitedError``.
    """
    body = _decode_body(body_bytes)
    problem_type: str | None = None
    message = ""
    field_errors: list[FieldError] = []
    if isinstance(body, Mapping):
        raw_type = body.get("type")
        problem_type = raw_type if isinstance(raw_type, str) and raw_type else None
        raw_message = body.get("message")
        if isinstance(raw_message, str):
            message = raw_message
        elif raw_message is not None:
            message = json.dumps(raw_message, ensure_ascii=False)[:200]
        field_errors = _field_errors(body.get("errors"))
    elif isinstance(body, str):
        message = _short_text(body)
    if not message:
        message = _reason(status)
    cls = _class_for(status, problem_type)
    common: dict[str, Any] = {"method": method, "url": url, "body": body, "headers": headers}
    if cls is RateLimitedError:
        return RateLimitedError(
            status, problem_type, message, field_errors, retry_after=retry_after, **common
        )
    return cls(status, problem_type, message, field_errors, **common)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"
