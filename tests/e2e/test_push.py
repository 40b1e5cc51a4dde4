"""Push notifications end to end: subscribe, verify the callback, receive signed events."""

from __future__ import annotations

import asyncio
import json

import pytest

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import sign_request
from kaufland_sync.sellerapi.errors import ApiError
from tests.conformance import SpecRecorder
from tests.e2e.conftest import MAIN_SECRET, Control, open_client
from tests.e2e.receiver import start_receiver


async def test_order_event_is_delivered_signed(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    receiver, _thread = start_receiver()
    try:
        async with open_client(sandbox, recorder) as api:
            await api.subscriptions.create(
                callback_url=receiver.url, event_name="order_new", fallback_email="ops@example.com"
            )
            unit = next(
                u for u in (await api.units.list(limit=50)).items if u.status == "AVAILABLE"
            )
            placed = await api.playground.create_orders([(unit.id_unit, 1)])
            for _ in range(100):  # the sandbox's notifier polls every 0.2 s
                if receiver.deliveries:
                    break
                await asyncio.sleep(0.05)
            assert receiver.deliveries, "no push notification arrived within 5 s"
            delivery = receiver.deliveries[0]
            event = json.loads(delivery.body)
            assert event["event_name"] == "order_new"
            assert placed[0].id_order in event["resource"]
            assert event["storefront"] == "de"
            timestamp = delivery.headers["Shop-Timestamp"]
            expected = sign_request("POST", receiver.url, delivery.body, timestamp, MAIN_SECRET)
            assert delivery.headers["Shop-Signature"] == expected
            # The event carries no data: the receiver reads the order through the API.
            order = await api.orders.get(placed[0].id_order)
            assert order.id_order == placed[0].id_order
    finally:
        receiver.close()


async def test_unverifiable_callback_is_refused(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder) as api:
        with pytest.raises(ApiError) as caught:
            await api.subscriptions.create(
                callback_url="http://127.0.0.1:9/nobody-listens",
                event_name="order_new",
                fallback_email="ops@example.com",
            )
    assert caught.value.status_code == 400
    assert caught.value.problem_type == "/problems/subscriptions/unverified-callback-url"
