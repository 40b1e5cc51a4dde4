"""Offset/limit iteration over Kaufland list endpoints.

Kaufland lists answer ``{"data": [...], "pagination": {"offset", "limit", "total"}}`` and cap
``limit`` per endpoint (100 for most, 30 for some, see the reference). ``paginate`` asks for
``min(page_size, max_limit)`` items per page and walks on until one of:

* ``offset >= total`` (the latest ``total`` wins, so a shrinking list ends early);
* an empty page;
* a short page (fewer items than the effective limit; if the server reports a smaller ``limit``
  than we asked for, that smaller limit is what counts, so a lower server cap is not mistaken for
  the end).

Loop guards: a page identical to one already seen (a server ignoring ``offset``) raises
``PaginationError``, as does walking more than ``max_pages`` pages.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from kaufland_sync.sellerapi._requester import ApiResponse
from kaufland_sync.sellerapi.errors import PaginationError

__all__ = ["DEFAULT_MAX_PAGES", "effective_page_size", "paginate"]

logger = logging.getLogger("kaufland_sync.sellerapi")

DEFAULT_MAX_PAGES = 100_000

FetchPage = Callable[[int, int], Awaitable[ApiResponse]]


def effective_page_size(max_limit: int, page_size: int | None) -> int:
    """The ``limit`` to send: the requested size, never above the endpoint's ``max_limit``."""
    if max_limit < 1:
        raise ValueError("max_limit must be at least 1")
    if page_size is None:
        return max_limit
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    return min(page_size, max_limit)


def _fingerprint(items: list[Any]) -> str:
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def paginate(
    fetch: FetchPage,
    *,
    path: str,
    max_limit: int,
    page_size: int | None = None,
    start_offset: int = 0,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[Any]:
    """Yield every raw item of a list endpoint, page by page.

    ``fetch(offset, limit)`` sends one page request and returns its ``ApiResponse``. ``path``
    only names the endpoint in errors and logs.
    """
    limit = effective_page_size(max_limit, page_size)
    offset = max(0, start_offset)
    seen: set[str] = set()
    first_total: int | None = None
    pages = 0
    while True:
        if pages >= max_pages:
            raise PaginationError(path, f"stopped after {pages} pages without reaching the end")
        response = await fetch(offset, limit)
        pages += 1
        items = response.data
        if items is None:
            items = []
        if not isinstance(items, list):
            raise PaginationError(path, f"expected a list in 'data', got {type(items).__name__}")
        if not items:
            return
        fingerprint = _fingerprint(items)
        if fingerprint in seen:
            raise PaginationError(
                path, f"the server returned the same page again at offset {offset}; stopping"
            )
        seen.add(fingerprint)
        for item in items:
            yield item
        offset += len(items)

        page_info = response.pagination
        total = page_info.total if page_info is not None else None
        if total is not None:
            if first_total is None:
                first_total = total
            elif total != first_total:
                logger.debug(
                    "GET %s: total changed from %d to %d while paging", path, first_total, total
                )
            if offset >= total:
                return
        expected = limit
        if page_info is not None and 0 < page_info.limit < limit:
            expected = page_info.limit  # the server caps lower than we asked
        if len(items) < expected:
            return
