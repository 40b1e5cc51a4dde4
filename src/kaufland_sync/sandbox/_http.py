"""Shared request/response helpers for sandbox routes: envelopes, problems, query parsing.

Every ``/v2`` handler has the signature ``async def handler(ctx: Ctx) -> Response`` and is
listed in its module's ``ROUTES`` (``[(method, path_template, handler), ...]``, path relative to
``/v2``, Starlette path syntax such as ``/units/{id_unit:int}``). Handlers raise ``Problem`` for
any error; the app turns it into Kaufland's ``ErrorResponse`` JSON.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kaufland_sync.sandbox.world import Record, Seller, World, public

# Problem types (the spec's ProblemType enum; only those the sandbox emits are named here).
BAD_REQUEST = "/problems/bad-request"
VALIDATION_ERROR = "/problems/validation-error"
NOT_FOUND = "/problems/not-found"
FORBIDDEN = "/problems/forbidden"
UNAUTHORIZED = "/problems/unauthorized"
SERVER_ERROR = "/problems/server-error"
SERVICE_UNAVAILABLE = "/problems/service-unavailable"
DUPLICATE_ACTION = "/problems/duplicate-action"
ACTION_NOT_ALLOWED = "/problems/action-not-allowed"
ALREADY_EXISTS = "/problems/already-exists"
STOREFRONT_NOT_CONFIGURED = "/problems/storefront-not-configured"
INVALID_CREDENTIALS = "/problems/invalid-credentials"
CORRUPTED_SIGNATURE = "/problems/corrupted-signature"
MISSING_HEADER = "/problems/missing-or-invalid-request-header"

ALL_STOREFRONTS = ("de", "cz", "sk", "pl", "at", "fr", "it")
CURRENCY = {"de": "EUR", "cz": "CZK", "sk": "EUR", "pl": "PLN", "at": "EUR", "fr": "EUR", "it": "EUR"}
LOCALES = ("de-DE", "cs-CZ", "sk-SK", "de-AT", "pl-PL", "fr-FR", "it-IT")


class Problem(Exception):
    """An error answer: HTTP status, problem type, message and optional field errors."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        errors: Sequence[tuple[str, str]] = (),
        *,
        not_found_shape: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.errors = list(errors)
        self.not_found_shape = not_found_shape  # some 404s are NotFoundResponse {"message"} only

    def response(self) -> JSONResponse:
        if self.not_found_shape:
            return JSONResponse({"message": self.message}, status_code=self.status)
        body: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.errors:
            body["errors"] = [{"field": f, "message": m} for f, m in self.errors]
        return JSONResponse(body, status_code=self.status)


def validation(errors: Sequence[tuple[str, str]], message: str = "Validation failed") -> Problem:
    """400 with per-field errors, as Kaufland answers invalid parameters or bodies."""
    return Problem(400, VALIDATION_ERROR, message, errors)


def not_found(what: str, ident: object) -> Problem:
    return Problem(404, NOT_FOUND, f"{what} {ident} not found")


@dataclass
class Ctx:
    """What a handler gets: the world, the authenticated seller, the request and parsed parts."""

    world: World
    seller: Seller
    request: Request
    path: dict[str, Any]
    query: list[tuple[str, str]]  # raw pairs in order, percent-decoded
    raw_body: bytes = b""
    _errors: list[tuple[str, str]] = field(default_factory=list)

    # query parameters ------------------------------------------------------------------
    def q(self, name: str) -> str | None:
        """Last value of a scalar query parameter, or None."""
        values = [v for k, v in self.query if k == name]
        return values[-1] if values else None

    def q_list(self, name: str) -> list[str]:
        """An array parameter, accepted as repeated keys, ``name[]=`` keys or comma-separated."""
        out: list[str] = []
        for key, value in self.query:
            if key in (name, f"{name}[]"):
                out.extend(part.strip() for part in value.split(",") if part.strip())
        return out

    def q_int(
        self,
        name: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None:
        raw = self.q(name)
        if raw is None or raw == "":
            if required:
                raise validation([(name, "This value should not be blank.")])
            return default
        try:
            value = int(raw)
        except ValueError:
            raise validation([(name, "This value should be of type integer.")]) from None
        if minimum is not None and value < minimum:
            raise validation([(name, f"This value should be greater than or equal to {minimum}.")])
        if maximum is not None and value > maximum:
            raise validation([(name, f"This value should be less than or equal to {maximum}.")])
        return value

    def q_enum(self, name: str, allowed: Iterable[str], *, required: bool = False) -> str | None:
        value = self.q(name)
        allowed = tuple(allowed)
        if value is None or value == "":
            if required:
                raise validation([(name, "This value should not be blank.")])
            return None
        if value not in allowed:
            raise validation([(name, f"The value you selected is not a valid choice: {', '.join(allowed)}.")])
        return value

    def page(self, *, max_limit: int, default_limit: int = 30) -> tuple[int, int]:
        """(offset, limit) validated against the endpoint's maximum ``limit``."""
        limit = self.q_int("limit", default=default_limit, minimum=1, maximum=max_limit)
        offset = self.q_int("offset", default=0, minimum=0)
        assert limit is not None and offset is not None
        return offset, limit

    def storefront(self, *, required: bool = True) -> str | None:
        """The ``storefront`` parameter: 400 when missing/invalid, 403-style problem when the
        seller has not configured it on Kaufland."""
        value = self.q("storefront")
        if value is None or value == "":
            if required:
                raise validation([("storefront", "This value should not be blank.")])
            return None
        if value not in ALL_STOREFRONTS:
            raise validation(
                [("storefront", f"The value you selected is not a valid choice: {', '.join(ALL_STOREFRONTS)}.")]
            )
        if value not in self.seller.storefronts:
            raise Problem(
                400,
                STOREFRONT_NOT_CONFIGURED,
                f"Storefront '{value}' is not configured for this seller account.",
            )
        return value

    def embedded(self, allowed: Iterable[str]) -> set[str]:
        values = set(self.q_list("embedded"))
        allowed = set(allowed)
        bad = sorted(values - allowed - {""})
        if bad:
            raise validation([("embedded", f"Invalid embedded value(s): {', '.join(bad)}.")])
        return values

    # body --------------------------------------------------------------------------------
    def json(self) -> Any:
        if not self.raw_body:
            raise validation([("body", "Request body must not be empty.")], "Invalid request body")
        try:
            return json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError):
            raise Problem(400, BAD_REQUEST, "Request body is not valid JSON.") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise validation([("body", "This value should be of type object.")], "Invalid request body")
        return body

    def table(self, name: str) -> dict[str, Record]:
        return self.seller.table(name)


Handler = Callable[[Ctx], Awaitable[Response]]
RouteSpec = tuple[str, str, Handler]


def data(payload: Any, status: int = 200) -> JSONResponse:
    """``{"data": payload}`` with internal fields stripped from dict records."""
    return JSONResponse({"data": _strip(payload)}, status_code=status)


def page(items: Sequence[Record], offset: int, limit: int, status: int = 200) -> JSONResponse:
    """A list answer: ``{"data": [...], "pagination": {"offset", "limit", "total"}}``."""
    window = [_strip(r) for r in items[offset : offset + limit]]
    return JSONResponse(
        {"data": window, "pagination": {"offset": offset, "limit": limit, "total": len(items)}},
        status_code=status,
    )


def no_content() -> Response:
    return Response(status_code=204)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in public(value).items()}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
