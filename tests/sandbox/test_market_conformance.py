"""Every marketplace operation, exercised once through the real app, with each request and
answer validated against Kaufland's OpenAPI spec 2.27.0 (tests/conformance.py)."""

from __future__ import annotations

import base64

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox import notify
from kaufland_sync.sandbox.world import World
from tests.conformance import SpecRecorder
from tests.sandbox._market import available_units
from tests.sandbox.conftest import CLIENT_KEY, FakeClock, SignedClient


@pytest.fixture
def recorder(http: httpx.AsyncClient) -> SpecRecorder:
    recorder = SpecRecorder()

    async def check(response: httpx.Response) -> None:
        # The spec's test server is plain http://{host}/v2; the signed client talks https.
        response.request.url = response.request.url.copy_with(scheme="http")
        await recorder(response)

    http.event_hooks["response"].append(check)
    return recorder


def _echo_receiver() -> httpx.ASGITransport:
    async def hook(request: Request) -> Response:
        return PlainTextResponse(request.query_params.get("challenge", ""))

    return httpx.ASGITransport(
        app=Starlette(routes=[Route("/hook", hook, methods=["GET", "POST"])])
    )


async def test_marketplace_answers_conform_to_the_spec(
    client: SignedClient, world: World, clock: FakeClock, recorder: SpecRecorder
) -> None:
    unit = next(u for u in available_units(world) if int(u["amount"]) >= 3)
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 3)])
    id_order = order["id_order"]
    a, b, c = (int(i) for i in order["_order_unit_ids"])
    # while still open (no tick has run yet), then released
    await client.get(f"/order-units/{a}")
    await client.get(f"/orders/{id_order}")
    clock.advance(1)

    await client.get(
        "/orders", params={"storefront": "de", "fulfillment_type": "fulfilled_by_merchant"}
    )
    await client.get(
        f"/orders/{id_order}", params={"embedded": ["order_invoices", "delivery", "kss_delivery"]}
    )
    await client.get(
        "/order-units", params={"status": ["need_to_be_sent", "open"], "sort": "ts_updated:desc"}
    )
    await client.get(
        f"/order-units/{a}", params={"embedded": ["return_unit", "tickets", "delivery"]}
    )
    assert (await client.patch(f"/order-units/{a}/fulfil")).status_code == 204
    send = {"tracking_numbers": "0034043416,0034043417", "carrier_code": "DHL"}
    assert (await client.patch(f"/order-units/{a}/send", json=send)).status_code == 204
    assert (await client.patch(f"/order-units/{b}/send", json=send)).status_code == 204
    shipment = {
        "id_order_unit": a,
        "shipment_information": {"carrier_code": "DPD", "tracking_number": "X1"},
    }
    assert (await client.post("/shipments", json=shipment)).status_code == 204
    assert (
        await client.patch(f"/order-units/{c}/cancel", json={"reason": "NoInventory"})
    ).status_code == 204
    refund = {"amount": 100, "reason": "delivery_delay"}
    assert (await client.patch(f"/order-units/{a}/refund", json=refund)).status_code == 204
    await client.patch(f"/order-units/{c}/cancel", json={"reason": "NoInventory"})  # 400
    await client.get("/order-units/1")  # 404

    pdf = base64.b64encode(b"%PDF-1.4").decode()
    upload = {"original_name": "invoice.pdf", "mime_type": "application/pdf", "data": pdf}
    invoice = (await client.post(f"/order-invoices/{id_order}", json=upload)).json()["data"]
    await client.get("/order-invoices", params={"storefront": "de"})
    await client.get(f"/order-invoices/{id_order}/{invoice['id_invoice']}")
    assert (
        await client.delete(f"/order-invoices/{id_order}/{invoice['id_invoice']}")
    ).status_code == 204

    ret = (
        await client.post(
            "/returns", json=[{"id_order_unit": a, "reason": "defect", "note": "Broken glass"}]
        )
    ).json()["data"]
    await client.put(
        f"/returns/{ret['id_return']}",
        json=[{"id_order_unit": b, "reason": "dislike", "note": "Not for me"}],
    )
    await client.get("/returns", params={"status": ["return_requested"]})
    await client.get(f"/returns/{ret['id_return']}", params={"embedded": ["buyer", "return_units"]})
    id_ru = ret["return_units"][0]["id_return_unit"]
    m.mark_return_arrived(world, CLIENT_KEY, id_ru)
    await client.get("/return-units", params={"status": ["return_arrived"]})
    await client.get(
        f"/return-units/{id_ru}", params={"embedded": ["return", "order_unit", "tickets"]}
    )
    await client.patch(f"/return-units/{id_ru}/clarify", json={"message": "Photo please"})
    await client.patch(f"/return-units/{id_ru}/repair")
    await client.patch(f"/return-units/{id_ru}/reject", json={"message": "Damaged by use"})
    await client.patch(f"/return-units/{id_ru}/accept")  # 400 unit-wrong-status

    opened = await client.post(
        "/tickets", json={"id_order_unit": [b], "reason": "contact_other", "message": "Hi"}
    )
    id_ticket = opened.json()["data"]["id_ticket"]
    await client.get("/tickets", params={"status": ["opened"], "storefront": ["de"]})
    await client.get(
        f"/tickets/{id_ticket}",
        params={"embedded": ["buyer", "product", "messages", "order_units", "files"]},
    )
    assert (
        await client.post(f"/tickets/{id_ticket}/messages", json={"text": "More"})
    ).status_code == 201
    await client.get("/tickets/messages", params={"sort": "ts_created_iso:asc"})
    assert (await client.patch(f"/tickets/{id_ticket}/close")).status_code == 204

    notify.notifier_for(world, _echo_receiver())
    body = {
        "callback_url": "http://hooks.test/hook",
        "fallback_email": "a@b.example",
        "event_name": "order_new",
    }
    sub = (await client.post("/subscriptions", params={"storefront": "de"}, json=body)).json()[
        "data"
    ]
    await client.get("/subscriptions", params={"event_name": "order_new"})
    await client.get(f"/subscriptions/{sub['id_subscription']}")
    await client.patch(f"/subscriptions/{sub['id_subscription']}", json={"is_active": False})
    assert (await client.delete(f"/subscriptions/{sub['id_subscription']}")).status_code == 204

    dates = {"date_from": "2026-01-01", "date_to": "2026-01-31"}
    pd_file = await client.post(
        "/product-data/import-files", json={"url": "https://x.example/p.csv"}
    )
    id_pd_file = pd_file.json()["data"]["id_import_file"]
    report_ids = []
    for kind, params, json_body in [
        ("account-listing", {"storefront": "de"}, None),
        ("bookings-new", {"storefront": "de", "version": "v2"}, dates),
        ("eans-not-found", {"storefront": "de"}, None),
        ("product-data-changes", {"storefront": "de"}, None),
        ("cancellations", {"storefront": "de", "cancellation_type": "all"}, None),
        ("competitors-comparer", {"storefront": "de"}, None),
        ("sales-new", {"storefront": "de"}, dates),
        ("price-competitiveness", {"storefront": "de"}, None),
        ("product-data-import-file-errors", {}, {"id_file_import": id_pd_file}),
    ]:
        r = await client.post(f"/reports/{kind}", params=params, json=json_body)
        assert r.status_code == 202, r.text
        report_ids.append(r.json()["data"]["id_report"])
    for segment, params in [
        ("inventory-feed", {"storefront": "de"}),
        ("inventory-command", {"storefront": "de"}),
        ("order-command", {}),
    ]:
        created = await client.post(
            f"/import-files/{segment}", params=params, json={"url": "https://x.example/f.csv"}
        )
        assert created.status_code == 201
        await client.get(f"/import-files/{segment}", params={**params, "sort": "id:desc"})
    clock.advance(60)  # reports done, imports finished
    await client.get("/reports", params={"sort": "date_requested:desc"})
    await client.get(f"/reports/{report_ids[0]}")
    for segment, params in [("inventory-feed", {"storefront": "de"}), ("order-command", {})]:
        listing = (await client.get(f"/import-files/{segment}", params=params)).json()["data"]
        await client.get(f"/import-files/{segment}/{listing[0]['id_import_file']}", params=params)

    assert recorder.failures == [], "\n".join(recorder.failures)
    assert len(recorder.operations) >= 45
