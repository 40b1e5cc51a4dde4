"""The daily order rollup the dashboard reads instead of every order line of a period.

:class:`OrderStatsDaily` holds, per UTC day, account, storefront, currency and local status,
what the dashboard adds up: order lines, revenue (``price + shipping_rate`` of lines that are
not ``cancelled``) and orders. An order's day is the UTC date of its ``ordered_at``, else of its
import time (``created_at``), as the dashboard counts it.

Two kinds of row share the table, told apart by ``local_status``:

* a *line row* (``local_status`` is the lines' local status, ``""`` stored as ``unmapped``)
  counts lines and their revenue; its ``orders`` is 0;
* an *order row* (``local_status == ""``) counts orders (with or without lines); its ``lines``
  and ``revenue`` are 0.

``currency`` is the order's currency as stored, ``""`` when it has none (the reader falls back
to the storefront's currency, as the raw path does).

**How it stays true.** Nothing increments the rollup. The ORM session records which orders a
transaction wrote (flushed objects, and ``INSERT`` statements into ``orders`` / ``order_lines``
sent through the session) and, just before the transaction commits, recomputes the rollup rows
of every affected (account, day) from the raw tables, in that same transaction
(:func:`settle`). A recompute is idempotent, so recording too much only costs time, never
correctness. Concurrent writers cannot lose each other's orders: on SQLite a writing
transaction holds the database's only write lock while it recomputes; on PostgreSQL each
(account, day) is recomputed under a transaction-level advisory lock taken in sorted order, and
a recompute's reads (READ COMMITTED) start after the lock is granted, so the last transaction
to commit sees everything the earlier ones committed.

Writes that bypass the session (bulk loads on a raw connection) must call
:func:`rebuild_order_stats` afterwards; migration ``0011_dashboard_rollup`` fills the table
from the orders that existed before it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    mapped_column,
)
from sqlalchemy.sql.elements import ColumnElement

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import Base
from kaufland_sync.store.models._days import as_date, midnight
from kaufland_sync.store.models._settling import (
    Marks,
    flushed_values,
    in_day_runs,
    statement_rows,
)
from kaufland_sync.store.models.customer_days import (
    CustomerDay,
    customers_of_accounts,
    rechain,
)
from kaufland_sync.store.models.orders import Order, OrderLine, day_of_order, line_revenue
from kaufland_sync.store.types import StrEnumType

__all__ = [
    "ORDER_ROW",
    "UNMAPPED",
    "OrderStatsDaily",
    "day_of_order",
    "rebuild_order_stats",
    "settle",
]

#: ``local_status`` of the row that counts orders.
ORDER_ROW = ""
#: What a line without a local status is counted as (the dashboard's label for it).
UNMAPPED = "unmapped"
_CHUNK = 500


class OrderStatsDaily(Base):
    """One day's figures of one account, storefront, currency and local status (module doc)."""

    __tablename__ = "order_stats_daily"
    __table_args__ = (
        # The dashboard asks for an account's days too (the primary key leads with the day).
        Index("ix_order_stats_daily_account_id_day", "account_id", "day"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    storefront: Mapped[Storefront] = mapped_column(StrEnumType(Storefront, 2), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    local_status: Mapped[str] = mapped_column(String(64), primary_key=True)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)


# --- SQL pieces --------------------------------------------------------------------------------


def _orders_between(first: date, last: date) -> ColumnElement[bool]:
    """Orders whose day is in ``[first, last]``, on the plain columns (index-friendly)."""
    start, end = midnight(first), midnight(last + timedelta(days=1))
    return or_(
        and_(Order.ordered_at >= start, Order.ordered_at < end),
        and_(Order.ordered_at.is_(None), Order.created_at >= start, Order.created_at < end),
    )


def _recompute(
    session: Session | Connection, dialect: str, account_id: int | None, first: date, last: date
) -> None:
    """Replace the rollup rows of ``[first, last]`` (one account, or all) by the raw figures."""
    gone = delete(OrderStatsDaily).where(OrderStatsDaily.day >= first, OrderStatsDaily.day <= last)
    where = [_orders_between(first, last)]
    if account_id is not None:
        gone = gone.where(OrderStatsDaily.account_id == account_id)
        where.append(Order.account_id == account_id)
    session.execute(gone)
    day = day_of_order(dialect)
    currency = func.coalesce(Order.currency, "")
    local = func.coalesce(func.nullif(OrderLine.local_status, ""), UNMAPPED)
    revenue = func.coalesce(func.sum(line_revenue()), 0)
    columns = ["day", "account_id", "storefront", "currency", "local_status"]
    columns += ["lines", "revenue", "orders"]
    line_rows = (
        select(
            day,
            Order.account_id,
            Order.storefront,
            currency,
            local,
            func.count(),
            revenue,
            literal(0),
        )
        .select_from(Order)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(*where)
        .group_by(day, Order.account_id, Order.storefront, currency, local)
    )
    order_rows = (
        select(
            day,
            Order.account_id,
            Order.storefront,
            currency,
            literal(ORDER_ROW),
            literal(0),
            literal(0),
            func.count(),
        )
        .where(*where)
        .group_by(day, Order.account_id, Order.storefront, currency)
    )
    session.execute(insert(OrderStatsDaily).from_select(columns, line_rows))
    session.execute(insert(OrderStatsDaily).from_select(columns, order_rows))


def rebuild_order_stats(bind: Session | Connection) -> None:
    """Recompute the whole rollup from the raw tables (after bulk loads that bypass the
    session). Run it in a transaction of its own; on PostgreSQL it locks the table against
    concurrent recomputes for that transaction."""
    dialect = bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name
    if dialect == "postgresql":
        bind.execute(text("LOCK TABLE order_stats_daily IN SHARE ROW EXCLUSIVE MODE"))
    bind.execute(delete(OrderStatsDaily))
    span = bind.execute(
        select(
            func.min(func.coalesce(Order.ordered_at, Order.created_at)),
            func.max(func.coalesce(Order.ordered_at, Order.created_at)),
        )
    ).one()
    if span[0] is None:
        return
    first, last = (as_date(value) for value in span)
    _recompute(bind, dialect, None, first, last)


# --- what a transaction touched ------------------------------------------------------------


class _Touched:
    """Orders (ids, or account + Kaufland id for statement inserts) and (account, day) keys a
    session wrote since its last settle; ``accounts``: whole accounts to recompute (a write
    whose order could not be told). For the customer chains
    (:mod:`~kaufland_sync.store.models.customer_days`), besides the customers of those orders:
    ``customers`` an order had before this flush (or a deleted order had), and
    ``chain_accounts`` whose every chain is recomputed (an order's earlier customer unknown)."""

    def __init__(self) -> None:
        self.order_ids: set[int] = set()
        self.kaufland_ids: set[tuple[int, str]] = set()
        self.keys: set[tuple[int, date]] = set()
        self.accounts: set[int] = set()
        self.customers: set[int] = set()
        self.chain_accounts: set[int] = set()
        self.everything = False  # every account's rollup
        self.all_chains = False  # every customer's chain (an order write that cannot be told)

    def __bool__(self) -> bool:
        return bool(
            self.order_ids
            or self.kaufland_ids
            or self.keys
            or self.accounts
            or self.customers
            or self.chain_accounts
            or self.everything
            or self.all_chains
        )


_MARKS = Marks("kaufland_sync.order_stats", _Touched, lambda session: settle(session))


def _old_keys_of_order(order: Order, touched: _Touched) -> None:
    """The (account, day) keys an order had before this flush, when its day or account
    changed (or it was deleted); its current key is resolved by id at settle time."""
    accounts = [a for a in flushed_values(order, "account_id") if a is not None]
    ordered = flushed_values(order, "ordered_at")
    created = flushed_values(order, "created_at")
    if not accounts or (not ordered and not created):
        if accounts:
            touched.accounts.update(accounts)
        else:
            touched.everything = True
        return
    moments = [m for m in ordered if m is not None] + [m for m in created if m is not None]
    for account_id in accounts:
        for moment in moments:
            touched.keys.add((account_id, as_date(moment)))


def _customers_of_order(order: Order, *, new: bool, deleted: bool, touched: _Touched) -> None:
    """Record the customers a flushed order had (its current one is resolved by id at settle
    time, unless it was deleted). When the one it had before this flush is unknown (a deleted
    order whose customer was not loaded, or a customer set on an expired attribute), every
    chain of its account is recomputed."""
    known = flushed_values(order, "customer_id")
    touched.customers.update(c for c in known if c is not None)
    history = inspect(order).attrs["customer_id"].history
    if new or (not deleted and not history.added):
        return
    if (deleted and known) or history.deleted:
        return
    accounts = [a for a in flushed_values(order, "account_id") if a is not None]
    if accounts:
        touched.chain_accounts.update(accounts)
    else:
        touched.all_chains = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    """Record the orders this flush wrote (their ids are assigned by now; the change history
    still holds the values from before the flush)."""
    touched = _MARKS.of(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Order):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            if obj.id is not None:
                touched.order_ids.add(obj.id)
            _customers_of_order(
                obj, new=obj in session.new, deleted=obj in session.deleted, touched=touched
            )
            history_moves = any(
                inspect(obj).attrs[name].history.deleted
                for name in ("account_id", "ordered_at", "created_at")
            )
            if history_moves or obj in session.deleted:
                _old_keys_of_order(obj, touched)
        elif isinstance(obj, OrderLine):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            ids = [i for i in flushed_values(obj, "order_id") if i is not None]
            if ids:
                touched.order_ids.update(ids)
            else:
                touched.everything = True


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state: ORMExecuteState) -> None:
    """Record the orders written by ``INSERT`` statements sent through the session (the order
    import inserts its new rows that way, see :mod:`kaufland_sync.sync.importers.orders`);
    ``UPDATE``/``DELETE`` statements that may change a figure mark the whole rollup."""
    statement = state.statement
    table = getattr(statement, "table", None)
    if table is None or table.name not in {"orders", "order_lines"}:
        return
    touched = _MARKS.of(state.session)
    rows = statement_rows(state.parameters)
    if state.is_insert:
        if table.name == "order_lines":
            for row in rows:
                if row.get("order_id") is None:
                    touched.everything = True
                else:
                    touched.order_ids.add(int(row["order_id"]))
        else:
            for row in rows:
                touched.kaufland_ids.add((int(row["account_id"]), str(row["id_order"])))
        if not rows:
            touched.everything = True
            touched.all_chains = table.name == "orders"
        return
    if state.is_update:
        values = getattr(statement, "_values", None) or {}
        names = {getattr(key, "key", key) for key in values}
        names |= {key for row in rows for key in row}
        if names and names <= _IRRELEVANT:
            return
        touched.everything = True
        # Lines, and order columns other than these, never move a customer's order days.
        touched.all_chains = table.name == "orders" and not (names and names.isdisjoint(_CHAINED))
        return
    touched.everything = True
    touched.all_chains = table.name == "orders"  # a DELETE of orders (lines: no chain moves)


#: The order columns a customer's chain of order days is made of.
_CHAINED = frozenset({"customer_id", "account_id", "storefront", "ordered_at", "created_at", "id"})

#: Columns whose change never moves a dashboard figure (a statement updating only these is
#: not recorded).
_IRRELEVANT = frozenset(
    {
        "stock_state",
        "sent_at",
        "updated_at",
        "addresses_hidden",
        "raw",
        "ts_updated",
        "email",
        "billing_address",
        "shipping_address",
        "cancel_reason",
    }
)


def settle(session: Session) -> None:
    """Bring the rollup up to date with what this session wrote, in its transaction.

    Called before every commit; the dashboard also calls it before reading, so a session
    reading its own uncommitted orders sees them in the rollup too."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    touched = _MARKS.take(session)
    if not touched:
        return
    dialect = session.get_bind().dialect.name
    if touched.everything:
        touched.accounts.update(session.scalars(select(Order.account_id).distinct()))
        touched.accounts.update(session.scalars(select(OrderStatsDaily.account_id).distinct()))
    if touched.all_chains:
        touched.chain_accounts.update(session.scalars(select(Order.account_id).distinct()))
        touched.chain_accounts.update(session.scalars(select(CustomerDay.account_id).distinct()))
    keys = set(touched.keys)
    customers = set(touched.customers)
    day = day_of_order(dialect)
    ids = sorted(touched.order_ids)
    for n in range(0, len(ids), _CHUNK):
        part = ids[n : n + _CHUNK]
        for account_id, value, customer_id in session.execute(
            select(Order.account_id, day, Order.customer_id).where(Order.id.in_(part)).distinct()
        ):
            keys.add((account_id, as_date(value)))
            if customer_id is not None:
                customers.add(customer_id)
    by_account: dict[int, set[str]] = {}
    for account_id, id_order in touched.kaufland_ids:
        by_account.setdefault(account_id, set()).add(id_order)
    for account_id, names in by_account.items():
        listed = sorted(names)
        for n in range(0, len(listed), _CHUNK):
            for value, customer_id in session.execute(
                select(day, Order.customer_id)
                .where(Order.account_id == account_id, Order.id_order.in_(listed[n : n + _CHUNK]))
                .distinct()
            ):
                keys.add((account_id, as_date(value)))
                if customer_id is not None:
                    customers.add(customer_id)
    for account_id in touched.accounts:
        for value in session.scalars(select(day).where(Order.account_id == account_id).distinct()):
            keys.add((account_id, as_date(value)))
        for stored in session.scalars(
            select(OrderStatsDaily.day).where(OrderStatsDaily.account_id == account_id).distinct()
        ):
            keys.add((account_id, stored))
    _recompute_keys(session, dialect, keys)
    # After the rollup's locks, in one sorted pass, as every writer takes them.
    rechain(session, customers | customers_of_accounts(session, touched.chain_accounts))


def _recompute_keys(session: Session, dialect: str, keys: set[tuple[int, date]]) -> None:
    """Recompute the rollup rows of these (account, day) keys, each under its lock."""
    ordered = sorted(keys)
    if dialect == "postgresql":
        for account_id, key_day in ordered:
            session.execute(
                text("SELECT pg_advisory_xact_lock(:account, :day)"),
                {"account": account_id, "day": key_day.toordinal()},
            )
    in_day_runs(
        ordered,
        lambda account_id, first, last: _recompute(session, dialect, account_id, first, last),
    )
