"""End-to-end fixtures: the real client against the sandbox over loopback HTTP.

One sandbox (uvicorn in a background thread) serves the whole session with two sellers: ``main``
sells on every storefront, ``de_only`` has configured only ``de``. Each test starts from a freshly
seeded world (``POST /_sandbox/reset``), and every exchange the client makes is validated against
Kaufland's OpenAPI spec by a ``SpecRecorder``: a test fails if any request or answer does not
conform.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials
from kaufland_sync.sellerapi import KauflandClient, RateLimiter
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.sync.exporters.offers import SyncSummary, sync_account_offers
from tests.builders import add_account, import_catalogue, migrated_store, offer_settings
from tests.conformance import SpecRecorder

MAIN_KEY = "e2e_main_client_key_000000000001"
MAIN_SECRET = "e2e_main_secret_" + "a" * 48
DE_ONLY_KEY = "e2e_de_only_client_key_000000002"
DE_ONLY_SECRET = "e2e_de_only_secret_" + "b" * 45


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(
        sellers=[
            SellerCredentials(MAIN_KEY, MAIN_SECRET, ALL_STOREFRONTS),
            SellerCredentials(DE_ONLY_KEY, DE_ONLY_SECRET, ("de",)),
        ],
        seed="demo",
        open_delay=0.0,
        review_delay=0.0,
        random_seed=1234,
    )
    with RunningSandbox(config) as running:
        yield running


class Control:
    """The sandbox's unsigned control API, for arranging and inspecting a test's world."""

    def __init__(self, root_url: str) -> None:
        self._http = httpx.Client(base_url=f"{root_url}/_sandbox", timeout=10.0)

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()["data"]

    def reset(self, seed: str = "demo") -> Any:
        return self._json("POST", "/reset", {"seed": seed})

    def state(self) -> Any:
        return self._json("GET", "/state")

    def faults(self, **changes: Any) -> Any:
        return self._json("PUT", "/faults", changes)

    def orders(self, count: int, storefront: str = "de", client_key: str = MAIN_KEY) -> Any:
        body = {"count": count, "storefront": storefront, "client_key": client_key}
        return self._json("POST", "/orders", body)

    def open_return(self, id_order_unit: int, reason: str = "defect") -> Any:
        body = {"id_order_unit": id_order_unit, "reason": reason, "client_key": MAIN_KEY}
        return self._json("POST", "/returns", body)

    def delivered(self, id_order_unit: int) -> Any:
        return self._json(
            "POST", "/delivered", {"id_order_unit": id_order_unit, "client_key": MAIN_KEY}
        )

    def return_arrived(self, id_return_unit: int) -> Any:
        return self._json("POST", "/return-arrived", {"id_return_unit": id_return_unit})

    def clock(self, offset_seconds: float) -> Any:
        return self._json("PUT", "/clock", {"offset_seconds": offset_seconds})

    def status_counts(self) -> dict[int, int]:
        """Answers by HTTP status across all endpoints since the last reset."""
        totals: dict[int, int] = {}
        for by_status in self.state()["requests"].values():
            for status, count in by_status.items():
                totals[int(status)] = totals.get(int(status), 0) + count
        return totals

    def close(self) -> None:
        self._http.close()


@pytest.fixture
def control(sandbox: RunningSandbox) -> Iterator[Control]:
    ctl = Control(sandbox.root_url)
    ctl.reset("demo")
    RateLimiter.clear_registry()
    yield ctl
    ctl.close()


@pytest.fixture
def recorder() -> Iterator[SpecRecorder]:
    rec = SpecRecorder()
    yield rec
    assert not rec.failures, "exchanges that do not conform to the spec:\n" + "\n".join(
        rec.failures
    )


@asynccontextmanager
async def open_client(
    sandbox: RunningSandbox,
    recorder: SpecRecorder | None,
    *,
    key: str = MAIN_KEY,
    secret: str = MAIN_SECRET,
    http_timeout: float = 10.0,
    **kwargs: Any,
) -> AsyncIterator[KauflandClient]:
    """A KauflandClient for the sandbox whose exchanges go through ``recorder``."""
    hooks = {"response": [recorder]} if recorder is not None else {}
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    kwargs.setdefault("storefront", "de")
    async with (
        httpx.AsyncClient(timeout=http_timeout, event_hooks=hooks, limits=limits) as http,
        KauflandClient(key, secret, base_url=sandbox.base_url, http_client=http, **kwargs) as api,
    ):
        yield api


@pytest.fixture
async def client(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> AsyncIterator[KauflandClient]:
    async with open_client(sandbox, recorder) as api:
        yield api


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated SQLite store in the test's own folder (most end-to-end tests are about the
    traffic; the tables are tested on both backends in tests/store)."""
    with migrated_store(f"sqlite:///{tmp_path / 'store.db'}") as made:
        yield made


@pytest.fixture
def store(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A migrated store on SQLite and on PostgreSQL, for the tests where the database matters."""
    with migrated_store(db_url) as made:
        yield made


def clock() -> datetime:
    """The real time: the sandbox runs on it too."""
    return datetime.now(UTC)


def make_account(
    factory: sessionmaker[Session], sandbox: RunningSandbox, storefronts: Sequence[str] = ("de",)
) -> Account:
    """The account ``shop`` of the ``main`` seller; tests pass their own client, so the stored
    secret is never used."""
    return add_account(
        factory, client_key=MAIN_KEY, base_url=sandbox.base_url, storefronts=storefronts
    )


async def known_ean(client: KauflandClient) -> str:
    """The EAN of a product Kaufland knows, so units offered for it are buyable at once."""
    page = await client.units.list(storefront="de", embedded="products", limit=30)
    for unit in page.items:
        if unit.product is not None and unit.product.eans:
            return unit.product.eans[0]
    raise AssertionError("the demo world has no unit with a product")


async def publish_sku(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    folder: Path,
    csv_row: str,
) -> tuple[list[SyncSummary], dict[str, int]]:
    """Import one catalogue row (``sku,ean,title,price,currency,stock``; ``{ean}`` in it is
    replaced by a known EAN) and publish it on every storefront of ``account`` with
    ``sync_account_offers``. Returns the run's summaries and the SKU's unit id per storefront."""
    row = csv_row.format(ean=await known_ean(client))
    import_catalogue(factory, f"sku,ean,title,price,currency,stock\n{row}\n", folder)
    published = await sync_account_offers(
        factory=factory,
        backoffice=BuiltinCatalog(factory),
        client=client,
        account_id=account.id,
        storefronts=offer_settings(factory),
    )
    sku = row.split(",", 1)[0]
    units = {
        code: (await client.units.list(storefront=code, id_offer=sku)).items[0].id_unit
        for code in (s.storefront for s in published)
    }
    return published, units
