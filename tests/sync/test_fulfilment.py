"""Fulfilment commands: local validation (nothing queued when invalid), carrier and reason
mapping, dedupe of repeated commands, extra parcels, refund limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.orders import MappingKind, Order, OrderLine, OrderMapping
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Refund
from kaufland_sync.sync import fulfilment
from kaufland_sync.sync.fulfilment import CarrierCache, FulfilmentError
from tests.sync.test_outbox import Market, open_client

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
CARRIERS = ["DHL", "DHL Express", "DPD", "Deutsche Post", "GLS", "Hermes", "Other", "Other Hauler"]


def add_order(
    factory: sessionmaker[Session],
    account_id: int,
    id_order: str,
    statuses: dict[int, str],
    storefront: str = "de",
) -> None:
    with transaction(factory) as session:
        order = Order(
            account_id=account_id,
            id_order=id_order,
            storefront=Storefront(storefront),
            currency="EUR",
            status="",
        )
        session.add(order)
        session.flush()
        for id_ou, status in statuses.items():
            session.add(
                OrderLine(
                    order_id=order.id,
                    id_order_unit=id_ou,
                    status=status,
                    price=1999,
                    shipping_rate=499,
                )
            )


def add_mapping(
    factory: sessionmaker[Session],
    account_id: int,
    kind: MappingKind,
    source: str,
    target: str,
    storefront: str = "",
) -> None:
    with transaction(factory) as session:
        session.add(
            OrderMapping(
                account_id=account_id,
                storefront=storefront,
                kind=kind,
                source=source,
                target=target,
            )
        )


def outbox(factory: sessionmaker[Session]) -> list[tuple[str, str, dict[str, object]]]:
    with factory() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(m.action.value, m.target, dict(m.payload)) for m in rows]


@pytest.fixture
def shop(store: tuple[sessionmaker[Session], int]) -> tuple[sessionmaker[Session], int]:
    """Order A1: 11 and 12 waiting to be sent, 13 open, 14 sent, 15 cancelled. B2: 21."""
    factory, account = store
    add_order(
        factory,
        account,
        "A1",
        {11: "need_to_be_sent", 12: "need_to_be_sent", 13: "open", 14: "sent", 15: "cancelled"},
    )
    add_order(factory, account, "B2", {21: "need_to_be_sent"})
    return store


def ship(
    factory: sessionmaker[Session], account: int, id_order: str = "A1", **kwargs: object
) -> list[fulfilment.Queued]:
    kwargs.setdefault("carrier", "DHL")
    kwargs.setdefault("tracking_numbers", ["T1"])
    with transaction(factory) as session:
        return fulfilment.ship(
            session,
            account,
            id_order,
            carriers=CARRIERS,
            now=T0,
            **kwargs,  # type: ignore[arg-type]
        )


def test_ship_sends_every_waiting_line_with_all_tracking_numbers_and_a_mapped_carrier(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    add_mapping(factory, account, MappingKind.CARRIER, "Paket-Dienst", "dhl")
    queued = ship(factory, account, carrier="paket dienst", tracking_numbers=[" T1 ", "T2", "T1"])
    assert [(q.action, q.target, q.new) for q in queued] == [
        (OutboxAction.SEND, "11", True),
        (OutboxAction.SEND, "12", True),
    ]
    payload = {"carrier_code": "DHL", "tracking_numbers": "T1,T2"}
    assert outbox(factory) == [("send", "11", payload), ("send", "12", payload)]

    again = ship(factory, account, carrier="paket dienst", tracking_numbers=["T1", "T2"])
    assert [(q.message_id, q.new) for q in again] == [(q.message_id, False) for q in queued]
    assert len(outbox(factory)) == 2


def test_a_storefront_mapping_wins_over_the_general_one(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    add_mapping(factory, account, MappingKind.CARRIER, "post", "Deutsche Post")
    add_mapping(factory, account, MappingKind.CARRIER, "post", "Hermes", storefront="de")
    ship(factory, account, carrier="Post", units=[11])
    assert outbox(factory)[0][2]["carrier_code"] == "Hermes"


def test_an_unknown_carrier_is_refused_with_the_closest_names_and_nothing_is_queued(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    with pytest.raises(FulfilmentError) as refused:
        ship(factory, account, carrier="DHL Expres")
    assert refused.value.field == "carrier"
    assert "unknown carrier 'DHL Expres'" in str(refused.value)
    assert "closest: DHL Express" in str(refused.value)
    add_mapping(factory, account, MappingKind.CARRIER, "fast", "Zoom")
    with pytest.raises(FulfilmentError, match=r"'Zoom' \(mapped from 'fast'\)"):
        ship(factory, account, carrier="fast")
    assert outbox(factory) == []


def test_tracking_is_required_except_for_other_carriers(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    with pytest.raises(FulfilmentError, match="'DHL' needs a tracking number"):
        ship(factory, account, tracking_numbers=[])
    with pytest.raises(FulfilmentError, match="contains a comma"):
        ship(factory, account, tracking_numbers=["A,B"])
    ship(factory, account, carrier="other hauler", tracking_numbers=[], units=[11])
    assert outbox(factory) == [
        ("send", "11", {"carrier_code": "Other Hauler", "tracking_numbers": ""})
    ]


def test_sent_lines_get_extra_parcels_only_when_named(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    first = ship(factory, account, tracking_numbers=["T1"])
    with pytest.raises(FulfilmentError, match="name it with --unit"):
        ship(factory, account, tracking_numbers=["T9"])
    parcels = ship(factory, account, tracking_numbers=["T1", "T2", "T3"], units=[11, 14])
    # 11 is being sent with T1 already: only T2 and T3 are new parcels; 14 gets all three.
    assert [(q.action.value, q.target) for q in parcels] == [
        ("add_shipment", "11"),
        ("add_shipment", "11"),
        ("add_shipment", "14"),
        ("add_shipment", "14"),
        ("add_shipment", "14"),
    ]
    assert outbox(factory)[2] == (
        "add_shipment",
        "11",
        {"carrier_code": "DHL", "tracking_number": "T2"},
    )
    same = ship(factory, account, tracking_numbers=["T1", "T2", "T3"], units=[11, 14])
    assert [q.message_id for q in same] == [q.message_id for q in parcels]
    assert not any(q.new for q in same)
    assert len(outbox(factory)) == len(first) + 5
    with pytest.raises(FulfilmentError, match="extra parcel needs a tracking number"):
        ship(factory, account, carrier="Other", tracking_numbers=[], units=[14])


def test_ship_refuses_open_cancelled_and_foreign_units(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    with pytest.raises(FulfilmentError, match="13 of order A1 is still open"):
        ship(factory, account, units=[11, 13])
    with pytest.raises(FulfilmentError, match="15 of order A1 is cancelled"):
        ship(factory, account, units=[15])
    with pytest.raises(FulfilmentError, match=r"21 are not part of order A1"):
        ship(factory, account, units=[11, 21])
    with pytest.raises(FulfilmentError, match="order Z9 is not in the local store"):
        ship(factory, account, "Z9")
    assert outbox(factory) == []  # not even unit 11 of the first command


def cancel(
    factory: sessionmaker[Session], account: int, reason: str, **kwargs: object
) -> list[fulfilment.Queued]:
    with transaction(factory) as session:
        return fulfilment.cancel(session, account, "A1", reason=reason, now=T0, **kwargs)  # type: ignore[arg-type]


def test_cancel_maps_reasons_and_queues_each_cancellable_line_once(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    queued = cancel(factory, account, "Out-of-Stock")
    assert [(q.target, q.new) for q in queued] == [("11", True), ("12", True), ("13", True)]
    assert {p["reason"] for _, _, p in outbox(factory)} == {"NoInventory"}
    again = cancel(factory, account, "out of stock")
    assert [q.new for q in again] == [False, False, False]
    with pytest.raises(FulfilmentError, match="14 of order A1 is sent and cannot be cancelled"):
        cancel(factory, account, "buyer request", units=[14])


def test_cancel_reasons_exact_mapped_and_unknown(shop: tuple[sessionmaker[Session], int]) -> None:
    factory, account = shop
    with factory() as session:
        order = fulfilment.find_order(session, account, "A1")
        assert fulfilment.resolve_cancel_reason(session, order, "wrongprice").value == "WrongPrice"
        assert fulfilment.resolve_cancel_reason(session, order, "buyer_request").value == (
            "BuyerCancelled"
        )
        with pytest.raises(FulfilmentError, match=r"unknown reason 'moon phase'.*NoInventory"):
            fulfilment.resolve_cancel_reason(session, order, "moon phase")
    add_mapping(factory, account, MappingKind.CANCEL_REASON, "Lager leer", "noinventory")
    add_mapping(factory, account, MappingKind.CANCEL_REASON, "kaputt", "Broken")
    add_mapping(factory, account, MappingKind.REFUND_REASON, "Kulanz", "other_refund")
    with factory() as session:
        order = fulfilment.find_order(session, account, "A1")
        assert fulfilment.resolve_cancel_reason(session, order, "lager leer").value == (
            "NoInventory"
        )
        with pytest.raises(FulfilmentError, match="points to 'Broken'"):
            fulfilment.resolve_cancel_reason(session, order, "kaputt")
        assert fulfilment.resolve_refund_reason(session, order, "KULANZ").value == "other_refund"
        assert fulfilment.resolve_refund_reason(session, order, "late").value == "delivery_delay"


def test_cancel_refuses_lines_being_sent(shop: tuple[sessionmaker[Session], int]) -> None:
    factory, account = shop
    ship(factory, account, units=[11])
    with pytest.raises(FulfilmentError, match="11 of order A1 is being sent"):
        cancel(factory, account, "no stock", units=[11])
    assert [q.target for q in cancel(factory, account, "no stock")] == ["12", "13"]


def invoice(factory: sessionmaker[Session], account: int, content: bytes, name: str) -> object:
    with transaction(factory) as session:
        return fulfilment.invoice(session, account, "A1", content=content, file_name=name, now=T0)


def test_invoice_checks_the_file_and_queues_the_same_file_once(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    with pytest.raises(FulfilmentError, match=r"R1\.png is not a PDF"):
        invoice(factory, account, b"\x89PNG....", "R1.png")
    with pytest.raises(FulfilmentError, match="empty"):
        invoice(factory, account, b"", "R1.pdf")
    with pytest.raises(FulfilmentError, match="the limit is"):
        invoice(factory, account, b"%PDF-" + b"0" * fulfilment.MAX_INVOICE_BYTES, "big.pdf")
    pdf = b"%PDF-1.4\n...\n%%EOF"
    first = invoice(factory, account, pdf, "/tmp/invoices/R-1.pdf")
    second = invoice(factory, account, pdf, "R-1-copy.pdf")
    assert isinstance(first, fulfilment.Queued) and isinstance(second, fulfilment.Queued)
    assert first.new and not second.new and first.message_id == second.message_id
    with factory() as session:
        (message,) = session.scalars(select(OutboxMessage)).all()
        assert message.action == OutboxAction.INVOICE and message.target == "A1"
        assert message.attachment == pdf
        assert message.payload == {"original_name": "R-1.pdf", "mime_type": "application/pdf"}


def refund(
    factory: sessionmaker[Session], account: int, unit: int, amount: int, **kwargs: object
) -> tuple[fulfilment.Queued, Refund]:
    kwargs.setdefault("reason", "damaged")
    kwargs.setdefault("now", T0)
    with transaction(factory) as session:
        return fulfilment.refund(
            session,
            account,
            "A1",
            id_order_unit=unit,
            amount=amount,
            **kwargs,  # type: ignore[arg-type]
        )


def test_refunds_are_recorded_and_capped_by_price_and_shipping(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    queued, row = refund(factory, account, 14, 2000)
    assert (row.amount, row.reason, row.currency, row.outbox_id) == (
        2000,
        "delivery_damage",
        "EUR",
        queued.message_id,
    )
    assert outbox(factory) == [
        ("refund", "14", {"amount": 2000, "reason": "delivery_damage", "currency": "EUR"})
    ]
    again, same_row = refund(factory, account, 14, 2000)
    assert not again.new and same_row.id == row.id
    with pytest.raises(
        FulfilmentError, match=r"left to refund on order unit 14 of order A1: 4\.98 EUR"
    ):
        refund(factory, account, 14, 499, reason="postage")
    with transaction(factory) as session:
        session.get_one(OutboxMessage, queued.message_id).state = OutboxState.FAILED
    # A refused refund gave nothing back, so the whole amount is refundable again.
    refund(factory, account, 14, 2498, reason="postage")
    with pytest.raises(FulfilmentError, match="more than 0"):
        refund(factory, account, 14, 0, reason="postage", key="again")
    with pytest.raises(FulfilmentError, match="12 of order A1 is need_to_be_sent; refunds need"):
        refund(factory, account, 12, 100)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Refund)) == 2


def test_a_deliberate_repeat_needs_its_own_key(shop: tuple[sessionmaker[Session], int]) -> None:
    factory, account = shop
    first, _ = refund(factory, account, 14, 100, reason="postage")
    second, _ = refund(factory, account, 14, 100, reason="postage", key="second")
    tomorrow, _ = refund(
        factory, account, 14, 100, reason="postage", now=T0 + timedelta(days=1)
    )  # a new day is a new command
    assert len({first.message_id, second.message_id, tomorrow.message_id}) == 3


async def test_the_carrier_list_is_fetched_once_per_base_url() -> None:
    market = Market()
    cache = CarrierCache(ttl=60.0, clock=lambda: 0.0)
    async with open_client(market) as client:
        names = await cache.names(client)
        assert await cache.names(client) is names
    assert "DHL" in names and "Other Hauler" in names
    calls = {k: v for k, v in market.world.request_counts.items() if "carriers" in k[0]}
    assert list(calls.values()) == [1]
