"""Returns end to end against the sandbox over loopback: a playground order is imported, shipped
and delivered, the buyer sends pieces back, ``import_returns`` brings them in with their reason,
arrivals give a deadline, and each decision (accept, reject, clarify, repair) queued locally and
sent by the outbox worker shows on the sandbox and, after the next import, locally. An accepted
piece goes back into the catalogue's stock once. Buyer tickets are imported too.

Every exchange is validated against Kaufland's spec by the recorder.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Currency, Product, StockLevel, Warehouse
from kaufland_sync.store.models.outbox import OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import ReturnUnit, Ticket
from kaufland_sync.store.models.sync import SyncKind, SyncRun
from kaufland_sync.sync.importers.orders import import_orders
from kaufland_sync.sync.importers.returns import import_returns
from kaufland_sync.sync.importers.tickets import import_tickets
from kaufland_sync.sync.outbox import run_outbox
from kaufland_sync.sync.returns import decide, decide_by, time_left
from tests.conformance import SpecRecorder
from tests.e2e.conftest import MAIN_KEY, Control, clock, make_account, open_client


def stock_of(factory: sessionmaker[Session], sku: str) -> int:
    with factory() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(StockLevel.quantity), 0))
            .join(Product, Product.id == StockLevel.product_id)
            .where(Product.sku == sku)
        )
        return int(total or 0)


def local_units(factory: sessionmaker[Session]) -> dict[int, ReturnUnit]:
    with factory() as session:
        return {u.id_order_unit or 0: u for u in session.scalars(select(ReturnUnit))}


async def ship_four_pieces(client: KauflandClient, control: Control) -> tuple[list[int], str]:
    """A playground order of four pieces, shipped and delivered; (order unit ids, SKU)."""
    unit = next(
        u
        for u in (await client.units.list(limit=50)).items
        if (u.amount or 0) >= 4 and u.status == "AVAILABLE"
    )
    placed = await client.playground.create_orders([(unit.id_unit, 4)])
    order = await client.orders.get(placed[0].id_order)
    ids = sorted(u.id_order_unit for u in order.order_units or [])
    assert len(ids) == 4 and unit.id_offer
    for id_ou in ids:
        await client.order_units.send(id_ou, carrier_code="DHL", tracking_numbers="0034001")
        control.delivered(id_ou)
    return ids, unit.id_offer


async def test_returns_are_imported_decided_and_restocked_once(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    account = make_account(factory, sandbox)
    with transaction(factory) as session:
        stored = session.get(Account, account.id)
        assert stored is not None
        stored.restock_returns = True

    async with open_client(sandbox, recorder) as client:
        ids, sku = await ship_four_pieces(client, control)
        with transaction(factory) as session:
            product = Product(
                sku=sku,
                ean="4000000000017",
                title="Returned thing",
                price_minor=1999,
                currency=Currency.EUR,
                content_hash="0" * 64,
            )
            warehouse = Warehouse(code="default", name="default")
            session.add_all([product, warehouse])
            session.flush()
            session.add(StockLevel(product_id=product.id, warehouse_id=warehouse.id, quantity=5))
        await import_orders(client, factory, account, ["de"], clock=clock)

        reasons = ["defect", "wrong_size", "missing_parts", "delivered_damaged"]
        for id_ou, reason in zip(ids, reasons, strict=True):
            control.open_return(id_ou, reason)
        first = await import_returns(client, factory, account, ["de"], clock=clock)
        assert (first.returns_new, first.units_new, first.linked) == (4, 4, 4)
        units = local_units(factory)
        assert [units[i].reason for i in ids] == reasons
        assert all(units[i].status == "need_to_be_returned" for i in ids)
        assert all(decide_by(u) is None for u in units.values())

        for id_ou in ids:
            control.return_arrived(units[id_ou].id_return_unit)
        arrived = await import_returns(client, factory, account, ["de"], clock=clock)
        assert arrived.arrived == 4
        now = clock()
        for unit in local_units(factory).values():
            assert unit.status == "return_arrived" and unit.arrived_at is not None
            deadline = decide_by(unit)
            assert deadline is not None and deadline >= unit.arrived_at + timedelta(days=3)
            left = time_left(unit, now)
            assert left is not None and left > timedelta(days=2)

        # One decision each; then clarify → repair on the third.
        plan = [
            ("accept", None, "return_accepted"),
            ("reject", "The seal is broken.", "return_rejected"),
            ("clarify", "Which part is missing?", "return_in_clarification"),
            ("repair", None, "return_in_repair"),
        ]
        for id_ou, (decision, message, _) in zip(ids, plan, strict=True):
            decide(
                factory,
                account_id=account.id,
                id_return_unit=units[id_ou].id_return_unit,
                decision=decision,
                message=message,
                clock=clock,
            )
        sent = await run_outbox(client, factory, account.id, clock=clock)
        assert sent.sent == 4 and sent.failed == 0
        for id_ou, (_, _, status) in zip(ids, plan, strict=True):
            remote = await client.return_units.get(units[id_ou].id_return_unit)
            assert str(remote.status) == status

        decided = await import_returns(client, factory, account, ["de"], clock=clock)
        assert decided.decided == 4 and decided.restocked_skus == [sku]
        after = local_units(factory)
        for id_ou, (_, _, status) in zip(ids, plan, strict=True):
            assert after[id_ou].status == status and after[id_ou].decided_at is not None
            assert decide_by(after[id_ou]) is None
        assert after[ids[0]].restocked and not after[ids[1]].restocked
        assert stock_of(factory, sku) == 6

        decide(
            factory,
            account_id=account.id,
            id_return_unit=units[ids[2]].id_return_unit,
            decision="repair",
            clock=clock,
        )
        await run_outbox(client, factory, account.id, clock=clock)
        await import_returns(client, factory, account, ["de"], clock=clock)
        assert local_units(factory)[ids[2]].status == "return_in_repair"

        # Kaufland closes the accepted unit; reruns never restock it again.
        control._json(
            "POST",
            "/return-closed",
            {"id_return_unit": units[ids[0]].id_return_unit, "client_key": MAIN_KEY},
        )
        for _ in range(2):
            rerun = await import_returns(client, factory, account, ["de"], clock=clock)
            assert rerun.restocked_skus == []
        assert local_units(factory)[ids[0]].status == "return_closed"
        assert stock_of(factory, sku) == 6

        # The sandbox opened a ticket for the rejection and the clarification.
        tickets = await import_tickets(client, factory, account, ["de"], clock=clock)
        assert tickets.new == 2
        again = await import_tickets(client, factory, account, ["de"], clock=clock)
        assert again.new == 0

    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 2
        kinds = session.scalars(select(SyncRun.kind)).all()
        assert kinds.count(SyncKind.RETURNS) == 6 and kinds.count(SyncKind.TICKETS) == 2
        states = session.scalars(select(OutboxMessage.state)).all()
        assert states == [OutboxState.DONE] * 5


async def test_a_decision_kaufland_refuses_fails_in_the_outbox_and_changes_nothing(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    """The local status is a step behind Kaufland: a unit decided on Kaufland's side since the
    last import passes the local check, and Kaufland's refusal lands in the outbox."""
    account = make_account(factory, sandbox)
    async with open_client(sandbox, recorder) as client:
        ids, _sku = await ship_four_pieces(client, control)
        control.open_return(ids[0])
        await import_returns(client, factory, account, ["de"], clock=clock)
        unit = local_units(factory)[ids[0]]
        await client.return_units.reject(unit.id_return_unit, "Decided elsewhere.")
        queued = decide(
            factory,
            account_id=account.id,
            id_return_unit=unit.id_return_unit,
            decision="clarify",
            message="Please explain.",
            clock=clock,
        )
        summary = await run_outbox(client, factory, account.id, clock=clock)
        assert summary.failed == 1
        await import_returns(client, factory, account, ["de"], clock=clock)
    with factory() as session:
        message = session.get(OutboxMessage, queued.outbox_id)
        assert message is not None and message.state == OutboxState.FAILED
        assert "return_rejected" in (message.last_error or "")
    assert local_units(factory)[ids[0]].status == "return_rejected"
