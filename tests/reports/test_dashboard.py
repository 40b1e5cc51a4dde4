"""Dashboard figures on SQLite and PostgreSQL: a small seeded store whose every figure is
computed by hand in the comments, previous periods, zero-filled trends, conversion, filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.reports.dashboard import Dashboard, Period, bucket_key, change_pct, dashboard
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Currency, Product, StockLevel, Warehouse
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from kaufland_sync.store.models.orders import Customer
from kaufland_sync.store.models.sync import (
    BindingState,
    OfferBinding,
    RunOutcome,
    SyncKind,
    SyncRun,
)
from tests.builders import at, new_account, new_order

NOW = at("2026-03-10", "15:30")  # 7d = 03-04 .. 03-10; its previous period 02-25 .. 03-03


def line(status: str, local: str, price: int, shipping: int = 0) -> dict[str, Any]:
    return {"status": status, "local_status": local, "price": price, "shipping_rate": shipping}


def job(account: Account, kind: JobKind, state: JobState, finished: datetime | None) -> Job:
    return Job(
        kind=kind,
        account_id=account.id,
        trigger=JobTrigger.SCHEDULE,
        state=state,
        enqueued_at=(finished or NOW) - timedelta(minutes=1),
        not_before=(finished or NOW) - timedelta(minutes=1),
        finished_at=finished,
        counts={"imported": 3} if state == JobState.DONE else {},
        last_error="boom" if state == JobState.FAILED else None,
    )


def seed(session: Session) -> None:
    shop = new_account(session, "shop", rates={"de": "1", "cz": "25"})
    other = new_account(session, "other", storefronts=("de",))
    c1, c2, c3 = (
        Customer(account_id=shop.id, id_buyer=1),
        Customer(account_id=shop.id, id_buyer=2),
        Customer(account_id=other.id, id_buyer=3),
    )
    session.add_all([c1, c2, c3])
    session.flush()

    def order(acc: Account, name: str, code: str, when: datetime | None, *lines: Any) -> None:
        made = new_order(session, acc, name, code, when, list(lines))
        made.customer_id = {"o1": c1, "o2": c2, "o3": c1, "o4": c3, "o5": c1}.get(name, c1).id
        if name in {"o6", "o9"}:
            made.customer_id = None
        if when is None:
            made.created_at = at("2026-03-06", "08:00")

    # In the period (03-04 .. 03-10):
    order(shop, "o1", "de", at("2026-03-10", "09:15"),  # 1000+300 + 1000 = 2300
          line("sent", "shipped", 1000, 300), line("sent", "shipped", 1000))  # fmt: skip
    order(shop, "o2", "cz", at("2026-03-08", "10:00"),  # 30000 CZK / 25 = 1200 EUR
          line("open", "new", 25000, 5000))  # fmt: skip
    order(shop, "o3", "de", at("2026-03-05"),  # cancelled: no revenue, still an order
          line("cancelled", "cancelled", 500))  # fmt: skip
    order(other, "o4", "de", at("2026-03-04", "00:00"),  # the first instant counts: 800
          line("need_to_be_sent", "new", 700, 100))  # fmt: skip
    order(shop, "o9", "de", None, line("open", "new", 100))  # no date: import time 03-06
    # The previous period (02-25 .. 03-03): 2000 + 1000
    order(shop, "o5", "de", at("2026-03-03", "23:59"), line("sent", "shipped", 2000))
    order(other, "o6", "de", at("2026-02-25", "00:00"), line("sent", "shipped", 1000))
    # Neither:
    order(shop, "o7", "de", at("2026-02-24", "23:59"), line("sent", "shipped", 9999))
    order(shop, "o8", "de", at("2026-03-11", "00:00"), line("open", "new", 9999))

    session.add_all(
        [
            job(shop, JobKind.ORDERS, JobState.DONE, at("2026-03-10", "15:00")),
            job(shop, JobKind.STOCK, JobState.DONE, at("2026-03-10", "14:31")),
            job(other, JobKind.ORDERS, JobState.DONE, at("2026-03-05")),
            job(other, JobKind.STOCK, JobState.FAILED, at("2026-03-06")),
            job(shop, JobKind.OFFERS, JobState.DONE, at("2026-03-01")),  # previous period
            job(shop, JobKind.ORDERS, JobState.QUEUED, None),
            job(other, JobKind.OFFERS, JobState.RETRYING, None),
        ]
    )
    warehouse = Warehouse(code="default", name="Default")
    products = [
        Product(
            sku=sku,
            ean=f"400000000000{n}",
            title=sku,
            price_minor=1000,
            currency=Currency.EUR,
            content_hash="x",
        )
        for n, sku in enumerate(("A", "B", "C"))
    ]
    session.add_all([warehouse, *products])
    session.flush()
    session.add(StockLevel(product_id=products[1].id, warehouse_id=warehouse.id, quantity=5))
    session.add(StockLevel(product_id=products[0].id, warehouse_id=warehouse.id, quantity=0))
    old = at("2026-01-01")
    session.add_all(
        [
            OfferBinding(
                account_id=shop.id, storefront=Storefront.DE, sku="A", state=BindingState.ACTIVE
            ),
            OfferBinding(
                account_id=shop.id, storefront=Storefront.CZ, sku="A", state=BindingState.ACTIVE
            ),
            OfferBinding(
                account_id=shop.id,
                storefront=Storefront.DE,
                sku="B",
                state=BindingState.ACTIVE,
                created_at=old,
            ),
            OfferBinding(account_id=other.id, storefront=Storefront.DE, sku="C"),
            SyncRun(
                kind=SyncKind.OFFERS,
                account_id=shop.id,
                storefront=Storefront.CZ,
                started_at=at("2026-03-10", "15:10"),
                outcome=RunOutcome.PARTIAL,
                created=2,
                failed=1,
                error_summary="1 offer refused",
            ),
            SyncRun(
                kind=SyncKind.ORDERS,
                account_id=other.id,
                storefront=Storefront.DE,
                started_at=at("2026-03-09"),
                outcome=RunOutcome.OK,
            ),
        ]
    )
    session.flush()


@pytest.fixture
def store(factory: sessionmaker[Session]) -> Iterator[sessionmaker[Session]]:
    with transaction(factory) as session:
        seed(session)
    yield factory


def board(factory: sessionmaker[Session], period: Period, **options: Any) -> Dashboard:
    with factory() as session:
        if "account" in options:
            name = options.pop("account")
            options["account_id"] = session.scalar(select(Account.id).where(Account.name == name))
        return dashboard(session, period=period, now=NOW, **options)


def values(found: Dashboard) -> dict[str, Any]:
    return {kpi.key: (kpi.value, kpi.previous, kpi.change_pct) for kpi in found.kpis}


def test_kpis_and_their_previous_period(store: sessionmaker[Session]) -> None:
    found = board(store, Period("7d"))
    assert (found.start, found.end) == (at("2026-03-04", "00:00"), at("2026-03-11", "00:00"))
    assert values(found) == {
        # 2300 + 1200 + 0 + 800 + 100 against 2000 + 1000
        "revenue": (4400, 3000, 46.7),
        "orders": (5, 2, 150.0),  # o1 o2 o3 o4 o9 against o5 o6
        "customers": (3, 1, 200.0),  # c1 c2 c3 (o9 has none) against c1 (o6 has none)
        "products": (2, 1, 100.0),  # live SKUs A and B; only B was bound before 03-04
        "aov": (880, 1500, -41.3),
        "sync_health": (75.0, 100.0, -25.0),  # 3 done, 1 failed against 1 done
    }
    assert found.kpi("sync_health").extra == {"failed": 1, "done": 3}
    assert found.kpi("revenue").display == "44.00 EUR"
    assert [(c.currency, c.amount, c.converted) for c in found.per_currency] == [
        ("CZK", 30000, 1200),
        ("EUR", 3200, 3200),
    ]


def test_trend_per_day_is_zero_filled(store: sessionmaker[Session]) -> None:
    found = board(store, Period("7d"))
    assert found.trend_labels == [f"2026-03-{day:02d}" for day in range(4, 11)]
    assert found.trend_orders == [1, 1, 1, 0, 1, 0, 1]
    assert found.trend_revenue == [800, 0, 100, 0, 1200, 0, 2300]


def test_today_is_cut_per_hour_and_compared_with_yesterday(store: sessionmaker[Session]) -> None:
    found = board(store, Period("today"))
    assert found.trend_labels == [f"{hour:02d}:00" for hour in range(24)]
    assert found.trend_orders == [1 if hour == 9 else 0 for hour in range(24)]
    assert found.trend_revenue[9] == 2300
    assert sum(found.trend_revenue) == 2300
    assert values(found)["revenue"] == (2300, 0, None)  # nothing yesterday: no change to say


def test_custom_period_and_its_previous_one(store: sessionmaker[Session]) -> None:
    found = board(store, Period.custom(date(2026, 3, 8), date(2026, 3, 10)))
    assert len(found.trend_labels) == 3
    assert values(found)["revenue"] == (3500, 100, 3400.0)  # o2 + o1 against o3 + o9
    assert values(found)["orders"] == (2, 2, 0.0)


def test_order_statuses(store: sessionmaker[Session]) -> None:
    assert board(store, Period("7d")).status == {"new": 3, "shipped": 2, "cancelled": 1}


def test_filters_by_account_and_storefront(store: sessionmaker[Session]) -> None:
    other = board(store, Period("7d"), account="other")
    assert values(other)["revenue"] == (800, 1000, -20.0)
    assert values(other)["orders"] == (1, 1, 0.0)
    assert values(other)["sync_health"] == (50.0, None, None)
    assert values(other)["products"] == (0, 0, None)  # C is still being created
    assert [entry.account for entry in other.activity] == ["other"] * 3
    assert other.footer.queued == 1

    cz = board(store, Period("7d"), storefront=Storefront.CZ)
    assert values(cz)["revenue"] == (1200, 0, None)
    assert [(c.currency, c.amount) for c in cz.per_currency] == [("CZK", 30000)]
    assert cz.status == {"new": 1}
    assert cz.footer.out_of_stock == 1


def test_given_rates_win_and_missing_rates_stay_out_of_the_total(
    store: sessionmaker[Session],
) -> None:
    given = board(store, Period("7d"), rates={"CZK": Decimal("20")})
    assert values(given)["revenue"][0] == 3200 + 1500  # 30000 CZK / 20
    with transaction(store) as session:
        lonely = new_account(session, "lonely", storefronts=("pl",))  # rate still 1
        new_order(session, lonely, "p1", "pl", at("2026-03-09"), [line("open", "new", 4300)])
    found = board(store, Period("7d"))
    assert values(found)["revenue"][0] == 4400
    assert ("PLN", 4300, None, 4300) in [
        (c.currency, c.amount, c.converted, c.unconverted) for c in found.per_currency
    ]
    assert values(found)["orders"][0] == 6


def test_a_currency_converted_for_one_account_and_not_another_says_which_part_is_out(
    store: sessionmaker[Session],
) -> None:
    with transaction(store) as session:
        # Rate 1 on cz: the account's CZK prices have no rate to the base currency.
        lonely = new_account(session, "lonely", storefronts=("cz",))
        new_order(session, lonely, "z1", "cz", at("2026-03-09"), [line("open", "new", 5000)])
    found = board(store, Period("7d"))
    czk = next(c for c in found.per_currency if c.currency == "CZK")
    # shop's 30000 CZK convert (to 1200 EUR cents); lonely's 5000 CZK have no rate.
    assert (czk.amount, czk.converted, czk.unconverted) == (35000, 1200, 5000)
    assert values(found)["revenue"][0] == 4400


def test_activity_and_footer(store: sessionmaker[Session]) -> None:
    found = board(store, Period("30d"))
    assert [(e.source, e.kind, e.account, e.outcome) for e in found.activity] == [
        ("sync", "offers", "shop", "partial"),
        ("job", "orders", "shop", "done"),
        ("job", "stock", "shop", "done"),
        ("sync", "orders", "other", "ok"),
        ("job", "stock", "other", "failed"),
        ("job", "orders", "other", "done"),
        ("job", "offers", "shop", "done"),
    ]
    assert found.activity[0].summary == "2 created, 1 failed; 1 offer refused"
    assert found.activity[0].storefront == "cz"
    assert found.activity[1].summary == "3 imported"
    assert found.activity[4].summary == "nothing to do; boom"
    # 2 pending, 1 failed, SKU A (no stock) live on de and cz, 2 done in 14:30..15:30
    assert found.footer.as_dict() == {
        "queued": 2,
        "failed": 1,
        "out_of_stock": 2,
        "sync_rate_per_hour": 2,
    }


def test_activity_summaries_are_written_for_people() -> None:
    from kaufland_sync.reports._common import counts_in_words

    assert counts_in_words([("lines_new", 4), ("orders_new", 1), ("unchanged", 0)]) == (
        "4 lines new, 1 order new"
    )
    assert counts_in_words([("storefronts", 1), ("unchanged", 11)]) == (
        "1 storefront, 11 unchanged"
    )
    assert counts_in_words([("read_calls", 1), ("stock_skus", 2), ("addresses_released", 1)]) == (
        "1 read call, 2 stock SKUs, 1 address released"
    )
    assert counts_in_words([("created", 0)]) == "nothing to do"


def test_an_empty_store_has_zeros_not_errors(factory: sessionmaker[Session]) -> None:
    found = board(factory, Period("year"))
    assert len(found.trend_labels) == 365
    assert set(found.trend_revenue) == {0}
    assert values(found)["aov"] == (None, None, None)
    assert found.kpi("aov").display == "n/a"
    assert found.activity == []
    assert found.status == {}


def test_periods_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="unknown period"):
        Period("week")
    with pytest.raises(ValueError, match="after it ends"):
        Period.custom(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValueError, match="at most"):
        Period.custom(date(2020, 1, 1), date(2026, 1, 1))
    assert Period("year").days(NOW) == (date(2025, 3, 11), date(2026, 3, 10))
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    yesterday = (at("2026-03-09", "00:00"), at("2026-03-10", "00:00"))
    assert Period("today").previous_bounds(late) == yesterday


def test_helpers() -> None:
    assert change_pct(150, 100) == 50.0
    assert change_pct(1, 0) is None
    assert change_pct(None, 3) is None
    assert bucket_key("2026-03-02 10:11:12.000000", "hour") == "2026-03-02 10"
    assert bucket_key(datetime(2026, 3, 2, 10), "day") == "2026-03-02"


def test_an_in_memory_store_reads_everything_on_its_one_session() -> None:
    """Each connection to ``sqlite://`` has a database of its own: a session alongside would
    read an empty one, so the dashboard reads all on the caller's session there."""
    from kaufland_sync.store.db import create_db_engine, session_factory
    from kaufland_sync.store.migrate import upgrade

    engine = create_db_engine("sqlite://")
    try:
        upgrade(engine)
        factory = session_factory(engine)
        with transaction(factory) as session:
            shop = new_account(session, "shop")
            buyer = Customer(account_id=shop.id, id_buyer=1)
            session.add(buyer)
            session.flush()
            order = new_order(session, shop, "o1", "de", at("2026-03-09"), [])
            order.customer_id = buyer.id
        with factory() as session:
            found = dashboard(session, period=Period("7d"), now=NOW, alongside=factory)
        assert {kpi.key: kpi.value for kpi in found.kpis}["customers"] == 1
    finally:
        engine.dispose()
