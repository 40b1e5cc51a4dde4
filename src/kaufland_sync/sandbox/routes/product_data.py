"""``/product-data``: the seller's content for EANs, its review status, and import files.

PUT replaces and PATCH merges the seller's data for every EAN in the body; either schedules a
review ``config.review_delay`` seconds later (see ``catalog.review``).

The import-file handlers are written once for every ``ImportFeed`` kind; routes/
variant_suggestions.py serves the variant-suggestion feeds with them."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox._http import (
    Ctx,
    Fields,
    Problem,
    RouteSpec,
    data,
    not_found,
    page,
    validation,
)
from kaufland_sync.sandbox.routes._market import path_int
from kaufland_sync.sandbox.world import Record

IMPORT_STATUSES = (
    "NEW", "DOWNLOADING", "DOWNLOADED", "DOWNLOADING_FAILED", "PREPARING", "PREPARED",
    "PREPARING_FAILED", "CHECKING", "CHECKED", "CHECKING_FAILED", "PREPROCESSING",
    "PREPROCESSED", "PREPROCESSING_FAILED", "IMPORTING", "IMPORTED", "IMPORTING_FAILED",
    "IMPORTING_STOPPED", "ERROR", "ABORTED", "DONE",
)  # fmt: skip
IMPORT_SORTS = ("ts_created:asc", "ts_updated:asc", "ts_created:desc", "ts_updated:desc")
FEEDS_PER_DAY = 30


def _valid_ean(ean: str) -> bool:
    return ean.isdigit() and len(ean) in (13, 14, 15)


def _path_ean(ctx: Ctx) -> str:
    ean = str(ctx.path["ean"])
    if not _valid_ean(ean):
        raise validation([("ean", "The EAN must consist of 13, 14 or 15 digits.")])
    return ean


def _parse_body(ctx: Ctx) -> tuple[list[str], dict[str, Any]]:
    fields = Fields(ctx.json_object(), ("ean", "attributes"))
    eans = fields.body.get("ean")
    if "ean" not in fields.body:
        fields.errors.append(("ean", "This value should not be blank."))
    elif not isinstance(eans, list) or not eans or not all(isinstance(e, str) for e in eans):
        fields.errors.append(("ean", "This value should be a non-empty array of strings."))
    else:
        for i, ean in enumerate(eans):
            if not _valid_ean(ean) or (len(ean) in (13, 14) and not catalog.is_valid_gtin(ean)):
                fields.errors.append((f"ean[{i}]", f"'{ean}' is not a valid EAN."))
    attributes = fields.obj("attributes", required=True)
    if attributes is not None:
        for name, value in attributes.items():
            if name == "product_safety_contact":
                if not isinstance(value, dict | list):
                    fields.errors.append((f"attributes.{name}", "This value should be an object."))
            elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                fields.errors.append(
                    (f"attributes.{name}", "This value should be an array of strings.")
                )
    fields.check()
    assert isinstance(eans, list) and attributes is not None
    return [str(e) for e in eans], attributes


async def _submit(ctx: Ctx, *, merge: bool) -> Response:
    locale = ctx.locale(required=True)
    assert locale is not None
    eans, attributes = _parse_body(ctx)
    world = ctx.world
    now = world.now()
    due = now + world.config.review_delay
    table = catalog.product_data(world)
    stored: Record | None = None
    for ean in eans:
        key = catalog.product_data_key(ctx.seller.client_key, locale, ean)
        previous = table.get(key)
        merged = dict(previous["attributes"]) if merge and previous is not None else {}
        merged.update(copy.deepcopy(attributes))
        stored = {
            "ean": list(eans),
            "attributes": merged,
            "_locale": locale,
            "_client_key": ctx.seller.client_key,
            "_submitted": now,
            "_due": due,
            "_state": "PENDING",
        }
        table[key] = stored
    catalog.schedule_review(world, due)
    world.dirty = True
    assert stored is not None
    return data({"ean": stored["ean"], "attributes": stored["attributes"]})


async def put_product_data(ctx: Ctx) -> Response:
    return await _submit(ctx, merge=False)


async def patch_product_data(ctx: Ctx) -> Response:
    return await _submit(ctx, merge=True)


def _record(ctx: Ctx) -> tuple[str, Record]:
    locale = ctx.locale(required=True)
    assert locale is not None
    ean = _path_ean(ctx)
    key = catalog.product_data_key(ctx.seller.client_key, locale, ean)
    record = catalog.product_data(ctx.world).get(key)
    if record is None:
        raise not_found("Product data for EAN", ean, bare=True)
    return key, record


async def get_product_data(ctx: Ctx) -> Response:
    _, record = _record(ctx)
    return data({"ean": record["ean"], "attributes": record["attributes"]})


async def delete_product_data(ctx: Ctx) -> Response:
    key, record = _record(ctx)
    del catalog.product_data(ctx.world)[key]
    ctx.world.dirty = True
    return data({"ean": record["ean"], "attributes": record["attributes"]})


async def status(ctx: Ctx) -> Response:
    _, record = _record(ctx)
    return data(catalog.product_data_status(ctx.world, record))


# import files ------------------------------------------------------------------------------
# Product-data import files and variant-suggestion feeds are the same thing to the API (one
# response shape, statuses, filters and sorts; Kaufland's spec shares the schema) and differ
# only in their path, the status that answers a spent daily quota and the 404 wording. Both
# live in the ``product_data_import_files`` table, told apart by ``_feed``; records written
# before variant suggestions existed have no ``_feed`` and are product-data files.


@dataclass(frozen=True)
class ImportFeed:
    """One kind of product-category import file (see routes/variant_suggestions.py)."""

    kind: str  # the records' ``_feed``
    what: str  # how a 404 names a file of this kind
    quota_status: int  # the answer once FEEDS_PER_DAY files were given within 24 hours


PRODUCT_DATA_FEED = ImportFeed("product_data", "Import file", 423)


def _feed_files(ctx: Ctx, feed: ImportFeed) -> list[Record]:
    table = ctx.table("product_data_import_files")
    return [r for r in table.values() if r.get("_feed", PRODUCT_DATA_FEED.kind) == feed.kind]


def _file_view(ctx: Ctx, record: Record) -> Record:
    """Import files are not processed; they read as done once the review delay passed."""
    view = dict(record)
    done = ctx.world.now() >= record["_created"] + ctx.world.config.review_delay
    if done and record["status"] == "NEW":
        ts = catalog.timestamp_plain(record["_created"] + ctx.world.config.review_delay)
        view.update(
            {
                "status": "DONE",
                "ts_updated": ts,
                "ts_last_row_updated": ts,
                "ts_completed": ts,
                "async_import_done": 1,
            }
        )
    return view


def create_feed_file(ctx: Ctx, feed: ImportFeed) -> Response:
    """Body ``{"url"}`` (http/https, at most 2048 characters) → 200 with the new file;
    ``feed.quota_status`` when the seller gave FEEDS_PER_DAY files of this kind within the
    last 24 hours (Kaufland's "limit of 30 feeds per day", counted as a rolling window)."""
    fields = Fields(ctx.json_object(), ("url",))
    url = fields.string("url", required=True, max_length=2048)
    if url is not None and not url.startswith(("http://", "https://")):
        fields.errors.append(("url", "This value is not a valid URL."))
    fields.check()
    now = ctx.world.now()
    recent = [r for r in _feed_files(ctx, feed) if r["_created"] > now - 86400]
    if len(recent) >= FEEDS_PER_DAY:
        raise Problem(
            feed.quota_status, "about:blank", f"Limit of {FEEDS_PER_DAY} feeds per day reached."
        )
    id_ = ctx.world.next_id("import_file", catalog.IMPORT_FILE_ID_START)
    record: Record = {
        "id_import_file": id_,
        "uri": url,
        "status": "NEW",
        "note": None,
        "total_lines": 0,
        "current_line": 0,
        "ts_created": catalog.timestamp_plain(now),
        "ts_updated": None,
        "ts_last_row_updated": None,
        "ts_completed": None,
        "error_count": 0,
        "async_import_done": 0,
        "_created": now,
        "_feed": feed.kind,
    }
    ctx.table("product_data_import_files")[str(id_)] = record
    ctx.world.dirty = True
    return data(_file_view(ctx, record))


def list_feed_files(ctx: Ctx, feed: ImportFeed) -> Response:
    """Files of one kind, filtered by ``status``, ``ts_created`` and ``ts_updated`` (lower
    bounds), sorted by ``sort`` (default newest first), one page of at most 100."""
    wanted = ctx.q_enum("status", IMPORT_STATUSES)
    sort = ctx.q_enum("sort", IMPORT_SORTS) or "ts_created:desc"
    created_from = ctx.q("ts_created")
    updated_from = ctx.q("ts_updated")
    offset, limit = ctx.page(max_limit=100, default_limit=20)
    views = [_file_view(ctx, r) for r in _feed_files(ctx, feed)]
    if wanted:
        views = [v for v in views if v["status"] == wanted]
    if created_from:
        views = [v for v in views if v["ts_created"] >= created_from.replace("T", " ").rstrip("Z")]
    if updated_from:
        bound = updated_from.replace("T", " ").rstrip("Z")
        views = [v for v in views if (v["ts_updated"] or v["ts_created"]) >= bound]
    field, direction = sort.split(":")
    views.sort(
        key=lambda v: (v[field] or v["ts_created"], v["id_import_file"]),
        reverse=direction == "desc",
    )
    return page(views, offset, limit)


def get_feed_file(ctx: Ctx, feed: ImportFeed) -> Response:
    """One file of this kind by id; 404 ``NotFoundResponse`` for an unknown id or a file of
    the other kind."""
    id_ = path_int(ctx, "id_import_file")
    record = ctx.table("product_data_import_files").get(str(id_))
    if record is None or record.get("_feed", PRODUCT_DATA_FEED.kind) != feed.kind:
        raise not_found(feed.what, id_, bare=True)
    return data(_file_view(ctx, record))


async def create_import_file(ctx: Ctx) -> Response:
    return create_feed_file(ctx, PRODUCT_DATA_FEED)


async def list_import_files(ctx: Ctx) -> Response:
    return list_feed_files(ctx, PRODUCT_DATA_FEED)


async def get_import_file(ctx: Ctx) -> Response:
    return get_feed_file(ctx, PRODUCT_DATA_FEED)


ROUTES: list[RouteSpec] = [
    ("PUT", "/product-data", put_product_data),
    ("PATCH", "/product-data", patch_product_data),
    ("GET", "/product-data/import-files", list_import_files),
    ("POST", "/product-data/import-files", create_import_file),
    ("GET", "/product-data/import-files/{id_import_file}", get_import_file),
    ("GET", "/product-data/status/{ean}", status),
    ("GET", "/product-data/{ean}", get_product_data),
    ("DELETE", "/product-data/{ean}", delete_product_data),
]
