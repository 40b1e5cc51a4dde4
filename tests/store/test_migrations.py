"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import kaufland_sync.store.models  # noqa: F401 - every table on Base.metadata
from kaufland_sync.store.base import Base
from kaufland_sync.store.db import create_db_engine
from kaufland_sync.store.migrate import current_revision, head_revision, upgrade


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
