"""Every model of the store. Importing this package registers all tables on ``Base.metadata``,
which Alembic's ``env.py`` and the schema tests rely on: a new model module must be imported
here."""

from __future__ import annotations

from kaufland_sync.store.models import catalog as catalog
from kaufland_sync.store.models import categories as categories
from kaufland_sync.store.models import customer_days as customer_days
from kaufland_sync.store.models import job_rollup as job_rollup
from kaufland_sync.store.models import jobs as jobs
from kaufland_sync.store.models import orders as orders
from kaufland_sync.store.models import outbox as outbox
from kaufland_sync.store.models import returns as returns
from kaufland_sync.store.models import rollup as rollup
from kaufland_sync.store.models import sync as sync
from kaufland_sync.store.models import users as users
from kaufland_sync.store.models.accounts import (
    Account,
    AccountStorefront,
    Environment,
    OnDeactivate,
    SyncDirection,
    WarehouseMapping,
)

__all__ = [
    "Account",
    "AccountStorefront",
    "Environment",
    "OnDeactivate",
    "SyncDirection",
    "WarehouseMapping",
    "catalog",
    "categories",
    "customer_days",
    "job_rollup",
    "jobs",
    "orders",
    "outbox",
    "returns",
    "rollup",
    "sync",
    "users",
]
