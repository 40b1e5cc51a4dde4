"""Each buyer's chain of order days, so the dashboard counts distinct customers without DISTINCT.

Distinct buyers do not add up across days, so the daily rollup (:mod:`.rollup`) cannot hold
them, and ``COUNT(DISTINCT customer_id)`` over a year of orders sorts or hashes every order.
:class:`CustomerDay` holds one row per customer, storefront and UTC day on which the customer
ordered, with ``previous_day``: the customer's latest earlier order day in the same storefront
(``None`` for the first). A second chain with ``storefront == ""`` (:data:`ANY_STOREFRONT`)
links the customer's order days over all storefronts of the account. Then

    distinct customers who ordered in [first, last]
        = rows with first <= day <= last and (previous_day is None or previous_day < first)

because each such customer has exactly one order day in the range whose previous one lies
before it: the first in the range. The count reads one index range, no sort, no hash
(:func:`count_customers`). Day and customer are the dashboard's: an order's day is the UTC date
of ``ordered_at``, else of ``created_at`` (:func:`~.orders.day_of_order`); orders without a
customer are not counted. A customer belongs to one account, so counting over all accounts adds
the accounts' counts.

**How it stays true.** Like the daily rollup: the transaction that writes orders recomputes,
just before it commits, the whole chain of every customer whose orders it wrote (their orders
now, and the customer an order had before, when that changed) — a customer's chain is the
handful of days on which they ordered, so this is cheap and idempotent. The rollup's session
hooks record the customers and call :func:`rechain` (see :func:`.rollup.settle`). On PostgreSQL
each customer is recomputed under a transaction-level advisory lock taken in sorted order after
the rollup's own locks, and the recompute's reads start after the lock is granted, so the last
of two concurrent writers sees the other's orders. Deleting a customer deletes its chain (the
orders keep no customer then); deleting an account deletes both.

Writes that bypass the session must call :func:`rebuild_customer_days`; migration
``0013_customer_days`` fills the table from the orders stored before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import Base
from kaufland_sync.store.models.orders import Order, day_of_order

__all__ = [
    "ANY_STOREFRONT",
    "CustomerDay",
    "count_customers",
    "customers_of_accounts",
    "rebuild_customer_days",
    "rechain",
]

#: ``storefront`` of the chain over all of an account's storefronts.
ANY_STOREFRONT = ""
_CHUNK = 500
#: High bits of the advisory lock key (``"cd"``), clear of the job rollup's and other users'.
_LOCK_BASE = 0x6364 << 44


class CustomerDay(Base):
    """A day on which a customer ordered in a storefront (or in any, ``""``), and the day they
    ordered there before (module doc)."""

    __tablename__ = "customer_days"
    __table_args__ = (
        # The dashboard's two counts: every account, or one; each reads one range of days.
        Index("ix_customer_days_storefront_day", "storefront", "day", "previous_day"),
        Index(
            "ix_customer_days_account_id_storefront_day",
            "account_id",
            "storefront",
            "day",
            "previous_day",
        ),
    )

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    storefront: Mapped[str] = mapped_column(String(2), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"))
    previous_day: Mapped[date | None] = mapped_column(Date, default=None)


def count_customers(
    session: Session,
    first: date,
    last: date,
    *,
    account_id: int | None = None,
    storefront: Storefront | None = None,
) -> int:
    """Distinct customers who ordered on a day in ``[first, last]`` (one account and/or one
    storefront, or all), from the chains (module doc)."""
    chain = CustomerDay
    where: list[ColumnElement[bool]] = [
        chain.storefront == (ANY_STOREFRONT if storefront is None else storefront.value),
        chain.day >= first,
        chain.day <= last,
        or_(chain.previous_day.is_(None), chain.previous_day < first),
    ]
    if account_id is not None:
        where.append(chain.account_id == account_id)
    return int(session.scalar(select(func.count()).select_from(chain).where(*where)) or 0)


def _chains(dialect: str, where: Iterable[ColumnElement[bool]]) -> Select[Any]:
    """SQL: the chain rows of the orders matching ``where`` — per storefront and over all."""
    day = day_of_order(dialect).label("day")
    conditions = [*where, Order.customer_id.is_not(None)]
    per_storefront = (
        select(
            Order.account_id,
            Order.customer_id,
            # Plain text, as the "any storefront" rows' "" is no storefront.
            type_coerce(Order.storefront, String(2)).label("storefront"),
            day,
        )
        .where(*conditions)
        .distinct()
    )
    any_storefront = (
        select(
            Order.account_id,
            Order.customer_id,
            literal(ANY_STOREFRONT, String(2)).label("storefront"),
            day,
        )
        .where(*conditions)
        .distinct()
    )
    days = union_all(per_storefront, any_storefront).subquery()
    previous = func.lag(days.c.day).over(
        partition_by=(days.c.customer_id, days.c.storefront), order_by=days.c.day
    )
    return select(days.c.customer_id, days.c.storefront, days.c.day, days.c.account_id, previous)


_COLUMNS = ["customer_id", "storefront", "day", "account_id", "previous_day"]


def _dialect(bind: Session | Connection) -> str:
    return bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name


def rechain(bind: Session | Connection, customer_ids: Iterable[int]) -> None:
    """Recompute the whole chains of these customers from their orders, in the caller's
    transaction (on PostgreSQL under a per-customer advisory lock, taken in sorted order)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    dialect = _dialect(bind)
    for n in range(0, len(ids), _CHUNK):
        part = ids[n : n + _CHUNK]
        if dialect == "postgresql":
            bind.execute(
                text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
                {"keys": [_LOCK_BASE + customer_id for customer_id in part]},
            )
        bind.execute(delete(CustomerDay).where(CustomerDay.customer_id.in_(part)))
        rows = _chains(dialect, [Order.customer_id.in_(part)])
        bind.execute(insert(CustomerDay).from_select(_COLUMNS, rows))


def customers_of_accounts(bind: Session | Connection, account_ids: Iterable[int]) -> set[int]:
    """Every customer whose chain may change when any order of these accounts may have: those
    with orders, and those with a chain (that may no longer have any)."""
    found: set[int] = set()
    for account_id in sorted(set(account_ids)):
        found.update(
            bind.scalars(
                select(Order.customer_id)
                .where(Order.account_id == account_id, Order.customer_id.is_not(None))
                .distinct()
            )
        )
        found.update(
            bind.scalars(
                select(CustomerDay.customer_id)
                .where(CustomerDay.account_id == account_id)
                .distinct()
            )
        )
    return found


def rebuild_customer_days(bind: Session | Connection) -> None:
    """Recompute every chain from the orders (after bulk loads that bypass the session). Run it
    in a transaction of its own; on PostgreSQL it locks the table against concurrent
    recomputes for that transaction."""
    dialect = _dialect(bind)
    if dialect == "postgresql":
        bind.execute(text("LOCK TABLE customer_days IN SHARE ROW EXCLUSIVE MODE"))
    bind.execute(delete(CustomerDay))
    bind.execute(insert(CustomerDay).from_select(_COLUMNS, _chains(dialect, [])))
