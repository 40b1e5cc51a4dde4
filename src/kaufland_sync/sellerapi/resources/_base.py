"""Shared machinery of the resource classes: query building, paging, parsing.

Conventions every resource follows:

* Scalar query values are sent as text, sequences as repeated keys (``status=a&status=b``,
  the spec's default); ``embedded`` is sent as **one comma-separated value**
  (``embedded=category,units``), the form Kaufland's own documentation uses.
* A required ``storefront`` falls back to the client's default storefront
  (``Requester.storefront_param``); an optional storefront *filter* is sent only when given,
  so that lists cover every storefront unless the caller narrows them.
* ``list`` returns one page (``Page``); ``iter_all`` walks every page through
  ``Requester.iterate`` and never asks for more than the endpoint's maximum ``limit``.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from kaufland_sync.sellerapi._requester import QueryValue, Requester
from kaufland_sync.sellerapi.models.common import Page
from kaufland_sync.sellerapi.storefronts import Storefront

M = TypeVar("M", bound=BaseModel)

StorefrontArg = Storefront | str | None


def query(**values: QueryValue) -> dict[str, QueryValue]:
    """The query parameters that have a value (None and empty sequences are left out)."""
    out: dict[str, QueryValue] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list | tuple) and not value:
            continue
        out[key] = value
    return out


def text(value: str | enum.Enum | None) -> str | None:
    """An enum member or text as the text Kaufland expects."""
    if value is None:
        return None
    return str(value.value) if isinstance(value, enum.Enum) else value


def many(values: str | enum.Enum | Iterable[str | enum.Enum] | None) -> list[str] | None:
    """A list filter from one value or several (repeated keys on the wire)."""
    if values is None:
        return None
    if isinstance(values, str | enum.Enum):
        values = [values]
    return [t for t in (text(v) for v in values) if t is not None]


def embedded_param(values: str | enum.Enum | Iterable[str | enum.Enum] | None) -> str | None:
    """``embedded`` as one comma-separated value, or None when nothing is asked for."""
    items = many(values)
    return ",".join(items) if items else None


def iso(value: datetime | str | None) -> str | None:
    """A ``…_from_iso`` filter: datetimes become ``YYYY-MM-DDTHH:MM:SSZ`` (naive means UTC)."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seg(value: str | int) -> str:
    """One path segment, percent-encoded (EANs and attribute names come from outside)."""
    return quote(str(value), safe="")


def check_limit(limit: int | None, max_limit: int) -> None:
    if limit is not None and not 1 <= limit <= max_limit:
        raise ValueError(f"limit must be between 1 and {max_limit} for this endpoint, got {limit}")


class Resource:
    """A group of Seller API operations sharing a path prefix.

    Resources know paths, parameters and models; everything about HTTP (signing, retries,
    pacing, error mapping) lives behind ``Requester``.
    """

    def __init__(self, requester: Requester) -> None:
        self._r = requester

    def _storefront(self, storefront: StorefrontArg) -> str | None:
        """A required storefront: the argument, else the client's default (else ValueError)."""
        return self._r.storefront_param(storefront, required=True)

    def _storefront_filter(self, storefront: StorefrontArg) -> str | None:
        """An optional storefront filter: only what the caller passed, never the default."""
        if storefront is None:
            return None
        return self._r.storefront_param(storefront, required=False)

    async def _get(
        self, path: str, model: type[M], params: Mapping[str, QueryValue] | None = None
    ) -> M:
        response = await self._r.request("GET", path, params=params)
        return model.model_validate(response.data)

    async def _page(
        self,
        path: str,
        model: type[M],
        params: Mapping[str, QueryValue],
        *,
        limit: int | None,
        offset: int,
        max_limit: int,
    ) -> Page[M]:
        check_limit(limit, max_limit)
        if offset < 0:
            raise ValueError(f"offset must not be negative, got {offset}")
        full = {**params, **query(limit=limit, offset=offset or None)}
        response = await self._r.request("GET", path, params=full)
        data = response.data or []
        return Page([model.model_validate(item) for item in data], response.pagination)

    def _iter(
        self,
        path: str,
        model: type[M],
        params: Mapping[str, QueryValue],
        *,
        max_limit: int,
        page_size: int | None,
    ) -> AsyncIterator[M]:
        check_limit(page_size, max_limit)
        return self._r.iterate(path, model, params=params, max_limit=max_limit, page_size=page_size)

    async def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        replay_safe: bool,
    ) -> M:
        """Send a write and parse the ``data`` of its answer into ``model``."""
        response = await self._r.request(
            method, path, params=params, json=json, replay_safe=replay_safe
        )
        return model.model_validate(response.data)

    async def _action(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        replay_safe: bool,
    ) -> None:
        """Send a write whose answer carries nothing we need (204, or a bare acknowledgement)."""
        await self._r.request(method, path, params=params, json=json, replay_safe=replay_safe)
