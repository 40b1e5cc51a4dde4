"""Migration 0007 (jobs) on SQLite and PostgreSQL: it keeps what is there, enforces one pending
job per account and kind with a partial unique index, and goes back cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from kaufland_sync.store.db import create_db_engine
from kaufland_sync.store.migrate import downgrade, head_revision, upgrade

NOW = "2026-01-01 00:00:00+00:00"
JOB_TABLES = {"jobs", "job_schedules", "leases", "push_events"}


def _insert_job(engine: Engine, job_id: int, state: str, kind: str = "orders") -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO jobs (id, kind, account_id, trigger, state, attempts, max_attempts,"
                " enqueued_at, not_before, counts)"
                " VALUES (:id, :kind, 1, 'schedule', :state, 0, 5, :t, :t, '{}')"
            ),
            {"id": job_id, "kind": kind, "state": state, "t": NOW},
        )


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    made = create_db_engine(db_url)
    try:
        yield made
    finally:
        made.dispose()


def test_jobs_keeps_accounts_and_goes_back(engine: Engine) -> None:
    upgrade(engine, "0006_fulfilment")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO accounts (id, name, client_key, secret_key_encrypted, environment,"
                " restock_returns, created_at, updated_at)"
                " VALUES (1, 'a', 'k', 's', 'production', false, :t, :t)"
            ),
            {"t": NOW},
        )
    assert upgrade(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= JOB_TABLES
    with engine.begin() as c:
        row = c.execute(text("SELECT name, push_callback_url FROM accounts")).one()
        assert tuple(row) == ("a", None)
        c.execute(text("UPDATE accounts SET push_callback_url = 'https://sync.example/hook'"))

    # One pending job per account and kind; running and finished ones do not count.
    _insert_job(engine, 1, "queued")
    _insert_job(engine, 2, "running")
    _insert_job(engine, 3, "done")
    _insert_job(engine, 4, "queued", kind="stock")
    with pytest.raises(IntegrityError):
        _insert_job(engine, 5, "retrying")
    with pytest.raises(IntegrityError):
        _insert_job(engine, 6, "sleeping", kind="offers")  # not a state
    with engine.begin() as c:
        c.execute(text("UPDATE jobs SET state = 'running' WHERE id = 1"))
    _insert_job(engine, 7, "retrying")

    assert downgrade(engine, "0006_fulfilment") == "0006_fulfilment"
    tables = set(inspect(engine).get_table_names())
    assert not JOB_TABLES & tables
    columns = {c["name"] for c in inspect(engine).get_columns("accounts")}
    assert "push_callback_url" not in columns
    with engine.begin() as c:
        assert c.execute(text("SELECT name FROM accounts")).scalar_one() == "a"

    # And up again, on the kept data.
    assert upgrade(engine) == head_revision()
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM jobs")).scalar_one() == 0
        assert c.execute(text("SELECT push_callback_url FROM accounts")).scalar_one() is None


def test_deleting_an_account_deletes_its_jobs_and_keeps_push_events_of_dropped_jobs(
    engine: Engine,
) -> None:
    upgrade(engine)
    with engine.begin() as c:
        for account_id in (1, 2):
            c.execute(
                text(
                    "INSERT INTO accounts (id, name, client_key, secret_key_encrypted,"
                    " environment, restock_returns, created_at, updated_at)"
                    " VALUES (:id, :name, 'k', 's', 'production', false, :t, :t)"
                ),
                {"id": account_id, "name": f"a{account_id}", "t": NOW},
            )
    _insert_job(engine, 1, "done")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO push_events (account_id, id_message, event_name, received_at, job_id)"
                " VALUES (2, 'm1', 'order_new', :t, 1)"
            ),
            {"t": NOW},
        )
    with engine.begin() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("PRAGMA foreign_keys=ON")
        c.execute(text("DELETE FROM accounts WHERE id = 1"))
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM jobs")).scalar_one() == 0
        assert c.execute(text("SELECT job_id FROM push_events")).scalar_one() is None
