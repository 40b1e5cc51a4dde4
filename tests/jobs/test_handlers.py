"""The real handlers, run by the job runner against the sandbox over loopback HTTP.

The account is stored the way ``accounts add`` stores it (secret key encrypted with the master
key of the settings), so the handlers build their own client: decryption, base URL, pacing and
metrics are those of production.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.accounts import AccountService
from kaufland_sync.config import Settings
from kaufland_sync.jobs import ledger
from kaufland_sync.jobs.handlers import JobContext, JobFailed, run_handler
from kaufland_sync.jobs.runner import JobRunner
from kaufland_sync.metrics import REGISTRY
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials
from kaufland_sync.secrets import secret_box
from kaufland_sync.sellerapi import RateLimiter
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, Environment
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.sync import fulfilment
from tests.builders import at, import_catalogue, migrated_store, new_order
from tests.e2e.conftest import MAIN_KEY, MAIN_SECRET, Control, known_ean, open_client

SKU = "JOBS-KETTLE"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(
        sellers=[SellerCredentials(MAIN_KEY, MAIN_SECRET, ALL_STOREFRONTS)],
        seed="demo",
        open_delay=0.0,
        review_delay=0.0,
        random_seed=5,
    )
    with RunningSandbox(config) as running:
        yield running


@pytest.fixture
def control(sandbox: RunningSandbox) -> Iterator[Control]:
    ctl = Control(sandbox.root_url)
    ctl.reset("demo")
    RateLimiter.clear_registry()
    yield ctl
    ctl.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, master_key=SecretStr(Fernet.generate_key().decode("ascii")))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    with migrated_store(f"sqlite:///{tmp_path / 'store.db'}") as made:
        yield made


def add_shop(
    factory: sessionmaker[Session],
    settings: Settings,
    sandbox: RunningSandbox,
    *,
    push_callback_url: str | None = None,
) -> Account:
    """The ``main`` seller as account ``shop`` on ``de``, its secret key encrypted."""
    with transaction(factory) as session:
        service = AccountService(AccountRepository(session), secret_box(settings))
        account = service.add(
            "shop",
            client_key=MAIN_KEY,
            secret_key=MAIN_SECRET,
            environment=Environment.CUSTOM,
            base_url=sandbox.base_url,
            storefronts=["de"],
        )
        account.push_callback_url = push_callback_url
        AccountRepository(session).update_storefront(account, "de", {"handling_time": 2})
        session.flush()
        return account


def clock() -> datetime:
    """The real time: the sandbox runs on it."""
    return datetime.now(UTC)


class Jobs:
    """Queue and run jobs of one account with the real handlers (messages recorded only)."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, account_id: int):
        self.factory = factory
        self.account_id = account_id
        self.sent: list[tuple[int, datetime | None]] = []
        self.runner = JobRunner(
            factory,
            settings,
            lambda job_id, eta: self.sent.append((job_id, eta)),
            worker="test-worker",
            clock=clock,
        )

    def run(self, kind: JobKind, trigger: JobTrigger = JobTrigger.MANUAL) -> Job:
        with transaction(self.factory) as session:
            made = ledger.enqueue(
                session, account_id=self.account_id, kind=kind, trigger=trigger, now=clock()
            )
        self.runner.run(made.job_id)
        with self.factory() as session:
            job = session.get(Job, made.job_id)
            assert job is not None
            return job


def recovered(kind: str) -> float:
    return REGISTRY.get_sample_value("kaufland_sync_poll_recovered_total", {"kind": kind}) or 0.0


def stored_orders(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(Order.id_order).order_by(Order.id_order)))


def test_orders_jobs_import_each_order_exactly_once(
    sandbox: RunningSandbox,
    control: Control,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    account = add_shop(store, settings, sandbox, push_callback_url="https://sync.example/hook")
    jobs = Jobs(store, settings, account.id)

    first = jobs.run(JobKind.ORDERS, JobTrigger.PUSH)
    assert first.state is JobState.DONE, first.last_error
    assert "recovered" not in first.counts  # pushed, not polled
    before = stored_orders(store)
    assert first.counts["orders_new"] == len(before)

    placed = control.orders(3, storefront="de")["ids_order"]
    polled_before = recovered("orders")
    second = jobs.run(JobKind.ORDERS, JobTrigger.SCHEDULE)
    third = jobs.run(JobKind.ORDERS, JobTrigger.SCHEDULE)

    assert second.state is JobState.DONE and third.state is JobState.DONE
    assert second.counts["orders_new"] == 3
    # The poll found what push notifications should have brought: the backstop's count.
    assert second.counts["recovered"] == 3
    assert third.counts["orders_new"] == 0 and third.counts["recovered"] == 0
    assert recovered("orders") == polled_before + 3
    after = stored_orders(store)
    assert len(after) == len(set(after)) == len(before) + 3
    assert set(map(str, placed)) <= set(after)
    with store() as session:
        lines = session.scalar(select(func.count()).select_from(OrderLine))
    assert lines == second.counts["lines_new"] + first.counts["lines_new"]
    assert third.counts["lines_new"] == 0


def test_an_outbox_job_that_ships_imports_the_new_status_at_once(
    sandbox: RunningSandbox,
    control: Control,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    account = add_shop(store, settings, sandbox)
    jobs = Jobs(store, settings, account.id)
    placed = str(control.orders(1, storefront="de")["ids_order"][0])
    assert jobs.run(JobKind.ORDERS).state is JobState.DONE
    with transaction(store) as session:
        queued = fulfilment.ship(
            session,
            account.id,
            placed,
            carrier="DHL",
            tracking_numbers=["00340434161094042557"],
            carriers=["DHL", "DPD", "Other"],
        )
    assert queued

    idle = jobs.run(JobKind.OUTBOX)  # sends the shipment, then reads what Kaufland made of it
    assert idle.state is JobState.DONE, idle.last_error
    assert idle.counts["sent"] == len(queued)
    assert idle.counts["import_lines_updated"] >= 1
    with store() as session:
        statuses = set(
            session.scalars(select(OrderLine.status).join(Order).where(Order.id_order == placed))
        )
    assert statuses == {"sent"}

    nothing = jobs.run(JobKind.OUTBOX)  # nothing to send: no import either
    assert nothing.state is JobState.DONE
    assert not any(name.startswith("import_") for name in nothing.counts)


def test_offers_then_stock_jobs_publish_and_push_only_changes(
    sandbox: RunningSandbox,
    control: Control,
    store: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    account = add_shop(store, settings, sandbox)
    jobs = Jobs(store, settings, account.id)

    async def ean() -> str:
        async with open_client(sandbox, None) as client:
            return await known_ean(client)

    code = asyncio.run(ean())
    import_catalogue(
        store, f"sku,ean,title,price,currency,stock\n{SKU},{code},Kettle,29.99,EUR,5\n", tmp_path
    )

    offers = jobs.run(JobKind.OFFERS, JobTrigger.CHANGE)
    assert offers.state is JobState.DONE, offers.last_error
    assert offers.counts["created"] == 1

    unchanged = jobs.run(JobKind.STOCK, JobTrigger.SCHEDULE)
    assert unchanged.state is JobState.DONE, unchanged.last_error
    assert unchanged.counts["updated"] == 0 and unchanged.counts["write_calls"] == 0

    import_catalogue(
        store, f"sku,ean,title,price,currency,stock\n{SKU},{code},Kettle,29.99,EUR,2\n", tmp_path
    )
    pushed = jobs.run(JobKind.STOCK, JobTrigger.CHANGE)
    assert pushed.state is JobState.DONE, pushed.last_error
    assert pushed.counts["updated"] == 1

    async def amount() -> int | None:
        async with open_client(sandbox, None) as client:
            units = (await client.units.list(storefront="de", id_offer=SKU)).items
            return units[0].amount

    assert asyncio.run(amount()) == 2


def test_a_kaufland_failure_fails_the_job_with_its_message_and_no_secret(
    sandbox: RunningSandbox,
    control: Control,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    account = add_shop(store, settings, sandbox)
    with transaction(store) as session:  # a secret key Kaufland does not accept
        repo = AccountRepository(session)
        AccountService(repo, secret_box(settings)).set_secret_key(
            repo.get("shop"), "wrong_secret_" + "c" * 51
        )
    jobs = Jobs(store, settings, account.id)

    failed = jobs.run(JobKind.TICKETS)

    assert failed.state is JobState.RETRYING
    assert failed.last_error is not None and failed.last_error.startswith("tickets failed:")
    assert "wrong_secret" not in failed.last_error and MAIN_SECRET not in failed.last_error


def test_categories_job_caches_the_tree_of_each_storefront(
    sandbox: RunningSandbox,
    control: Control,
    store: sessionmaker[Session],
    settings: Settings,
) -> None:
    account = add_shop(store, settings, sandbox)

    done = Jobs(store, settings, account.id).run(JobKind.CATEGORIES)

    assert done.state is JobState.DONE, done.last_error
    assert done.counts["categories"] == done.counts["categories_de"] > 0


async def test_performance_counts_numerators_and_denominators_per_storefront(
    store: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(store) as session:
        account = AccountRepository(session).add(
            "shop",
            client_key="k",
            secret_key_encrypted="unused: the performance job reads the store only",
            environment=Environment.CUSTOM,
            base_url="http://localhost",
            storefronts=["de"],
        )
        new_order(
            session,
            account,
            "O1",
            "de",
            at("2026-03-01"),
            [
                {"sku": "A", "status": "sent", "sent_at": at("2026-03-01", "15:00")},
                {"sku": "B", "status": "cancelled", "cancel_reason": "NoInventory"},
            ],
        )
        new_order(
            session,
            account,
            "OLD",
            "de",
            at("2025-12-01"),
            [{"sku": "C", "status": "need_to_be_sent"}],
        )
        account_id = account.id
    ctx = JobContext(
        factory=store,
        settings=settings,
        account_id=account_id,
        trigger=JobTrigger.SCHEDULE,
        clock=lambda: at("2026-03-02"),
    )

    counts = await run_handler(JobKind.PERFORMANCE, ctx)

    assert counts["de_lines"] == 2  # the order of December is outside the 30 days
    assert counts["de_seller_cancelled"] == 1
    assert counts["de_sent"] == 1
    assert counts["de_handled"] == 1 and counts["de_handling_seconds"] == 3 * 3600
    assert all(isinstance(value, int) for value in counts.values())


async def test_a_job_for_a_deleted_account_fails_plainly(
    store: sessionmaker[Session], settings: Settings
) -> None:
    ctx = JobContext(factory=store, settings=settings, account_id=999, trigger=JobTrigger.MANUAL)
    with pytest.raises(JobFailed, match="account 999 no longer exists"):
        await run_handler(JobKind.ORDERS, ctx)
