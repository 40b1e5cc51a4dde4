"""``/variant-suggestions/feed``: variant-suggestion files given by URL, served by the same
import-file code as ``/product-data/import-files`` but kept apart from them."""

from __future__ import annotations

import httpx
import pytest

from kaufland_sync.sandbox.routes.product_data import FEEDS_PER_DAY
from kaufland_sync.sandbox.world import World
from tests.conformance import SpecRecorder
from tests.sandbox.conftest import CLIENT_KEY, FakeClock, SignedClient

UPLOAD = "/variant-suggestions/feed/upload-by-url"
FEED = "/variant-suggestions/feed"


@pytest.fixture
def recorder(http: httpx.AsyncClient) -> SpecRecorder:
    """Validates every exchange of the test against the spec (checked at the end)."""
    recorder = SpecRecorder()

    async def check(response: httpx.Response) -> None:
        # The spec's server is plain http://{host}/v2; the signed client talks https.
        response.request.url = response.request.url.copy_with(scheme="http")
        await recorder(response)

    http.event_hooks["response"].append(check)
    return recorder


async def upload(client: SignedClient, url: str = "https://example.com/variants.csv") -> int:
    response = await client.post(UPLOAD, json={"url": url})
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["id_import_file"])


async def test_upload_get_and_list(client: SignedClient, recorder: SpecRecorder) -> None:
    created = await client.post(UPLOAD, json={"url": "https://example.com/v.csv"})
    assert created.status_code == 200
    file = created.json()["data"]
    assert file["uri"] == "https://example.com/v.csv"
    # The demo world reviews at once (review_delay 0), so the file reads as done.
    assert file["status"] == "DONE" and file["async_import_done"] == 1
    assert file["ts_created"].count(":") == 2 and "T" not in file["ts_created"]

    got = await client.get(f"{FEED}/{file['id_import_file']}")
    assert got.json()["data"] == file
    second = await upload(client, "https://example.com/w.csv")
    listed = (await client.get(FEED, params={"sort": "ts_created:asc", "limit": 1})).json()
    assert listed["pagination"] == {"offset": 0, "limit": 1, "total": 2}
    assert [f["id_import_file"] for f in listed["data"]] == [file["id_import_file"]]
    newest = (await client.get(FEED)).json()["data"]
    assert [f["id_import_file"] for f in newest] == [second, file["id_import_file"]]
    assert (await client.get(FEED, params={"status": "NEW"})).json()["pagination"]["total"] == 0
    assert recorder.failures == [], "\n".join(recorder.failures)
    assert len(recorder.operations) == 3


async def test_feeds_and_product_data_files_are_kept_apart(client: SignedClient) -> None:
    id_variant = await upload(client)
    made = await client.post("/product-data/import-files", json={"url": "https://example.com/p"})
    id_product_file = made.json()["data"]["id_import_file"]

    assert [f["id_import_file"] for f in (await client.get(FEED)).json()["data"]] == [id_variant]
    product_files = (await client.get("/product-data/import-files")).json()["data"]
    assert [f["id_import_file"] for f in product_files] == [id_product_file]
    wrong_kind = await client.get(f"{FEED}/{id_product_file}")
    assert wrong_kind.status_code == 404
    assert wrong_kind.json() == {"message": f"Variant suggestion feed {id_product_file} not found"}
    assert (await client.get(f"/product-data/import-files/{id_variant}")).status_code == 404


async def test_files_are_the_sellers_own(client: SignedClient, other_client: SignedClient) -> None:
    id_file = await upload(client)
    assert (await other_client.get(f"{FEED}/{id_file}")).status_code == 404
    assert (await other_client.get(FEED)).json()["pagination"]["total"] == 0


async def test_daily_quota_answers_429_and_frees_up_after_a_day(
    client: SignedClient, clock: FakeClock
) -> None:
    for _ in range(FEEDS_PER_DAY):
        await upload(client)
    refused = await client.post(UPLOAD, json={"url": "https://example.com/more.csv"})
    assert refused.status_code == 429
    body = refused.json()
    assert body["message"] == f"Limit of {FEEDS_PER_DAY} feeds per day reached."
    assert body["errors"] == []
    # Product-data files have a quota of their own.
    other = await client.post("/product-data/import-files", json={"url": "https://example.com/p"})
    assert other.status_code == 200
    clock.advance(86_400)
    assert (await client.post(UPLOAD, json={"url": "https://example.com/x"})).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": ""}, "url"),
        ({"url": "ftp://example.com/v.csv"}, "url"),
        ({"url": 5}, "url"),
        ({"url": "https://example.com/v.csv", "name": "x"}, "name"),
    ],
)
async def test_bad_bodies_are_validation_errors(
    client: SignedClient, world: World, body: dict[str, object], field: str
) -> None:
    response = await client.post(UPLOAD, json=body)
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/validation-error"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert world.seller(CLIENT_KEY).table("product_data_import_files") == {}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 101}, "limit"), ({"status": "DONEISH"}, "status"), ({"sort": "id:asc"}, "sort")],
)
async def test_bad_list_parameters(
    client: SignedClient, params: dict[str, object], field: str
) -> None:
    response = await client.get(FEED, params=params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


async def test_a_malformed_id_is_a_400(client: SignedClient) -> None:
    response = await client.get(f"{FEED}/abc")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "id_import_file"
