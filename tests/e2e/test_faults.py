"""Faults end to end: 5xx, timeouts, dropped connections and 429 bursts from the sandbox.

The client must end with the right final state: replay-safe updates are retried until they land,
creates are never replayed blindly (the caller reconciles by ``id_offer``), and steady traffic
paced by the client never sees a 429.
"""

from __future__ import annotations

import asyncio
import random

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient, RetryPolicy
from kaufland_sync.sellerapi.errors import OutcomeUnknownError
from kaufland_sync.sellerapi.models.units import Unit, UnitRequest
from tests.conformance import SpecRecorder
from tests.e2e.conftest import Control, open_client

FAST_RETRY = RetryPolicy(max_attempts=10, base_delay=0.02, max_delay=0.3)


async def test_updates_survive_errors_and_timeouts(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    rng = random.Random(42)
    async with open_client(sandbox, recorder, retry=FAST_RETRY, http_timeout=0.5) as api:
        units = [u.id_unit for u in (await api.units.list(limit=20)).items]
        control.faults(error_rate=0.1, timeout_rate=0.05, reset_rate=0.02, timeout_seconds=1.0)
        expected: dict[int, int] = {}

        async def patch_unit(id_unit: int) -> None:
            for _ in range(8):  # several writes per unit, in order; the last one must win
                amount = rng.randint(0, 999)
                await api.units.update(id_unit, {"amount": amount})
                expected[id_unit] = amount

        await asyncio.gather(*(patch_unit(u) for u in units))
        counts = control.status_counts()
        control.faults(error_rate=0, timeout_rate=0, reset_rate=0)
        actual = {u: (await api.units.get(u)).amount for u in units}
    assert actual == expected
    injected = sum(n for status, n in counts.items() if status >= 500)
    assert injected > 0, f"no fault was injected: {counts}"


async def create_once(api: KauflandClient, request: UnitRequest) -> Unit:
    """What an exporter does: create, and after an unknown outcome look before trying again."""
    while True:
        try:
            return await api.units.create(request)
        except OutcomeUnknownError:
            existing = (await api.units.list(id_offer=request.id_offer)).items
            if existing:
                return await api.units.get(existing[0].id_unit)


async def test_creates_are_reconciled_not_replayed(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder, retry=FAST_RETRY, http_timeout=0.5) as api:
        sample = (await api.units.list(limit=1, embedded=["products"])).items[0]
        product = await api.products.get(sample.id_product or 0)
        ean = product.eans[0]
        control.faults(error_rate=0.3, timeout_rate=0.1, timeout_seconds=1.0)
        skus = [f"FAULT-{n:03d}" for n in range(30)]
        created = await asyncio.gather(
            *(
                create_once(
                    api,
                    UnitRequest(
                        id_offer=sku, ean=ean, listing_price=1000 + n, amount=1, handling_time=1
                    ),
                )
                for n, sku in enumerate(skus)
            )
        )
        control.faults(error_rate=0, timeout_rate=0)
        per_sku = {sku: (await api.units.list(id_offer=sku)).items for sku in skus}
    assert {u.id_offer for u in created} == set(skus)
    assert all(len(units) == 1 for units in per_sku.values()), per_sku
    assert sorted(u.listing_price or 0 for u in created) == [1000 + n for n in range(30)]


async def test_a_burst_of_429_is_absorbed(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    control.faults(rate_limit_burst=25)
    async with open_client(sandbox, recorder, retry=FAST_RETRY) as api:
        answers = await asyncio.gather(*(api.status.ping() for _ in range(40)))
    assert all(a.message for a in answers)
    counts = control.status_counts()
    assert counts[429] == 25
    assert counts[200] == 40


async def test_paced_traffic_never_sees_a_429(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    """300 concurrent requests on one key, sandbox limit 111/s: the client paces them."""
    async with open_client(sandbox, recorder) as api:
        units = [u.id_unit for u in (await api.units.list(limit=30)).items]
        await asyncio.gather(
            *(api.units.update(units[n % len(units)], {"amount": n}) for n in range(300))
        )
    counts = control.status_counts()
    assert 429 not in counts
    assert counts[200] == 301


async def test_two_clients_of_one_key_share_the_pace(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder) as first, open_client(sandbox, recorder) as second:
        await asyncio.gather(
            *(first.status.ping() for _ in range(120)), *(second.status.ping() for _ in range(120))
        )
    counts = control.status_counts()
    assert 429 not in counts
    assert counts[200] == 240
