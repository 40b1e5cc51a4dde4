"""The store: SQLAlchemy 2 models, migrations (Alembic) and repositories. No HTTP here.

SQLite (a file in WAL mode) by default, PostgreSQL in production through
``KAUFLAND_SYNC_DATABASE_URL``. Money is kept as integer minor units, like Kaufland.
"""
