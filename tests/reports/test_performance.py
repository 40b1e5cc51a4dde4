"""Seller-performance report on SQLite and PostgreSQL: every metric with its numerator and
denominator, hand-computed, measured at a fixed time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.reports._period import DateRange, Period
from kaufland_sync.reports.performance import (
    SELLER_CANCEL_REASONS,
    PerformanceFigures,
    PerformanceReport,
    performance_report,
    valid_tracking,
)
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Return, ReturnUnit, Ticket
from tests.builders import at, new_account, new_order

NOW = at("2026-03-31", "12:00")
HOUR = 3600


def line(status: str, **more: Any) -> dict[str, Any]:
    return {"status": status, "price": 1000, "revenue_gross": 870, **more}


def send(session: Session, account: Account, unit: int, state: OutboxState, **body: Any) -> None:
    session.add(
        OutboxMessage(
            account_id=account.id,
            action=OutboxAction.SEND,
            target=str(unit),
            payload=body,
            state=state,
        )
    )


def ticket(
    session: Session,
    account: Account,
    id_ticket: str,
    storefront: str | None,
    opened: str,
    *,
    status: str = "opened",
    seller: bool | None = None,
    units: list[int] | None = None,
) -> None:
    day, clock = opened.split(" ")
    session.add(
        Ticket(
            account_id=account.id,
            id_ticket=id_ticket,
            storefront=None if storefront is None else Storefront(storefront),
            status=status,
            is_seller_responsible=seller,
            ids_order_units=units or [],
            ts_created=at(day, clock),
        )
    )


def seed(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        shop = new_account(session, rates={"de": "1", "cz": "25.2"})
        deadline = at("2026-03-04", "00:00")
        a = new_order(
            session,
            shop,
            "A",
            "de",
            at("2026-03-02", "10:00"),
            [
                line("sent", sent_at=at("2026-03-03", "10:00"), delivery_time_expires_iso=deadline),
                line("sent", sent_at=at("2026-03-05", "16:00"), delivery_time_expires_iso=deadline),
                line(
                    "received",
                    sent_at=at("2026-03-03", "04:00"),
                    delivery_time_expires_iso=deadline,
                ),
            ],
        )
        l1, l2, l3 = a.lines
        b = new_order(
            session,
            shop,
            "B",
            "de",
            at("2026-03-10", "08:00"),
            [
                line("cancelled", cancel_reason="NoInventory"),
                line("cancelled", cancel_reason="BuyerCancelled"),
                line("need_to_be_sent", delivery_time_expires_iso=at("2026-03-12", "00:00")),
                line("need_to_be_sent", delivery_time_expires_iso=at("2026-04-02", "00:00")),
                line("returned"),  # imported after shipping: no send time known
            ],
        )
        l8 = b.lines[4]
        d = new_order(
            session,
            shop,
            "D",
            "cz",
            at("2026-03-20", "08:00"),
            [
                line(
                    "sent",
                    sent_at=at("2026-03-21", "20:00"),
                    delivery_time_expires_iso=at("2026-03-21", "00:00"),
                )
            ],
        )
        send(
            session,
            shop,
            l1.id_order_unit,
            OutboxState.DONE,
            carrier_code="DHL",
            tracking_numbers="0034,0035",
        )
        send(
            session,
            shop,
            l2.id_order_unit,
            OutboxState.DONE,
            carrier_code="Other",
            tracking_numbers="",
        )
        send(session, shop, l8.id_order_unit, OutboxState.FAILED, carrier_code="DHL")
        send(
            session,
            shop,
            d.lines[0].id_order_unit,
            OutboxState.DONE,
            carrier_code="PPL",
            tracking_numbers=["CZ1"],
        )
        back = Return(account_id=shop.id, id_return=1, storefront=Storefront.DE, status="x")
        session.add(back)
        session.flush()
        session.add_all(
            [
                ReturnUnit(
                    return_id=back.id,
                    id_return_unit=11,
                    id_order_unit=l3.id_order_unit,
                    order_line_id=l3.id,
                    status="return_accepted",
                ),
                ReturnUnit(
                    return_id=back.id,
                    id_return_unit=12,
                    id_order_unit=l8.id_order_unit,
                    status="return_arrived",
                ),
                ReturnUnit(  # an order unit we never imported
                    return_id=back.id, id_return_unit=13, id_order_unit=1, status="return_arrived"
                ),
            ]
        )
        ticket(session, shop, "0011", "de", "2026-03-29 12:00", seller=True)
        ticket(session, shop, "0012", "de", "2026-03-30 00:00", seller=False)
        ticket(session, shop, "0013", "de", "2026-03-30 00:00", status="buyer_closed", seller=True)
        ticket(session, shop, "0014", None, "2026-03-31 06:00", units=[l1.id_order_unit])
        ticket(session, shop, "0015", None, "2026-03-31 07:00")
        # Another account's data never shows.
        other = new_account(session, name="other", rates={"de": "1"})
        new_order(session, other, "A", "de", at("2026-03-02"), [line("cancelled")])
        ticket(session, other, "0016", "de", "2026-03-29 12:00")


def run(factory: sessionmaker[Session], **options: Any) -> PerformanceReport:
    with factory() as session:
        account = session.scalars(select(Account).where(Account.name == "shop")).one()
        return performance_report(session, account, now=NOW, **options)


def test_valid_tracking_needs_a_carrier_and_a_number() -> None:
    assert valid_tracking({"carrier_code": "DHL", "tracking_numbers": "0034"})
    assert valid_tracking({"carrier_code": "DHL", "tracking_numbers": " ,0035"})
    assert valid_tracking({"carrier_code": "DHL", "tracking_numbers": ["", "0036"]})
    assert not valid_tracking({"carrier_code": "Other", "tracking_numbers": ""})
    assert not valid_tracking({"carrier_code": "", "tracking_numbers": "0034"})
    assert not valid_tracking({"tracking_numbers": "0034"})
    assert not valid_tracking({"carrier_code": "DHL"})


def test_seller_reasons_are_stock_price_and_catalogue_data() -> None:
    assert {"NoInventory", "DelayedInventory", "WrongPrice", "WrongCatalogData"} <= (
        SELLER_CANCEL_REASONS
    )
    assert not {"BuyerCancelled", "GeneralAdjustment", "NoReactionBuyer"} & SELLER_CANCEL_REASONS


def test_every_metric_with_its_numerator_and_denominator(factory: sessionmaker[Session]) -> None:
    seed(factory)
    report = run(factory, span=DateRange(date(2026, 3, 1), date(2026, 4, 30)), by=Period.MONTH)
    assert [(r.storefront, r.period) for r in report.rows] == [
        (Storefront.CZ, "2026-03"),
        (Storefront.CZ, "2026-04"),
        (Storefront.DE, "2026-03"),
        (Storefront.DE, "2026-04"),
    ]
    cz_march, cz_april, de_march, de_april = report.rows

    de = de_march.figures
    assert de == PerformanceFigures(
        lines=8,
        cancelled=2,
        seller_cancelled=1,
        sent=4,  # L1, L2, L3 and the returned L8
        sent_timed=3,
        late=1,  # L2
        overdue=1,  # L6: deadline 12 March, not sent at the 31st
        tracking_valid=1,  # L1
        tracking_invalid=1,  # L2: "Other" without a number
        tracking_unknown=2,  # L3 (no message), L8 (its message failed)
        handled=3,
        handling_seconds=(24 + 78 + 18) * HOUR,
        returns=2,  # L3 by its link, L8 by its id_order_unit
        open_tickets=3,  # 0011, 0012, and 0014 through its order unit
        seller_responsible_tickets=1,
        ticket_age_seconds=(48 + 36 + 6) * HOUR,
        oldest_ticket_age_seconds=48 * HOUR,
    )
    assert de.late_shipment.percent == Decimal("33.33")
    assert de.seller_cancellation.percent == Decimal("12.50")
    assert de.valid_tracking.percent == Decimal("50.00")
    assert de.return_rate.percent == Decimal("50.00")
    assert de.average_handling_hours == Decimal("40.00")
    assert de.average_ticket_age_seconds == 30 * HOUR

    cz = cz_march.figures
    assert (cz.lines, cz.sent, cz.late, cz.tracking_valid, cz.handling_seconds) == (
        1,
        1,
        1,
        1,
        36 * HOUR,
    )
    assert cz_april.figures == de_april.figures == PerformanceFigures()
    assert de_april.figures.late_shipment.percent is None
    assert de_april.figures.average_handling_hours is None

    total = report.total.figures
    assert (total.lines, total.sent, total.late, total.sent_timed) == (9, 5, 2, 4)
    assert total.seller_cancellation.percent == Decimal("11.11")  # 1 / 9
    assert total.valid_tracking.percent == Decimal("66.67")  # 2 / 3
    assert total.return_rate.percent == Decimal("40.00")  # 2 / 5
    assert total.average_handling_hours == Decimal("39.00")  # (120 + 36) / 4
    assert [t.figures for t in report.totals] == [cz, de]
    assert report.unmatched_return_units == {"de": 1}
    assert report.unattributed_open_tickets == 1

    data = report.as_dict()
    row = data["rows"][2]
    assert row["storefront"] == "de" and row["period"] == "2026-03"
    assert row["late_shipment_rate"] == {"numerator": 1, "denominator": 3, "percent": 33.33}
    assert row["average_handling_hours"] == 40.0
    assert data["total"]["storefront"] == "all" and data["now"] == NOW.isoformat()


def test_one_storefront_and_weekly_rows(factory: sessionmaker[Session]) -> None:
    seed(factory)
    report = run(
        factory,
        storefront=Storefront.DE,
        span=DateRange(date(2026, 3, 23), date(2026, 3, 31)),
        by=Period.WEEK,
    )
    # No order in these weeks; the open tickets count in the week they were opened.
    assert [(r.period, r.figures.lines, r.figures.open_tickets) for r in report.rows] == [
        ("2026-W13", 0, 1),  # 0011, opened on Sunday the 29th
        ("2026-W14", 0, 2),  # 0012 and 0014, from Monday the 30th
    ]
    assert [t.storefront for t in report.totals] == [Storefront.DE]
    assert report.total.figures.oldest_ticket_age_seconds == 48 * HOUR


def test_an_open_range_covers_orders_and_tickets(factory: sessionmaker[Session]) -> None:
    seed(factory)
    report = run(factory, by=Period.DAY)
    assert (report.range.first, report.range.last) == (date(2026, 3, 2), date(2026, 3, 31))
    assert len(report.rows) == 2 * 30
    assert report.total.figures.open_tickets == 3
