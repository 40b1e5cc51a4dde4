"""``/import-files``: inventory feeds, inventory commands and order commands given by URL.

The sandbox does not download the file. An import walks ``NEW`` → ``DOWNLOADING`` → ... →
``IMPORTED`` by the clock (computed when read) so clients can practise polling."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import Response

from kaufland_sync.sandbox._http import Ctx, Handler, RouteSpec, data, not_found, page, validation
from kaufland_sync.sandbox.routes._market import (
    body_str,
    by_int_key,
    no_extra_fields,
    path_int,
    q_time,
)
from kaufland_sync.sandbox.world import Record, World, iso

IMPORT_STATUSES = (
    "NEW", "DOWNLOADING", "DOWNLOADED", "DOWNLOADING_FAILED", "PENDING_CONVERSION", "CONVERTING",
    "CONVERSION_FAILED", "PREPARING", "PREPARED", "PREPARING_FAILED", "CHECKING", "CHECKED",
    "CHECKING_FAILED", "PREPROCESSING", "PREPROCESSED", "PREPROCESSING_FAILED", "IMPORTING",
    "IMPORTED", "IMPORTING_FAILED", "IMPORTING_STOPPED", "ABORTED",
)  # fmt: skip
# The happy path an import walks, one stage every STEP seconds.
PROGRESS = (
    "NEW",
    "DOWNLOADING",
    "DOWNLOADED",
    "PREPARING",
    "PREPARED",
    "CHECKING",
    "CHECKED",
    "IMPORTING",
    "IMPORTED",
)
STEP = 0.25
SORTS = ("id:asc", "id:desc", "ts_created:asc", "ts_created:desc")
# path segment -> (ImportType, takes storefront)
KINDS: dict[str, tuple[str, bool]] = {
    "inventory-feed": ("INVENTORY_FEED", True),
    "inventory-command": ("INVENTORY_COMMAND", True),
    "order-command": ("ORDER_COMMAND", False),
}
IMPORT_FILE_ID_START = 70_000


def advance(world: World, record: Record) -> Record:
    """Bring an import file's status and timestamps up to the current time."""
    created = float(record["_ts_created"])
    stage = min(int((world.now() - created) / STEP), len(PROGRESS) - 1)
    status = record["status"]
    # A status off the happy path (set by hand, e.g. a failure) is final.
    current = PROGRESS.index(status) if status in PROGRESS else len(PROGRESS)
    if current >= stage:
        return record
    record["status"] = PROGRESS[stage]
    record["ts_updated_iso"] = iso(created + stage * STEP)
    if PROGRESS[stage] == "IMPORTED":
        record["ts_last_row_updated_iso"] = record["ts_updated_iso"]
        record["ts_completed_iso"] = record["ts_updated_iso"]
    world.dirty = True
    return record


def _creator(segment: str) -> Handler:
    import_type, with_storefront = KINDS[segment]

    async def create(ctx: Ctx) -> Response:
        storefront = ctx.storefront(required=True) if with_storefront else None
        body = ctx.json_object()
        no_extra_fields(body, ("url",))
        url = body_str(body, "url", min_len=1, max_len=2048)
        assert url is not None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ftp", "sftp") or not parts.netloc:
            raise validation([("url", "This value is not a valid URL.")])
        now = ctx.world.now()
        id_file = ctx.world.next_id("import_file", IMPORT_FILE_ID_START)
        record: Record = {
            "id_import_file": id_file,
            "uri": url,
            "status": "NEW",
            "note": "",
            "type": import_type,
            "total_lines": 0,
            "current_line": 0,
            "error_count": 0,
            "ts_created_iso": iso(now),
            "ts_updated_iso": iso(now),
            # The spec requires date-times here from the start; until the import gets there
            # they repeat the creation time (``status`` is what tells completion).
            "ts_last_row_updated_iso": iso(now),
            "ts_completed_iso": iso(now),
            "_ts_created": now,
        }
        if storefront is not None:
            record = {"storefront": storefront, **record}
        ctx.table("import_files")[str(id_file)] = record
        ctx.world.dirty = True
        return data(record, status=201)

    create.__name__ = f"create_{segment.replace('-', '_')}"
    return create


def _lister(segment: str) -> Handler:
    import_type, with_storefront = KINDS[segment]

    async def list_files(ctx: Ctx) -> Response:
        storefront = ctx.storefront(required=True) if with_storefront else None
        status = ctx.q_enum("status", IMPORT_STATUSES)
        created_from = q_time(ctx, "ts_created_iso")
        updated_from = q_time(ctx, "ts_updated_iso")
        sort = ctx.q_enum("sort", SORTS) or "id:desc"
        offset, limit = ctx.page(max_limit=30)
        rows = []
        for record in by_int_key(ctx.table("import_files")):
            if record["type"] != import_type or record.get("storefront") != storefront:
                continue
            advance(ctx.world, record)
            if status and record["status"] != status:
                continue
            if created_from is not None and float(record["_ts_created"]) < created_from:
                continue
            if updated_from is not None and record["ts_updated_iso"] < iso(updated_from):
                continue
            rows.append(record)
        # ids grow with creation time, so both sort keys give the same order
        if sort.endswith(":desc"):
            rows.reverse()
        return page(rows, offset, limit)

    list_files.__name__ = f"list_{segment.replace('-', '_')}"
    return list_files


def _getter(segment: str) -> Handler:
    import_type, with_storefront = KINDS[segment]

    async def get_file(ctx: Ctx) -> Response:
        storefront = ctx.storefront(required=True) if with_storefront else None
        id_file = path_int(ctx, "id_import_file")
        record = ctx.table("import_files").get(str(id_file))
        if (
            record is None
            or record["type"] != import_type
            or record.get("storefront") != storefront
        ):
            raise not_found("Import file", id_file)
        return data(advance(ctx.world, record))

    get_file.__name__ = f"get_{segment.replace('-', '_')}"
    return get_file


ROUTES: list[RouteSpec] = [
    route
    for segment in KINDS
    for route in (
        ("POST", f"/import-files/{segment}", _creator(segment)),
        ("GET", f"/import-files/{segment}", _lister(segment)),
        ("GET", f"/import-files/{segment}/{{id_import_file}}", _getter(segment)),
    )
]
