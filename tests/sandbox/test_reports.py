"""Report requests (all nine kinds) and their progress to DONE."""

from __future__ import annotations

from typing import Any

import pytest

from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox.routes.reports import render_report
from kaufland_sync.sandbox.world import World
from tests.sandbox._market import available_units
from tests.sandbox.conftest import CLIENT_KEY, FakeClock, SignedClient

DATES = {"date_from": "2026-01-01", "date_to": "2026-01-31"}
KINDS = [
    ("account-listing", {"storefront": "de"}, None, []),
    ("eans-not-found", {"storefront": "de"}, None, []),
    ("product-data-changes", {"storefront": "de"}, None, []),
    ("competitors-comparer", {"storefront": "de"}, None, []),
    ("price-competitiveness", {"storefront": "de"}, None, []),
    (
        "cancellations",
        {"storefront": "de", "cancellation_type": "seller_related"},
        None,
        [{"name": "cancellation_type", "value": "seller_related"}],
    ),
    ("sales-new", {"storefront": "de"}, DATES, [{"name": k, "value": v} for k, v in DATES.items()]),
    (
        "bookings-new",
        {"storefront": "de", "version": "v2"},
        DATES,
        [{"name": "version", "value": "v2"}, *({"name": k, "value": v} for k, v in DATES.items())],
    ),
    (
        "product-data-import-file-errors",
        {},
        {"id_file_import": 77},
        [{"name": "id_file_import", "value": 77}],
    ),
]


@pytest.fixture
def api(client: SignedClient) -> SignedClient:
    return client


@pytest.mark.parametrize(("kind", "params", "body", "parameters"), KINDS)
async def test_every_kind_is_accepted(
    api: SignedClient,
    clock: FakeClock,
    kind: str,
    params: dict[str, str],
    body: dict[str, Any] | None,
    parameters: list[dict[str, Any]],
) -> None:
    if kind == "product-data-import-file-errors":  # the report is about a file that exists
        created = await api.post("/product-data/import-files", json={"url": "https://e.x/f.csv"})
        id_file = created.json()["data"]["id_import_file"]
        body = {"id_file_import": id_file}
        parameters = [{"name": "id_file_import", "value": id_file}]
    r = (
        await api.post(f"/reports/{kind}", params=params, json=body)
        if body
        else await api.post(f"/reports/{kind}", params=params)
    )
    assert r.status_code == 202, r.text
    requested = r.json()["data"]
    assert set(requested) == {"id_report", "report_name", "storefront", "parameters"}
    assert requested["parameters"] == parameters
    assert requested["storefront"] == params.get("storefront", "")

    report = (await api.get(f"/reports/{requested['id_report']}")).json()["data"]
    assert report["status"] == "NEW" and report["url"] == ""
    assert len(report["date_requested"]) == 19 and "T" not in report["date_requested"]
    clock.advance(0.5)
    assert (await api.get(f"/reports/{requested['id_report']}")).json()["data"][
        "status"
    ] == "PROCESSING"
    clock.advance(0.5)
    report = (await api.get(f"/reports/{requested['id_report']}")).json()["data"]
    assert report["status"] == "DONE"
    assert report["url"].endswith(f"/_sandbox/files/reports/{requested['id_report']}.csv")


@pytest.mark.parametrize(
    ("kind", "params", "body", "field"),
    [
        ("account-listing", {}, None, "storefront"),
        (
            "cancellations",
            {"storefront": "de", "cancellation_type": "some"},
            None,
            "cancellation_type",
        ),
        ("sales-new", {"storefront": "de"}, {"date_from": "2026-02-01"}, "date_to"),
        (
            "sales-new",
            {"storefront": "de"},
            {"date_from": "01.02.2026", "date_to": "2026-02-02"},
            "date_from",
        ),
        (
            "sales-new",
            {"storefront": "de"},
            {"date_from": "2026-03-01", "date_to": "2026-02-01"},
            "date_to",
        ),
        ("bookings-new", {"storefront": "de", "version": "v1"}, DATES, "version"),
        ("product-data-import-file-errors", {}, {"id_file_import": "x"}, "id_file_import"),
    ],
)
async def test_report_requests_are_validated(
    api: SignedClient,
    kind: str,
    params: dict[str, str],
    body: dict[str, Any] | None,
    field: str,
) -> None:
    r = (
        await api.post(f"/reports/{kind}", params=params, json=body)
        if body
        else await api.post(f"/reports/{kind}", params=params)
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == field


async def test_list_reports(api: SignedClient, clock: FakeClock) -> None:
    ids = []
    for storefront in ("de", "cz", "de"):
        r = await api.post("/reports/account-listing", params={"storefront": storefront})
        ids.append(r.json()["data"]["id_report"])
        clock.advance(1)
    r = await api.get("/reports")
    assert [x["id_report"] for x in r.json()["data"]] == ids[::-1]
    assert r.json()["data"][0]["status"] == "DONE"
    r = await api.get("/reports", params={"sort": "date_requested:asc", "storefront": "de"})
    assert [x["id_report"] for x in r.json()["data"]] == [ids[0], ids[2]]
    assert (await api.get("/reports", params={"limit": 31})).status_code == 400
    assert (await api.get("/reports", params={"sort": "name"})).status_code == 400
    assert (await api.get("/reports/1")).status_code == 404


async def test_report_files_carry_the_sellers_data(api: SignedClient, world: World) -> None:
    unit = available_units(world)[0]
    m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    today = world.now_iso()[:10]
    sales = await api.post(
        "/reports/sales-new",
        params={"storefront": "de"},
        json={"date_from": today, "date_to": today},
    )
    listing = await api.post("/reports/account-listing", params={"storefront": "de"})
    seller = world.seller(CLIENT_KEY)
    reports = seller.table("reports")
    sales_csv = render_report(seller, reports[str(sales.json()["data"]["id_report"])]).decode()
    assert sales_csv.splitlines()[0].startswith("id_order;id_order_unit")
    assert len(sales_csv.splitlines()) == 2
    listing_csv = render_report(seller, reports[str(listing.json()["data"]["id_report"])]).decode()
    assert str(unit["id_unit"]) in listing_csv


async def test_import_file_errors_report_needs_a_product_data_file(api: SignedClient) -> None:
    unknown = await api.post(
        "/reports/product-data-import-file-errors", json={"id_file_import": 999_999}
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "id_file_import"
    feed = await api.post(
        "/variant-suggestions/feed/upload-by-url", json={"url": "https://e.x/variants.csv"}
    )
    assert feed.status_code == 200, feed.text
    variant = await api.post(
        "/reports/product-data-import-file-errors",
        json={"id_file_import": feed.json()["data"]["id_import_file"]},
    )
    assert variant.status_code == 400
