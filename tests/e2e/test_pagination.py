"""Pagination end to end: every page walked, never above an endpoint's maximum ``limit``."""

from __future__ import annotations

import pytest

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi.errors import ValidationError
from tests.conformance import SpecRecorder
from tests.e2e.conftest import MAIN_KEY, Control, open_client


async def test_units_walk_every_page(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    expected = {
        int(i)
        for i, u in sandbox.world.seller(MAIN_KEY).table("units").items()
        if u["storefront"] == "de"
    }
    async with open_client(sandbox, recorder) as api:
        small = [u.id_unit async for u in api.units.iter_all(page_size=7)]
        large = [u.id_unit async for u in api.units.iter_all()]
    assert len(small) == len(set(small)) == len(expected)
    assert set(small) == set(large) == expected
    assert len(expected) > 7 * 3


async def test_order_units_beyond_one_page(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder) as api:
        placed = []
        for storefront in ("de", "cz", "pl"):
            page = await api.units.list(storefront=storefront, limit=100)
            for unit in page.items:
                if (unit.amount or 0) >= 3 and unit.status == "AVAILABLE":
                    placed += await api.playground.create_orders(
                        [(unit.id_unit, 3)], storefront=storefront
                    )
        units = [u async for u in api.order_units.iter_all()]
    assert len(units) == len({u.id_order_unit for u in units}) == 3 * len(placed)
    assert len(units) > 100
    pages = [url for url in recorder.urls if url.path == "/v2/order-units"]
    assert len(pages) >= 2
    assert all(int(url.params["limit"]) <= 100 for url in pages)


async def test_limit_above_maximum_is_a_field_error(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder) as api:
        with pytest.raises(ValidationError) as caught:
            await api.request("GET", "/units", params={"storefront": "de", "limit": 101})
    assert [e.field for e in caught.value.field_errors] == ["limit"]
