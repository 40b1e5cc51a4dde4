"""Alembic environment for the store.

Run by ``kaufland_sync.store.migrate`` with an open connection in ``config.attributes``; when
Alembic is run by hand, the URL comes from ``Settings`` (``KAUFLAND_SYNC_DATABASE_URL`` or the
SQLite file in ``KAUFLAND_SYNC_DATA_DIR``). SQLite cannot ALTER most things in place, so
migrations run in batch mode (copy-and-move tables) there.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from kaufland_sync.store import models  # noqa: F401 - registers every table on Base.metadata
from kaufland_sync.store.base import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from kaufland_sync.config import load_settings
    from kaufland_sync.store.db import create_db_engine

    engine = create_db_engine(load_settings().resolved_database_url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
main()
