"""Parsing helpers shared by the marketplace routes (orders, returns, tickets, ...)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from starlette.responses import JSONResponse

from kaufland_sync.sandbox._http import Ctx, validation
from kaufland_sync.sandbox.world import Record, parse_iso

FULFILLMENT_TYPES = ("fulfilled_by_kaufland", "fulfilled_by_merchant")


def path_int(ctx: Ctx, name: str) -> int:
    """A path parameter that must be a positive integer (400 naming it otherwise).

    Routes register such a parameter as a plain ``{name}`` (not ``{name:int}``) when a
    malformed id must reach the handler: with ``:int`` it gets the router's generic 404, whose
    ``ErrorResponse`` body the catalogue operations (404 = bare ``NotFoundResponse``) do not
    document."""
    raw = str(ctx.path.get(name, ""))
    try:
        value = int(raw)
    except ValueError:
        raise validation([(name, "This value should be of type integer.")]) from None
    if value < 1:
        raise validation([(name, "This value should be greater than or equal to 1.")])
    return value


def q_enum_list(ctx: Ctx, name: str, allowed: Sequence[str]) -> list[str]:
    """An array filter (repeated, ``name[]`` or comma form) whose values must be in ``allowed``."""
    values = ctx.q_list(name)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise validation(
            [(name, f"The value '{bad[0]}' is not a valid choice: {', '.join(allowed)}.")]
        )
    return values


def q_time(ctx: Ctx, name: str) -> float | None:
    """An ISO 8601 timestamp filter as epoch seconds, or None when absent."""
    raw = ctx.q(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise validation(
            [(name, "This value is not a valid datetime (expected YYYY-MM-DDTHH:MM:SSZ).")]
        ) from None


def fulfillment_filter(ctx: Ctx) -> list[str]:
    """``fulfillment_type[]``; the spec's default is merchant-fulfilled only."""
    return q_enum_list(ctx, "fulfillment_type", FULFILLMENT_TYPES) or ["fulfilled_by_merchant"]


def since(records: Iterable[Record], field: str, threshold: float | None) -> list[Record]:
    """Records whose ISO ``field`` is at or after ``threshold`` (all when None)."""
    if threshold is None:
        return list(records)
    return [r for r in records if r.get(field) and parse_iso(str(r[field])) >= threshold]


def sort_desc(records: list[Record], *keys: str) -> list[Record]:
    """Newest first by the given ISO fields, ties broken by the record's position (id order)."""
    indexed = list(enumerate(records))
    indexed.sort(
        key=lambda pair: (*(str(pair[1].get(k) or "") for k in keys), pair[0]), reverse=True
    )
    return [r for _, r in indexed]


def by_int_key(table: dict[str, Record]) -> list[Record]:
    """Table values in ascending numeric id order (keys are stringified ints)."""
    return [table[k] for k in sorted(table, key=lambda k: (len(k), k))]


def body_str(
    body: dict[str, Any],
    name: str,
    *,
    required: bool = True,
    max_len: int | None = None,
    min_len: int = 0,
    prefix: str = "",
) -> str | None:
    """A string field of a JSON body, checked for presence, type and length."""
    value = body.get(name)
    label = f"{prefix}{name}"
    if value is None:
        if required:
            raise validation([(label, "This value should not be blank.")])
        return None
    if not isinstance(value, str):
        raise validation([(label, "This value should be of type string.")])
    if len(value) < min_len:
        raise validation([(label, f"This value should have at least {min_len} characters.")])
    if max_len is not None and len(value) > max_len:
        raise validation([(label, f"This value should have at most {max_len} characters.")])
    return value


def body_int(body: dict[str, Any], name: str, *, prefix: str = "") -> int:
    value = body.get(name)
    if value is None:
        raise validation([(f"{prefix}{name}", "This value should not be blank.")])
    if not isinstance(value, int) or isinstance(value, bool):
        raise validation([(f"{prefix}{name}", "This value should be of type integer.")])
    return value


def body_enum(body: dict[str, Any], name: str, allowed: Sequence[str]) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise validation([(name, "This value should not be blank.")])
    if value not in allowed:
        raise validation(
            [(name, f"The value you selected is not a valid choice: {', '.join(allowed)}.")]
        )
    return str(value)


def no_extra_fields(body: dict[str, Any], allowed: Iterable[str]) -> None:
    """The spec's request bodies are ``additionalProperties: false``."""
    extra = sorted(set(body) - set(allowed))
    if extra:
        # An empty property name (``{"": 1}``) would make an empty ``field`` that names
        # nothing; name the body instead.
        raise validation([(extra[0] or "body", "This field was not expected.")])


def q_sort(ctx: Ctx, allowed: Sequence[str], default: str) -> str:
    return ctx.q_enum("sort", allowed) or default


Filter = Callable[[Record], bool]


def page_views(views: list[Record], offset: int, limit: int, total: int) -> JSONResponse:
    """A list answer whose window was cut (and rendered) by the caller, so views are built for
    the visible page only."""
    return JSONResponse(
        {"data": views, "pagination": {"offset": offset, "limit": limit, "total": total}}
    )
