"""The daily order rollup and the customer chains against the raw tables, on SQLite and
PostgreSQL.

The property: whatever orders are written, changed, cancelled, moved to another day, given to
another customer, deleted or inserted again, and however the writes are split into
transactions, (1) the rollup and the customer chains the sessions maintained are row for row
what a rebuild from the raw tables gives, and (2) the dashboard's figures from them equal its
figures from the raw lines, for every period (with days on the boundary and the current,
partial day) and filter. Plus: the migrations' backfills, a session reading its own uncommitted
orders, two transactions writing the same account's day (or the same customer) at once, and
deleting a customer.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.reports.dashboard import Dashboard, Period, dashboard
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import create_db_engine, session_factory, transaction
from kaufland_sync.store.migrate import downgrade, upgrade
from kaufland_sync.store.models._days import midnight
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.customer_days import (
    CustomerDay,
    count_customers,
    rebuild_customer_days,
)
from kaufland_sync.store.models.orders import Customer, Order, OrderLine
from kaufland_sync.store.models.rollup import OrderStatsDaily, rebuild_order_stats
from kaufland_sync.sync.importers.orders import import_orders
from tests.builders import at, new_account

NOW = at("2026-03-10", "15:30")
# Days around the presets' edges: today, yesterday, the first day of 7d and the day before it,
# the first of 30d, and one outside everything.
DAYS = ("2026-03-10", "2026-03-09", "2026-03-04", "2026-03-03", "2026-02-09", "2026-01-01")
CLOCKS = ("00:00", "00:00:01", "12:00", "23:59:59")
PERIODS = (
    Period("today"),
    Period("7d"),
    Period("30d"),
    Period.custom(date(2026, 3, 3), date(2026, 3, 4)),
    Period.custom(date(2026, 3, 10), date(2026, 3, 12)),  # today and two days to come
)

moments = st.one_of(
    st.none(),
    st.builds(
        lambda day, clock: datetime.fromisoformat(f"{day}T{clock}+00:00"),
        st.sampled_from(DAYS),
        st.sampled_from(CLOCKS),
    ),
)
lines = st.fixed_dictionaries(
    {
        "status": st.sampled_from(("sent", "open", "cancelled", "need_to_be_sent")),
        "local_status": st.sampled_from(("", "new", "shipped", "cancelled")),
        "price": st.one_of(st.none(), st.integers(0, 50_000)),
        "shipping_rate": st.one_of(st.none(), st.integers(0, 990)),
    }
)
new_orders = st.tuples(
    st.just("add"),
    st.integers(0, 1),  # account
    st.sampled_from(("de", "cz")),
    st.booleans(),  # currency stored, or left to the storefront
    moments,  # ordered_at (None: the import time counts)
    moments.filter(lambda m: m is not None),  # created_at
    st.integers(0, 2),  # customer
    st.lists(lines, max_size=3),
    st.booleans(),  # as the order import does: INSERT statements, not the ORM
)
changes = st.one_of(
    st.tuples(st.just("line"), st.integers(0, 50), lines),  # status change, cancellation...
    st.tuples(st.just("move"), st.integers(0, 50), moments),  # the order's date changes
    # The order is given to another customer (the buyer Kaufland names changed), the old value
    # loaded or not.
    st.tuples(st.just("buyer"), st.integers(0, 50), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("drop_line"), st.integers(0, 50)),
    st.tuples(st.just("drop_order"), st.integers(0, 50)),
    st.tuples(st.just("add_line"), st.integers(0, 50), lines),
    st.tuples(
        st.just("commit"),
    ),
)
scripts = st.lists(st.one_of(new_orders, changes), min_size=1, max_size=14)


def rollup_rows(session: Session) -> list[tuple[Any, ...]]:
    return sorted(
        tuple(row)
        for row in session.execute(
            select(
                OrderStatsDaily.day,
                OrderStatsDaily.account_id,
                OrderStatsDaily.storefront,
                OrderStatsDaily.currency,
                OrderStatsDaily.local_status,
                OrderStatsDaily.lines,
                OrderStatsDaily.revenue,
                OrderStatsDaily.orders,
            )
        )
    )


def rebuilt_rows(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    """The rollup a rebuild from the raw tables gives (rolled back: the store keeps its own)."""
    with factory() as session:
        rebuild_order_stats(session)
        rows = rollup_rows(session)
        session.rollback()
    return rows


def chain_rows(session: Session) -> list[tuple[Any, ...]]:
    chain = CustomerDay
    columns = (chain.customer_id, chain.storefront, chain.day, chain.account_id, chain.previous_day)
    return sorted(tuple(row) for row in session.execute(select(*columns)))


def chains_of(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with factory() as session:
        return chain_rows(session)


def rebuilt_chains(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    """The customer chains a rebuild from the orders gives (rolled back)."""
    with factory() as session:
        rebuild_customer_days(session)
        rows = chain_rows(session)
        session.rollback()
    return rows


def figures(board: Dashboard) -> dict[str, Any]:
    return {
        "kpis": [kpi.as_dict() for kpi in board.kpis],
        "trend": (board.trend_labels, board.trend_revenue, board.trend_orders),
        "status": board.status,
        "per_currency": [amount.as_dict() for amount in board.per_currency],
    }


def assert_same_figures(
    session: Session, accounts: list[Account], alongside: sessionmaker[Session] | None = None
) -> None:
    """Rollup and raw lines give the same dashboard for every period and filter (with
    ``alongside``, the rollup's dashboard reads half of it in a thread on a session of its
    own, as the web app does)."""
    scopes: list[dict[str, Any]] = [
        {},
        {"account_id": accounts[0].id},
        {"storefront": Storefront.CZ},
        {"account_id": accounts[1].id, "storefront": Storefront.DE},
    ]
    for period in PERIODS:
        for scope in scopes:
            fast = dashboard(session, period=period, now=NOW, alongside=alongside, **scope)
            slow = dashboard(session, period=period, now=NOW, use_rollup=False, **scope)
            assert figures(fast) == figures(slow), (period, scope)


def assert_same_customers(session: Session, accounts: list[Account]) -> None:
    """The chains count what COUNT(DISTINCT) over the orders counts, for every range whose
    ends are among the script's days (and the days next to them), in every scope."""
    bounds = sorted({date.fromisoformat(d) + timedelta(days=k) for d in DAYS for k in (-1, 0, 1)})
    for first, last in itertools.combinations_with_replacement(bounds, 2):
        start, end = midnight(first), midnight(last + timedelta(days=1))
        moment = func.coalesce(Order.ordered_at, Order.created_at)
        for account_id, storefront in itertools.product(
            (None, accounts[0].id), (None, Storefront.DE, Storefront.CZ)
        ):
            raw = select(func.count(func.distinct(Order.customer_id))).where(
                moment >= start, moment < end
            )
            if account_id is not None:
                raw = raw.where(Order.account_id == account_id)
            if storefront is not None:
                raw = raw.where(Order.storefront == storefront)
            chained = count_customers(
                session, first, last, account_id=account_id, storefront=storefront
            )
            assert chained == session.scalar(raw), (first, last, account_id, storefront)


@pytest.fixture
def accounts(factory: sessionmaker[Session]) -> list[Account]:
    with transaction(factory) as session:
        made = [
            new_account(session, "shop", rates={"de": "1", "cz": "25"}),
            new_account(session, "other", rates={"de": "1", "cz": "24.5"}),
        ]
        for account in made:
            session.add_all(Customer(account_id=account.id, id_buyer=n) for n in range(3))
    return made


class Script:
    """Plays one generated script of writes on the store, committing where it says so."""

    def __init__(self, session: Session, accounts: list[Account]) -> None:
        self.session = session
        self.accounts = accounts
        self.units = iter(range(1, 10**6))
        self.orders = iter(range(1, 10**6))
        self.customers = {
            (c.account_id, c.id_buyer): c.id for c in session.scalars(select(Customer))
        }

    def pick(self, model: type[Order] | type[OrderLine], n: int) -> Any:
        found = list(self.session.scalars(select(model).order_by(model.id)))
        return found[n % len(found)] if found else None

    def play(self, step: tuple[Any, ...]) -> None:
        session = self.session
        kind = step[0]
        if kind == "add":
            self.add(*step[1:])
        elif kind == "line" and (line := self.pick(OrderLine, step[1])) is not None:
            for name, value in step[2].items():
                setattr(line, name, value)
        elif kind == "move" and (order := self.pick(Order, step[1])) is not None:
            order.ordered_at = step[2]
        elif kind == "buyer" and (order := self.pick(Order, step[1])) is not None:
            if step[3]:
                session.expire(order, ["customer_id"])
            order.customer_id = self.customers[(order.account_id, step[2])]
        elif kind == "drop_line" and (line := self.pick(OrderLine, step[1])) is not None:
            session.delete(line)
        elif kind == "drop_order" and (order := self.pick(Order, step[1])) is not None:
            for line in order.lines:
                session.delete(line)
            session.delete(order)
        elif kind == "add_line" and (order := self.pick(Order, step[1])) is not None:
            order.lines.append(OrderLine(id_order_unit=next(self.units), raw={}, **step[2]))
        elif kind == "commit":
            session.commit()
        session.flush()
        # Read afresh (a deleted line leaves its order's loaded collection otherwise); the next
        # step's writes then also meet attributes that are not loaded.
        session.expire_all()

    def add(
        self,
        account: int,
        code: str,
        with_currency: bool,
        ordered_at: datetime | None,
        created_at: datetime,
        customer: int,
        order_lines: list[dict[str, Any]],
        as_statements: bool,
    ) -> None:
        account_id = self.accounts[account].id
        values = {
            "account_id": account_id,
            "id_order": f"O{next(self.orders)}",
            "storefront": Storefront(code),
            "currency": Storefront(code).currency.value if with_currency else None,
            "customer_id": self.customers[(account_id, customer)],
            "ordered_at": ordered_at,
            "created_at": created_at,
            "raw": {},
        }
        if as_statements:
            made = self.session.execute(insert(Order).returning(Order.id), [values])
            order_id = made.scalar_one()
            if order_lines:
                rows = [
                    {"order_id": order_id, "id_order_unit": next(self.units), "raw": {}} | line
                    for line in order_lines
                ]
                self.session.execute(insert(OrderLine).returning(OrderLine.id), rows)
            return
        order = Order(**values)
        order.lines = [
            OrderLine(id_order_unit=next(self.units), raw={}, **line) for line in order_lines
        ]
        self.session.add(order)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=scripts)
def test_the_rollup_is_always_what_the_raw_tables_say(
    factory: sessionmaker[Session], accounts: list[Account], script: list[tuple[Any, ...]]
) -> None:
    with transaction(factory) as session:  # every example starts without orders
        session.execute(delete(OrderLine))
        session.execute(delete(Order))
    with factory() as session:
        player = Script(session, accounts)
        for step in script:
            player.play(step)
        # Uncommitted writes: the dashboard settles the session's rollup before reading.
        assert_same_figures(session, accounts)
        session.commit()
        assert_same_customers(session, accounts)
    assert rollup_rows_of(factory) == rebuilt_rows(factory)
    assert chains_of(factory) == rebuilt_chains(factory)
    with factory() as session:
        assert_same_figures(session, accounts, alongside=factory)


def rollup_rows_of(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with factory() as session:
        return rollup_rows(session)


def test_a_rolled_back_transaction_leaves_the_rollup_as_it_was(
    factory: sessionmaker[Session], accounts: list[Account]
) -> None:
    with factory() as session:
        Script(session, accounts).add(0, "de", True, at("2026-03-09"), NOW, 0, [], False)
        session.flush()
        session.rollback()
    assert rollup_rows_of(factory) == []
    with transaction(factory) as session:
        line = {"status": "sent", "local_status": "shipped", "price": 700, "shipping_rate": 0}
        Script(session, accounts).add(0, "de", True, at("2026-03-09"), NOW, 0, [line], False)
    shop = accounts[0].id
    assert rollup_rows_of(factory) == [
        (date(2026, 3, 9), shop, Storefront.DE, "EUR", "", 0, 0, 1),
        (date(2026, 3, 9), shop, Storefront.DE, "EUR", "shipped", 1, 700, 0),
    ]


def test_the_migration_backfills_the_orders_stored_before_it(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        upgrade(engine, "0010_offer_pause")
        factory = session_factory(engine)
        with transaction(factory) as session:
            shop = new_account(session, "shop", storefronts=("de", "cz"))
            shop_id = shop.id
        # Written on a raw connection: nothing maintains a table that does not exist yet.
        with engine.begin() as connection:
            for n, (when, code, status, price) in enumerate(
                [
                    (at("2026-03-09", "23:59"), "de", "sent", 1000),
                    (at("2026-03-10", "00:00"), "de", "cancelled", 400),
                    (at("2026-03-10", "08:00"), "cz", "open", 25_000),
                ]
            ):
                order_id = connection.execute(
                    insert(Order).returning(Order.id),
                    {
                        "account_id": shop_id,
                        "id_order": f"O{n}",
                        "storefront": code,
                        "currency": None if code == "cz" else "EUR",
                        "ordered_at": when,
                        "status": status,
                        "local_status": "",
                        "raw": {},
                        "created_at": when,
                        "updated_at": when,
                    },
                ).scalar_one()
                connection.execute(
                    insert(OrderLine),
                    {
                        "order_id": order_id,
                        "id_order_unit": n,
                        "status": status,
                        "local_status": "",
                        "stock_state": "none",
                        "price": price,
                        "shipping_rate": 90,
                        "addresses_hidden": False,
                        "raw": {},
                        "created_at": when,
                        "updated_at": when,
                    },
                )
        upgrade(engine)
        with factory() as session:
            rows = rollup_rows(session)
        assert rows == rebuilt_rows(factory)
        de, cz = Storefront.DE, Storefront.CZ
        assert rows == [
            (date(2026, 3, 9), shop_id, de, "EUR", "", 0, 0, 1),
            (date(2026, 3, 9), shop_id, de, "EUR", "unmapped", 1, 1090, 0),
            (date(2026, 3, 10), shop_id, cz, "", "", 0, 0, 1),
            (date(2026, 3, 10), shop_id, cz, "", "unmapped", 1, 25_090, 0),
            (date(2026, 3, 10), shop_id, de, "EUR", "", 0, 0, 1),
            (date(2026, 3, 10), shop_id, de, "EUR", "unmapped", 1, 0, 0),  # cancelled
        ]
    finally:
        engine.dispose()


def two_writers(
    factory: sessionmaker[Session], db_url: str, write: Callable[[Session, int], None]
) -> None:
    """Two threads each ``write(session, n)`` and commit; on PostgreSQL both have flushed
    their writes before either commits (SQLite lets one writer at a time, so there the second
    waits for the first's commit to write)."""
    both_written = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            with factory() as session:
                write(session, n)
                if db_url.startswith("postgresql"):
                    session.flush()
                both_written.wait()
                session.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            both_written.abort()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_two_transactions_writing_the_same_day_both_count(
    factory: sessionmaker[Session], accounts: list[Account], db_url: str
) -> None:
    """Both transactions have written their order before either commits (PostgreSQL; SQLite
    lets one writer at a time, so there the second waits for the first's commit to write)."""

    def write(session: Session, n: int) -> None:
        line = {"status": "sent", "local_status": "shipped", "price": 100 * (n + 1)}
        script = Script(session, accounts)
        script.orders = iter(range(100 * (n + 1), 10**6))
        script.units = iter(range(100 * (n + 1), 10**6))
        script.add(0, "de", True, at("2026-03-09", "10:00"), NOW, n, [line], n == 1)

    two_writers(factory, db_url, write)
    rows = rollup_rows_of(factory)
    assert rows == rebuilt_rows(factory)
    shop = accounts[0].id
    assert rows == [
        (date(2026, 3, 9), shop, Storefront.DE, "EUR", "", 0, 0, 2),
        (date(2026, 3, 9), shop, Storefront.DE, "EUR", "shipped", 2, 300, 0),
    ]


def test_deleting_an_account_deletes_its_rollup(
    factory: sessionmaker[Session], accounts: list[Account]
) -> None:
    with transaction(factory) as session:
        script = Script(session, accounts)
        for account in (0, 1):
            script.add(account, "de", True, at("2026-03-09"), NOW, 0, [], False)
    with transaction(factory) as session:
        session.execute(text("DELETE FROM accounts WHERE id = :id"), {"id": accounts[1].id})
    assert {row[1] for row in rollup_rows_of(factory)} == {accounts[0].id}
    assert rollup_rows_of(factory) == rebuilt_rows(factory)


def test_the_order_import_keeps_the_rollup(factory: sessionmaker[Session]) -> None:
    """The real import (new orders and lines are INSERT statements, changes go through the
    ORM): two runs at once, then a re-import that cancels a line, ships one and moves an order
    to another day."""
    from tests.sync.importers.test_orders import FakeClient, as_client, unit

    with transaction(factory) as session:
        shop = new_account(session, "shop", storefronts=("de",))
    units = [
        unit(i, f"O{i // 3}", ts_created_iso=f"2026-03-0{1 + i % 3}T23:59:59Z")
        for i in range(1, 13)
    ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            client = as_client(FakeClient(units, barrier))
            asyncio.run(import_orders(client, factory, shop, ["de"], clock=lambda: NOW))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert rollup_rows_of(factory) == rebuilt_rows(factory)
    again = [
        unit(1, "O0", status="cancelled", ts_created_iso="2026-03-02T23:59:59Z"),
        unit(4, "O1", status="sent", ts_created_iso="2026-03-09T00:00:00Z"),
        unit(5, "O1", status="sent", ts_created_iso="2026-03-09T00:00:00Z"),
        unit(13, "O4", ts_created_iso="2026-03-10T08:00:00Z"),
    ]
    asyncio.run(
        import_orders(as_client(FakeClient(again)), factory, shop, ["de"], clock=lambda: NOW)
    )
    rows = rollup_rows_of(factory)
    assert rows == rebuilt_rows(factory)
    assert chains_of(factory) == rebuilt_chains(factory)
    assert (date(2026, 3, 9), shop.id, Storefront.DE, "EUR", "", 0, 0, 1) in rows
    with factory() as session:
        for period in (Period("7d"), Period("30d"), Period("today")):
            fast = dashboard(session, period=period, now=NOW)
            assert figures(fast) == figures(
                dashboard(session, period=period, now=NOW, use_rollup=False)
            )


@pytest.mark.parametrize("change", ["buyer", "delete"])
def test_an_order_whose_earlier_customer_is_unknown_rechains_its_account(
    factory: sessionmaker[Session], accounts: list[Account], change: str
) -> None:
    """An order given to another customer, or deleted, while its customer was not loaded: the
    earlier customer's chain must still lose that day."""
    with transaction(factory) as session:
        script = Script(session, accounts)
        script.add(0, "de", True, at("2026-03-09"), NOW, 0, [], False)
        script.add(0, "de", True, at("2026-03-04"), NOW, 0, [], False)
    with transaction(factory) as session:
        order = session.scalars(select(Order).order_by(Order.ordered_at.desc())).first()
        assert order is not None
        session.expire(order, ["customer_id"])
        if change == "buyer":
            order.customer_id = Script(session, accounts).customers[(accounts[0].id, 1)]
        else:
            session.delete(order)
    assert chains_of(factory) == rebuilt_chains(factory)
    with factory() as session:
        assert count_customers(session, date(2026, 3, 9), date(2026, 3, 9)) == (
            1 if change == "buyer" else 0
        )
        assert count_customers(session, date(2026, 3, 4), date(2026, 3, 9)) == (
            2 if change == "buyer" else 1
        )


def test_deleting_a_customer_deletes_its_chain(
    factory: sessionmaker[Session], accounts: list[Account]
) -> None:
    """The orders keep no customer then (``SET NULL``), so they count no one."""
    with transaction(factory) as session:
        script = Script(session, accounts)
        for customer in (0, 1):
            script.add(0, "de", True, at("2026-03-09"), NOW, customer, [], False)
        gone = script.customers[(accounts[0].id, 0)]
    with transaction(factory) as session:
        session.execute(text("DELETE FROM customers WHERE id = :id"), {"id": gone})
    assert chains_of(factory) == rebuilt_chains(factory)
    assert {row[0] for row in chains_of(factory)} == {script.customers[(accounts[0].id, 1)]}
    with factory() as session:
        assert count_customers(session, date(2026, 3, 9), date(2026, 3, 9)) == 1


def test_two_transactions_writing_the_same_customer_both_count(
    factory: sessionmaker[Session], accounts: list[Account], db_url: str
) -> None:
    """One customer orders on two days in two transactions that overlap (PostgreSQL: both have
    written before either commits): the chain links both days."""
    days = (at("2026-03-04", "10:00"), at("2026-03-09", "10:00"))

    def write(session: Session, n: int) -> None:
        script = Script(session, accounts)
        script.orders = iter(range(100 * (n + 1), 10**6))
        script.add(0, "de", True, days[n], NOW, 0, [], n == 1)

    two_writers(factory, db_url, write)
    rows = chains_of(factory)
    assert rows == rebuilt_chains(factory)
    first, second = date(2026, 3, 4), date(2026, 3, 9)
    assert [(row[1], row[2], row[4]) for row in rows] == [
        ("", first, None),
        ("", second, first),
        ("de", first, None),
        ("de", second, first),
    ]


def test_the_customer_chain_migration_backfills_the_orders_stored_before_it(db_url: str) -> None:
    """Migration 0013 fills the chains from orders written before it (including one without a
    customer, and one customer on two storefronts and three days), then goes back cleanly."""
    engine = create_db_engine(db_url)
    try:
        upgrade(engine, "0012_job_stats_rollup")
        factory = session_factory(engine)
        with transaction(factory) as session:
            shop = new_account(session, "shop", storefronts=("de", "cz"))
            buyers = [Customer(account_id=shop.id, id_buyer=n) for n in range(2)]
            session.add_all(buyers)
            session.flush()
            ada, bob = (buyer.id for buyer in buyers)
        with engine.begin() as connection:  # nothing maintains a table that does not exist yet
            for n, (when, code, customer) in enumerate(
                [
                    (at("2026-03-01", "23:59"), "de", ada),
                    (at("2026-03-03", "08:00"), "cz", ada),
                    (at("2026-03-03", "09:00"), "de", ada),
                    (at("2026-03-09", "10:00"), "de", ada),
                    (at("2026-03-03", "10:00"), "cz", bob),
                    (at("2026-03-03", "11:00"), "cz", None),
                ]
            ):
                connection.execute(
                    insert(Order),
                    {
                        "account_id": shop.id,
                        "id_order": f"O{n}",
                        "storefront": code,
                        "customer_id": customer,
                        "ordered_at": when,
                        "status": "open",
                        "local_status": "",
                        "raw": {},
                        "created_at": when,
                        "updated_at": when,
                    },
                )
        upgrade(engine)
        rows = chains_of(factory)
        assert rows == rebuilt_chains(factory)
        d1, d3, d9 = date(2026, 3, 1), date(2026, 3, 3), date(2026, 3, 9)
        assert [row[:3] + row[4:] for row in rows] == [
            (ada, "", d1, None),
            (ada, "", d3, d1),
            (ada, "", d9, d3),
            (ada, "cz", d3, None),
            (ada, "de", d1, None),
            (ada, "de", d3, d1),
            (ada, "de", d9, d3),
            (bob, "", d3, None),
            (bob, "cz", d3, None),
        ]
        with factory() as session:
            assert count_customers(session, d3, d9) == 2
            assert count_customers(session, d3, d9, storefront=Storefront.DE) == 1
        downgrade(engine, "0012_job_stats_rollup")
        assert "customer_days" not in sa_inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_update_and_delete_statements_keep_the_chains(
    factory: sessionmaker[Session], accounts: list[Account]
) -> None:
    """Statements whose rows are not known: one that gives orders another customer, and a
    DELETE of orders, rechain the customers; one on lines only changes no chain."""
    with transaction(factory) as session:
        script = Script(session, accounts)
        line = {"status": "open", "local_status": "new", "price": 100}
        script.add(0, "de", True, at("2026-03-09"), NOW, 0, [line], False)
        script.add(0, "cz", True, at("2026-03-04"), NOW, 1, [line], True)
        ada, bob = (script.customers[(accounts[0].id, n)] for n in (0, 1))
    before = chains_of(factory)
    with transaction(factory) as session:
        session.execute(sa_update(OrderLine).values(status="sent"))
    assert chains_of(factory) == before == rebuilt_chains(factory)
    with transaction(factory) as session:
        session.execute(sa_update(Order).where(Order.customer_id == ada).values(customer_id=bob))
    assert chains_of(factory) == rebuilt_chains(factory)
    assert {row[0] for row in chains_of(factory)} == {bob}
    with transaction(factory) as session:
        session.execute(delete(OrderLine))
        session.execute(delete(Order).where(Order.storefront == Storefront.CZ))
    assert chains_of(factory) == rebuilt_chains(factory)
    assert [row[1:3] for row in chains_of(factory)] == [
        ("", date(2026, 3, 9)),
        ("de", date(2026, 3, 9)),
    ]
