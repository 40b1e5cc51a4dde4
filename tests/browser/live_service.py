"""The whole product running for browser tests: the sandbox and ``kaufland-sync run`` as real
processes on loopback ports, set up with the real commands.

:class:`LiveService` starts ``kaufland-sync sandbox`` (one seller, its world kept in a state
file) and, in a data folder of its own, adds an account for that seller (``accounts add``), a
user (``users add``) and buyer orders (the sandbox's control API), then starts ``kaufland-sync
run`` (web app, worker and scheduler in one process) and waits until the scheduler's first
``orders`` job has imported those orders. Tests then drive the web app in a browser and look at
the sandbox's world and the service's store to see what really happened.

Everything here is synchronous (subprocesses, ``httpx.Client``, a plain SQLAlchemy engine):
Playwright's sync API keeps an event loop running in the main thread while it is started.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kaufland_sync.store.db import create_db_engine
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Order, OrderLine
from tests.cli.runner import run_process
from tests.e2e.processes import Fleet, Service, wait_until

__all__ = ["ACCOUNT", "CLIENT_KEY", "PASSWORD", "USER", "LiveService"]

CLIENT_KEY = "browser_ship_client_key_00000001"
SECRET_KEY = "browser_ship_secret_" + "e" * 44
ACCOUNT = "shop"
USER = "ops"
PASSWORD = "a long operator password"
#: The longest any step of starting up may take (a deadline, not an expected duration).
START_DEADLINE = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveService:
    """The sandbox and ``kaufland-sync run`` as child processes; :meth:`close` stops both."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.state_file = folder / "sandbox-state.json"
        self.env = {"KAUFLAND_SYNC_DATA_DIR": str(self.data)}
        self.fleet = Fleet(self.env, folder / "logs")
        sandbox_port = _free_port()
        app_port = _free_port()
        while app_port == sandbox_port:  # both were free a moment ago: they must differ
            app_port = _free_port()
        self.sandbox_root = f"http://127.0.0.1:{sandbox_port}"
        self.url = f"http://127.0.0.1:{app_port}"
        self._app_port = app_port
        self.http = httpx.Client(timeout=10.0)
        self.engine: Engine | None = None
        self.sandbox: Service | None = None
        self.app: Service | None = None

    # --- starting -----------------------------------------------------------------------------

    def start(self, orders: int) -> list[str]:
        """Start everything with ``orders`` buyer orders imported; returns their ``id_order``."""
        self.sandbox = self.fleet.start(
            "sandbox", "--port", self.sandbox_root.rsplit(":", 1)[1],
            "--client-key", CLIENT_KEY, "--secret-key", SECRET_KEY, "--storefront", "de",
            "--state", str(self.state_file), "--random-seed", "61", "--rate-limit", "0",
        )  # fmt: skip
        wait_until(
            lambda: self._answers(f"{self.sandbox_root}/_sandbox/state", self.sandbox),
            "the sandbox to answer",
            deadline=START_DEADLINE,
            describe=self.fleet.report,
        )
        self._cli(
            "accounts", "add", ACCOUNT, "--client-key", CLIENT_KEY,
            "--base-url", f"{self.sandbox_root}/v2", "--storefront", "de",
            env={"KAUFLAND_SYNC_SECRET_KEY": SECRET_KEY},
        )  # fmt: skip
        self._cli("users", "add", USER, "--role", "operator", "--password", PASSWORD)
        placed = self.http.post(
            f"{self.sandbox_root}/_sandbox/orders",
            json={"count": orders, "storefront": "de", "client_key": CLIENT_KEY},
        )
        placed.raise_for_status()
        ids: list[str] = placed.json()["data"]["ids_order"]
        self.engine = create_db_engine(f"sqlite:///{self.data / 'kaufland-sync.db'}")
        self.app = self.fleet.start("run", "--host", "127.0.0.1", "--port", str(self._app_port))
        wait_until(
            lambda: self._answers(f"{self.url}/health", self.app),
            "`kaufland-sync run` to answer /health",
            deadline=START_DEADLINE,
            describe=self.fleet.report,
        )
        # A new account's schedules are due at once: the first orders job imports them.
        wait_until(
            lambda: all(self.units(id_order) for id_order in ids),
            f"orders {', '.join(ids)} imported by the scheduled orders job",
            deadline=START_DEADLINE,
            describe=self.fleet.report,
        )
        return ids

    def _cli(self, *args: str, env: dict[str, str] | None = None) -> None:
        done = run_process(*args, env=self.env | (env or {}))
        assert done.returncode == 0, f"kaufland-sync {' '.join(args[:2])}: {done.stderr}"

    def _answers(self, url: str, service: Service | None) -> bool:
        if service is not None and not service.running():
            raise AssertionError(f"{' '.join(service.args)} ended early:\n{service.output()}")
        try:
            return self.http.get(url).status_code == 200
        except httpx.TransportError:
            return False  # not listening yet

    # --- looking ------------------------------------------------------------------------------

    def units(self, id_order: str) -> dict[int, str]:
        """The order's units in the service's store: id_order_unit → Kaufland status."""
        assert self.engine is not None
        with Session(self.engine) as session:
            rows = session.execute(
                select(OrderLine.id_order_unit, OrderLine.status)
                .join(Order, Order.id == OrderLine.order_id)
                .join(Account, Account.id == Order.account_id)
                .where(Account.name == ACCOUNT, Order.id_order == id_order)
            )
            return {unit: status for unit, status in rows}

    def world(self) -> dict[str, Any]:
        """The seller's tables as the sandbox last saved them (every couple of seconds while
        something changes; the file is replaced atomically)."""
        if not self.state_file.exists():
            return {}
        saved = json.loads(self.state_file.read_text(encoding="utf-8"))
        tables: dict[str, Any] = saved["sellers"][CLIENT_KEY]["tables"]
        return tables

    def sandbox_unit(self, id_order_unit: int) -> tuple[str, list[tuple[str, str]]]:
        """An order unit on the sandbox: its status and its parcels (carrier, tracking)."""
        tables = self.world()
        unit = tables.get("order_units", {}).get(str(id_order_unit), {})
        parcels = [
            (str(s["carrier_code"]), str(s["tracking_number"]))
            for s in tables.get("shipments", {}).values()
            if s.get("id_order_unit") == id_order_unit
        ]
        return str(unit.get("status", "")), parcels

    def report(self) -> str:
        return self.fleet.report()

    # --- stopping -----------------------------------------------------------------------------

    def close(self) -> None:
        try:
            self.fleet.stop_all()
        finally:
            self.http.close()
            if self.engine is not None:
                self.engine.dispose()
