"""``POST /shipping-labels``: a Kaufland Shipment Solutions (KSS) parcel label.

Kaufland documents the request, the 201 answer ``{id, tracking_number, carrier, download_url}``
(the link works for 7 days), ``GLS`` as the only carrier, and the error statuses 400, 403, 404
and 422 with the problem ``/problems/shipping-labels/warehouse-missing`` (REFERENCE §4.6). Its
playground answers every request with a dummy success; the sandbox checks what a label needs:

* 400 ``validation-error``: the body breaks the schema (``additionalProperties: false``, all
  three fields required), lists are empty or repeat an id, a carrier is not ``GLS``, or a
  measurement is below 1;
* 404 ``not-found``: an order unit is not the seller's;
* 403 ``forbidden``: an order unit is fulfilled by Kaufland (Kaufland ships those);
* 422 ``action-not-allowed``: an order unit is not ``need_to_be_sent`` (still ``open``, with
  the address hidden, or already sent/cancelled/returned), the units belong to different
  orders (one package goes to one address), or the parcel exceeds GLS's limits (40 kg, 200 cm
  on the longest side, 300 cm length plus girth);
* 422 ``shipping-labels/warehouse-missing``: there is no warehouse to ship from (the sender
  address is the warehouse of the units' offer, else the seller's default one).

A label does not ship anything: the order units keep their status. The seller still sends
them (``PATCH /order-units/{id}/send`` with carrier ``GLS`` and the label's tracking number).
The label is recorded on each unit (internal ``_shipping_labels``), and the control API serves
it as a small PDF under ``/_sandbox/files/shipping-labels/{id}.pdf`` until it expires."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

from starlette.responses import Response

from kaufland_sync.sandbox import catalog, marketplace
from kaufland_sync.sandbox._http import (
    ACTION_NOT_ALLOWED,
    FORBIDDEN,
    Ctx,
    Fields,
    Problem,
    RouteSpec,
    data,
    not_found,
)
from kaufland_sync.sandbox.world import Record, World, iso

CARRIERS = ("GLS",)
WAREHOUSE_MISSING = "/problems/shipping-labels/warehouse-missing"
VALID_SECONDS = 7 * 86_400
# GLS parcel limits (the sandbox's reading of "shipping restrictions that apply").
MAX_WEIGHT_GRAM = 40_000
MAX_LENGTH_CM = 200
MAX_LENGTH_AND_GIRTH_CM = 300
MEASUREMENTS = ("weight_gram", "width_cm", "height_cm", "length_cm")
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def _read_body(ctx: Ctx) -> tuple[list[int], dict[str, int]]:
    """The request body, every schema error reported at once (400)."""
    fields = Fields(ctx.json_object(), ("ids_order_units", "carriers", "package_measurements"))
    ids = _int_list(fields, "ids_order_units")
    _carriers(fields)
    measures = fields.obj("package_measurements", required=True)
    sizes: dict[str, int] = {}
    if measures is not None:
        inner = Fields(measures, MEASUREMENTS, prefix="package_measurements.")
        for name in MEASUREMENTS:
            value = inner.integer(name, required=True, minimum=1, maximum=INT32_MAX)
            if value is not None:
                sizes[name] = value
        fields.errors.extend(inner.errors)
    fields.check()
    return ids, sizes


def _int_list(fields: Fields, key: str) -> list[int]:
    value = fields.body.get(key)
    if key not in fields.body or value is None:
        fields.errors.append((key, "This value should not be blank."))
        return []
    if not isinstance(value, list):
        fields.errors.append((key, "This value should be of type array."))
        return []
    if not value:
        fields.errors.append((key, "This collection should contain 1 element or more."))
        return []
    ids: list[int] = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int):
            fields.errors.append((f"{key}[{i}]", "This value should be of type integer."))
        elif not 1 <= item <= INT64_MAX:
            fields.errors.append((f"{key}[{i}]", "This value should be a positive integer."))
        elif item in ids:
            fields.errors.append((f"{key}[{i}]", f"Order unit {item} is listed twice."))
        else:
            ids.append(item)
    return ids


def _carriers(fields: Fields) -> None:
    value = fields.body.get("carriers")
    if "carriers" not in fields.body or value is None:
        fields.errors.append(("carriers", "This value should not be blank."))
    elif not isinstance(value, list):
        fields.errors.append(("carriers", "This value should be of type array."))
    elif not value:
        fields.errors.append(("carriers", "This collection should contain 1 element or more."))
    else:
        for i, item in enumerate(value):
            if item not in CARRIERS:
                fields.errors.append(
                    (f"carriers[{i}]", f"The carrier must be one of: {', '.join(CARRIERS)}.")
                )


def _check_parcel(sizes: dict[str, int]) -> None:
    sides = sorted((sizes["width_cm"], sizes["height_cm"], sizes["length_cm"]), reverse=True)
    length_and_girth = sides[0] + 2 * (sides[1] + sides[2])
    if sizes["weight_gram"] > MAX_WEIGHT_GRAM:
        limit = f"{MAX_WEIGHT_GRAM // 1000} kg"
        raise Problem(422, ACTION_NOT_ALLOWED, f"GLS parcels may weigh at most {limit}.")
    if sides[0] > MAX_LENGTH_CM:
        raise Problem(
            422, ACTION_NOT_ALLOWED, f"GLS parcels may be at most {MAX_LENGTH_CM} cm long."
        )
    if length_and_girth > MAX_LENGTH_AND_GIRTH_CM:
        raise Problem(
            422,
            ACTION_NOT_ALLOWED,
            f"Length plus girth is {length_and_girth} cm; GLS allows {MAX_LENGTH_AND_GIRTH_CM} cm.",
        )


def _order_units(ctx: Ctx, ids: list[int]) -> list[Record]:
    """The seller's order units for ``ids``: 404 for an unknown one, then 403 for one
    fulfilled by Kaufland, then 422 for a wrong status or a second order."""
    table = ctx.table("order_units")
    units = []
    for id_ou in ids:
        ou = table.get(str(id_ou))
        if ou is None:
            raise not_found("Order unit", id_ou)
        units.append(ou)
    for ou in units:
        if ou.get("fulfillment_type") == "fulfilled_by_kaufland":
            raise Problem(
                403,
                FORBIDDEN,
                f"Order unit {ou['id_order_unit']} is fulfilled by Kaufland; Kaufland ships it.",
            )
    for ou in units:
        if ou["status"] != "need_to_be_sent":
            raise Problem(
                422,
                ACTION_NOT_ALLOWED,
                f"Order unit {ou['id_order_unit']} is {ou['status']}; "
                "labels are for units that need to be sent.",
            )
    orders = sorted({str(ou["id_order"]) for ou in units})
    if len(orders) > 1:
        raise Problem(
            422,
            ACTION_NOT_ALLOWED,
            f"One package goes to one buyer; the units belong to orders {', '.join(orders)}.",
        )
    return units


def _sender(ctx: Ctx, units: list[Record]) -> Record:
    """The warehouse the parcel leaves from: that of the first unit's offer, else the default."""
    warehouses = ctx.table("warehouses")
    for ou in units:
        offer = ctx.table("units").get(str(ou.get("_id_unit")))
        if offer is not None and str(offer.get("id_warehouse")) in warehouses:
            return warehouses[str(offer["id_warehouse"])]
    warehouse = catalog.default_warehouse(ctx.seller)
    if warehouse is None:
        raise Problem(
            422,
            WAREHOUSE_MISSING,
            "A shipping label needs a warehouse as the sender address; create one first.",
        )
    return warehouse


def _tracking_number(world: World) -> str:
    """Twelve digits like a GLS parcel number: eleven random ones and a GTIN check digit."""
    body = str(marketplace.rng_for(world).randrange(10**10, 10**11))
    return body + str(catalog.gtin_check_digit(body))


async def create_label(ctx: Ctx) -> Response:
    """``POST /shipping-labels`` → 201 ``{id, tracking_number, carrier, download_url}``."""
    ids, sizes = _read_body(ctx)
    units = _order_units(ctx, ids)
    sender = _sender(ctx, units)
    _check_parcel(sizes)
    world = ctx.world
    id_label = str(uuid.UUID(int=marketplace.rng_for(world).getrandbits(128), version=4))
    base = str(ctx.request.base_url).rstrip("/")
    label: Record = {
        "id": id_label,
        "tracking_number": _tracking_number(world),
        "carrier": CARRIERS[0],
        "download_url": f"{base}/_sandbox/files/shipping-labels/{id_label}.pdf",
        "ids_order_units": list(ids),
        "package_measurements": dict(sizes),
        "ts_created_iso": world.now_iso(),
        "_created": world.now(),
        "_id_order": units[0]["id_order"],
        "_sender": {"name": sender["name"], **sender["address"]},
        "_recipient": dict(units[0].get("_shipping_address") or {}),
    }
    for ou in units:
        ou.setdefault("_shipping_labels", []).append(label)
    world.dirty = True
    return data(
        {k: label[k] for k in ("id", "tracking_number", "carrier", "download_url")}, status=201
    )


# The file behind ``download_url`` (served by the control API, app.py) ----------------------
def find_label(world: World, id_label: str) -> Record | None:
    """The label with this id, of any seller, or None when unknown or older than 7 days."""
    for seller in world.sellers.values():
        for ou in seller.table("order_units").values():
            for label in ou.get("_shipping_labels", ()):
                if label["id"] == id_label:
                    expired = world.now() > float(label["_created"]) + VALID_SECONDS
                    return None if expired else label
    return None


def _address_lines(address: dict[str, Any]) -> list[str]:
    name = " ".join(str(address[k]) for k in ("name", "first_name", "last_name") if address.get(k))
    street = " ".join(str(address[k]) for k in ("street", "house_number") if address.get(k))
    city = " ".join(str(address[k]) for k in ("postcode", "city") if address.get(k))
    return [line for line in (name, address.get("company_name"), street, city) if line] + [
        str(address.get("country") or "")
    ]


def label_pdf(label: Record) -> bytes:
    """A one-page A6 PDF showing the label: carrier, tracking number, sender, recipient and
    parcel. Valid PDF 1.4 (Helvetica, Windows-1252 text), made by hand to need no library."""
    sizes = label["package_measurements"]
    lines = [
        f"{label['carrier']} - Kaufland Shipment Solutions (sandbox)",
        f"Tracking number: {label['tracking_number']}",
        "",
        "From:",
        *_address_lines(label["_sender"]),
        "",
        "To:",
        *_address_lines(label["_recipient"]),
        "",
        f"Order {label['_id_order']}, units {', '.join(str(i) for i in label['ids_order_units'])}",
        f"{sizes['weight_gram']} g, {sizes['length_cm']} x {sizes['width_cm']} x "
        f"{sizes['height_cm']} cm",
        f"Created {label['ts_created_iso']}, valid until "
        f"{iso(float(label['_created']) + VALID_SECONDS)}",
    ]
    return _pdf(lines)


# Letters of the sellers' and buyers' languages that Windows-1252 lacks and that do not
# decompose into a base letter plus accents.
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D"})


def _pdf_text(text: str) -> bytes:
    """``text`` as a PDF string body in Windows-1252 (the font's encoding): German letters
    stay, others lose their accents (ř → r), PDF string delimiters are escaped."""
    out = bytearray()
    for char in text.translate(_FOLD):
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char)
            out += base.encode("cp1252", "ignore")
    return bytes(out).replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf(lines: list[str]) -> bytes:
    width, height = 298, 420  # A6 in points
    text = [b"BT", b"/F1 9 Tf", b"11 TL", f"20 {height - 30} Td".encode("ascii")]
    for line in lines:
        text.append(b"(" + _pdf_text(line) + b") Tj T*")
    text.append(b"ET")
    stream = b"\n".join(text)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".encode("ascii"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length "
        + str(len(stream)).encode("ascii")
        + b" >>\nstream\n"
        + stream
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode("ascii")
    return bytes(out)


ROUTES: list[RouteSpec] = [("POST", "/shipping-labels", create_label)]
