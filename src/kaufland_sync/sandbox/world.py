"""The sandbox's state: one catalogue shared by everybody, and one marketplace per seller.

Records are kept as plain JSON-ready dicts in the exact shape the API returns them, so a route
answers by copying a record and the whole world can be written to and read from a state file.
Fields whose name starts with ``_`` are internal (never sent; strip them with ``public()``).
The sandbox runs on one event loop: a handler that does not ``await`` while it mutates records
needs no lock.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Record = dict[str, Any]

ALL_STOREFRONTS = ("de", "cz", "sk", "pl", "at", "fr", "it")

# Tables each seller owns, keyed by the record's id (as a string, so JSON round trips keep keys).
SELLER_TABLES = (
    "units",
    "orders",
    "order_units",
    "shipments",
    "order_invoices",
    "returns",
    "return_units",
    "tickets",
    "ticket_messages",
    "subscriptions",
    "reports",
    "import_files",
    "product_data_import_files",
    "warehouses",
    "shipping_groups",
    "buyers",
)

# Tables of the catalogue every seller sees (Kaufland's products are shared by all sellers).
CATALOG_TABLES = ("products", "categories", "attributes", "product_data")


@dataclass
class SellerCredentials:
    client_key: str
    secret_key: str
    storefronts: tuple[str, ...] = ALL_STOREFRONTS


@dataclass
class SandboxConfig:
    """Everything the sandbox is started with. Pure data; ``app.create_app`` reads it."""

    sellers: list[SellerCredentials]
    # scheme://host[:port] the clients sign against. None: take it from the request's Host header.
    public_base_url: str | None = None
    seed: str = "demo"  # "demo" or "empty"
    open_delay: float = 0.0  # seconds a new order unit stays `open` with hidden addresses
    review_delay: float = 0.0  # seconds before PUT /product-data is reviewed
    rate_limit: float = 111.0  # requests per second per client key; 0 switches it off
    latency_ms: float = 0.0
    state_file: Path | None = None
    timestamp_tolerance: int = 300
    accept_base64_signatures: bool = False
    push_retry_delays: tuple[float, ...] = (60.0, 900.0, 1800.0, 3600.0)
    random_seed: int | None = None
    # Invented buyers ordering by themselves (buyers.py): mean seconds between two orders across
    # all sellers, exponentially distributed; 0 switches them off.
    buyers_every: float = 0.0
    # Storefronts those buyers shop on; None: every storefront a seller has configured.
    buyers_storefronts: tuple[str, ...] | None = None


@dataclass
class Seller:
    client_key: str
    storefronts: tuple[str, ...]
    tables: dict[str, dict[str, Record]] = field(
        default_factory=lambda: {name: {} for name in SELLER_TABLES}
    )

    def table(self, name: str) -> dict[str, Record]:
        return self.tables[name]


class World:
    """All sandbox state plus the clock it runs on."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        # Seconds added to the base clock (``PUT /_sandbox/clock``) so clients can be tested
        # against a server whose clock is skewed. ``clock`` already includes it.
        self.clock_offset = 0.0
        self.base_clock = clock
        self.clock: Callable[[], float] = lambda: self.base_clock() + self.clock_offset
        self.catalog: dict[str, dict[str, Record]] = {name: {} for name in CATALOG_TABLES}
        self.sellers: dict[str, Seller] = {
            s.client_key: Seller(s.client_key, tuple(s.storefronts)) for s in config.sellers
        }
        self.counters: dict[str, int] = {}
        # (endpoint template, status) -> count, for GET /_sandbox/state
        self.request_counts: Counter[tuple[str, int]] = Counter()
        # Push-notification events waiting for delivery (see notify.py); not persisted.
        self.events: list[Record] = []
        # Derived lookups (EAN index, review queue, ...) that routes build lazily from the tables;
        # never persisted and cleared whenever the tables are replaced wholesale.
        self.indexes: dict[str, Any] = {}
        # Set by anything that changes the tables; the app's saver writes the state file then.
        self.dirty = False

    def emit(
        self,
        client_key: str,
        event_name: str,
        resource: str,
        storefront: str | None,
        payload: Record | None = None,
    ) -> None:
        """Record that something a seller may subscribe to happened (``order_new``,
        ``item_unit_changed``, ...). ``resource`` is the API path of the changed object,
        e.g. ``/v2/orders/MB7UWLD``. Delivery is notify.py's job."""
        event: Record = {
            "client_key": client_key,
            "event_name": event_name,
            "resource": resource,
            "storefront": storefront,
            "ts": self.clock(),
        }
        self.dirty = True
        if payload is not None:
            event["payload"] = payload
        self.events.append(event)

    # ids and time -------------------------------------------------------------------------
    def next_id(self, kind: str, start: int = 1000) -> int:
        """Next integer id of a kind (monotonic; survives restarts via the state file)."""
        value = self.counters.get(kind, start) + 1
        self.counters[kind] = value
        return value

    def now(self) -> float:
        return self.clock()

    def now_iso(self) -> str:
        return iso(self.clock())

    def seller(self, client_key: str) -> Seller:
        return self.sellers[client_key]

    # persistence -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "catalog": self.catalog,
            "sellers": {
                key: {"storefronts": list(s.storefronts), "tables": s.tables}
                for key, s in self.sellers.items()
            },
            "counters": self.counters,
        }

    def load_json(self, data: dict[str, Any]) -> None:
        for name in CATALOG_TABLES:
            self.catalog[name] = data.get("catalog", {}).get(name, {})
        for key, saved in data.get("sellers", {}).items():
            seller = self.sellers.get(key)
            if seller is None:  # a seller no longer configured keeps its data for later
                seller = Seller(key, tuple(saved.get("storefronts", ALL_STOREFRONTS)))
                self.sellers[key] = seller
            for name in SELLER_TABLES:
                seller.tables[name] = saved.get("tables", {}).get(name, {})
        self.counters = {k: int(v) for k, v in data.get("counters", {}).items()}
        self.indexes.clear()

    def clear(self) -> None:
        """Empty every table, counter, index and pending event (keeps sellers, config, clock)."""
        for name in CATALOG_TABLES:
            self.catalog[name] = {}
        for seller in self.sellers.values():
            seller.tables = {name: {} for name in SELLER_TABLES}
        self.counters = {}
        self.events.clear()
        self.indexes.clear()
        self.dirty = True

    def save(self, path: Path) -> None:
        """Write the world atomically (temp file + rename) so a crash never leaves half a file."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)

    def load(self, path: Path) -> bool:
        if not path.exists():
            return False
        self.load_json(json.loads(path.read_text(encoding="utf-8")))
        return True


def iso(timestamp: float) -> str:
    """Kaufland's ``_iso`` format: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    """Parse an ISO 8601 timestamp (``Z`` or offset) into epoch seconds; raises ValueError."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def public(record: Record) -> Record:
    """Copy a record without its internal (``_``-prefixed) fields."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
