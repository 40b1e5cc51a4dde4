"""``/carriers``: the carrier names ``carrier_code`` accepts (note Kaufland's ``isHauler``)."""

from __future__ import annotations

import functools

from starlette.responses import Response

from kaufland_sync.sandbox._http import Ctx, RouteSpec, data
from kaufland_sync.sandbox.seed import carriers as load_carriers
from kaufland_sync.sandbox.world import Record


@functools.cache
def _carriers() -> tuple[Record, ...]:
    return tuple(load_carriers())


async def list_carriers(ctx: Ctx) -> Response:
    return data({"carriers": [dict(c) for c in _carriers()]})


ROUTES: list[RouteSpec] = [("GET", "/carriers", list_carriers)]
