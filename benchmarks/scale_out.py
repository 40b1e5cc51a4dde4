"""Scale-out: job throughput with 1 and with 3 worker processes, and the request rate each
client key reached meanwhile.

The sandbox runs in this process (``RunningSandbox``, uvicorn in a thread) with N sellers on
storefront ``de`` (demo world: each seller has ~40 units), 30 ms latency and 111 requests/s per
client key. A small ASGI middleware around its app records every ``/v2`` request by client key
and wall-clock second, so the peak rate of any one key is read from what the sandbox received
(its own ``GET /_sandbox/state`` counts by endpoint and status only).

For each row: a fresh store and queue, a fresh sandbox world; N accounts added with
``accounts add`` (run in this process through the Typer app: a process per command would cost
seconds each) and given a handling time on ``de`` (what ``accounts set`` does, in one
transaction), the catalogue ``docs/examples/catalog-sample.csv`` (11 offers, unknown EANs:
created ``INCOMPLETE``) imported once with ``catalog import`` (plus ``--products`` generated
ones, to give the offers jobs more to send), and buyers place orders for every seller
(``POST /_sandbox/orders``). Then W ``kaufland-sync worker --concurrency 2`` processes are
started and, once they are up, one ``orders``, one ``stock`` and one ``offers`` job per account
is submitted (``JobQueue.submit``, what ``jobs add`` does) and the clock runs until the ledger
has every job finished.

* *jobs/s* = jobs / wall time; *API calls/s* = ``/v2`` requests the sandbox received / wall time;
* *peak/key* = the most requests one client key sent within one wall-clock second;
* *peak all* = the most requests of all keys together within one second;
* *429s* = answers the sandbox's rate limit gave.

Rows: SQLite store + SQLite queue with 1 worker (the one-machine default; ``--no-sqlite`` skips
it), then PostgreSQL + Redis (servers started here with tests/pg.py and tests/redis_server.py)
for every ``--workers`` count; skipped when their server binaries are missing.

Figures, not asserts: copy them into docs/benchmarks.md.

    .venv/bin/python benchmarks/scale_out.py [--accounts 50] [--workers 1 3] [--latency-ms 30]
        [--orders 10] [--products 0] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import csv
import gc
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from typer.testing import CliRunner

from kaufland_sync.cli import app as cli_app
from kaufland_sync.config import Settings
from kaufland_sync.jobs.queue import JobQueue
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import create_db_engine, session_factory, transaction
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from offers_sync import ean13

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "docs" / "examples" / "catalog-sample.csv"
KINDS = (JobKind.ORDERS, JobKind.STOCK, JobKind.OFFERS)
FINISHED = (JobState.DONE, JobState.FAILED, JobState.DROPPED)
#: The concurrency of each worker process (threads running jobs).
CONCURRENCY = 2


def client_key(n: int) -> str:
    return f"bench_scale_client_key_{n:09d}"


def secret_key(n: int) -> str:
    return f"bench_scale_secret_{n:09d}_" + "f" * 35


class KeyRates:
    """What the sandbox received: ``/v2`` requests per (client key, wall-clock second), and
    the 429s among them. Written by the sandbox's thread, read by the main one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_second: Counter[tuple[str, int]] = Counter()
        self.throttled = 0

    def add(self, key: str, second: int, status: int) -> None:
        with self._lock:
            self.by_second[(key, second)] += 1
            if status == 429:
                self.throttled += 1

    def clear(self) -> None:
        with self._lock:
            self.by_second.clear()
            self.throttled = 0

    def snapshot(self) -> tuple[Counter[tuple[str, int]], int]:
        with self._lock:
            return Counter(self.by_second), self.throttled


class ObserveKeys:
    """ASGI middleware: counts each ``/v2`` request under its ``Shop-Client-Key`` and the
    second it arrived in (the status is taken from the response it got)."""

    def __init__(self, app: ASGIApp, rates: KeyRates) -> None:
        self.app = app
        self.rates = rates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/v2"):
            await self.app(scope, receive, send)
            return
        key = ""
        for name, value in scope["headers"]:
            if name == b"shop-client-key":
                key = value.decode("latin-1").strip()
        second = int(time.time())
        status = 0

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            self.rates.add(key, second, status)


@dataclass
class Row:
    backend: str
    workers: int
    jobs: int
    failed: int
    seconds: float
    calls: int
    peak_key: int
    peak_all: int
    throttled: int
    job_median_ms: float
    setup_seconds: float


def cli(env: dict[str, str], *args: str) -> str:
    """``kaufland-sync ARGS`` in this process (Typer's runner), with only ``env``'s
    ``KAUFLAND_SYNC_*`` variables set; exits the script when the command fails."""
    outside = {k: None for k in os.environ if k.startswith("KAUFLAND_SYNC_")}
    result = CliRunner().invoke(
        cli_app, list(args), env={**outside, **env}, prog_name="kaufland-sync"
    )
    # Each command opens its own engine; collect it now, so its pooled connections close
    # before the next command opens more (PostgreSQL allows 100 connections).
    gc.collect()
    if result.exit_code != 0:
        raise SystemExit(
            f"kaufland-sync {' '.join(args)} failed ({result.exit_code}):\n"
            f"{result.stderr}\n{result.exception!r}"
        )
    return str(result.stdout)


def write_products(path: Path, count: int) -> None:
    """``count`` extra products with valid EANs (unknown to the sandbox: their units are
    created ``INCOMPLETE``, one ``POST /units`` each, as for the sample's)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["sku", "ean", "title", "price", "currency", "stock", "brand", "category"])
        for n in range(count):
            price = 500 + (n * 37) % 10_000
            out.writerow(
                [
                    f"SCALE-{n:06d}",
                    ean13(n),
                    f"Scale-out product {n}",
                    f"{price // 100}.{price % 100:02d}",
                    "EUR",
                    1 + (n * 7) % 40,
                    "Benchwerk",
                    "Haushalt > Küche",
                ]
            )


def set_up(
    env: dict[str, str],
    settings: Settings,
    root: str,
    args: argparse.Namespace,
    control: httpx.Client,
) -> None:
    """Accounts, catalogue and orders for one row (sandbox and store are fresh)."""
    for n in range(args.accounts):
        cli(
            env | {"KAUFLAND_SYNC_SECRET_KEY": secret_key(n)},
            *("accounts", "add", f"shop{n:03d}", "--client-key", client_key(n)),
            *("--base-url", f"{root}/v2", "--storefront", "de"),
        )
    # What `accounts set NAME --storefront de --handling-time 1` does, in one transaction
    # instead of N commands (each command checks the migrations: ~0.5 s apiece).
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with transaction(session_factory(engine)) as session:
            repository = AccountRepository(session)
            for account in repository.list():
                repository.update_storefront(account, "de", {"handling_time": 1})
    finally:
        engine.dispose()
    cli(env, "catalog", "import", str(CATALOGUE))
    if args.products:
        extra = settings.data_dir / "products.csv"
        write_products(extra, args.products)
        cli(env, "catalog", "import", str(extra))
    for n in range(args.accounts):
        answer = control.post(
            "/orders",
            json={"client_key": client_key(n), "count": args.orders, "storefront": "de"},
        )
        answer.raise_for_status()


def start_workers(env: dict[str, str], count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    """``count`` worker processes, returned once each has said it is consuming."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("KAUFLAND_SYNC_")} | env
    workers: list[subprocess.Popen[bytes]] = []
    paths: list[Path] = []
    for n in range(count):
        path = logs / f"worker-{n}.log"
        with path.open("wb") as log:
            command = [sys.executable, "-m", "kaufland_sync", "worker"]
            workers.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
                    [*command, "--concurrency", str(CONCURRENCY)],
                    env=full,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        paths.append(path)
    deadline = time.monotonic() + 60
    while not all("job threads" in p.read_text(errors="replace") for p in paths):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            stop_workers(workers)
            text = "\n".join(p.read_text(errors="replace") for p in paths)
            raise SystemExit(f"the workers did not start:\n{text}")
        time.sleep(0.1)
    # The banner comes just before the consumer starts its threads; give them a moment.
    time.sleep(1.0)
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def measure(
    label: str,
    workers: int,
    args: argparse.Namespace,
    work: Path,
    database_url: str | None,
    queue_url: str | None,
) -> Row:
    """One row: fresh sandbox, store and queue; set up; run the jobs; read the figures."""
    data = work / f"data-{label}-{workers}"
    env = {"KAUFLAND_SYNC_DATA_DIR": str(data), "KAUFLAND_SYNC_LOG_LEVEL": "ERROR"}
    if database_url:
        env["KAUFLAND_SYNC_DATABASE_URL"] = database_url
    if queue_url:
        env["KAUFLAND_SYNC_QUEUE_URL"] = queue_url
    config = SandboxConfig(
        sellers=[
            SellerCredentials(client_key(n), secret_key(n), ("de",)) for n in range(args.accounts)
        ],
        seed="demo",
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        random_seed=1,
    )
    sandbox = RunningSandbox(config)
    rates = KeyRates()
    # Outermost, before the first request builds the middleware stack.
    sandbox.app.add_middleware(ObserveKeys, rates=rates)
    sandbox.start()
    control = httpx.Client(base_url=f"{sandbox.root_url}/_sandbox", timeout=60)
    settings = Settings(
        data_dir=data, database_url=database_url, queue_url=queue_url, rate_limit=args.rate_limit
    )
    processes: list[subprocess.Popen[bytes]] = []
    engine = None
    queue = None
    try:
        started = time.perf_counter()
        set_up(env, settings, sandbox.root_url, args, control)
        setup_seconds = time.perf_counter() - started
        engine = create_db_engine(settings.resolved_database_url)
        factory = session_factory(engine)
        with factory() as session:
            account_ids = [a.id for a in AccountRepository(session).list()]
        queue = JobQueue(settings, factory)
        queue.flush()
        processes = start_workers(env, workers, data)

        rates.clear()
        t0 = time.perf_counter()
        ids = [
            queue.submit(account_id=account_id, kind=kind, trigger=JobTrigger.MANUAL).job_id
            for account_id in account_ids
            for kind in KINDS
        ]
        deadline = t0 + args.timeout
        while True:
            with factory() as session:
                states = session.execute(
                    select(Job.state, Job.duration_ms).where(Job.id.in_(ids))
                ).all()
            if all(state in FINISHED for state, _ in states):
                break
            if time.perf_counter() > deadline:
                left = Counter(str(state) for state, _ in states if state not in FINISHED)
                raise SystemExit(f"{label}, {workers} worker(s): not finished in time: {left}")
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        by_second, throttled = rates.snapshot()
    finally:
        stop_workers(processes)
        if queue is not None:
            queue.close()
        if engine is not None:
            engine.dispose()
        control.close()
        sandbox.stop()

    all_keys: Counter[int] = Counter()
    for (_, second), count in by_second.items():
        all_keys[second] += count
    return Row(
        backend=label,
        workers=workers,
        jobs=len(ids),
        failed=sum(1 for state, _ in states if state is not JobState.DONE),
        seconds=seconds,
        calls=sum(by_second.values()),
        peak_key=max(by_second.values(), default=0),
        peak_all=max(all_keys.values(), default=0),
        throttled=throttled,
        job_median_ms=statistics.median(ms or 0 for _, ms in states),
        setup_seconds=setup_seconds,
    )


def start_servers() -> tuple[Any, Any] | None:
    """A throwaway PostgreSQL and a redis-server (the tests' helpers), or None when either's
    binaries are missing."""
    sys.path.insert(0, str(ROOT))  # tests/ is not installed; its helpers are reused as they are
    from tests.pg import PostgresNotFoundError, PostgresServer
    from tests.redis_server import RedisNotFoundError, RedisServer

    try:
        postgres = PostgresServer()
        redis = RedisServer()
    except (PostgresNotFoundError, RedisNotFoundError):
        return None
    postgres.start()
    try:
        redis.start()
    except Exception:
        postgres.stop()
        raise
    return postgres, redis


def print_table(header: list[str], rows: list[list[str]]) -> None:
    table = [header, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, row in enumerate(table):
        cells = zip(row, widths, strict=True)
        print("  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(cells)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50, help="accounts (sandbox sellers)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 3], help="worker processes per row"
    )
    parser.add_argument("--orders", type=int, default=10, help="buyer orders per seller")
    parser.add_argument(
        "--products",
        type=int,
        default=0,
        help="extra generated products in the catalogue (offers jobs then send more)",
    )
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--rate-limit", type=float, default=111.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per row at most")
    parser.add_argument(
        "--sqlite",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a first row on SQLite store + SQLite queue with 1 worker",
    )
    args = parser.parse_args()
    logging.getLogger("kaufland_sync").setLevel(logging.ERROR)

    work = Path(tempfile.mkdtemp(prefix="kaufland-bench-scale-"))
    began = time.perf_counter()
    rows: list[Row] = []
    try:
        if args.sqlite:
            rows.append(measure("SQLite + SQLite queue", 1, args, work, None, None))
        servers = start_servers()
        if servers is None:
            print("PostgreSQL or redis-server missing: their rows are skipped", file=sys.stderr)
        else:
            postgres, redis = servers
            try:
                for n, workers in enumerate(args.workers, start=1):
                    database = postgres.create_database(f"kaufland_sync_scale_{n}")
                    rows.append(
                        measure("PostgreSQL + Redis", workers, args, work, database, redis.url(n))
                    )
            finally:
                redis.stop()
                postgres.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"{args.accounts} accounts, {len(KINDS)} jobs each ({', '.join(KINDS)}), "
        f"{args.orders} buyer orders per seller; workers with --concurrency {CONCURRENCY}; "
        f"sandbox in-process with {args.latency_ms:g} ms latency, {args.rate_limit:g} requests/s "
        f"per client key; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"whole script {time.perf_counter() - began:.0f} s"
    )
    print_table(
        [
            "store + queue",
            "workers",
            "jobs",
            "not done",
            "seconds",
            "jobs/s",
            "API calls",
            "calls/s",
            "peak/key",
            "peak all",
            "429s",
            "job median ms",
            "setup s",
        ],
        [
            [
                r.backend,
                str(r.workers),
                str(r.jobs),
                str(r.failed),
                f"{r.seconds:.1f}",
                f"{r.jobs / r.seconds:.2f}",
                str(r.calls),
                f"{r.calls / r.seconds:.1f}",
                str(r.peak_key),
                str(r.peak_all),
                str(r.throttled),
                f"{r.job_median_ms:.0f}",
                f"{r.setup_seconds:.0f}",
            ]
            for r in rows
        ],
    )


if __name__ == "__main__":
    main()
