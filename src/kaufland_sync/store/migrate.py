"""Schema migrations, run from the program itself: ``upgrade(engine)`` brings a database to the
newest revision (``upgrade head``) without the ``alembic`` command.

Every command calls ``upgrade`` before it touches the store. When the database is already at
head this is one small query. On PostgreSQL a transaction-level advisory lock makes concurrent
starts (a worker and a CLI command) take turns instead of racing to create the same tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from kaufland_sync.store.db import create_db_engine

__all__ = ["alembic_config", "current_revision", "downgrade", "head_revision", "upgrade"]

_HERE = Path(__file__).resolve().parent
# Arbitrary constant identifying "kaufland-sync schema migration" among advisory locks.
_PG_LOCK_ID = 0x6B61_7566_6C61_6E64 & 0x7FFF_FFFF_FFFF_FFFF


def alembic_config() -> Config:
    """The Alembic configuration of the packaged ``alembic.ini`` (migrations next to it)."""
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    return config


def head_revision() -> str:
    """The newest revision the code knows (a single head is enforced)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in kaufland_sync/store/migrations/versions")
    return head


def _engine(engine_or_url: Engine | str) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return create_db_engine(engine_or_url), True


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(engine_or_url: Engine | str) -> str | None:
    """The revision the database is at, or None for an empty (never migrated) database."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.connect() as connection:
            return _revision_of(connection)
    finally:
        if owned:
            engine.dispose()


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> str | None:
    """Migrate the database to ``revision`` (default: the newest) and return the revision it is
    at afterwards. Does nothing beyond one query when it is already there."""
    engine, owned = _engine(engine_or_url)
    target = head_revision() if revision == "head" else revision
    try:
        with engine.connect() as connection:
            if _revision_of(connection) == target:
                return target
            connection.rollback()
        with _migrating(engine) as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            return _revision_of(connection)
    finally:
        if owned:
            engine.dispose()


def downgrade(engine_or_url: Engine | str, revision: str) -> str | None:
    """Migrate the database back to ``revision``; returns the revision it is at afterwards."""
    engine, owned = _engine(engine_or_url)
    try:
        with _migrating(engine) as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
            return _revision_of(connection)
    finally:
        if owned:
            engine.dispose()


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction to migrate in: under the advisory lock on PostgreSQL; on SQLite with
    foreign-key enforcement off (table rebuilds must not cascade) and verified at the end."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Only effective outside a transaction, hence before begin().
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID}
                    )
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                if connection.in_transaction():
                    connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
