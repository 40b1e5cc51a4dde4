"""``/variant-suggestions/feed``: CSV files of variant suggestions given by URL.

Kaufland says they "work the same way" as product-data import files (same response schema,
statuses, filters and sorts; REFERENCE §4.4), so the handlers are product_data.py's, run for
this kind. Two differences: a spent daily quota answers 429 instead of 423, and a product-data
file id is unknown here (and the other way round)."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox._http import Ctx, RouteSpec
from kaufland_sync.sandbox.routes.product_data import (
    ImportFeed,
    create_feed_file,
    get_feed_file,
    list_feed_files,
)

VARIANT_SUGGESTIONS_FEED = ImportFeed("variant_suggestions", "Variant suggestion feed", 429)


async def upload_by_url(ctx: Ctx) -> Response:
    """``POST /variant-suggestions/feed/upload-by-url`` b: ``{"url"}`` → 200 the new file."""
    return create_feed_file(ctx, VARIANT_SUGGESTIONS_FEED)


async def list_feeds(ctx: Ctx) -> Response:
    """``GET /variant-suggestions/feed`` → one page of the seller's variant-suggestion files."""
    return list_feed_files(ctx, VARIANT_SUGGESTIONS_FEED)


async def get_feed(ctx: Ctx) -> Response:
    """``GET /variant-suggestions/feed/{id_import_file}`` → the file; 404 ``NotFoundResponse``."""
    return get_feed_file(ctx, VARIANT_SUGGESTIONS_FEED)


ROUTES: list[RouteSpec] = [
    ("GET", "/variant-suggestions/feed", list_feeds),
    ("POST", "/variant-suggestions/feed/upload-by-url", upload_by_url),
    ("GET", "/variant-suggestions/feed/{id_import_file}", get_feed),
]
