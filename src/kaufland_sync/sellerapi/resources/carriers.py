"""``/carriers``: the carrier names accepted as ``carrier_code``."""

from __future__ import annotations

from kaufland_sync.sellerapi.models import Carrier
from kaufland_sync.sellerapi.models import Carriers as CarrierList
from kaufland_sync.sellerapi.resources._base import Resource


class Carriers(Resource):
    async def list(self) -> list[Carrier]:
        """``GET /carriers`` (answer ``{"data": {"carriers": [...]}}``, not a page)."""
        return (await self._get("/carriers", CarrierList)).carriers
