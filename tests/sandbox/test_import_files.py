"""Import files by URL (inventory feed, inventory command, order command)."""

from __future__ import annotations

import pytest

from kaufland_sync.sandbox.routes import import_files
from tests.sandbox.conftest import FakeClock, SignedClient

URL = "https://files.shop.example/feed.csv"


@pytest.fixture
def api(client: SignedClient) -> SignedClient:
    return client


@pytest.mark.parametrize(
    ("segment", "params", "import_type"),
    [
        ("inventory-feed", {"storefront": "de"}, "INVENTORY_FEED"),
        ("inventory-command", {"storefront": "de"}, "INVENTORY_COMMAND"),
        ("order-command", {}, "ORDER_COMMAND"),
    ],
)
async def test_an_import_walks_to_imported(
    api: SignedClient, clock: FakeClock, segment: str, params: dict[str, str], import_type: str
) -> None:
    r = await api.post(f"/import-files/{segment}", params=params, json={"url": URL})
    assert r.status_code == 201
    created = r.json()["data"]
    assert created["status"] == "NEW" and created["type"] == import_type and created["uri"] == URL
    assert ("storefront" in created) == bool(params)
    path = f"/import-files/{segment}/{created['id_import_file']}"

    seen = []
    for _ in range(len(import_files.PROGRESS)):
        seen.append((await api.get(path, params=params)).json()["data"]["status"])
        clock.advance(import_files.STEP)
    assert seen == list(import_files.PROGRESS)
    done = (await api.get(path, params=params)).json()["data"]
    assert done["status"] == "IMPORTED"
    assert done["ts_completed_iso"] > created["ts_completed_iso"]
    assert (
        await api.get(f"/import-files/{segment}", params={**params, "status": "IMPORTED"})
    ).json()["pagination"]["total"] == 1


async def test_import_files_are_kept_apart_by_type_and_storefront(api: SignedClient) -> None:
    feed = (
        await api.post(
            "/import-files/inventory-feed", params={"storefront": "de"}, json={"url": URL}
        )
    ).json()["data"]
    await api.post("/import-files/inventory-feed", params={"storefront": "cz"}, json={"url": URL})
    await api.post("/import-files/order-command", json={"url": URL})
    r = await api.get("/import-files/inventory-feed", params={"storefront": "de"})
    assert [x["id_import_file"] for x in r.json()["data"]] == [feed["id_import_file"]]
    r = await api.get(
        f"/import-files/inventory-command/{feed['id_import_file']}", params={"storefront": "de"}
    )
    assert r.status_code == 404
    r = await api.get(
        f"/import-files/inventory-feed/{feed['id_import_file']}", params={"storefront": "cz"}
    )
    assert r.status_code == 404
    r = await api.get("/import-files/order-command", params={"sort": "id:asc"})
    assert r.json()["pagination"]["total"] == 1


@pytest.mark.parametrize(
    ("segment", "params", "body", "query", "field"),
    [
        ("inventory-feed", {}, {"url": URL}, False, "storefront"),
        ("inventory-feed", {"storefront": "de"}, {"url": "feed.csv"}, False, "url"),
        ("order-command", {}, {}, False, "url"),
        ("order-command", {}, {"url": URL, "type": "x"}, False, "type"),
        ("order-command", {"limit": "31"}, None, True, "limit"),
        ("order-command", {"status": "DONE"}, None, True, "status"),
        ("order-command", {"sort": "ts_updated:desc"}, None, True, "sort"),
        ("inventory-command", {}, None, True, "storefront"),
    ],
)
async def test_import_file_validation(
    api: SignedClient,
    segment: str,
    params: dict[str, str],
    body: dict[str, str] | None,
    query: bool,
    field: str,
) -> None:
    if query:
        r = await api.get(f"/import-files/{segment}", params=params)
    else:
        r = await api.post(f"/import-files/{segment}", params=params, json=body)
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == field
