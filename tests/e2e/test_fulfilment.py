"""Shipping, extra parcels, cancel, invoice and refund end to end: a playground order imported
with ``import_orders``, the commands of ``sync.fulfilment`` and the outbox worker, against the
sandbox over loopback HTTP (every exchange checked against Kaufland's spec) — and the same
worker while the sandbox fails every request, then after it recovers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient, RetryPolicy
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.orders import MappingKind, OrderLine, OrderMapping
from kaufland_sync.store.models.outbox import OutboxMessage, OutboxState
from kaufland_sync.sync import fulfilment
from kaufland_sync.sync.importers.orders import import_orders
from kaufland_sync.sync.outbox import run_outbox
from tests.conformance import SpecRecorder
from tests.e2e.conftest import MAIN_KEY, Control, make_account, open_client

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


class Clock:
    """Real time plus an offset the test moves forward (to pass the outbox's backoff)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def place_order(client: KauflandClient, pieces: int) -> str:
    """A playground order of ``pieces`` pieces of one unit with enough stock on ``de``."""
    page = await client.units.list(storefront="de", limit=100)
    unit = next(u for u in page if u.status == "AVAILABLE" and (u.amount or 0) >= pieces)
    (order,) = await client.playground.create_orders([(unit.id_unit, pieces)], storefront="de")
    return order.id_order


def states(factory: sessionmaker[Session]) -> dict[int, tuple[str, int, str | None]]:
    with factory() as session:
        return {
            m.id: (m.state.value, m.attempts, m.last_error)
            for m in session.scalars(select(OutboxMessage))
        }


async def test_a_playground_order_is_shipped_cancelled_invoiced_and_refunded(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    account = make_account(factory, sandbox)
    with transaction(factory) as session:
        session.add(
            OrderMapping(
                account_id=account.id,
                kind=MappingKind.CARRIER,
                source="Paketdienst",
                target="dhl",
            )
        )
    clock = Clock()
    shop = sandbox.world.seller(MAIN_KEY)
    async with open_client(sandbox, recorder, retry=FAST_RETRY) as client:
        id_order = await place_order(client, 3)
        await import_orders(client, factory, account, ["de"], clock=clock)
        with factory() as session:
            lines = session.scalars(select(OrderLine.id_order_unit)).all()
        assert len(lines) == 3
        shipped, parcel, cancelled = sorted(lines)
        carriers = await fulfilment.CarrierCache().names(client)

        with transaction(factory) as session:
            fulfilment.ship(
                session,
                account.id,
                id_order,
                carrier="paketdienst",
                tracking_numbers=["00340434161094042557", "00340434161094042558"],
                carriers=carriers,
                units=[shipped, parcel],
            )
            fulfilment.cancel(session, account.id, id_order, reason="out of stock")
            fulfilment.invoice(
                session, account.id, id_order, content=b"%PDF-1.4 R-1", file_name="R-1.pdf"
            )
        with transaction(factory) as session:
            # Extra parcel and a refund, queued behind the send of their unit.
            fulfilment.ship(
                session,
                account.id,
                id_order,
                carrier="DPD",
                tracking_numbers=["DPD-0001"],
                carriers=carriers,
                units=[parcel],
            )
            fulfilment.refund(
                session, account.id, id_order, id_order_unit=shipped, amount=250, reason="late"
            )

        summary = await run_outbox(client, factory, account.id, clock=clock)
        assert summary.sent == 6 and summary.failed == summary.unknown == 0

        units = {u: await client.order_units.get(u) for u in lines}
        assert units[shipped].status == "sent" and units[parcel].status == "sent"
        assert units[cancelled].status == "cancelled"
        assert units[cancelled].cancel_reason == "NoInventory"
        invoices = [i async for i in client.order_invoices.iter_all() if i.id_order == id_order]
        assert [i.original_name for i in invoices] == ["R-1.pdf"]

    tracking: dict[int, list[tuple[str, str]]] = {}
    for s in shop.table("shipments").values():
        pair = (s["carrier_code"], s["tracking_number"])
        tracking.setdefault(s["id_order_unit"], []).append(pair)
    assert tracking[shipped] == [
        ("DHL", "00340434161094042557"),
        ("DHL", "00340434161094042558"),
    ]
    assert tracking[parcel][-1] == ("DPD", "DPD-0001") and len(tracking[parcel]) == 3
    assert [r["amount"] for r in shop.table("order_units")[str(shipped)]["_refunds"]] == [250]
    assert set(s for s, _, _ in states(factory).values()) == {"done"}


async def test_while_kaufland_fails_everything_messages_wait_and_then_go_exactly_once(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    account = make_account(factory, sandbox)
    clock = Clock()
    shop = sandbox.world.seller(MAIN_KEY)
    async with open_client(sandbox, recorder, retry=FAST_RETRY) as client:
        id_order = await place_order(client, 2)
        await import_orders(client, factory, account, ["de"], clock=clock)
        carriers = await fulfilment.CarrierCache().names(client)
        with factory() as session:
            to_ship, to_cancel = sorted(session.scalars(select(OrderLine.id_order_unit)).all())
        with transaction(factory) as session:
            fulfilment.ship(
                session,
                account.id,
                id_order,
                carrier="GLS",
                tracking_numbers=["GLS-1", "GLS-2"],
                carriers=carriers,
                units=[to_ship],
            )
            fulfilment.cancel(session, account.id, id_order, reason="buyer request")
            fulfilment.invoice(
                session, account.id, id_order, content=b"%PDF-1.7 R-9", file_name="R-9.pdf"
            )

        control.faults(error_rate=1.0)
        try:
            for _ in range(2):
                down = await run_outbox(client, factory, account.id, clock=clock)
                assert down.retrying == 3 and down.sent == 0
                clock.offset += timedelta(hours=2)
        finally:
            control.faults(error_rate=0.0)
        waiting = states(factory)
        assert all(
            state == "pending" and attempts == 2 and error
            for state, attempts, error in waiting.values()
        )

        # Some writes may have been applied before the 5xx; a resend must not apply them twice.
        back = await run_outbox(client, factory, account.id, clock=clock)
        assert back.sent == 3 and back.failed == back.unknown == 0
        assert (await client.order_units.get(to_ship)).status == "sent"
        assert (await client.order_units.get(to_cancel)).status == "cancelled"
        invoices = [i async for i in client.order_invoices.iter_all() if i.id_order == id_order]
        assert [i.original_name for i in invoices] == ["R-9.pdf"]

        # A refund whose answer is lost is not sent again by the worker.
        with transaction(factory) as session:
            queued, _ = fulfilment.refund(
                session, account.id, id_order, id_order_unit=to_ship, amount=100, reason="other"
            )
        control.faults(error_rate=1.0)
        try:
            lost = await run_outbox(client, factory, account.id, clock=clock)
        finally:
            control.faults(error_rate=0.0)
        clock.offset += timedelta(hours=2)
        again = await run_outbox(client, factory, account.id, clock=clock)
    shipments = [s for s in shop.table("shipments").values() if s["id_order_unit"] == to_ship]
    assert sorted(s["tracking_number"] for s in shipments) == ["GLS-1", "GLS-2"]
    refunds = shop.table("order_units")[str(to_ship)]["_refunds"]
    with factory() as session:
        refund_state = session.get_one(OutboxMessage, queued.message_id).state
    if lost.unknown:  # a 5xx or a lost answer: it may or may not have been applied
        assert refund_state == OutboxState.UNKNOWN and len(refunds) <= 1
        assert again.processed == []
    else:  # refused before it was sent (the client saw a connect error): retried normally
        assert refund_state == OutboxState.DONE and len(refunds) == 1
