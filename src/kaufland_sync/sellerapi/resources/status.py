"""``/status``: a signed no-op, good as a credentials check."""

from __future__ import annotations

from kaufland_sync.sellerapi.models import PingMessage
from kaufland_sync.sellerapi.resources._base import Resource


class Status(Resource):
    async def ping(self) -> PingMessage:
        """``GET /status/ping``; succeeds only when the keys and the signature are accepted."""
        return await self._get("/status/ping", PingMessage)
