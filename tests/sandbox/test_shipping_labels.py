"""``POST /shipping-labels`` (Kaufland Shipment Solutions) and the label PDF behind its link."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox.routes.shipping_labels import VALID_SECONDS, label_pdf
from kaufland_sync.sandbox.world import Record, World
from tests.conformance import SpecRecorder
from tests.sandbox._market import available_units
from tests.sandbox.conftest import CLIENT_KEY, OTHER_KEY, PUBLIC_BASE, FakeClock, SignedClient

PACKAGE = {"weight_gram": 1500, "width_cm": 10, "height_cm": 20, "length_cm": 30}


def body(ids: list[int], **overrides: Any) -> dict[str, Any]:
    return {
        "ids_order_units": ids,
        "carriers": ["GLS"],
        "package_measurements": PACKAGE,
    } | overrides


def order_units(world: World, pieces: int = 2, *, key: str = CLIENT_KEY) -> list[int]:
    """One order of ``pieces`` pieces of one unit, every order unit ``need_to_be_sent``."""
    unit = next(u for u in available_units(world, client_key=key) if int(u["amount"]) >= pieces)
    order = m.place_order(world, key, "de", [(int(unit["id_unit"]), pieces)])
    ids = [int(i) for i in order["_order_unit_ids"]]
    for id_ou in ids:
        m.fulfil_order_unit(world, key, id_ou)
    return ids


def order_unit(world: World, id_ou: int) -> Record:
    return world.seller(CLIENT_KEY).table("order_units")[str(id_ou)]


@pytest.fixture
def recorder(http: httpx.AsyncClient) -> SpecRecorder:
    """Validates every /v2 exchange of the test against the spec (checked by the test)."""
    recorder = SpecRecorder()

    async def check(response: httpx.Response) -> None:
        if not response.request.url.path.startswith("/v2/"):
            return  # the label file comes from the control API, which the spec does not cover
        # The spec's server is plain http://{host}/v2; the signed client talks https.
        response.request.url = response.request.url.copy_with(scheme="http")
        await recorder(response)

    http.event_hooks["response"].append(check)
    return recorder


async def test_a_label_for_one_package_and_its_pdf(
    client: SignedClient, http: httpx.AsyncClient, world: World, recorder: SpecRecorder
) -> None:
    ids = order_units(world)
    before = [dict(order_unit(world, i)) for i in ids]

    response = await client.post("/shipping-labels", json=body(ids))

    assert response.status_code == 201, response.text
    label = response.json()["data"]
    assert set(label) == {"id", "tracking_number", "carrier", "download_url"}
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", label["id"]
    )
    assert label["carrier"] == "GLS"
    # Twelve digits, the last a check digit, like a GLS parcel number.
    assert len(label["tracking_number"]) == 12 and catalog.is_valid_gtin(label["tracking_number"])
    assert (
        label["download_url"] == f"{PUBLIC_BASE}/_sandbox/files/shipping-labels/{label['id']}.pdf"
    )
    # A label ships nothing: the units keep their status and update time; each records it.
    for id_ou, old in zip(ids, before, strict=True):
        ou = order_unit(world, id_ou)
        assert (ou["status"], ou["ts_updated_iso"]) == ("need_to_be_sent", old["ts_updated_iso"])
        [recorded] = ou["_shipping_labels"]
        assert recorded["tracking_number"] == label["tracking_number"]
        assert recorded["ids_order_units"] == ids
        assert "_shipping_labels" not in (await client.get(f"/order-units/{id_ou}")).text

    pdf = await http.get(label["download_url"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")
    assert label["tracking_number"].encode() in pdf.content
    # The sender is the warehouse of the offer the units were bought from.
    seller = world.seller(CLIENT_KEY)
    offer = seller.table("units")[str(before[0]["_id_unit"])]
    warehouse = seller.table("warehouses")[str(offer["id_warehouse"])]
    assert f"({warehouse['name']}) Tj".encode("cp1252") in pdf.content

    # The seller then sends the units with the label's tracking number.
    send = {"carrier_code": "GLS", "tracking_numbers": label["tracking_number"]}
    for id_ou in ids:
        assert (await client.patch(f"/order-units/{id_ou}/send", json=send)).status_code == 204
    assert recorder.failures == [], "\n".join(recorder.failures)


async def test_every_call_buys_another_label(client: SignedClient, world: World) -> None:
    [id_ou] = order_units(world, 1)
    first = (await client.post("/shipping-labels", json=body([id_ou]))).json()["data"]
    second = (await client.post("/shipping-labels", json=body([id_ou]))).json()["data"]
    assert first["id"] != second["id"]
    assert first["tracking_number"] != second["tracking_number"]
    assert len(order_unit(world, id_ou)["_shipping_labels"]) == 2


async def test_the_pdf_link_expires_after_seven_days(
    client: SignedClient, http: httpx.AsyncClient, world: World, clock: FakeClock
) -> None:
    [id_ou] = order_units(world, 1)
    url = (await client.post("/shipping-labels", json=body([id_ou]))).json()["data"]["download_url"]
    clock.advance(VALID_SECONDS)
    assert (await http.get(url)).status_code == 200
    clock.advance(1)
    gone = await http.get(url)
    assert gone.status_code == 404
    assert gone.json()["type"] == "/problems/not-found"
    assert (await http.get("/_sandbox/files/shipping-labels/nope.pdf")).status_code == 404


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"ids_order_units", "carriers", "package_measurements"}),
        ({"ids_order_units": [], "carriers": []}, {"ids_order_units", "carriers"}),
        ({"ids_order_units": "1", "carriers": "GLS"}, {"ids_order_units", "carriers"}),
        ({"ids_order_units": [1, 1]}, {"ids_order_units[1]"}),
        ({"ids_order_units": [0, "2", True]}, {f"ids_order_units[{i}]" for i in range(3)}),
        ({"carriers": ["GLS", "DHL"]}, {"carriers[1]"}),
        ({"package_measurements": None}, {"package_measurements"}),
        (
            {"package_measurements": {"weight_gram": 0}},
            {
                "package_measurements.weight_gram",
                "package_measurements.width_cm",
                "package_measurements.height_cm",
                "package_measurements.length_cm",
            },
        ),
        ({"package_measurements": PACKAGE | {"depth_cm": 3}}, {"package_measurements.depth_cm"}),
        ({"package_measurements": PACKAGE | {"width_cm": 1.5}}, {"package_measurements.width_cm"}),
        ({"note": "x"}, {"note"}),
    ],
)
async def test_bad_bodies_name_every_bad_field(
    client: SignedClient, world: World, payload: dict[str, Any], fields: set[str]
) -> None:
    ids = order_units(world, 1)
    request = body(ids) | payload if payload else {}
    response = await client.post("/shipping-labels", json=request)
    assert response.status_code == 400
    answer = response.json()
    assert answer["type"] == "/problems/validation-error"
    assert {e["field"] for e in answer["errors"]} == fields
    assert "_shipping_labels" not in order_unit(world, ids[0])


async def test_unknown_and_foreign_order_units_are_404(client: SignedClient, world: World) -> None:
    [foreign] = order_units(world, 1, key=OTHER_KEY)
    [own] = order_units(world, 1)
    for ids in ([own, 1], [foreign]):
        response = await client.post("/shipping-labels", json=body(ids))
        assert response.status_code == 404
        assert response.json()["type"] == "/problems/not-found"


async def test_units_fulfilled_by_kaufland_are_403(client: SignedClient, world: World) -> None:
    [id_ou] = order_units(world, 1)
    order_unit(world, id_ou)["fulfillment_type"] = "fulfilled_by_kaufland"
    response = await client.post("/shipping-labels", json=body([id_ou]))
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/forbidden"


async def test_only_units_that_need_to_be_sent_get_labels(
    client: SignedClient, world: World
) -> None:
    sent, cancelled, ready = order_units(world, 3)
    m.send_order_unit(world, CLIENT_KEY, sent, "1234", "DHL")
    m.cancel_order_unit(world, CLIENT_KEY, cancelled, "NoInventory")
    for id_ou, status in ((sent, "sent"), (cancelled, "cancelled")):
        response = await client.post("/shipping-labels", json=body([ready, id_ou]))
        assert response.status_code == 422
        answer = response.json()
        assert answer["type"] == "/problems/action-not-allowed"
        assert f"Order unit {id_ou} is {status}" in answer["message"]


async def test_one_package_serves_one_order(client: SignedClient, world: World) -> None:
    [a] = order_units(world, 1)
    [b] = order_units(world, 1)
    response = await client.post("/shipping-labels", json=body([a, b]))
    assert response.status_code == 422
    assert "orders" in response.json()["message"]


@pytest.mark.parametrize(
    "package",
    [
        PACKAGE | {"weight_gram": 40_001},
        PACKAGE | {"length_cm": 201},
        {"weight_gram": 1000, "width_cm": 60, "height_cm": 40, "length_cm": 120},  # 320 cm
    ],
)
async def test_parcels_beyond_gls_limits_are_422(
    client: SignedClient, world: World, package: dict[str, int]
) -> None:
    ids = order_units(world, 1)
    response = await client.post("/shipping-labels", json=body(ids, package_measurements=package))
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/action-not-allowed"


async def test_the_largest_gls_parcel_is_fine(client: SignedClient, world: World) -> None:
    ids = order_units(world, 1)
    package = {"weight_gram": 40_000, "width_cm": 25, "height_cm": 25, "length_cm": 200}
    response = await client.post("/shipping-labels", json=body(ids, package_measurements=package))
    assert response.status_code == 201


async def test_without_a_warehouse_there_is_no_sender(client: SignedClient, world: World) -> None:
    ids = order_units(world, 1)
    world.seller(CLIENT_KEY).table("warehouses").clear()
    response = await client.post("/shipping-labels", json=body(ids))
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/shipping-labels/warehouse-missing"


def test_the_pdf_is_well_formed_and_in_the_fonts_encoding() -> None:
    label: Record = {
        "id": "x",
        "carrier": "GLS",
        "tracking_number": "123456789012",
        "ids_order_units": [1, 2],
        "package_measurements": PACKAGE,
        "ts_created_iso": "2026-01-01T00:00:00Z",
        "_created": 1_767_225_600.0,
        "_id_order": "MB7UWLD",
        "_sender": {"name": "Lager (Süd)", "street": "Straße", "city": "Brno", "country": "CZ"},
        "_recipient": {"first_name": "Jiří", "last_name": "Dvořák", "country": "CZ"},
    }
    pdf = label_pdf(label)
    # Windows-1252 (WinAnsiEncoding): what it has stays (ü, í, á), the rest loses accents (ř).
    assert "(Lager \\(Süd\\)) Tj".encode("cp1252") in pdf
    assert "(Jirí Dvorák) Tj".encode("cp1252") in pdf
    assert b"/Encoding /WinAnsiEncoding" in pdf
    # The cross-reference table points at every object.
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in pdf[xref:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())
