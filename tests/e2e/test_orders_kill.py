"""A worker killed mid-run: ``kaufland-sync import orders`` as real processes against the sandbox
over loopback HTTP, with latency, 10% server errors and 5% timeouts, on SQLite and PostgreSQL.

The first run is killed with SIGKILL once the store holds some but not all of the order lines
(found by polling the database, not by waiting a fixed time). Then two runs start at the same
moment, then one more runs alone (again until one completes). Whatever the faults made
individual runs do, the store must end with exactly one order per Kaufland order and one line per
order unit, all of them, and the import cursor must exist only once a run completed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials
from kaufland_sync.sellerapi import RateLimiter
from kaufland_sync.store.db import create_db_engine
from kaufland_sync.store.models.orders import Order, OrderLine, SyncCursor
from kaufland_sync.sync.importers.orders import CURSOR_KIND
from tests.cli.runner import run_cli
from tests.e2e.conftest import Control, open_client

KEY = "e2e_kill_client_key_000000000001"
SECRET = "e2e_kill_secret_" + "e" * 48
#: Buyers placing orders: each orders 1-3 pieces of one or two units, one order unit per piece,
#: so several of the importer's 200-unit batches.
BUYERS = 180
#: Per-request latency: slow enough that the killed run is caught between two batch commits.
LATENCY_MS = 80
#: Upper bound for anything the test waits for; reaching it is a failure, never the plan.
DEADLINE = 30.0


@pytest.fixture(scope="module")
def kill_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox of its own: the faults set here must not reach other modules' tests."""
    config = SandboxConfig(
        sellers=[SellerCredentials(KEY, SECRET, ("de",))],
        seed="demo",
        open_delay=0.0,
        random_seed=4242,
    )
    with RunningSandbox(config) as running:
        yield running


async def _restock_and_list(sandbox: RunningSandbox, control: Control) -> dict[int, str]:
    """Give every available ``de`` unit enough stock for the buyers, let them order, and return
    Kaufland's order units (id_order_unit → id_order)."""
    async with open_client(sandbox, None, key=KEY, secret=SECRET) as client:
        units = [u async for u in client.units.iter_all(storefront="de")]
        for unit in units:
            if unit.status == "AVAILABLE":
                await client.units.update(unit.id_unit, {"amount": 500})
        control.orders(BUYERS, client_key=KEY)
        return {
            u.id_order_unit: u.id_order async for u in client.order_units.iter_all(storefront="de")
        }


@dataclass
class StoreView:
    lines: int
    cursor: datetime | None


def look(engine: Engine) -> StoreView:
    with Session(engine) as session:
        lines = session.scalar(select(func.count()).select_from(OrderLine)) or 0
        cursor = session.scalar(select(SyncCursor.position).where(SyncCursor.kind == CURSOR_KIND))
    return StoreView(lines, cursor)


#: Every import process a test started, so that a failing test leaves none running.
STARTED: list[subprocess.Popen[str]] = []


def start_import(env: dict[str, str]) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KAUFLAND_SYNC_")}
    full_env.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "kaufland_sync", "import", "orders", "--account", "shop", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )
    STARTED.append(process)
    return process


def finish(process: subprocess.Popen[str]) -> dict[str, Any] | None:
    """Wait for an import; its summary when it completed, None when it gave up on a fault (exit
    1 with the "rerun to resume" message). Anything else, a traceback above all, fails the test."""
    out, err = process.communicate(timeout=DEADLINE)
    if process.returncode == 0:
        summary: dict[str, Any] = json.loads(out)
        return summary
    assert process.returncode == 1 and "import stopped" in err, (process.returncode, out, err)
    return None


def test_a_killed_run_and_concurrent_reruns_leave_each_order_exactly_once(
    kill_sandbox: RunningSandbox, db_url: str, tmp_path: Path
) -> None:
    control = Control(kill_sandbox.root_url)
    control.reset("demo")
    RateLimiter.clear_registry()
    expected = asyncio.run(_restock_and_list(kill_sandbox, control))
    assert len(expected) > 400, "too few order units for several batches"

    env = {
        "KAUFLAND_SYNC_DATA_DIR": str(tmp_path / "data"),
        "KAUFLAND_SYNC_DATABASE_URL": db_url,
    }
    added = run_cli(
        "accounts",
        "add",
        "shop",
        "--client-key",
        KEY,
        "--base-url",
        kill_sandbox.base_url,
        "--storefront",
        "de",
        env=env | {"KAUFLAND_SYNC_SECRET_KEY": SECRET},
    )
    assert added.returncode == 0, added.stderr

    engine = create_db_engine(db_url)
    control.faults(latency_ms=LATENCY_MS, error_rate=0.1, timeout_rate=0.05, timeout_seconds=0.5)
    try:
        # 1. The first run is killed once part of the lines are in, and before its end.
        victim = start_import(env)
        deadline = time.monotonic() + DEADLINE
        seen = look(engine)
        while not 0 < seen.lines < len(expected):
            if victim.poll() is not None:
                pytest.fail(f"the run ended before it was killed: {victim.communicate()}")
            assert time.monotonic() < deadline, "no line was written in time"
            time.sleep(0.01)  # polling interval, not a timing assumption
            seen = look(engine)
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=DEADLINE)
        assert victim.returncode == -signal.SIGKILL
        killed = look(engine)
        assert 0 < killed.lines < len(expected)
        assert killed.cursor is None, "the cursor moved before a run completed"

        # 2. Two reruns at once.
        rerun_started = datetime.now(UTC)
        pair = [finish(p) for p in [start_import(env), start_import(env)]]
        pair_completed = any(s is not None for s in pair)
        assert (look(engine).cursor is not None) == pair_completed

        # 3. One more run alone (repeated while none completes under the faults). After a
        # completed run it finds nothing new.
        alone = None
        for _ in range(4):
            alone = finish(start_import(env))
            if alone is not None:
                break
        assert alone is not None, "no run completed under the faults"
        if pair_completed:
            assert alone["orders_new"] == 0 and alone["lines_new"] == 0, alone
    finally:
        for process in STARTED:
            if process.poll() is None:
                process.kill()
            process.communicate()
        STARTED.clear()
        control.faults(latency_ms=0, error_rate=0, timeout_rate=0)
        control.close()
        engine.dispose()

    with Session(engine) as session:
        rows = session.execute(
            select(OrderLine.id_order_unit, Order.id_order).join(Order, OrderLine.order)
        ).all()
        orders = session.scalars(select(Order.id_order)).all()
        cursors = session.scalars(select(SyncCursor).where(SyncCursor.kind == CURSOR_KIND)).all()
    engine.dispose()

    assert len(rows) == len(expected), "one line per Kaufland order unit"
    assert dict(rows) == expected, "every order unit is in, under the right order"
    assert sorted(orders) == sorted(set(expected.values())), "one order per Kaufland order"
    assert len(cursors) == 1
    position = cursors[0].position
    if position.tzinfo is None:  # SQLite hands back naive UTC
        position = position.replace(tzinfo=UTC)
    assert rerun_started <= position <= datetime.now(UTC)
