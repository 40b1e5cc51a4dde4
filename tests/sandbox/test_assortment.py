"""``GET /assortment-coverage/insights`` and the seeded market data behind it."""

from __future__ import annotations

import httpx
import pytest

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox.seed import ASSORTMENT_PER_LEAF, assortment_insights, seed_world
from kaufland_sync.sandbox.world import World
from tests.conformance import SpecRecorder
from tests.sandbox.conftest import FakeClock, SignedClient, make_config

PATH = "/assortment-coverage/insights"
HIGH_DEMAND = ("Very high", "High")


@pytest.fixture
def recorder(http: httpx.AsyncClient) -> SpecRecorder:
    """Validates every exchange of the test against the spec (checked by the test)."""
    recorder = SpecRecorder()

    async def check(response: httpx.Response) -> None:
        # The spec's server is plain http://{host}/v2; the signed client talks https.
        response.request.url = response.request.url.copy_with(scheme="http")
        await recorder(response)

    http.event_hooks["response"].append(check)
    return recorder


def leaf_count(world: World) -> int:
    return sum(1 for c in world.catalog["categories"].values() if c["is_leaf"])


async def test_pages_of_insights_conform_to_the_spec(
    client: SignedClient, world: World, recorder: SpecRecorder
) -> None:
    total = leaf_count(world) * ASSORTMENT_PER_LEAF
    first = (await client.get(PATH)).json()
    assert first["pagination"] == {"offset": 0, "limit": 10, "total": total}
    assert len(first["data"]) == 10
    everything = (await client.get(PATH, params={"limit": 5000})).json()["data"]
    assert len(everything) == total
    assert everything[:10] == first["data"]
    window = (await client.get(PATH, params={"offset": 25, "limit": 5})).json()["data"]
    assert window == everything[25:30]
    past_the_end = (await client.get(PATH, params={"offset": total})).json()
    assert past_the_end["data"] == [] and past_the_end["pagination"]["total"] == total
    assert recorder.failures == [], "\n".join(recorder.failures)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "greater than or equal to 1"),
        ({"limit": 5001}, "less than or equal to 5000"),
        ({"offset": -1}, "greater than or equal to 0"),
        ({"limit": "ten"}, "of type integer"),
    ],
)
async def test_bad_paging_is_a_validation_error(
    client: SignedClient, params: dict[str, object], message: str
) -> None:
    response = await client.get(PATH, params=params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == next(iter(params)) and message in error["message"]


async def test_offering_a_product_removes_its_insight(client: SignedClient, world: World) -> None:
    everything = (await client.get(PATH, params={"limit": 5000})).json()["data"]
    wanted = everything[3]["ean"]
    unit = {"ean": wanted, "id_offer": "SKU-GAP-1", "listing_price": 2999, "handling_time": 1}
    created = await client.post("/units", params={"storefront": "pl"}, json=unit)
    assert created.status_code == 200, created.text
    after = (await client.get(PATH, params={"limit": 5000})).json()
    assert after["pagination"]["total"] == len(everything) - 1
    assert after["data"] == everything[:3] + everything[4:]


async def test_other_sellers_see_the_full_list(
    client: SignedClient, other_client: SignedClient, world: World
) -> None:
    ean = assortment_insights(world)[0]["ean"]
    unit = {"ean": ean, "id_offer": "SKU-GAP-2", "listing_price": 2999, "handling_time": 1}
    assert (await client.post("/units", params={"storefront": "de"}, json=unit)).is_success
    mine = (await client.get(PATH)).json()["pagination"]["total"]
    theirs = (await other_client.get(PATH)).json()["pagination"]["total"]
    assert theirs == mine + 1


def test_the_data_set_is_deterministic_and_realistic(world: World) -> None:
    insights = assortment_insights(world)
    assert len(insights) == leaf_count(world) * ASSORTMENT_PER_LEAF >= 200
    again = World(make_config(), clock=FakeClock())
    seed_world(again, "empty")  # market data: there without the demo catalogue too
    assert assortment_insights(again) == insights
    reseeded = World(make_config(random_seed=8), clock=FakeClock())
    seed_world(reseeded, "demo")
    assert assortment_insights(reseeded) != insights

    eans = [r["ean"] for r in insights]
    assert len(set(eans)) == len(eans)
    assert all(len(e) == 13 and catalog.is_valid_gtin(e) for e in eans)
    catalogue = {e for p in world.catalog["products"].values() for e in p["eans"]}
    assert not catalogue & set(eans)

    ranks = [r["external_rank"] for r in insights]
    known = [r for r in ranks if r is not None]
    assert known == sorted(known) and ranks[: len(known)] == known  # most relevant first
    for r in insights:
        prices = [r[f"buybox_price_l_{d}_day"] for d in (90, 60, 30)] + [r["buybox_price_current"]]
        assert all(p is None or (isinstance(p, int) and p > 0) for p in prices)
        assert r["currency"] == "EUR"
        if r["sales_rank"] is None:  # not sold on Kaufland: no buybox either
            assert prices == [None] * 4
        assert r["kaufland_bestseller"] == (r["sales_rank"] is not None and r["sales_rank"] <= 1000)
        high = r["external_demand_indicator"] in HIGH_DEMAND
        assert r["external_bestseller_missed"] == (high and r["sales_rank"] is None)
        if r["popular_product_bad_priced"]:
            assert high and r["buybox_price_current"] > r["benchmark_price_max"]
        if r["benchmark_price_min"] is not None:
            assert r["benchmark_price_min"] <= r["benchmark_price_max"]
        if r["external_rank"] is None:
            assert r["external_demand_indicator"] in ("NA", None)
    # Each flag and each kind of gap occurs.
    for flag in ("external_bestseller_missed", "popular_product_bad_priced", "kaufland_bestseller"):
        assert any(r[flag] for r in insights), flag
    for field in ("brand", "category_2", "benchmark_price_min", "external_rank", "sales_rank"):
        assert any(r[field] is None for r in insights), field
    demand = {r["external_demand_indicator"] for r in insights}
    assert demand == {"Very high", "High", "Medium", "Low", "Very low", "NA", None}
