"""Typed client for the Kaufland Seller API v2: HTTP and Kaufland only, no database.

Owns: request signing, pacing (111 requests/s per client key), retries, error mapping, clock
skew correction, pagination, and the resource classes (``client.units``, ``client.orders``, ...).
Imports nothing from the rest of ``kaufland_sync``.

Names are loaded lazily on first access, so importing a pure part (``_signing``,
``storefronts``, ``models``) does not pull in httpx or the client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kaufland_sync.sellerapi import errors
    from kaufland_sync.sellerapi._pacing import Pacer, RateLimiter
    from kaufland_sync.sellerapi._redis_pacing import RedisPacer
    from kaufland_sync.sellerapi._requester import ApiResponse, Pagination, Requester
    from kaufland_sync.sellerapi._retry import RetryDecision, RetryPolicy
    from kaufland_sync.sellerapi._signing import sign_request
    from kaufland_sync.sellerapi.client import (
        PLAYGROUND_BASE_URL,
        PRODUCTION_BASE_URL,
        KauflandClient,
    )
    from kaufland_sync.sellerapi.storefronts import Currency, Storefront
    from kaufland_sync.sellerapi.sync import SyncKauflandClient

__all__ = [
    "PLAYGROUND_BASE_URL",
    "PRODUCTION_BASE_URL",
    "ApiResponse",
    "Currency",
    "KauflandClient",
    "Pacer",
    "Pagination",
    "RateLimiter",
    "RedisPacer",
    "Requester",
    "RetryDecision",
    "RetryPolicy",
    "Storefront",
    "SyncKauflandClient",
    "errors",
    "sign_request",
]

# public name -> module that defines it (``errors`` is the module itself)
_SOURCES = {
    "PLAYGROUND_BASE_URL": "client",
    "PRODUCTION_BASE_URL": "client",
    "KauflandClient": "client",
    "ApiResponse": "_requester",
    "Pagination": "_requester",
    "Requester": "_requester",
    "Currency": "storefronts",
    "Storefront": "storefronts",
    "Pacer": "_pacing",
    "RateLimiter": "_pacing",
    "RedisPacer": "_redis_pacing",
    "RetryDecision": "_retry",
    "RetryPolicy": "_retry",
    "SyncKauflandClient": "sync",
    "sign_request": "_signing",
}


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module(f"{__name__}.errors")
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{source}"), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
