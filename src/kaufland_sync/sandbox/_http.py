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
ABOUT_BLANK = "about:blank"
BULK_DUPLICATE_UNITS = "/problems/units/bulk-duplicate-units"
BULK_TOO_MANY_UNITS = "/problems/units/bulk-too-many-units"
HAS_UNITS = "/problems/has-units"
LAST_ELEMENT = "/problems/last-element"
DEFAULT_REQUIRED = "/problems/default-required"

ALL_STOREFRONTS = ("de", "cz", "sk", "pl", "at", "fr", "it")
CURRENCY = {
    "de": "EUR",
    "cz": "CZK",
    "sk": "EUR",
    "pl": "PLN",
    "at": "EUR",
    "fr": "EUR",
    "it": "EUR",
}
LOCALES = ("de-DE", "cs-CZ", "sk-SK", "de-AT", "pl-PL", "fr-FR", "it-IT")
# ``ProductDataLocale``: the reading endpoints (categories, attributes) also speak these two.
PRODUCT_DATA_LOCALES = (*LOCALES, "en-US", "zh-CN")
DEFAULT_LOCALE = {
    "de": "de-DE",
    "cz": "cs-CZ",
    "sk": "sk-SK",
    "pl": "pl-PL",
    "at": "de-AT",
    "fr": "fr-FR",
    "it": "it-IT",
}


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
        return JSONResponse(self.body(), status_code=self.status)

    def body(self) -> dict[str, Any]:
        """The JSON body: ``ErrorResponse`` (``errors`` is required there, so always present,
        possibly empty) or ``NotFoundResponse``."""
        if self.not_found_shape:
            return {"message": self.message}
        return {
            "type": self.type,
            "message": self.message,
            "errors": [{"field": f, "message": m} for f, m in self.errors],
        }


def validation(errors: Sequence[tuple[str, str]], message: str = "Validation failed") -> Problem:
    """400 with per-field errors, as Kaufland answers invalid parameters or bodies."""
    return Problem(400, VALIDATION_ERROR, message, errors)


def not_found(what: str, ident: object, *, bare: bool = False) -> Problem:
    """404 for a missing resource; ``bare`` gives the spec's ``NotFoundResponse`` shape
    (``{"message"}`` only), which the catalogue endpoints use."""
    return Problem(404, NOT_FOUND, f"{what} {ident} not found", not_found_shape=bare)


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
            raise validation(
                [(name, f"The value you selected is not a valid choice: {', '.join(allowed)}.")]
            )
        return value

    def page(
        self, *, max_limit: int, default_limit: int = 30, min_limit: int = 0
    ) -> tuple[int, int]:
        """(offset, limit) validated against the endpoint's bounds for ``limit`` (the spec
        allows ``limit=0`` on most lists, which answers an empty page with the total)."""
        limit = self.q_int("limit", default=default_limit, minimum=min_limit, maximum=max_limit)
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
            choices = ", ".join(ALL_STOREFRONTS)
            raise validation(
                [("storefront", f"The value you selected is not a valid choice: {choices}.")]
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

    def locale(self, *, required: bool = False, allowed: Iterable[str] = LOCALES) -> str | None:
        """The ``locale`` parameter, validated against ``allowed`` (default: the spec's
        ``Locale`` enum; reading endpoints pass ``PRODUCT_DATA_LOCALES``)."""
        return self.q_enum("locale", allowed, required=required)

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
            raise validation(
                [("body", "This value should be of type object.")], "Invalid request body"
            )
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


def paged(window: Sequence[Record], offset: int, limit: int, total: int) -> JSONResponse:
    """A list answer for an already-cut window (when rendering every item would be waste)."""
    return JSONResponse(
        {
            "data": [_strip(r) for r in window],
            "pagination": {"offset": offset, "limit": limit, "total": total},
        }
    )


def no_content() -> Response:
    return Response(status_code=204)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in public(value).items()}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


class Fields:
    """Reads a JSON object body field by field, collecting every field error before failing,
    as Kaufland's validation answers list all bad fields at once.

    ``allowed`` names the schema's properties; anything else is an error (the spec's request
    schemas say ``additionalProperties: false``). ``prefix`` names nested objects in errors
    (``address.street``)."""

    def __init__(
        self, body: dict[str, Any], allowed: Iterable[str] | None = None, prefix: str = ""
    ) -> None:
        self.body = body
        self.prefix = prefix
        self.errors: list[tuple[str, str]] = []
        if allowed is not None:
            known = set(allowed)
            for key in body:
                if key not in known:
                    self.errors.append((self.name(key), "This field was not expected."))

    def name(self, key: str) -> str:
        """The error ``field`` for ``key``. An empty property name (``{"": 1}``) would give an
        empty ``field``, which names nothing: the enclosing object is named instead."""
        if not key:
            return self.prefix.rstrip(".") or "body"
        return f"{self.prefix}{key}"

    def has(self, key: str) -> bool:
        return key in self.body

    def _missing(self, key: str, required: bool, nullable: bool) -> bool:
        """True when there is no value to check (absent, or null where that is allowed)."""
        value = self.body.get(key)
        if key not in self.body or (value is None and nullable):
            if required:
                self.errors.append((self.name(key), "This value should not be blank."))
            return True
        if value is None:
            self.errors.append((self.name(key), "This value should not be null."))
            return True
        return False

    def integer(
        self,
        key: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        nullable: bool = False,
    ) -> int | None:
        if self._missing(key, required, nullable):
            return None
        value = self.body[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors.append((self.name(key), "This value should be of type integer."))
            return None
        if minimum is not None and value < minimum:
            self.errors.append(
                (self.name(key), f"This value should be greater than or equal to {minimum}.")
            )
            return None
        if maximum is not None and value > maximum:
            self.errors.append(
                (self.name(key), f"This value should be less than or equal to {maximum}.")
            )
            return None
        return value

    def string(
        self,
        key: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        min_length: int = 0,
        nullable: bool = False,
    ) -> str | None:
        if self._missing(key, required, nullable):
            return None
        value = self.body[key]
        if not isinstance(value, str):
            self.errors.append((self.name(key), "This value should be of type string."))
            return None
        if required and not value.strip():
            self.errors.append((self.name(key), "This value should not be blank."))
            return None
        if max_length is not None and len(value) > max_length:
            self.errors.append(
                (
                    self.name(key),
                    f"This value is too long. It should have {max_length} characters or less.",
                )
            )
            return None
        if len(value) < min_length:
            self.errors.append(
                (
                    self.name(key),
                    f"This value is too short. It should have {min_length} characters or more.",
                )
            )
            return None
        return value

    def enum(self, key: str, allowed: Iterable[str], *, required: bool = False) -> str | None:
        value = self.string(key, required=required)
        choices = tuple(allowed)
        if value is not None and value not in choices:
            self.errors.append(
                (
                    self.name(key),
                    f"The value you selected is not a valid choice: {', '.join(choices)}.",
                )
            )
            return None
        return value

    def boolean(self, key: str, *, required: bool = False) -> bool | None:
        if self._missing(key, required, False):
            return None
        value = self.body[key]
        if not isinstance(value, bool):
            self.errors.append((self.name(key), "This value should be of type boolean."))
            return None
        return value

    def obj(self, key: str, *, required: bool = False) -> dict[str, Any] | None:
        if self._missing(key, required, False):
            return None
        value = self.body[key]
        if not isinstance(value, dict):
            self.errors.append((self.name(key), "This value should be of type object."))
            return None
        return value

    def check(self) -> None:
        """Raise the collected errors as one 400 validation problem."""
        if self.errors:
            raise validation(self.errors)
