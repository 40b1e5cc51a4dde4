"""``/reports``: request reports (202) and read them; a report is ready after a short time.

Kaufland builds reports asynchronously; the sandbox moves a report ``NEW`` → ``PROCESSING`` →
``DONE`` by the clock (computed when read, so nothing has to run in the background) and gives
it a download ``url`` once done (an empty string before), which the control API serves under
``/_sandbox/files/`` with ``render_report``."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from starlette.responses import Response

from kaufland_sync.sandbox._http import Ctx, Handler, RouteSpec, data, not_found, page, validation
from kaufland_sync.sandbox.routes._market import by_int_key, no_extra_fields, path_int
from kaufland_sync.sandbox.world import Record, Seller, World, iso

# Seconds after the request at which a report reaches each status.
REPORT_STEPS: tuple[tuple[float, str], ...] = ((0.0, "NEW"), (0.5, "PROCESSING"), (1.0, "DONE"))
SORTS = ("id_report:asc", "id_report:desc", "date_requested:asc", "date_requested:desc")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# kind -> (report_name, needs storefront, body fields)
KINDS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "account-listing": ("account_listing", True, ()),
    "bookings-new": ("bookings", True, ("date_from", "date_to")),
    "eans-not-found": ("eans_not_found", True, ()),
    "product-data-changes": ("product_data_changes", True, ()),
    "cancellations": ("cancellations", True, ()),
    "competitors-comparer": ("competitors_comparer", True, ()),
    "sales-new": ("sales", True, ("date_from", "date_to")),
    "price-competitiveness": ("price_competitiveness", True, ()),
    "product-data-import-file-errors": (
        "product_data_import_file_errors",
        False,
        ("id_file_import",),
    ),
}


def plain_time(ts: float) -> str:
    """``Report.date_requested`` uses ``YYYY-MM-DD HH:MM:SS`` (not ISO), as the spec shows."""
    return iso(ts).replace("T", " ").rstrip("Z")


def advance(world: World, report: Record) -> Record:
    """Bring a report's status (and url) up to the current time; returns the record."""
    age = world.now() - float(report["_ts_requested"])
    status = report["status"]
    for after, name in REPORT_STEPS:
        if age >= after:
            status = name
    if status != report["status"]:
        report["status"] = status
        if status == "DONE":
            report["url"] = report["_url"]
        world.dirty = True
    return report


_UNIT_COLUMNS = ("id_unit", "id_offer", "id_product", "amount", "listing_price", "price", "status")
_SALE_COLUMNS = (
    "id_order",
    "id_order_unit",
    "ts_created_iso",
    "id_offer",
    "price",
    "shipping_rate",
    "revenue_gross",
    "revenue_net",
    "currency",
    "status",
    "cancel_reason",
)


def render_report(seller: Seller, report: Record) -> bytes:
    """The CSV file behind a DONE report's ``url`` (semicolon-separated, UTF-8), for the control
    API to serve. Listing, sales and cancellations carry the seller's data; the other kinds
    are a header line with no rows (the sandbox has no competitors or bookings)."""
    kind = report.get("_kind")
    storefront = report.get("storefront")
    params = {p["name"]: p["value"] for p in report.get("parameters", [])}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    if kind == "account-listing":
        writer.writerow(_UNIT_COLUMNS)
        for unit in seller.table("units").values():
            if unit.get("storefront") == storefront:
                writer.writerow([unit.get(c) for c in _UNIT_COLUMNS])
    elif kind in ("sales-new", "cancellations"):
        writer.writerow(_SALE_COLUMNS)
        first, last = str(params.get("date_from", "")), str(params.get("date_to", "9999"))
        for ou in seller.table("order_units").values():
            day = str(ou["ts_created_iso"])[:10]
            if ou.get("storefront") != storefront or not first <= day <= last:
                continue
            if kind == "cancellations" and ou["status"] != "cancelled":
                continue
            writer.writerow([ou.get(c) for c in _SALE_COLUMNS])
    else:
        writer.writerow(("report", "storefront", "generated"))
    return out.getvalue().encode("utf-8")


def _dates(body: dict[str, Any]) -> list[Record]:
    values: dict[str, date] = {}
    for name in ("date_from", "date_to"):
        raw = body.get(name)
        if not isinstance(raw, str) or not DATE.match(raw):
            raise validation([(name, "This value should be a date (YYYY-MM-DD).")])
        try:
            values[name] = date.fromisoformat(raw)
        except ValueError:
            raise validation([(name, "This value is not a valid date.")]) from None
    if values["date_from"] > values["date_to"]:
        raise validation([("date_to", "date_to must not be before date_from.")])
    return [{"name": n, "value": body[n]} for n in ("date_from", "date_to")]


def _requester(kind: str) -> Handler:
    report_name, needs_storefront, fields = KINDS[kind]

    async def request_report(ctx: Ctx) -> Response:
        storefront = ctx.storefront(required=needs_storefront)
        parameters: list[Record] = []
        if kind == "cancellations":
            ctype = ctx.q_enum("cancellation_type", ("all", "seller_related"))
            if ctype:
                parameters.append({"name": "cancellation_type", "value": ctype})
        if kind == "bookings-new":
            version = ctx.q_enum("version", ("v2",))
            if version:
                parameters.append({"name": "version", "value": version})
        if fields:
            body = ctx.json_object()
            no_extra_fields(body, fields)
            if "date_from" in fields:
                parameters.extend(_dates(body))
            else:
                value = body.get("id_file_import")
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise validation(
                        [("id_file_import", "This value should be a positive integer.")]
                    )
                # The spec lists no 404 here: an unknown file is a field error. Only product-data
                # files count (variant-suggestion feeds share the table, marked by ``_feed``).
                record = ctx.table("product_data_import_files").get(str(value))
                if record is None or record.get("_feed", "product_data") != "product_data":
                    raise validation(
                        [("id_file_import", f"Product-data import file {value} does not exist.")]
                    )
                parameters.append({"name": "id_file_import", "value": value})
        now = ctx.world.now()
        id_report = ctx.world.next_id("report", 11_000)
        base = str(ctx.request.base_url).rstrip("/")
        report: Record = {
            "id_report": id_report,
            "status": "NEW",
            "date_requested": plain_time(now),
            "url": "",  # the spec types it a plain string; filled in when DONE
            "report_name": report_name,
            "storefront": storefront or "",  # per-account report: no storefront
            "parameters": parameters,
            "_ts_requested": now,
            "_kind": kind,
            "_url": f"{base}/_sandbox/files/reports/{id_report}.csv",
        }
        ctx.table("reports")[str(id_report)] = report
        ctx.world.dirty = True
        requested = {k: report[k] for k in ("id_report", "report_name", "storefront", "parameters")}
        return data(requested, status=202)

    request_report.__name__ = f"request_{report_name}"
    return request_report


async def list_reports(ctx: Ctx) -> Response:
    """GET /reports: filter storefront; sort id_report|date_requested asc|desc (default
    id_report:desc); limit ≤ 30."""
    storefront = ctx.storefront(required=False)
    sort = ctx.q_enum("sort", SORTS) or "id_report:desc"
    offset, limit = ctx.page(max_limit=30)
    rows = [
        advance(ctx.world, r)
        for r in by_int_key(ctx.table("reports"))
        if not storefront or r.get("storefront") == storefront
    ]
    if sort.startswith("date_requested"):
        rows.sort(key=lambda r: float(r["_ts_requested"]))
    if sort.endswith(":desc"):
        rows.reverse()
    return page(rows, offset, limit)


async def get_report(ctx: Ctx) -> Response:
    id_report = path_int(ctx, "id_report")
    report = ctx.table("reports").get(str(id_report))
    if report is None:
        raise not_found("Report", id_report)
    return data(advance(ctx.world, report))


ROUTES: list[RouteSpec] = [
    ("GET", "/reports", list_reports),
    ("GET", "/reports/{id_report}", get_report),
    *(("POST", f"/reports/{kind}", _requester(kind)) for kind in KINDS),
]
