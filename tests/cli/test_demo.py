"""``kaufland-sync demo``: the sandbox with buyers and the whole service on a demo store.

The setup steps run in process against a temporary folder; the command itself runs as a real
process (the way ``make demo`` starts it), once with ``--once`` and once serving until SIGTERM,
on the same data folder, which the second run must reuse.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.accounts import base_url_for
from kaufland_sync.cli.demo import (
    DEMO_ACCOUNT,
    DEMO_STOREFRONT,
    demo_settings,
    ensure_account,
    ensure_catalog,
)
from kaufland_sync.cli.sandbox import DEMO_CLIENT_KEY, DEMO_SECRET_KEY
from kaufland_sync.config import Settings
from kaufland_sync.secrets import secret_box
from kaufland_sync.store.db import create_db_engine, session_factory
from kaufland_sync.store.migrate import upgrade
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Product
from kaufland_sync.store.models.jobs import Job, JobState
from kaufland_sync.store.models.orders import Order
from tests.cli.runner import clean_env, run_process


def demo_store(folder: Path) -> sessionmaker[Session]:
    engine = create_db_engine(f"sqlite:///{folder / 'kaufland-sync.db'}")
    upgrade(engine)
    return session_factory(engine)


def count(factory: sessionmaker[Session], model: type[object]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_demo_settings_never_use_the_configured_store_or_queue(tmp_path: Path) -> None:
    real = Settings(
        data_dir=tmp_path / "real",
        database_url="postgresql+psycopg://shop@db.example.com/shop",
        queue_url="redis://queue.example.com:6379/0",
        master_key=SecretStr("x" * 44),
        log_level="DEBUG",
    )
    settings = demo_settings(real, tmp_path / "demo", public_url="http://127.0.0.1:9999")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'demo' / 'kaufland-sync.db'}"
    assert settings.resolved_queue_url == f"sqlite:///{tmp_path / 'demo' / 'queue.db'}"
    assert settings.master_key is None  # the demo folder's own key file
    assert settings.public_url == "http://127.0.0.1:9999"
    assert settings.log_level == "DEBUG"  # everything else is kept
    assert real.database_url is not None  # the given settings are left alone


def test_ensure_account_adds_the_demo_seller_once_and_follows_the_sandbox(tmp_path: Path) -> None:
    settings = demo_settings(Settings(), tmp_path, public_url="http://127.0.0.1:1")
    factory = demo_store(tmp_path)
    first_id, created = ensure_account(settings, factory, "http://127.0.0.1:1111/v2")
    again_id, created_again = ensure_account(settings, factory, "http://127.0.0.1:2222/v2")
    assert (created, created_again) == (True, False)
    assert first_id == again_id
    with factory() as session:
        (account,) = session.scalars(select(Account)).all()
        assert account.name == DEMO_ACCOUNT
        assert account.client_key == DEMO_CLIENT_KEY
        assert base_url_for(account) == "http://127.0.0.1:2222/v2"  # the sandbox's new port
        secret = secret_box(settings).decrypt(account.secret_key_encrypted, account="demo")
        assert secret == DEMO_SECRET_KEY
        (storefront,) = account.storefronts
        assert storefront.storefront.value == DEMO_STOREFRONT
        assert storefront.handling_time == 1  # offers of the sample catalogue need one


def test_ensure_catalog_fills_only_an_empty_catalogue(tmp_path: Path) -> None:
    factory = demo_store(tmp_path)
    report = ensure_catalog(factory)
    assert report is not None
    assert report.rows_failed == 0
    products = count(factory, Product)
    assert products == report.products_created > 0
    assert ensure_catalog(factory) is None
    assert count(factory, Product) == products


def test_demo_once_then_serving_on_the_same_store(tmp_path: Path) -> None:
    env = {"KAUFLAND_SYNC_DATA_DIR": str(tmp_path)}
    folder = tmp_path / "demo"

    first = run_process("demo", "--once", "--port", "0", env=env, timeout=100)
    assert first.returncode == 0, first.stdout + first.stderr
    for line in (
        f"Demo store: {folder}",
        "Account demo added",
        "Catalogue imported from catalog-sample.csv",
        "Push notifications of the sandbox go to http://127.0.0.1:",
        "Signed request accepted",
        "New offer published",
        "Stock on Kaufland dropped with the order",
        "is sent",
        "A wrongly signed request is refused: HTTP 401 /problems/corrupted-signature",
        "done: ",
    ):
        assert line in first.stdout
    factory = demo_store(folder)
    assert count(factory, Account) == 1
    products = count(factory, Product)
    assert products > 0
    orders = count(factory, Order)
    assert orders >= 1  # the round trip's order at least
    with factory() as session:
        account = session.scalars(select(Account)).one()
        assert account.push_callback_url is not None
        assert account.push_callback_url.endswith("/webhooks/kaufland/demo")
        # --once queues an orders job and waits for it; when a scheduled or pushed orders job
        # was already pending, that one is the job (the same job is never queued twice).
        orders_jobs = session.scalars(select(Job).where(Job.kind == "orders")).all()
        assert any(job.state is JobState.DONE for job in orders_jobs), orders_jobs
    assert (folder / "sandbox-world.json").is_file()  # the sandbox's world is kept

    process = subprocess.Popen(
        [sys.executable, "-m", "kaufland_sync", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_env(env),
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        for line in process.stdout:  # setup, the round trip, then where to look
            lines.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        text = "".join(lines)
        assert "Account demo already there" in text
        assert "Catalogue imported" not in text
        # stderr is merged into the same pipe, so a log line may land inside the block: search
        # the text rather than expect whole lines.
        found = re.search(r"health:\s+(http://\S+/health)", text)
        assert found, text
        health_url = found.group(1)
        health = httpx.get(health_url, timeout=5)
        assert health.status_code == 200
        assert health.json()["database"] == "ok"
        assert f"export KAUFLAND_SYNC_DATA_DIR={folder}" in text
        base = next(ln.split("=", 1)[1].strip() for ln in lines if "KAUFLAND_SYNC_BASE_URL=" in ln)
        assert httpx.get(base.removesuffix("/v2") + "/_sandbox/state", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, text + rest
    assert rest.rstrip().endswith("Stopped.")
    assert count(factory, Account) == 1  # reused, not added again
    assert count(factory, Product) == products  # not imported again
    assert count(factory, Order) >= orders
