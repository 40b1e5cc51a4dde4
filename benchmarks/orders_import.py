"""Order import at scale, and how long a new order takes to reach the local store.

Starts ``kaufland-sync sandbox`` in its own process (30 ms latency, 111 requests/s per client
key, new order units ``open`` with hidden addresses for 900 s as on Kaufland, demo world on
storefront ``de``) and places N order units through the control API (buyers) plus, for an exact
count, one playground order. They are placed on a sandbox clock set back 30 minutes, so they are
older than the importer's 5-minute re-read overlap, as orders placed before a regular run are.

Then, on SQLite (and on PostgreSQL when its server binaries are installed; ``--no-postgres``
skips it), each step a separate ``kaufland-sync`` process against a fresh data folder:

1. ``import orders`` — the first import of the N units;
2. ``import orders`` again — nothing new since the cursor;
3. ``import orders --since <1 hour ago>`` — a re-read of every unit with nothing new, which is
   also what any run costs while the units are younger than the 5-minute overlap.

For each step: wall time, API calls the sandbox received, orders and lines written (from the
command's summary) and the process's peak memory (max RSS).

Last, the delay from a playground order (``POST /playground/orders`` through the client) to that
order being in the local store, while an import loop (``import_orders`` called back to back in
one process, as a long-running worker would) runs against the SQLite store of step 1.

Figures, not asserts: copy them into docs/benchmarks.md.

    .venv/bin/python benchmarks/orders_import.py [--units 10000] [--probes 20] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from _harness import free_port, run_cli, start_sandbox
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import create_db_engine, session_factory
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Order
from kaufland_sync.sync.importers.orders import import_orders

KEY = "bench_orders_client_key_00000001"
SECRET = "bench_orders_secret_" + "e" * 44
ROOT = Path(__file__).resolve().parents[1]
#: The orders are placed this long ago (sandbox clock), well before the importer's overlap.
BACKDATE = 1800.0
#: A random buyer orders at most two units of three pieces: one order unit per piece.
MOST_UNITS_PER_BUYER = 6


@dataclass
class Step:
    name: str
    seconds: float
    calls: int
    orders: int
    lines: int
    peak_mb: float


class Control:
    """The sandbox's unsigned control API."""

    def __init__(self, root: str) -> None:
        self.http = httpx.Client(base_url=f"{root}/_sandbox", timeout=120)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()["data"]

    def order_units(self) -> dict[str, int]:
        seller = self.call("GET", "/state")["sellers"][KEY]
        return dict(seller["order_units_by_status"])

    def api_calls(self) -> int:
        """Every /v2 request answered so far, whatever its status."""
        requests = self.call("GET", "/state")["requests"]
        return sum(sum(by.values()) for endpoint, by in requests.items() if " /v2/" in endpoint)


async def place_orders(root: str, control: Control, units: int, open_delay: float) -> list[int]:
    """Place exactly ``units`` order units, backdated by ``BACKDATE`` and past their open phase.
    Returns the ids of the ``de`` units with stock (for the playground orders later)."""
    async with KauflandClient(KEY, SECRET, base_url=f"{root}/v2", storefront="de") as api:
        available = [u.id_unit async for u in api.units.iter_all() if u.status == "AVAILABLE"]
        for id_unit in available:  # enough stock for every buyer
            await api.units.update(id_unit, {"amount": units + 1000})
        control.call("PUT", "/clock", {"offset_seconds": -BACKDATE})
        placed = 0
        # Buyers order up to 6 units each: ask for few enough that the total cannot overshoot.
        while units - placed >= MOST_UNITS_PER_BUYER:
            count = min(1000, (units - placed) // MOST_UNITS_PER_BUYER)
            control.call("POST", "/orders", {"count": count, "storefront": "de"})
            placed = sum(control.order_units().values())
        if units > placed:  # the rest as one playground order: one order unit per piece
            await api.playground.create_orders([(available[0], units - placed)])
        # Move the clock past the open phase and let one request apply it: the units leave
        # `open` with timestamps still older than the import's overlap.
        control.call("PUT", "/clock", {"offset_seconds": -BACKDATE + open_delay + 60})
        await api.status.ping()
        control.call("PUT", "/clock", {"offset_seconds": 0})
    by_status = control.order_units()
    if by_status != {"need_to_be_sent": units}:
        raise SystemExit(f"expected {units} order units need_to_be_sent, found {by_status}")
    return available


def import_steps(
    label: str, root: str, control: Control, work: Path, database_url: str | None
) -> tuple[list[Step], dict[str, str]]:
    """The three CLI steps on one backend; returns them and the environment used."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAUFLAND_SYNC_")}
    env["KAUFLAND_SYNC_DATA_DIR"] = str(work / f"data-{label}")
    if database_url:
        env["KAUFLAND_SYNC_DATABASE_URL"] = database_url
    run_cli(
        env | {"KAUFLAND_SYNC_SECRET_KEY": SECRET},
        "accounts",
        "add",
        "bench",
        "--client-key",
        KEY,
        "--base-url",
        f"{root}/v2",
        "--storefront",
        "de",
    )
    steps: list[Step] = []

    def step(name: str, *extra: str) -> None:
        calls = control.api_calls()
        seconds, peak, out = run_cli(
            env, "import", "orders", "--account", "bench", "--json", *extra
        )
        summary = json.loads(out)
        steps.append(
            Step(
                f"{label}: {name}",
                seconds,
                control.api_calls() - calls,
                summary["orders_new"] + summary["orders_updated"],
                summary["lines_new"] + summary["lines_updated"],
                peak,
            )
        )

    step("first import")
    step("rerun, nothing new")
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    step("--since 1 h ago, nothing new", "--since", an_hour_ago)
    return steps, env


def start_postgres() -> tuple[Any, str] | None:
    """A throwaway PostgreSQL server (tests/pg.py) and a database URL, or None without the
    server binaries."""
    sys.path.insert(0, str(ROOT))  # tests/ is not installed; its pg helper is reused as is
    from tests.pg import PostgresNotFoundError, PostgresServer

    try:
        server = PostgresServer()
    except PostgresNotFoundError:
        return None
    server.start()
    return server, server.create_database("kaufland_sync_bench")


@dataclass
class Probe:
    delays: list[float]
    periods: list[float]
    calls: int


async def probe_delay(
    root: str, control: Control, env: dict[str, str], units: list[int], probes: int
) -> Probe:
    """Place ``probes`` playground orders at random moments while ``import_orders`` runs back to
    back; measure from the answer to the order's POST to the order's row being committed."""
    engine = create_db_engine(f"sqlite:///{Path(env['KAUFLAND_SYNC_DATA_DIR'])}/kaufland-sync.db")
    factory: sessionmaker[Session] = session_factory(engine)
    with factory() as session:
        account: Account = AccountRepository(session).get("bench")
        _ = list(account.storefronts)
    rng = random.Random(5)
    periods: list[float] = []
    delays: list[float] = []
    stop = asyncio.Event()
    calls = control.api_calls()

    async with (
        KauflandClient(KEY, SECRET, base_url=f"{root}/v2", storefront="de") as worker,
        KauflandClient(KEY, SECRET, base_url=f"{root}/v2", storefront="de") as buyer,
    ):

        async def loop() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                await import_orders(
                    worker, factory, account, ["de"], clock=lambda: datetime.now(UTC)
                )
                periods.append(time.perf_counter() - started)

        async def probe() -> None:
            try:
                for _ in range(probes):
                    await asyncio.sleep(rng.uniform(0.0, 0.5))
                    created = await buyer.playground.create_orders([(rng.choice(units), 1)])
                    placed = time.perf_counter()
                    id_order = created[0].id_order
                    while True:
                        with factory() as session:
                            if session.scalar(select(Order.id).where(Order.id_order == id_order)):
                                break
                        await asyncio.sleep(0.002)
                    delays.append(time.perf_counter() - placed)
            finally:
                stop.set()

        await asyncio.gather(loop(), probe())
    engine.dispose()
    return Probe(delays, periods, control.api_calls() - calls)


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
    parser.add_argument("--units", type=int, default=10_000, help="order units to import")
    parser.add_argument("--probes", type=int, default=20, help="playground orders timed")
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--rate-limit", type=float, default=111.0)
    parser.add_argument("--open-delay", type=float, default=900.0)
    parser.add_argument(
        "--postgres",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also on PostgreSQL (skipped when its server binaries are missing)",
    )
    args = parser.parse_args()
    logging.getLogger("kaufland_sync").setLevel(logging.ERROR)

    work = Path(tempfile.mkdtemp(prefix="kaufland-bench-orders-"))
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    sandbox = start_sandbox(
        port,
        *("--seed", "demo", "--storefront", "de", "--open-delay", str(args.open_delay)),
        *("--latency-ms", str(args.latency_ms), "--rate-limit", str(args.rate_limit)),
        *("--client-key", KEY, "--secret-key", SECRET, "--random-seed", "1"),
    )
    control = Control(root)
    postgres = None
    steps: list[Step] = []
    try:
        t0 = time.perf_counter()
        available = asyncio.run(place_orders(root, control, args.units, args.open_delay))
        arranged = time.perf_counter() - t0
        sqlite_steps, sqlite_env = import_steps("SQLite", root, control, work, None)
        steps += sqlite_steps
        if args.postgres:
            postgres = start_postgres()
            if postgres is not None:
                steps += import_steps("PostgreSQL", root, control, work, postgres[1])[0]
        probe = asyncio.run(probe_delay(root, control, sqlite_env, available, args.probes))
    finally:
        control.http.close()
        sandbox.terminate()
        sandbox.wait(timeout=30)
        if postgres is not None:
            postgres[0].stop()

    print(
        f"{args.units:,} order units on storefront de (placed in {arranged:.1f} s); sandbox with "
        f"{args.latency_ms:g} ms latency, {args.rate_limit:g} requests/s, open delay "
        f"{args.open_delay:g} s; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print_table(
        ["step", "seconds", "API calls", "orders written", "lines written", "peak MB"],
        [
            [
                s.name,
                f"{s.seconds:.1f}",
                str(s.calls),
                str(s.orders),
                str(s.lines),
                f"{s.peak_mb:.0f}",
            ]
            for s in steps
        ],
    )
    print()
    delays = sorted(probe.delays)
    print(
        f"Playground order → local order, import loop back to back on SQLite "
        f"({len(delays)} orders, {len(probe.periods)} loop runs, "
        f"{probe.calls / max(1, len(probe.periods)):.1f} API calls per run):"
    )
    print_table(
        ["", "min", "median", "p90", "max"],
        [
            [
                "delay (s)",
                f"{delays[0]:.3f}",
                f"{statistics.median(delays):.3f}",
                f"{delays[int(0.9 * (len(delays) - 1))]:.3f}",
                f"{delays[-1]:.3f}",
            ],
            [
                "loop run (s)",
                f"{min(probe.periods):.3f}",
                f"{statistics.median(probe.periods):.3f}",
                f"{sorted(probe.periods)[int(0.9 * (len(probe.periods) - 1))]:.3f}",
                f"{max(probe.periods):.3f}",
            ],
        ],
    )


if __name__ == "__main__":
    main()
