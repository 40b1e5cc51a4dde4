"""``/status/ping``: the credential check (needs a valid signature like any other call)."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox._http import Ctx, RouteSpec, data


async def ping(ctx: Ctx) -> Response:
    return data({"message": "Never tell me the odds"})


ROUTES: list[RouteSpec] = [("GET", "/status/ping", ping)]
