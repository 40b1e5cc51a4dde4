"""Helpers shared by the marketplace tests (the app, world and signed client come from
conftest.py)."""

from __future__ import annotations

from typing import Any

from kaufland_sync.sandbox.world import World
from tests.sandbox.conftest import CLIENT_KEY


def available_units(
    world: World, storefront: str = "de", client_key: str = CLIENT_KEY
) -> list[dict[str, Any]]:
    """The seller's AVAILABLE units with stock on a storefront, lowest id first."""
    units = world.seller(client_key).table("units").values()
    return sorted(
        (
            u
            for u in units
            if u["storefront"] == storefront and u["status"] == "AVAILABLE" and int(u["amount"]) > 0
        ),
        key=lambda u: int(u["id_unit"]),
    )
