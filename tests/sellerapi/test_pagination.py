"""Offset/limit iteration: walks every page, never asks above the maximum, guards loops."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from kaufland_sync.sellerapi._pagination import effective_page_size, paginate
from kaufland_sync.sellerapi._requester import ApiResponse
from kaufland_sync.sellerapi.errors import PaginationError
from tests.sellerapi.conftest import MakeClient


class FakeList:
    """A list endpoint over ``total`` items that records the (offset, limit) it was asked for."""

    def __init__(
        self, total: int, *, server_cap: int | None = None, report_total: bool = True
    ) -> None:
        self.items = [{"id": i} for i in range(total)]
        self.server_cap = server_cap
        self.report_total = report_total
        self.calls: list[tuple[int, int]] = []

    async def fetch(self, offset: int, limit: int) -> ApiResponse:
        self.calls.append((offset, limit))
        served = min(limit, self.server_cap or limit)
        body: dict[str, Any] = {"data": self.items[offset : offset + served]}
        if self.report_total:
            body["pagination"] = {"offset": offset, "limit": served, "total": len(self.items)}
        return ApiResponse(200, {}, body)


async def collect(fake: FakeList, **kwargs: Any) -> list[Any]:
    return [item async for item in paginate(fake.fetch, path="/things", **kwargs)]


async def test_walks_every_page_with_the_maximum_limit() -> None:
    fake = FakeList(250)
    assert await collect(fake, max_limit=100) == fake.items
    assert fake.calls == [(0, 100), (100, 100), (200, 100)]


async def test_exact_multiple_stops_on_total_without_an_extra_request() -> None:
    fake = FakeList(200)
    assert len(await collect(fake, max_limit=100)) == 200
    assert fake.calls == [(0, 100), (100, 100)]


@pytest.mark.parametrize(("page_size", "expected"), [(None, 30), (10, 10), (500, 30)])
async def test_page_size_never_exceeds_max(page_size: int | None, expected: int) -> None:
    fake = FakeList(65)
    assert len(await collect(fake, max_limit=30, page_size=page_size)) == 65
    assert {limit for _, limit in fake.calls} == {expected}


async def test_short_page_ends_the_walk_without_total() -> None:
    fake = FakeList(45, report_total=False)
    assert len(await collect(fake, max_limit=20)) == 45
    assert fake.calls == [(0, 20), (20, 20), (40, 20)]


async def test_empty_page_ends_the_walk_without_total() -> None:
    fake = FakeList(40, report_total=False)
    assert len(await collect(fake, max_limit=20)) == 40
    assert fake.calls[-1] == (40, 20)


async def test_lower_server_cap_is_not_mistaken_for_the_end() -> None:
    fake = FakeList(100, server_cap=30)
    assert len(await collect(fake, max_limit=100)) == 100
    assert [offset for offset, _ in fake.calls] == [0, 30, 60, 90]


async def test_shrinking_total_ends_early() -> None:
    fake = FakeList(300)
    seen: list[Any] = []
    async for item in paginate(fake.fetch, path="/things", max_limit=100):
        seen.append(item)
        if len(seen) == 100:
            del fake.items[150:]  # items disappeared while we walked
    assert len(seen) == 150
    assert len(fake.calls) == 2


async def test_repeated_page_raises_instead_of_looping() -> None:
    async def ignores_offset(offset: int, limit: int) -> ApiResponse:
        body = {"data": [{"id": 1}, {"id": 2}], "pagination": {"offset": 0, "limit": 2, "total": 9}}
        return ApiResponse(200, {}, body)

    walked: list[Any] = []
    with pytest.raises(PaginationError, match="same page again at offset 2"):
        async for item in paginate(ignores_offset, path="/things", max_limit=2):
            walked.append(item)
    assert walked == [{"id": 1}, {"id": 2}]


async def test_max_pages_guard() -> None:
    fake = FakeList(10)
    with pytest.raises(PaginationError, match="after 3 pages"):
        await collect(fake, max_limit=1, max_pages=3)


async def test_non_list_data_is_an_error() -> None:
    async def fetch(offset: int, limit: int) -> ApiResponse:
        return ApiResponse(200, {}, {"data": {"id": 1}})

    with pytest.raises(PaginationError, match="expected a list"):
        [item async for item in paginate(fetch, path="/things", max_limit=5)]


def test_effective_page_size_validates() -> None:
    assert effective_page_size(100, None) == 100
    with pytest.raises(ValueError, match="max_limit"):
        effective_page_size(0, None)
    with pytest.raises(ValueError, match="page_size"):
        effective_page_size(10, 0)


class Thing(BaseModel):
    id: int


async def test_client_iterate_parses_models_and_owns_limit_and_offset(
    make_client: MakeClient,
) -> None:
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        queries.append(request.url.query.decode())
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        data = [{"id": i} for i in range(offset, min(offset + limit, 5))]
        return httpx.Response(
            200, json={"data": data, "pagination": {"offset": offset, "limit": limit, "total": 5}}
        )

    client = make_client(handler)
    things = [
        t
        async for t in client.iterate(
            "/things", Thing, params={"storefront": "de", "limit": 999, "offset": 3}, max_limit=2
        )
    ]
    assert things == [Thing(id=i) for i in range(5)]
    assert queries == [
        "storefront=de&limit=2&offset=0",
        "storefront=de&limit=2&offset=2",
        "storefront=de&limit=2&offset=4",
    ]
