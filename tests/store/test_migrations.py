"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

import kaufland_sync.store.models  # noqa: F401 - every table on Base.metadata
from kaufland_sync.store.base import Base
from kaufland_sync.store.db import create_db_engine
from kaufland_sync.store.migrate import current_revision, downgrade, head_revision, upgrade


def test_upgrade_builds_the_schema_of_the_models(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == head_revision()
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
        assert diffs == []
        assert {"accounts", "account_storefronts", "account_storefront_warehouses"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_upgrade_again_is_a_no_op_and_accepts_a_url(db_url: str) -> None:
    assert upgrade(db_url) == head_revision()
    assert upgrade(db_url) == head_revision()
    assert current_revision(db_url) == head_revision()


def test_first_revision_is_accounts(db_url: str) -> None:
    assert upgrade(db_url, "0001_accounts") == "0001_accounts"
    engine = create_db_engine(db_url)
    try:
        assert "accounts" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_fulfilment_keeps_orders_imported_before_it_and_widens_the_sync_log(db_url: str) -> None:
    """0006 adds columns to tables that may already hold orders: those rows stay, reserve
    nothing, and the sync log accepts the new kinds (its CHECK constraint was replaced), while
    still refusing unknown ones."""
    engine = create_db_engine(db_url)
    try:
        upgrade(engine, "0005_orders")
        now = "2026-01-01 00:00:00+00:00"
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO accounts (id, name, client_key, secret_key_encrypted, environment,"
                    " created_at, updated_at) VALUES (1, 'a', 'k', 's', 'production', :t, :t)"
                ),
                {"t": now},
            )
            c.execute(
                text(
                    "INSERT INTO orders (id, account_id, id_order, storefront, status, raw,"
                    " created_at, updated_at) VALUES (1, 1, 'O1', 'de', 'sent', '{}', :t, :t)"
                ),
                {"t": now},
            )
            c.execute(
                text(
                    "INSERT INTO order_lines (id, order_id, id_order_unit, status,"
                    " addresses_hidden, raw, created_at, updated_at)"
                    " VALUES (1, 1, 77, 'sent', false, '{}', :t, :t)"
                ),
                {"t": now},
            )
        upgrade(engine)
        with engine.begin() as c:
            row = c.execute(text("SELECT stock_state, local_status FROM order_lines")).one()
            assert tuple(row) == ("none", "")
            c.execute(
                text(
                    'INSERT INTO sync_runs (kind, account_id, storefront, "full", started_at,'
                    " outcome, created, updated, unchanged, held, deleted, failed, skipped, calls)"
                    " VALUES ('orders', 1, 'de', false, :t, 'ok', 0, 0, 0, 0, 0, 0, 0, 0)"
                ),
                {"t": now},
            )
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(
                text(
                    'INSERT INTO sync_runs (kind, account_id, storefront, "full", started_at,'
                    " outcome, created, updated, unchanged, held, deleted, failed, skipped, calls)"
                    " VALUES ('bogus', 1, 'de', false, :t, 'ok', 0, 0, 0, 0, 0, 0, 0, 0)"
                ),
                {"t": now},
            )
        # And back: the downgrade drops what 0006 added and the rows it cannot keep.
        assert downgrade(engine, "0005_orders") == "0005_orders"
        tables = set(inspect(engine).get_table_names())
        assert "outbox" not in tables and "orders" in tables
        with engine.begin() as c:
            assert c.execute(text("SELECT count(*) FROM order_lines")).scalar_one() == 1
            assert c.execute(text("SELECT count(*) FROM sync_runs")).scalar_one() == 0
    finally:
        engine.dispose()
