"""Commission report on SQLite and PostgreSQL: hand-computed totals per storefront and period,
conversion to the base currency, cancelled/returned lines, refunds and empty periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.reports._period import DateRange, Period
from kaufland_sync.reports.commission import (
    CommissionReport,
    CommissionRow,
    commission_report,
    line_commission,
)
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Order
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Refund
from tests.builders import at, new_account, new_order


def sale(
    status: str, price: int, shipping: int, gross: int, net: int, **more: Any
) -> dict[str, Any]:
    return {
        "status": status,
        "price": price,
        "shipping_rate": shipping,
        "revenue_gross": gross,
        "revenue_net": net,
        **more,
    }


def refund(session: Session, order: Order, amount: int, state: OutboxState | None) -> None:
    """A refund of the order's first line, carried by an outbox message in ``state``."""
    outbox_id = None
    if state is not None:
        message = OutboxMessage(
            account_id=order.account_id,
            order_id=order.id,
            action=OutboxAction.REFUND,
            target=str(order.lines[0].id_order_unit),
            payload={"amount": amount, "reason": "defect"},
            state=state,
        )
        session.add(message)
        session.flush()
        outbox_id = message.id
    session.add(
        Refund(
            account_id=order.account_id,
            order_id=order.id,
            id_order_unit=order.lines[0].id_order_unit,
            amount=amount,
            currency=order.currency,
            reason="defect",
            outbox_id=outbox_id,
        )
    )
    session.flush()


def seed_sales(factory: sessionmaker[Session]) -> None:
    """The hand-computed example of docs/reports.md (de in EUR, cz in CZK at 25.2 per EUR)."""
    with transaction(factory) as session:
        shop = new_account(session, rates={"de": "1", "cz": "25.2"})
        a = new_order(
            session,
            shop,
            "A",
            "de",
            at("2026-03-02", "10:00"),
            [
                sale("sent", 10000, 490, 8637, 7258),  # commission 1853
                sale("need_to_be_sent", 10000, 0, 8700, 7311),  # 1300
                sale("cancelled", 10000, 0, 8700, 7311, cancel_reason="NoInventory"),
            ],
        )
        refund(session, a, 500, OutboxState.DONE)
        refund(session, a, 200, OutboxState.PENDING)  # not accepted yet: not counted
        new_order(
            session,
            shop,
            "B",
            "de",
            at("2026-03-20", "23:30"),
            [sale("returned", 2000, 0, 1700, 1429)],
        )
        new_order(
            session, shop, "C", "de", at("2026-04-05"), [sale("received", 5000, 0, 4250, 3571)]
        )
        new_order(
            session, shop, "D", "cz", at("2026-03-15"), [sale("sent", 25200, 9900, 30537, 25237)]
        )
        new_order(session, shop, "E", "cz", at("2026-05-01"), [sale("open", 100, 0, 80, 66)])
        # Another account's order never shows.
        other = new_account(session, name="other", rates={"de": "1"})
        new_order(session, other, "A", "de", at("2026-03-02"), [sale("sent", 999, 0, 1, 1)])


def run(factory: sessionmaker[Session], name: str = "shop", **options: Any) -> CommissionReport:
    with factory() as session:
        account = session.scalars(select(Account).where(Account.name == name)).one()
        return commission_report(session, account, **options)


def figures(row: CommissionRow) -> dict[str, int]:
    f = row.figures
    return {
        "lines": f.lines,
        "cancelled": f.cancelled,
        "returned": f.returned,
        "sales": f.sales,
        "revenue_gross": f.revenue_gross,
        "revenue_net": f.revenue_net,
        "commission": f.commission,
        "returned_commission": f.returned_commission,
        "refunded": f.refunded,
    }


ZERO = dict.fromkeys(
    (
        "lines",
        "cancelled",
        "returned",
        "sales",
        "revenue_gross",
        "revenue_net",
        "commission",
        "returned_commission",
        "refunded",
    ),
    0,
)


def test_line_commission_is_price_plus_shipping_minus_gross_revenue() -> None:
    assert line_commission(10000, 490, 8637) == 1853
    assert line_commission(10000, None, 8700) == 1300
    assert line_commission(None, 0, 8700) is None
    assert line_commission(10000, 0, None) is None


def test_monthly_totals_per_storefront_with_conversion_and_an_empty_month(
    factory: sessionmaker[Session],
) -> None:
    seed_sales(factory)
    report = run(factory, span=DateRange(date(2026, 3, 1), date(2026, 4, 30)), by=Period.MONTH)

    assert report.base_currency == "EUR"
    assert [(r.storefront.value, r.period, r.start, r.end) for r in report.rows] == [
        ("cz", "2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("cz", "2026-04", date(2026, 4, 1), date(2026, 4, 30)),
        ("de", "2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("de", "2026-04", date(2026, 4, 1), date(2026, 4, 30)),
    ]
    cz_march, cz_april, de_march, de_april = report.rows
    assert figures(de_march) == {
        "lines": 3,
        "cancelled": 1,
        "returned": 1,
        "sales": 22490,
        "revenue_gross": 19037,
        "revenue_net": 15998,
        "commission": 3453,
        "returned_commission": 300,
        "refunded": 500,
    }
    assert de_march.figures.commission_rate.percent == Decimal("15.35")  # 3453 / 22490
    assert figures(de_april) == ZERO | {
        "lines": 1,
        "sales": 5000,
        "revenue_gross": 4250,
        "revenue_net": 3571,
        "commission": 750,
    }
    assert de_march.rate == Decimal(1) and de_march.base is not None
    assert de_march.base["commission"] == 3453  # EUR is the base: taken as it is

    assert cz_march.currency == "CZK"
    assert figures(cz_march) == ZERO | {
        "lines": 1,
        "sales": 35100,
        "revenue_gross": 30537,
        "revenue_net": 25237,
        "commission": 4563,
    }
    # CZK / 25.2, each rounded half up to a cent.
    assert cz_march.base == {
        "sales": 1393,
        "price": 1000,
        "shipping": 393,
        "revenue_gross": 1212,
        "revenue_net": 1001,
        "commission": 181,
        "returned_commission": 0,
        "refunded": 0,
    }
    assert figures(cz_april) == ZERO  # the empty month is a row of zeros
    assert cz_april.base is not None and set(cz_april.base.values()) == {0}

    cz_total, de_total = report.totals
    assert (cz_total.period, cz_total.start, cz_total.end) == (
        "total",
        date(2026, 3, 1),
        date(2026, 4, 30),
    )
    assert figures(de_total)["commission"] == 4203 and figures(de_total)["lines"] == 4
    assert cz_total.base is not None and cz_total.base["commission"] == 181
    assert report.total == {
        "sales": 27490 + 1393,
        "price": 27000 + 1000,
        "shipping": 490 + 393,
        "revenue_gross": 23287 + 1212,
        "revenue_net": 19569 + 1001,
        "commission": 4203 + 181,
        "returned_commission": 300,
        "refunded": 500,
        "lines": 5,
    }
    assert report.unconverted == []
    # What the JSON output carries is the same report.
    data = report.as_dict()
    assert data["total"]["commission_rate"] == {
        "numerator": 4384,
        "denominator": 28883,
        "percent": 15.18,
    }
    assert data["rows"][0]["currency_rate"] == "25.2"


def test_weeks_are_iso_weeks_clipped_to_the_range_and_days_are_utc_dates(
    factory: sessionmaker[Session],
) -> None:
    seed_sales(factory)
    weeks = run(
        factory,
        storefront=Storefront.DE,
        span=DateRange(date(2026, 3, 1), date(2026, 3, 9)),
        by=Period.WEEK,
    )
    assert [(r.period, r.start, r.end, r.figures.lines) for r in weeks.rows] == [
        ("2026-W09", date(2026, 3, 1), date(2026, 3, 1), 0),
        ("2026-W10", date(2026, 3, 2), date(2026, 3, 8), 2),
        ("2026-W11", date(2026, 3, 9), date(2026, 3, 9), 0),
    ]
    assert [t.storefront for t in weeks.totals] == [Storefront.DE]

    days = run(
        factory,
        storefront=Storefront.DE,
        span=DateRange(date(2026, 3, 20), date(2026, 3, 21)),
        by=Period.DAY,
    )
    # Order B was placed at 23:30 UTC on the 20th: it counts on the 20th.
    assert [(r.period, r.figures.commission) for r in days.rows] == [
        ("2026-03-20", 300),
        ("2026-03-21", 0),
    ]


def test_an_open_range_runs_from_the_first_to_the_last_order(
    factory: sessionmaker[Session],
) -> None:
    seed_sales(factory)
    report = run(factory, by=Period.MONTH)
    assert (report.range.first, report.range.last) == (date(2026, 3, 2), date(2026, 5, 1))
    assert [r.period for r in report.rows if r.storefront is Storefront.CZ] == [
        "2026-03",
        "2026-04",
        "2026-05",
    ]
    assert report.total["lines"] == 6
    # E: 100 - 80 = 20 hellers of commission, 20 / 25.2 = 0.79 → 1 cent.
    cz_may = next(r for r in report.rows if r.period == "2026-05" and r.storefront.value == "cz")
    assert cz_may.base is not None and cz_may.base["commission"] == 1


def test_no_orders_give_no_rows_and_zero_totals(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        new_account(session, rates={"de": "1", "cz": "25.2"})
    report = run(factory)
    assert report.rows == []
    assert [(t.storefront.value, t.figures.lines) for t in report.totals] == [
        ("cz", 0),
        ("de", 0),
    ]
    assert report.total["lines"] == 0 and report.total["commission"] == 0
    assert report.as_dict()["total"]["commission_rate"]["percent"] is None

    one_day = run(factory, span=DateRange(date(2026, 1, 1), None), by=Period.DAY)
    assert [(r.storefront.value, r.period) for r in one_day.rows] == [
        ("cz", "2026-01-01"),
        ("de", "2026-01-01"),
    ]


def test_storefronts_without_a_rate_stay_out_of_the_base_total(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        shop = new_account(session, rates={"de": "1", "pl": "1"})
        new_order(session, shop, "P", "pl", at("2026-03-02"), [sale("sent", 4300, 0, 3700, 3008)])
        new_order(session, shop, "Q", "de", at("2026-03-02"), [sale("sent", 1000, 0, 870, 731)])
    report = run(factory)
    pl = next(t for t in report.totals if t.storefront is Storefront.PL)
    assert pl.currency == "PLN" and pl.rate is None and pl.base is None
    assert pl.figures.commission == 600
    assert report.unconverted == [Storefront.PL]
    assert report.total["commission"] == 130 and report.total["lines"] == 1


def test_a_base_currency_other_than_eur_divides_by_the_rate(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        shop = new_account(session, rates={"cz": "1", "de": "0.04"}, base_currency="CZK")
        new_order(session, shop, "D", "de", at("2026-03-02"), [sale("sent", 1000, 0, 870, 731)])
        new_order(session, shop, "C", "cz", at("2026-03-02"), [sale("sent", 2500, 0, 2200, 1818)])
    report = run(factory)
    assert report.base_currency == "CZK"
    assert report.total["commission"] == 130 * 25 + 300
    assert report.total["sales"] == 25000 + 2500


def test_lines_without_money_are_incomplete_and_orders_without_a_date_use_the_import_time(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        shop = new_account(session, rates={"de": "1"})
        new_order(
            session,
            shop,
            "X",
            "de",
            None,
            [sale("sent", 1000, 0, 870, 731), {"status": "open", "price": None}],
        )
    report = run(factory)
    (total,) = report.totals
    assert (total.figures.lines, total.figures.incomplete, total.figures.commission) == (1, 1, 130)
    with factory() as session:
        imported = session.scalars(select(Order.created_at)).one()
    assert report.range.first == report.range.last == imported.date()
