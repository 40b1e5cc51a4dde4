"""Dashboard data at volume: ``GET /ui/data/dashboard`` over a store of a million order units,
p50/p95 per period, on SQLite and on PostgreSQL.

The store is migrated to the revision before the daily order rollup, filled with bulk
inserts (SQLAlchemy Core ``executemany``; no engine runs), then upgraded to the newest revision,
whose migration backfills the rollup from the loaded orders (timed). The load: ``--accounts``
accounts on several storefronts (EUR, CZK and
PLN, with currency rates), ``--units`` order units (1 to 6 per order, about 3.5 on average, so a
few hundred thousand orders) spread evenly over the ``--days`` (365) days before the
benchmark's "now",
customers, a year of finished jobs (every account, several kinds, some failed), sync runs,
a catalogue with stock and live offer bindings. Then both backends get ``ANALYZE`` (PostgreSQL's
autovacuum does it by itself; on SQLite ``kaufland-sync`` never does, see docs/benchmarks.md).

Then what keeping the rollups costs a writer on that store: new orders of existing customers
written as the order import writes them, the session's settle (the daily rollup's recount and
the customer chains) timed apart from the insert and the commit.

Measured: the real endpoint, in-process — the FastAPI app of ``create_app`` with the data
router and the session middleware, started and stopped through its lifespan as uvicorn does,
called through ``httpx.ASGITransport`` by a signed-in viewer, so each call includes routing,
the session check, the report's SQL, JSON encoding.
No network hop, no uvicorn. Each period is called ``--calls`` times after two warm-up calls;
the table gives p50 / p95 / max in milliseconds and whether p95 meets the issue's 150 ms.

    .venv/bin/python benchmarks/dashboard.py [--units 1000000] [--accounts 4] [--days 365]
        [--calls 30] [--no-sqlite] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from fastapi import APIRouter, FastAPI, Request
from pydantic import SecretStr
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import create_db_engine, session_factory, transaction
from kaufland_sync.store.migrate import upgrade
from kaufland_sync.store.models import rollup
from kaufland_sync.store.models.accounts import Account, AccountStorefront, Environment
from kaufland_sync.store.models.catalog import Product, StockLevel, Warehouse
from kaufland_sync.store.models.jobs import Job
from kaufland_sync.store.models.orders import Customer, Order, OrderLine
from kaufland_sync.store.models.sync import OfferBinding, SyncRun
from kaufland_sync.web import create_app
from kaufland_sync.web.auth import create_user, find_user, install_auth, start_session
from kaufland_sync.web.dashboard_data import router
from kaufland_sync.web.deps import get_context

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PERIODS = ("today", "7d", "30d", "90d", "year")
TARGET_MS = 150.0
#: The revision before the daily rollup: the store is bulk-loaded there, then upgraded.
BEFORE_ROLLUP = "0010_offer_pause"
CHUNK = 20_000
STOREFRONTS = (Storefront.DE, Storefront.CZ, Storefront.PL, Storefront.AT, Storefront.SK)
RATES = {Storefront.CZ: Decimal("25.2"), Storefront.PL: Decimal("4.31")}
LOCAL = {"open": "new", "need_to_be_sent": "new", "sent": "shipped", "received": "shipped"}
STATUSES = (
    ["sent"] * 60 + ["received"] * 20 + ["need_to_be_sent"] * 8 + ["open"] * 4 + ["cancelled"] * 5
) + ["returned"] * 3


@dataclass(frozen=True)
class Volume:
    accounts: int
    units: int
    days: int = 365  # the history the units (and jobs, runs) are spread over
    customers_per_account: int = 40_000
    products: int = 20_000
    jobs_per_account_day: int = 120  # orders/outbox every 5 min would be 576: a calmer mix
    runs_per_account_day: int = 48


def chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk(engine: Engine, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    with engine.begin() as connection:
        for batch in chunks(rows):
            connection.execute(insert(table), batch)
            count += len(batch)
    return count


def fill(engine: Engine, volume: Volume, seed: int = 6) -> dict[str, int]:
    """Bulk-load the store (see the module doc); returns the row counts."""
    rng = random.Random(seed)
    year_start = NOW - timedelta(days=volume.days)
    counts: dict[str, int] = {}
    factory = session_factory(engine)
    with transaction(factory) as session:
        for n in range(volume.accounts):
            codes = STOREFRONTS[: 2 + n % 4]
            account = Account(
                name=f"shop{n}",
                client_key=f"bench_dashboard_{n}",
                secret_key_encrypted="unused",
                environment=Environment.CUSTOM,
                base_url="http://localhost",
                storefronts=[
                    AccountStorefront(storefront=code, currency_rate=RATES.get(code, Decimal(1)))
                    for code in codes
                ],
            )
            session.add(account)
        session.flush()
        storefronts = {a.id: [s.storefront for s in a.storefronts] for a in session.query(Account)}
        create_user(session, "bench", "viewer", "benchmark password")
    account_ids = sorted(storefronts)

    customer_rows = (
        {"id": a * 1_000_000 + c, "account_id": a, "id_buyer": c, "created_at": year_start}
        | {"updated_at": year_start}
        for a in account_ids
        for c in range(volume.customers_per_account)
    )
    counts["customers"] = bulk(engine, Customer.__table__, customer_rows)

    seconds = volume.days * 86_400
    line_ids = iter(range(1, 10**9))

    def orders_and_lines() -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        made = 0
        order_id = 0
        while made < volume.units:
            order_id += 1
            account_id = rng.choice(account_ids)
            code = rng.choice(storefronts[account_id])
            when = year_start + timedelta(seconds=rng.randrange(seconds))
            pieces = min(rng.choice((1, 1, 2, 3, 4, 5, 6, 6)), volume.units - made)
            status = rng.choice(STATUSES)
            order = {
                "id": order_id,
                "account_id": account_id,
                "id_order": f"O{order_id:09d}",
                "storefront": code,
                "currency": code.currency.value,
                "customer_id": account_id * 1_000_000 + rng.randrange(volume.customers_per_account),
                "ordered_at": when,
                "status": status,
                "local_status": LOCAL.get(status, status),
                "raw": {},
                "created_at": when,
                "updated_at": when,
            }
            lines: list[dict[str, Any]] = [
                {
                    "order_id": order_id,
                    "id_order_unit": next(line_ids),
                    "sku": f"SKU{rng.randrange(volume.products):06d}",
                    "status": status,
                    "local_status": LOCAL.get(status, status),
                    "stock_state": "none",
                    "price": rng.randrange(500, 20_000)
                    * (25 if code.currency.value == "CZK" else 1),
                    "shipping_rate": 490 if i == 0 else 0,
                    "addresses_hidden": False,
                    "raw": {},
                    "created_at": when,
                    "updated_at": when,
                }
                for i in range(pieces)
            ]
            made += pieces
            yield order, lines

    pairs = list(orders_and_lines())
    counts["orders"] = bulk(engine, Order.__table__, (order for order, _ in pairs))
    counts["order_lines"] = bulk(
        engine, OrderLine.__table__, (row for _, lines in pairs for row in lines)
    )
    del pairs

    kinds = ("orders", "stock", "offers", "outbox", "returns")

    def jobs() -> Iterator[dict[str, Any]]:
        per_day = volume.jobs_per_account_day
        for a in account_ids:
            for day in range(volume.days):
                for j in range(per_day):
                    finished = year_start + timedelta(days=day, seconds=j * 86_400 // per_day)
                    failed = rng.random() < 0.02
                    yield {
                        "kind": kinds[j % len(kinds)],
                        "account_id": a,
                        "trigger": "schedule",
                        "state": "failed" if failed else "done",
                        "attempts": 1,
                        "max_attempts": 5,
                        "enqueued_at": finished - timedelta(seconds=30),
                        "not_before": finished - timedelta(seconds=30),
                        "started_at": finished - timedelta(seconds=20),
                        "finished_at": finished,
                        "counts": {"imported": rng.randrange(20)},
                        "last_error": "HTTP 503 from Kaufland" if failed else None,
                        "duration_ms": 20_000,
                    }
        for a in account_ids:  # a little backlog: pending jobs
            yield {
                "kind": "orders",
                "account_id": a,
                "trigger": "schedule",
                "state": "queued",
                "attempts": 0,
                "max_attempts": 5,
                "enqueued_at": NOW,
                "not_before": NOW,
                "started_at": None,
                "finished_at": None,
                "counts": {},
                "last_error": None,
                "duration_ms": None,
            }

    counts["jobs"] = bulk(engine, Job.__table__, jobs())

    def runs() -> Iterator[dict[str, Any]]:
        per_day = volume.runs_per_account_day
        for a in account_ids:
            for day in range(volume.days):
                for j in range(per_day):
                    started = year_start + timedelta(days=day, seconds=j * 86_400 // per_day)
                    yield {
                        "kind": ("orders", "stock", "offers")[j % 3],
                        "account_id": a,
                        "storefront": storefronts[a][j % len(storefronts[a])],
                        "full": False,
                        "started_at": started,
                        "finished_at": started + timedelta(seconds=12),
                        "outcome": "ok",
                        "created": 0,
                        "updated": rng.randrange(30),
                        "unchanged": 0,
                        "held": 0,
                        "deleted": 0,
                        "failed": 0,
                        "skipped": 0,
                        "calls": 1,
                    }

    counts["sync_runs"] = bulk(engine, SyncRun.__table__, runs())

    with transaction(factory) as session:
        session.add(Warehouse(id=1, code="default", name="Default"))
    counts["products"] = bulk(
        engine,
        Product.__table__,
        (
            {
                "id": p + 1,
                "sku": f"SKU{p:06d}",
                "ean": f"{4_000_000_000_000 + p}",
                "title": f"Product {p}",
                "image_urls": [],
                "price_minor": 1999,
                "currency": "EUR",
                "condition": "NEW",
                "active": True,
                "content_hash": "x" * 64,
                "created_at": year_start,
                "updated_at": year_start,
            }
            for p in range(volume.products)
        ),
    )
    bulk(
        engine,
        StockLevel.__table__,
        (
            {"product_id": p + 1, "warehouse_id": 1, "quantity": 0 if p % 20 == 0 else 7}
            | {"updated_at": year_start}
            for p in range(volume.products)
        ),
    )
    counts["offer_bindings"] = bulk(
        engine,
        OfferBinding.__table__,
        (
            {
                "account_id": a,
                "storefront": code,
                "sku": f"SKU{p:06d}",
                "state": "active",
                "attempts": 0,
                "created_at": year_start + timedelta(days=p % 365),
                "updated_at": year_start,
            }
            for a in account_ids
            for code in storefronts[a]
            for p in range(0, volume.products, 4)
        ),
    )
    if engine.dialect.name == "postgresql":  # rows came with their ids: move the sequences on
        with engine.begin() as connection:
            for table in (Customer.__table__, Order.__table__, Product.__table__):
                top = connection.scalar(select(func.max(table.c.id)))
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :top)"),
                    {"table": table.name, "top": top},
                )
    return counts


def build_app(url: str, data_dir: Path) -> tuple[FastAPI, Engine]:
    engine = create_db_engine(url)
    factory: sessionmaker[Session] = session_factory(engine)
    settings = Settings(data_dir=data_dir, master_key=SecretStr(Fernet.generate_key().decode()))
    app = create_app(settings, factory=factory, queue=None, clock=lambda: NOW, routers=[router])
    sign_in = APIRouter()

    @sign_in.get("/bench/sign-in")
    def _sign_in(request: Request) -> dict[str, str]:
        with get_context(request).factory() as session:
            user = find_user(session, "bench")
        assert user is not None
        start_session(request, user, NOW)
        return {}

    app.include_router(sign_in)
    install_auth(app, settings)
    return app, engine


async def measure(app: FastAPI, calls: int, params: dict[str, str]) -> tuple[list[float], int]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),  # start-up and shutdown, as under uvicorn
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        (await client.get("/bench/sign-in")).raise_for_status()
        times: list[float] = []
        size = 0
        for n in range(calls + 2):
            started = time.perf_counter()
            answer = await client.get("/ui/data/dashboard", params=params)
            elapsed = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            size = len(answer.content)
            if n >= 2:
                times.append(elapsed)
    return times, size


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def run_backend(name: str, url: str, volume: Volume, calls: int, folder: Path) -> list[list[str]]:
    engine = create_db_engine(url)
    # The bulk load bypasses the ORM session that keeps the daily rollup: load into the schema
    # before the rollup, then let its migration backfill it (what an existing store goes
    # through), and time that.
    upgrade(engine, BEFORE_ROLLUP)
    started = time.perf_counter()
    counts = fill(engine, volume)
    loaded = time.perf_counter()
    upgrade(engine)
    # Statistics and (PostgreSQL) the visibility map, as autovacuum would have them on a
    # store that grew over a year; index-only scans depend on the latter.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        command = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        connection.execute(text(command))
    engine.dispose()
    print(
        f"{name}: loaded {counts} in {loaded - started:.0f} s, "
        "rollups (orders, jobs, customer chains) backfilled (migrations) in "
        f"{time.perf_counter() - loaded:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    app, engine = build_app(url, folder / f"data-{name}")
    rows: list[list[str]] = []
    cases = [(p, {"period": p}) for p in PERIODS]
    cases.append(("30d, one account", {"period": "30d", "account": "shop0"}))
    cases.append(("year, de only", {"period": "year", "storefront": "de"}))
    try:
        for label, params in cases:
            times, size = asyncio.run(measure(app, calls, params))
            p95 = percentile(times, 0.95)
            rows.append(
                [
                    name,
                    label,
                    f"{statistics.median(times):.0f}",
                    f"{p95:.0f}",
                    f"{max(times):.0f}",
                    f"{size / 1024:.1f}",
                    "yes" if p95 < TARGET_MS else "NO",
                ]
            )
            print("  ".join(rows[-1]), file=sys.stderr, flush=True)
    finally:
        engine.dispose()
    return rows


#: Writes timed after the reads: (label, orders, lines per order).
WRITES = (("1 order (a push)", 1, 3), ("100 orders", 100, 3), ("2,858 orders", 2_858, 3))


def measure_writes(name: str, url: str, volume: Volume) -> list[list[str]]:
    """What keeping the rollups costs a writer, on the loaded store: new orders of existing
    customers written as the order import writes them (one ``INSERT`` statement per table),
    then :func:`~kaufland_sync.store.models.rollup.settle` — the daily rollup's recount of the
    touched days and the touched customers' chains — timed on its own, then the commit."""
    chains: list[float] = []
    real_rechain = rollup.rechain

    def timed_rechain(bind: Any, customer_ids: Any) -> None:
        started = time.perf_counter()
        real_rechain(bind, customer_ids)
        chains.append(time.perf_counter() - started)

    rollup.rechain = timed_rechain
    engine = create_db_engine(url)
    factory = session_factory(engine)
    rng = random.Random(7)
    rows: list[list[str]] = []
    try:
        with factory() as session:
            account_ids = sorted(session.scalars(select(Account.id)))
        serial = iter(range(10**6))
        for label, orders, pieces in WRITES:
            chains.clear()
            with factory() as session:
                started = time.perf_counter()
                account_id = rng.choice(account_ids)
                values = [
                    {
                        "account_id": account_id,
                        "id_order": f"W{next(serial):07d}",
                        "storefront": Storefront.DE,
                        "currency": "EUR",
                        "customer_id": account_id * 1_000_000
                        + rng.randrange(volume.customers_per_account),
                        "ordered_at": NOW - timedelta(minutes=rng.randrange(600)),
                        "status": "open",
                        "local_status": "new",
                        "raw": {},
                    }
                    for _ in range(orders)
                ]
                made = session.execute(insert(Order).returning(Order.id), values).scalars().all()
                session.execute(
                    insert(OrderLine),
                    [
                        {
                            "order_id": order_id,
                            "id_order_unit": 10**9 + next(serial),
                            "sku": "SKU000001",
                            "status": "open",
                            "local_status": "new",
                            "price": 1999,
                            "shipping_rate": 0,
                            "raw": {},
                        }
                        for order_id in made
                        for _ in range(pieces)
                    ],
                )
                written = time.perf_counter()
                rollup.settle(session)
                settled = time.perf_counter()
                session.commit()
                done = time.perf_counter()
            rows.append(
                [
                    name,
                    label,
                    f"{orders * pieces:,}",
                    f"{(written - started) * 1000:.0f}",
                    f"{(settled - written) * 1000:.0f}",
                    f"{sum(chains) * 1000:.0f}",
                    f"{(done - settled) * 1000:.0f}",
                ]
            )
            print("  ".join(rows[-1]), file=sys.stderr, flush=True)
    finally:
        rollup.rechain = real_rechain
        engine.dispose()
    return rows


def print_table(header: list[str], rows: list[list[str]]) -> None:
    table = [header, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, row in enumerate(table):
        cells = zip(row, widths, strict=True)
        print("  ".join(c.rjust(w) if j > 1 else c.ljust(w) for j, (c, w) in enumerate(cells)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1_000_000, help="order units (lines)")
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument(
        "--days", type=int, default=365, help="days of history the units are spread over"
    )
    parser.add_argument("--calls", type=int, default=30, help="measured calls per period")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    args = parser.parse_args()
    volume = Volume(accounts=args.accounts, units=args.units, days=args.days)
    rows: list[list[str]] = []
    writes: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as temp:
        folder = Path(temp)
        if args.sqlite:
            url = f"sqlite:///{folder / 'store.db'}"
            rows += run_backend("sqlite", url, volume, args.calls, folder)
            writes += measure_writes("sqlite", url, volume)
        if args.postgres:
            sys.path.insert(0, str(ROOT))  # tests/ is not installed; its helper is reused
            from tests.pg import PostgresNotFoundError, PostgresServer

            try:
                server = PostgresServer()
            except PostgresNotFoundError as exc:
                print(f"postgresql skipped: {exc}", file=sys.stderr)
            else:
                server.start()
                try:
                    url = server.create_database("dashboard_bench")
                    rows += run_backend("postgresql", url, volume, args.calls, folder)
                    writes += measure_writes("postgresql", url, volume)
                finally:
                    server.stop()
    print(
        f"\n{args.units:,} order units over {args.days} days, {args.accounts} accounts, "
        f"{args.calls} calls each\n"
    )
    print_table(["backend", "period", "p50 ms", "p95 ms", "max ms", "KiB", "p95 < 150 ms"], rows)
    print("\nWhat keeping the rollups costs a writer (new orders of existing customers, today)\n")
    header = ["backend", "write", "lines", "insert ms", "settle ms", "of which chains", "commit ms"]
    print_table(header, writes)


if __name__ == "__main__":
    main()
