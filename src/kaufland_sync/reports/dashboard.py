"""The dashboard's figures: KPIs against the previous period, sales trend, order statuses,
recent activity and the status footer, all from the store (SQL aggregates, no row loading).

**Periods** (:class:`Period`, UTC calendar dates): ``today`` (midnight to midnight, trend per
hour), ``7d``/``30d``/``90d``/``year`` (the last 7/30/90/365 days *including* today, trend per
day) and ``custom`` (``first`` to ``last`` inclusive, per day). The previous period is as long
and ends right before the period starts (``today`` → yesterday).

**Which orders**: an order counts in the period of its date — ``Order.ordered_at`` (Kaufland's
``ts_created_iso``), else its import time — as the commission report does. Filters: one
account (``account_id``) and/or one storefront.

**KPIs** (each with its previous-period value and the change in percent, None when the
previous value is 0 or unknown):

* *revenue* — ``price + shipping_rate`` of every order line that is not ``cancelled`` (Kaufland
  status), in minor units of ``base_currency``. Amounts are summed per account, storefront and
  currency in SQL, then converted once per group: a rate given in ``rates`` (units of the
  currency per unit of the base currency, like ``currency_rate``) wins, else the account's own
  storefront rate (:class:`~kaufland_sync.reports._common.Conversion`, only when the account's
  base currency is ``base_currency``). Groups without a rate stay out of the total and are
  reported in ``per_currency`` with ``converted = None``. Trend points are converted per day
  (hour), so they may differ from the total by rounding.
* *orders* — orders placed in the period (whatever their lines' statuses);
* *customers* — distinct buyers (``Order.customer_id``; a buyer is per account) of those orders;
* *products* — live offers now: distinct SKUs with an ``active`` offer binding. No history of
  binding states is kept, so the previous value counts those of today's live offers that were
  already bound before the period started (the change is the catalogue's growth on Kaufland);
* *aov* — average order value: revenue / orders (minor units, half up);
* *sync_health* — jobs finished in the period that ended ``done`` over those ending ``done`` or
  ``failed``, in percent, with the failed count (None without finished jobs).

Jobs have no storefront: the storefront filter narrows orders, offers and sync runs, not jobs.

**Where the order figures come from**: revenue, orders, the trend and the status doughnut of
whole days are read from the daily rollup (:mod:`kaufland_sync.store.models.rollup`, one row
per UTC day, account, storefront, currency and local status), so a year costs a few thousand
rows instead of every order line; ``today``'s hourly trend reads its one day of raw rows.
The rollup is kept exact in the transactions that write orders; ``use_rollup=False`` computes
the same figures from the raw lines (the reference the tests compare against). Distinct
customers do not add up across days: they are counted on each customer's chain of order days
(:mod:`kaufland_sync.store.models.customer_days`, kept exact the same way), one index range
without DISTINCT; ``use_rollup=False`` counts them over the orders themselves.
Sync health of whole days comes from the daily job rollup
(:mod:`kaufland_sync.store.models.job_rollup`, jobs finished per day, account and state),
kept exact the same way in the transactions that change jobs.

**Footer** (now, not the period): pending jobs (``queued``/``retrying``), the failed list,
out-of-stock offers (active bindings whose product has no stock in any warehouse) and the sync
rate (jobs done in the hour before ``now``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from kaufland_sync.pricing import DEFAULT_BASE_CURRENCY
from kaufland_sync.reports._common import Conversion, counts_in_words, revenue_sum
from kaufland_sync.reports._period import utc_day_start
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Product, StockLevel
from kaufland_sync.store.models.customer_days import count_customers
from kaufland_sync.store.models.job_rollup import JobStatsDaily, settle_jobs
from kaufland_sync.store.models.jobs import PENDING_STATES, Job, JobState
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.store.models.rollup import ORDER_ROW, UNMAPPED, OrderStatsDaily, settle
from kaufland_sync.store.models.sync import BindingState, OfferBinding, SyncRun

__all__ = [
    "PRESETS",
    "Activity",
    "CurrencyAmount",
    "Dashboard",
    "Footer",
    "Kpi",
    "Period",
    "bucket_expression",
    "dashboard",
]

#: Preset period names and their length in days (``today`` is one day, cut per hour).
PRESETS: dict[str, int] = {"today": 1, "7d": 7, "30d": 30, "90d": 90, "year": 365}
#: The longest custom range accepted (days): a trend point per day must stay chartable.
MAX_CUSTOM_DAYS = 3 * 366
ACTIVITY_LIMIT = 20
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Period:
    """A preset (``today``, ``7d``, ``30d``, ``90d``, ``year``) or a ``custom`` date range.

    Resolve it against the current time with :meth:`bounds`.
    """

    key: str
    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.key == "custom":
            if self.first is None or self.last is None:
                raise ValueError("a custom period needs both dates")
            if self.first > self.last:
                raise ValueError(f"the period starts ({self.first}) after it ends ({self.last})")
            if (self.last - self.first).days + 1 > MAX_CUSTOM_DAYS:
                raise ValueError(f"a custom period is at most {MAX_CUSTOM_DAYS} days")
        elif self.key not in PRESETS:
            raise ValueError(f"unknown period {self.key!r}; one of {', '.join(PRESETS)}, custom")

    @classmethod
    def custom(cls, first: date, last: date) -> Period:
        return cls("custom", first, last)

    @property
    def hourly(self) -> bool:
        """True when the trend is cut per hour (``today``)."""
        return self.key == "today"

    def days(self, now: datetime) -> tuple[date, date]:
        """The first and last UTC date of the period at ``now``."""
        if self.first is not None and self.last is not None:
            return self.first, self.last
        today = now.astimezone(UTC).date()
        return today - timedelta(days=PRESETS[self.key] - 1), today

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """``[start, end)``: midnight UTC of the first day, midnight after the last."""
        first, last = self.days(now)
        return utc_day_start(first), utc_day_start(last + timedelta(days=1))

    def previous_bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """The period of the same length that ends where this one starts."""
        start, end = self.bounds(now)
        return start - (end - start), start


# --- the one per-dialect helper -------------------------------------------------------------

Grain = Literal["day", "hour"]


def bucket_expression(column: Any, grain: Grain, dialect: str) -> ColumnElement[Any]:
    """SQL: the UTC day (or hour) a datetime column falls in, for ``GROUP BY``.

    SQLite keeps our datetimes as UTC text ``YYYY-MM-DD HH:MM:SS.ffffff`` (``UTCDateTime``
    converts to UTC before storing), so a prefix is the bucket and costs no date parsing.
    PostgreSQL keeps ``timestamptz``: truncated in UTC (not the session's time zone).
    :func:`bucket_key` turns either answer into the same Python key.
    """
    if dialect == "sqlite":
        return func.substr(column, 1, 10 if grain == "day" else 13)
    if dialect == "postgresql":
        return func.date_trunc(grain, func.timezone("UTC", column))
    raise NotImplementedError(f"no date bucket for the {dialect} dialect")


def bucket_key(value: Any, grain: Grain) -> str:
    """A bucket as returned by :func:`bucket_expression`, as ``YYYY-MM-DD`` or
    ``YYYY-MM-DD HH``."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d" if grain == "day" else "%Y-%m-%d %H")
    text = str(value)
    return text[:10] if grain == "day" else text[:13]


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kpi:
    """One KPI card. ``value``/``previous`` are minor units for money, percent for
    ``sync_health``, counts otherwise; ``display`` is the value as shown."""

    key: str
    label: str
    value: int | float | None
    display: str
    previous: int | float | None
    change_pct: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "display": self.display,
            "previous": self.previous,
            "change_pct": self.change_pct,
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class CurrencyAmount:
    """Revenue of one currency in the period: ``amount`` in its minor units; ``converted``, the
    base currency's minor units of the part that has a rate (None: no part has one); and
    ``unconverted``, the part (in the currency's minor units) of accounts or storefronts
    without a rate, which is not in the total."""

    currency: str
    amount: int
    converted: int | None
    unconverted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "amount": self.amount,
            "converted": self.converted,
            "unconverted": self.unconverted,
        }


@dataclass(frozen=True, slots=True)
class Activity:
    """One entry of the activity feed: a sync run (``source="sync"``) or a finished job."""

    at: datetime
    source: str
    kind: str
    account: str
    storefront: str | None
    outcome: str
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "source": self.source,
            "kind": self.kind,
            "account": self.account,
            "storefront": self.storefront,
            "outcome": self.outcome,
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class Footer:
    queued: int
    failed: int
    out_of_stock: int
    sync_rate_per_hour: int

    def as_dict(self) -> dict[str, int]:
        return {
            "queued": self.queued,
            "failed": self.failed,
            "out_of_stock": self.out_of_stock,
            "sync_rate_per_hour": self.sync_rate_per_hour,
        }


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the dashboard page shows. ``trend_revenue`` is in base-currency minor units
    per point of ``trend_labels``; ``status`` maps local statuses to line counts."""

    period: Period
    start: datetime
    end: datetime
    currency: str
    kpis: list[Kpi]
    trend_labels: list[str]
    trend_revenue: list[int]
    trend_orders: list[int]
    status: dict[str, int]
    per_currency: list[CurrencyAmount]
    activity: list[Activity]
    footer: Footer

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


# --- helpers -------------------------------------------------------------------------------


def change_pct(value: int | float | None, previous: int | float | None) -> float | None:
    """``(value - previous) / previous * 100`` to one decimal; None when it cannot be said."""
    if value is None or previous is None or previous == 0:
        return None
    return round((value - previous) * 100 / previous, 1)


def money_display(minor: int, currency: str) -> str:
    major = (Decimal(minor) / 100).quantize(Decimal("0.01"))
    return f"{major:,.2f} {currency}"


def _order_moment() -> ColumnElement[Any]:
    return func.coalesce(Order.ordered_at, Order.created_at)


def _orders_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    """The order's date is in ``[start, end)``: spelled on the plain columns (each side binds
    through the UTC type, and an index on ``ordered_at`` serves the usual case)."""
    return or_(
        and_(Order.ordered_at >= start, Order.ordered_at < end),
        and_(Order.ordered_at.is_(None), Order.created_at >= start, Order.created_at < end),
    )


@dataclass(frozen=True, slots=True)
class _Scope:
    account_id: int | None
    storefront: Storefront | None

    def orders(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.account_id is not None:
            where.append(Order.account_id == self.account_id)
        if self.storefront is not None:
            where.append(Order.storefront == self.storefront)
        return where

    def jobs(self) -> list[ColumnElement[bool]]:
        return [] if self.account_id is None else [Job.account_id == self.account_id]


class _Converter:
    """Base-currency amounts per (account, storefront, currency) group (see module doc)."""

    def __init__(
        self, accounts: Mapping[int, Account], base: str, rates: Mapping[str, Decimal]
    ) -> None:
        self.base = base
        self.rates = dict(rates)
        self.by_account = {
            account_id: Conversion(account)
            for account_id, account in accounts.items()
            if (account.base_currency or DEFAULT_BASE_CURRENCY) == base
        }

        # A year's trend converts a few thousand (day, group) cells of a dozen groups.
        self._known: dict[_Group, Decimal | None] = {}

    def rate(self, account_id: int, storefront: Storefront, currency: str) -> Decimal | None:
        group = (account_id, storefront, currency)
        if group not in self._known:
            self._known[group] = self._find(account_id, storefront, currency)
        return self._known[group]

    def _find(self, account_id: int, storefront: Storefront, currency: str) -> Decimal | None:
        if currency == self.base:
            return _ONE
        given = self.rates.get(currency)
        if given is not None:
            return given if given > 0 else None
        conversion = self.by_account.get(account_id)
        return None if conversion is None else conversion.rate(storefront, currency)

    def convert(
        self, amount: int, account_id: int, storefront: Storefront, currency: str
    ) -> int | None:
        rate = self.rate(account_id, storefront, currency)
        if rate is None:
            return None
        if rate == _ONE:
            return amount
        return int((Decimal(amount) / rate).quantize(_ONE, rounding=ROUND_HALF_UP))


_Group = tuple[int, Storefront, str]  # account, storefront, currency


def _revenue_column() -> ColumnElement[Any]:
    return revenue_sum()


def _lines_query(*columns: Any) -> Select[Any]:
    return select(*columns).select_from(Order).join(OrderLine, OrderLine.order_id == Order.id)


def _currency(code: Storefront, currency: str | None) -> str:
    return currency or code.currency.value


# --- the report ----------------------------------------------------------------------------


def dashboard(
    session: Session,
    *,
    period: Period,
    account_id: int | None = None,
    storefront: Storefront | None = None,
    now: datetime,
    base_currency: str = DEFAULT_BASE_CURRENCY,
    rates: Mapping[str, Decimal] | None = None,
    use_rollup: bool = True,
    alongside: sessionmaker[Session] | None = None,
) -> Dashboard:
    """The dashboard for ``period`` at ``now`` (aware), optionally one account / storefront.
    Every figure is an SQL aggregate (see the module doc). ``use_rollup=False`` adds up the
    raw order lines instead of the daily rollup: the same figures, slowly — the reference the
    rollup is tested against.

    ``alongside``: when given, the reads that need nothing from the others (customer counts,
    live products and out-of-stock offers, the footer) run at the same time in a thread, on a
    session of their own from this factory — readers run side by side on SQLite (WAL) and
    PostgreSQL — so the answer takes about the longer of the two halves instead of their sum.
    That session sees what is committed only: leave it out when ``session`` holds writes of
    its own that the figures must include."""
    dialect = session.get_bind().dialect.name
    _tune(session)
    scope = _Scope(account_id, storefront)
    start, end = period.bounds(now)
    prev_start, prev_end = period.previous_bounds(now)
    grain: Grain = "hour" if period.hourly else "day"
    accounts = {a.id: a for a in session.scalars(select(Account))}
    names = {account_id: account.name for account_id, account in accounts.items()}
    converter = _Converter(accounts, base_currency, rates or {})

    if use_rollup:  # this session's own writes, into the rollups it reads
        settle(session)
        settle_jobs(session)
    prev_days = (prev_start.date(), (prev_end - timedelta(days=1)).date())
    side = _Side(scope, period.days(now), prev_days, start, now)
    aside: Future[None] | None = None
    if alongside is not None and use_rollup and not _private_memory(session):
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dashboard")
        aside = pool.submit(_in_own_session, alongside, side.read)
        pool.shutdown(wait=False)  # the thread ends after this one task
    elif use_rollup:
        side.read(session)
    else:
        side.read(session, raw=(start, end, prev_start, prev_end))

    # Revenue per bucket and group, lines per local status, orders per bucket: whole days from
    # the daily rollup, the hours of ``today`` from the raw rows (one day of them).
    if period.hourly or not use_rollup:
        cells = _raw_cells(session, scope, start, end, dialect, grain)
    else:
        cells = _rollup_cells(session, scope, *period.days(now))
    revenue_cells, status, orders_by_bucket = cells

    by_group: dict[_Group, int] = defaultdict(int)
    for (_, group), amount in revenue_cells.items():
        by_group[group] += amount
    revenue, per_currency = _total(by_group, converter)
    orders = sum(orders_by_bucket.values())
    prev_by_group: dict[_Group, int] = defaultdict(int)
    if use_rollup:
        prev_by_group, prev_orders = _rollup_totals(session, scope, *prev_days)
    else:
        prev_cells, _, prev_orders_by_day = _raw_cells(
            session, scope, prev_start, prev_end, dialect, "day"
        )
        for (_, group), amount in prev_cells.items():
            prev_by_group[group] += amount
        prev_orders = sum(prev_orders_by_day.values())
    prev_revenue, _ = _total(prev_by_group, converter)

    keys, labels = _buckets(start, end, grain)
    points: dict[str, int] = defaultdict(int)
    for (key, group), amount in revenue_cells.items():
        points[key] += converter.convert(amount, *group) or 0
    trend_revenue = [points.get(key, 0) for key in keys]

    done, failed = _job_outcomes(session, scope, start, end, use_rollup)
    prev_done, prev_failed = _job_outcomes(session, scope, prev_start, prev_end, use_rollup)
    activity = _activity(session, scope, names)
    if aside is not None:
        aside.result()
    customers, prev_customers = side.customers
    products, prev_products = side.products
    health = _health(done, failed)
    prev_health = _health(prev_done, prev_failed)
    aov = _average(revenue, orders)
    prev_aov = _average(prev_revenue, prev_orders)

    def count_kpi(key: str, label: str, value: int, previous: int) -> Kpi:
        return Kpi(key, label, value, f"{value:,}", previous, change_pct(value, previous))

    kpis = [
        Kpi(
            "revenue",
            "Revenue",
            revenue,
            money_display(revenue, base_currency),
            prev_revenue,
            change_pct(revenue, prev_revenue),
        ),
        count_kpi("orders", "Orders", orders, prev_orders),
        count_kpi("customers", "Customers", customers, prev_customers),
        count_kpi("products", "Products", products, prev_products),
        Kpi(
            "aov",
            "Average order value",
            aov,
            "n/a" if aov is None else money_display(aov, base_currency),
            prev_aov,
            change_pct(aov, prev_aov),
        ),
        Kpi(
            "sync_health",
            "Sync health",
            health,
            "n/a" if health is None else f"{health:.1f} %",
            prev_health,
            change_pct(health, prev_health),
            {"failed": failed, "done": done},
        ),
    ]
    return Dashboard(
        period=period,
        start=start,
        end=end,
        currency=base_currency,
        kpis=kpis,
        trend_labels=labels,
        trend_revenue=trend_revenue,
        trend_orders=[orders_by_bucket.get(key, 0) for key in keys],
        status=dict(sorted(status.items(), key=lambda item: (-item[1], item[0]))),
        per_currency=per_currency,
        activity=activity,
        footer=side.footer,
    )


def _private_memory(session: Session) -> bool:
    """An in-memory SQLite database: every connection has its own, so another session would
    read an empty one."""
    bind = session.get_bind()
    url = bind.engine.url
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _tune(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Each read here is a few milliseconds of one index range or a few thousand rollup
        # rows; starting parallel workers costs more than it saves (tens of ms on a year).
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def _in_own_session(factory: sessionmaker[Session], read: Callable[[Session], None]) -> None:
    with factory() as session:
        _tune(session)
        read(session)
        session.rollback()


class _Side:
    """The dashboard's reads that need nothing from the order rollup's: distinct customers of
    the period and the previous one, live products (and how many were live before the period),
    out-of-stock offers and the footer. :meth:`read` fills the fields."""

    customers: tuple[int, int]
    products: tuple[int, int]
    footer: Footer

    def __init__(
        self,
        scope: _Scope,
        days: tuple[date, date],
        prev_days: tuple[date, date],
        start: datetime,
        now: datetime,
    ) -> None:
        self.scope = scope
        self.days = days
        self.prev_days = prev_days
        self.start = start
        self.now = now

    def read(
        self,
        session: Session,
        raw: tuple[datetime, datetime, datetime, datetime] | None = None,
    ) -> None:
        """The reads, on ``session``; with ``raw`` (the period's and the previous period's
        bounds) customers are counted over the orders instead of the customer chains."""
        scope = self.scope
        if raw is None:
            counted = (
                count_customers(
                    session, *days, account_id=scope.account_id, storefront=scope.storefront
                )
                for days in (self.days, self.prev_days)
            )
            self.customers = (next(counted), next(counted))
        else:
            start, end, prev_start, prev_end = raw
            self.customers = (
                _customers(session, scope, start, end),
                _customers(session, scope, prev_start, prev_end),
            )
        live, early, out_of_stock = _products(session, scope, self.start)
        self.products = (live, early)
        self.footer = _footer(session, scope, self.now, out_of_stock)


def _total(
    by_group: Mapping[_Group, int], converter: _Converter
) -> tuple[int, list[CurrencyAmount]]:
    """The base-currency total of the convertible groups, and the amounts per currency."""
    total = 0
    amounts: dict[str, int] = defaultdict(int)
    converted: dict[str, int] = {}
    unconverted: dict[str, int] = defaultdict(int)
    for group, amount in by_group.items():
        currency = group[2]
        value = converter.convert(amount, *group)
        amounts[currency] += amount
        if value is None:
            unconverted[currency] += amount
        else:
            total += value
            converted[currency] = converted.get(currency, 0) + value
    details = [
        CurrencyAmount(currency, amounts[currency], converted.get(currency), unconverted[currency])
        for currency in sorted(amounts)
    ]
    return total, details


_Cells = tuple[dict[tuple[str, _Group], int], dict[str, int], dict[str, int]]


def _raw_cells(
    session: Session, scope: _Scope, start: datetime, end: datetime, dialect: str, grain: Grain
) -> _Cells:
    """From the raw rows: revenue per (bucket, group), lines per local status, orders per
    bucket. One pass over the lines, one over the orders (an order may have no lines)."""
    bucket = bucket_expression(_order_moment(), grain, dialect)
    revenue_cells: dict[tuple[str, _Group], int] = defaultdict(int)
    status: dict[str, int] = defaultdict(int)
    line_rows = session.execute(
        _lines_query(
            bucket,
            Order.account_id,
            Order.storefront,
            Order.currency,
            OrderLine.local_status,
            _revenue_column(),
            func.count(),
        )
        .where(_orders_in(start, end), *scope.orders())
        .group_by(
            bucket, Order.account_id, Order.storefront, Order.currency, OrderLine.local_status
        )
    )
    for raw_bucket, acc, code, currency, local_status, revenue, lines in line_rows:
        group = (acc, code, _currency(code, currency))
        revenue_cells[(bucket_key(raw_bucket, grain), group)] += int(revenue or 0)
        status[local_status or UNMAPPED] += int(lines)
    order_bucket = bucket_expression(_order_moment(), grain, dialect)
    orders_by_bucket = {
        bucket_key(raw, grain): int(count)
        for raw, count in session.execute(
            select(order_bucket, func.count())
            .where(_orders_in(start, end), *scope.orders())
            .group_by(order_bucket)
        )
    }
    return revenue_cells, status, orders_by_bucket


def _total_of(column: InstrumentedAttribute[int]) -> ColumnElement[Any]:
    """SQL: the sum of an integer column as an integer (PostgreSQL's sum of a ``bigint`` is a
    ``numeric``, which arrives as a slower ``Decimal``)."""
    return cast(func.sum(column), BigInteger)


def _rollup_where(scope: _Scope, first: date, last: date) -> list[ColumnElement[bool]]:
    stats = OrderStatsDaily
    where: list[ColumnElement[bool]] = [stats.day >= first, stats.day <= last]
    if scope.account_id is not None:
        where.append(stats.account_id == scope.account_id)
    if scope.storefront is not None:
        where.append(stats.storefront == scope.storefront)
    return where


def _rollup_totals(
    session: Session, scope: _Scope, first: date, last: date
) -> tuple[dict[_Group, int], int]:
    """Revenue per group and the number of orders of the days ``first`` to ``last`` from the
    daily rollup: what the previous period needs, summed in SQL to a row per group."""
    stats = OrderStatsDaily
    by_group: dict[_Group, int] = defaultdict(int)
    orders = 0
    for acc, code, currency, revenue, count, lines in session.execute(
        select(
            stats.account_id,
            stats.storefront,
            stats.currency,
            _total_of(stats.revenue),
            _total_of(stats.orders),
            _total_of(stats.lines),
        )
        .where(*_rollup_where(scope, first, last))
        .group_by(stats.account_id, stats.storefront, stats.currency)
    ):
        if lines:  # as on the raw path: a group is there when it has lines
            by_group[(acc, code, _currency(code, currency))] += int(revenue or 0)
        orders += int(count or 0)
    return by_group, orders


def _rollup_cells(session: Session, scope: _Scope, first: date, last: date) -> _Cells:
    """Per day from the daily rollup (:mod:`kaufland_sync.store.models.rollup`): the same three
    figures as :func:`_raw_cells`, for the days ``first`` to ``last`` inclusive. Two grouped
    reads: revenue and orders per day and group (local statuses summed in SQL, so a year is a
    few thousand rows), and lines per local status."""
    stats = OrderStatsDaily
    where = _rollup_where(scope, first, last)
    # The day as the database holds it (SQLite: text), keyed like the raw path's buckets.
    day = type_coerce(stats.day, String)
    revenue_cells: dict[tuple[str, _Group], int] = defaultdict(int)
    orders_by_day: dict[str, int] = defaultdict(int)
    per_day = session.execute(
        select(
            day,
            stats.account_id,
            # A year is thousands of rows of a few storefronts: the text, looked up below.
            type_coerce(stats.storefront, String),
            stats.currency,
            _total_of(stats.revenue),
            _total_of(stats.orders),
            _total_of(stats.lines),
        )
        .where(*where)
        .group_by(stats.day, stats.account_id, stats.storefront, stats.currency)
    )
    keys: dict[Any, str] = {}
    groups: dict[tuple[int, str, str], _Group] = {}
    for raw_day, acc, code, currency, revenue, orders, lines in per_day:
        key = keys.get(raw_day)
        if key is None:
            key = keys[raw_day] = bucket_key(raw_day, "day")
        if lines:  # as on the raw path: a group is there when it has lines
            group = groups.get((acc, code, currency))
            if group is None:
                storefront = Storefront(code)
                group = groups[(acc, code, currency)] = (
                    acc,
                    storefront,
                    _currency(storefront, currency),
                )
            revenue_cells[(key, group)] += int(revenue or 0)
        orders_by_day[key] += int(orders or 0)
    status = {
        local_status: int(lines)
        for local_status, lines in session.execute(
            select(stats.local_status, func.sum(stats.lines))
            .where(*where, stats.local_status != ORDER_ROW)
            .group_by(stats.local_status)
        )
    }
    return revenue_cells, status, orders_by_day


def _customers(session: Session, scope: _Scope, start: datetime, end: datetime) -> int:
    query = select(func.count(func.distinct(Order.customer_id))).where(
        _orders_in(start, end), *scope.orders()
    )
    return int(session.scalar(query) or 0)


def _average(revenue: int, orders: int) -> int | None:
    if orders == 0:
        return None
    return int((Decimal(revenue) / orders).quantize(_ONE, rounding=ROUND_HALF_UP))


def _health(done: int, failed: int) -> float | None:
    if done + failed == 0:
        return None
    return round(done * 100 / (done + failed), 1)


def _buckets(start: datetime, end: datetime, grain: Grain) -> tuple[list[str], list[str]]:
    """Every bucket key of ``[start, end)`` and its chart label (``HH:00`` or the date)."""
    step = timedelta(hours=1) if grain == "hour" else timedelta(days=1)
    keys: list[str] = []
    labels: list[str] = []
    moment = start
    while moment < end:
        keys.append(bucket_key(moment, grain))
        labels.append(moment.strftime("%H:00") if grain == "hour" else moment.date().isoformat())
        moment += step
    return keys, labels


def _live_offers(scope: _Scope) -> list[ColumnElement[bool]]:
    """SQL: offer bindings that are live on Kaufland, within the scope."""
    where: list[ColumnElement[bool]] = [OfferBinding.state == BindingState.ACTIVE]
    if scope.account_id is not None:
        where.append(OfferBinding.account_id == scope.account_id)
    if scope.storefront is not None:
        where.append(OfferBinding.storefront == scope.storefront)
    return where


def _products(session: Session, scope: _Scope, start: datetime) -> tuple[int, int, int]:
    """Live offers now: the distinct SKUs with an active binding, how many of those SKUs were
    bound before ``start``, and how many live offers (bindings) are out of stock — their
    product has no piece in any warehouse. One pass over the live offers grouped by SKU (the
    groups stream in the order of the ``(state, sku)`` index, no sort); the SKUs without stock
    (few) are one hashed subquery."""
    early = func.max(case((OfferBinding.created_at < start, 1), else_=0)).label("early")
    per_sku = (
        select(OfferBinding.sku, early, func.count().label("offers"))
        .where(*_live_offers(scope))
        .group_by(OfferBinding.sku)
        .subquery()
    )
    stocked = select(StockLevel.id).where(
        StockLevel.product_id == Product.id, StockLevel.quantity > 0
    )
    empty = select(Product.sku).where(~stocked.exists())
    without_stock = case((per_sku.c.sku.in_(empty), per_sku.c.offers), else_=0)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(per_sku.c.early), 0),
            func.coalesce(func.sum(without_stock), 0),
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def _job_outcomes(
    session: Session, scope: _Scope, start: datetime, end: datetime, use_rollup: bool = True
) -> tuple[int, int]:
    """Jobs that finished in ``[start, end)`` as ``done`` and as ``failed``: the whole UTC days
    from the daily job rollup (:mod:`kaufland_sync.store.models.job_rollup`), the parts of a
    day at either end (none for the presets, whose bounds are midnights) from the raw jobs."""
    counts: dict[JobState, int] = defaultdict(int)
    outcomes = (JobState.DONE, JobState.FAILED)
    first = start.astimezone(UTC).date()
    if utc_day_start(first) < start:
        first += timedelta(days=1)
    after = end.astimezone(UTC).date()  # days before this one end by ``end``
    raw: list[tuple[datetime, datetime]] = []
    if not use_rollup or first >= after:
        raw.append((start, end))
    else:
        raw += [(start, utc_day_start(first)), (utc_day_start(after), end)]
        stats = JobStatsDaily
        where = [stats.day >= first, stats.day < after, stats.state.in_(outcomes)]
        if scope.account_id is not None:
            where.append(stats.account_id == scope.account_id)
        for state, count in session.execute(
            select(stats.state, func.sum(stats.jobs)).where(*where).group_by(stats.state)
        ):
            counts[JobState(state)] += int(count or 0)
    for low, high in raw:
        if low >= high:
            continue
        for state, count in session.execute(
            select(Job.state, func.count())
            .where(
                Job.finished_at >= low,
                Job.finished_at < high,
                Job.state.in_(outcomes),
                *scope.jobs(),
            )
            .group_by(Job.state)
        ):
            counts[JobState(state)] += int(count)
    return counts[JobState.DONE], counts[JobState.FAILED]


def _activity(session: Session, scope: _Scope, names: Mapping[int, str]) -> list[Activity]:
    """The newest sync runs and finished jobs together, newest first."""
    runs = select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
    if scope.account_id is not None:
        runs = runs.where(SyncRun.account_id == scope.account_id)
    if scope.storefront is not None:
        runs = runs.where(SyncRun.storefront == scope.storefront)
    entries: list[Activity] = []
    for run in session.scalars(runs.limit(ACTIVITY_LIMIT)):
        counts = counts_in_words(
            (name, getattr(run, name))
            for name in ("created", "updated", "held", "deleted", "failed", "skipped")
        )
        summary = f"{counts}; {run.error_summary}" if run.error_summary else counts
        entries.append(
            Activity(
                at=run.started_at,
                source="sync",
                kind=run.kind.value,
                account=names.get(run.account_id, str(run.account_id)),
                storefront=run.storefront.value,
                outcome=run.outcome.value,
                summary=summary,
            )
        )
    jobs = (
        select(Job)
        .where(Job.finished_at.is_not(None), *scope.jobs())
        .order_by(Job.finished_at.desc(), Job.id.desc())
        .limit(ACTIVITY_LIMIT)
    )
    for job in session.scalars(jobs):
        numbers = [(str(k), v) for k, v in sorted(job.counts.items()) if isinstance(v, int)]
        summary = counts_in_words(numbers)
        if job.state == JobState.FAILED and job.last_error:
            summary = f"{summary}; {job.last_error[:200]}"
        assert job.finished_at is not None
        entries.append(
            Activity(
                at=job.finished_at,
                source="job",
                kind=job.kind.value,
                account=names.get(job.account_id, str(job.account_id)),
                storefront=None,
                outcome=job.state.value,
                summary=summary,
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:ACTIVITY_LIMIT]


def _footer(session: Session, scope: _Scope, now: datetime, out_of_stock: int) -> Footer:
    states = {
        state: int(count)
        for state, count in session.execute(
            select(Job.state, func.count())
            .where(Job.state.in_((*PENDING_STATES, JobState.FAILED)), *scope.jobs())
            .group_by(Job.state)
        )
    }
    rate = session.scalar(
        select(func.count()).where(
            Job.state == JobState.DONE,
            Job.finished_at >= now - timedelta(hours=1),
            Job.finished_at < now,
            *scope.jobs(),
        )
    )
    return Footer(
        queued=sum(states.get(state, 0) for state in PENDING_STATES),
        failed=states.get(JobState.FAILED, 0),
        out_of_stock=out_of_stock,
        sync_rate_per_hour=int(rate or 0),
    )
