"""Follow-ups of the new-user walkthrough in the fulfilment and outbox layer: a unit whose send
is done counts as sent, refund limits are worded in major units, a message's payload is shown
without its attachment, and a message that ends ``done`` after failed attempts has no error."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.sync import fulfilment
from kaufland_sync.sync.fulfilment import FulfilmentError, format_amount
from kaufland_sync.sync.outbox import payload_view, resolve_message
from tests.sync.test_fulfilment import T0, add_order, cancel, ship
from tests.sync.test_outbox import DHL, Clock, Market, message, queue, run
from tests.sync.test_outbox import market as market  # the fixture


@pytest.fixture
def shop(store: tuple[sessionmaker[Session], int]) -> tuple[sessionmaker[Session], int]:
    """Order A1: 11 and 12 waiting to be sent, 14 sent (19.99 EUR + 4.99 EUR shipping)."""
    factory, account = store
    add_order(factory, account, "A1", {11: "need_to_be_sent", 12: "need_to_be_sent", 14: "sent"})
    return store


def finish(factory: sessionmaker[Session], ident: int, state: OutboxState) -> None:
    with transaction(factory) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == ident).values(state=state))


def test_a_unit_whose_send_is_done_is_sent_not_being_sent(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    (queued,) = ship(factory, account, units=[11])
    with pytest.raises(FulfilmentError, match="11 of order A1 is being sent and cannot be"):
        cancel(factory, account, "no stock", units=[11])

    # Kaufland accepted the send; the local copy (not imported since) still waits to be sent.
    finish(factory, queued.message_id, OutboxState.DONE)
    with pytest.raises(FulfilmentError) as refused:
        cancel(factory, account, "no stock", units=[11])
    assert str(refused.value) == (
        "units: order unit 11 of order A1 is sent and cannot be cancelled "
        "(refund it or handle a return instead)"
    )
    # Without --unit the sent unit is left out, and the summary calls it sent.
    assert [q.target for q in cancel(factory, account, "no stock")] == ["12"]


def test_the_refund_limit_is_worded_in_major_units(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    with transaction(factory) as session:
        fulfilment.refund(
            session, account, "A1", id_order_unit=14, amount=507, reason="late", now=T0
        )
    with transaction(factory) as session, pytest.raises(FulfilmentError) as refused:
        fulfilment.refund(
            session, account, "A1", id_order_unit=14, amount=2500, reason="late", now=T0
        )
    assert str(refused.value) == (
        "amount: 25.00 is more than what is left to refund on order unit 14 of order A1: "
        "19.91 EUR (price + shipping minus earlier refunds)"
    )


@pytest.mark.parametrize(
    ("minor", "currency", "with_currency", "shown"),
    [
        (2500, "EUR", False, "25.00"),
        (1991, "EUR", True, "19.91 EUR"),
        (1, "PLN", True, "0.01 PLN"),
        (123456789, "CZK", True, "1234567.89 CZK"),
        (-5, "EUR", False, "-0.05"),
        (700, None, True, "7.00"),
    ],
)
def test_format_amount_is_exact(
    minor: int, currency: str | None, with_currency: bool, shown: str
) -> None:
    assert format_amount(minor, currency, with_currency=with_currency) == shown


def test_the_payload_view_never_holds_the_attachment(
    shop: tuple[sessionmaker[Session], int],
) -> None:
    factory, account = shop
    pdf = b"%PDF-1.4\n%secret\n%%EOF"
    with transaction(factory) as session:
        queued = fulfilment.invoice(session, account, "A1", content=pdf, file_name="R-1.pdf")
        (sent,) = fulfilment.ship(
            session, account, "A1", carrier="dhl", tracking_numbers=["A", "B"],
            carriers=["DHL"], units=[11], now=T0,
        )  # fmt: skip
    with factory() as session:
        invoice = session.get_one(OutboxMessage, queued.message_id)
        assert payload_view(invoice) == {
            "original_name": "R-1.pdf",
            "mime_type": "application/pdf",
            "attachment_bytes": len(pdf),
        }
        assert invoice.attachment == pdf  # still there to be sent
        shipped = session.get_one(OutboxMessage, sent.message_id)
        assert payload_view(shipped) == {"carrier_code": "DHL", "tracking_numbers": "A,B"}


async def test_a_message_done_after_failed_attempts_has_no_error(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    _, (u1,) = market.order(1)
    ident = queue(factory, account, OutboxAction.SEND, u1, DHL)
    clock = Clock()
    market.down()
    await run(market, factory, account, clock)
    assert message(factory, ident).last_error is not None

    market.up()
    clock.advance(hours=1)
    await run(market, factory, account, clock)
    done = message(factory, ident)
    assert done.state == OutboxState.DONE and done.attempts == 2
    assert done.last_error is None


async def test_a_message_resolved_by_hand_keeps_the_error_that_stopped_it(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    _, (u1,) = market.order(1)
    ident = queue(factory, account, OutboxAction.SEND, u1, {"carrier_code": "Nope"})
    await run(market, factory, account, Clock())
    failed = message(factory, ident)
    assert failed.state == OutboxState.FAILED and failed.last_error
    with transaction(factory) as session:
        resolve_message(session, ident, note="sent by hand", now=T0)
    assert message(factory, ident).last_error == failed.last_error
