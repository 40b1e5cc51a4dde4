"""Dashboard indexes: the dashboard's aggregates read ranges of time, not single rows.

* ``orders`` by order date, covering every column the dashboard reads of an order (account,
  storefront, currency, buyer, import time, id), so counting orders and buyers and joining
  their lines never reads the table itself;
* ``order_lines`` by order, covering status, local status, price and shipping (revenue and
  the status doughnut from the index alone);
* ``jobs`` by finish time (sync health, sync rate, the activity feed);
* ``sync_runs`` by start time across accounts (the activity feed; the per-account index
  exists already);
* ``offer_bindings`` by state and SKU (live offers, out-of-stock offers).

Indexes only: no data changes, and a downgrade drops them.

Revision ID: 0009_dashboard_indexes
Revises: 0008_users
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_dashboard_indexes"
down_revision: str | None = "0008_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name, table, columns: spelled out (a migration keeps meaning what it meant when written).
_INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    (
        "ix_orders_ordered_at_dashboard",
        "orders",
        ["ordered_at", "account_id", "storefront", "currency", "customer_id", "created_at", "id"],
    ),
    (
        "ix_order_lines_order_id_dashboard",
        "order_lines",
        ["order_id", "status", "local_status", "price", "shipping_rate"],
    ),
    ("ix_jobs_finished_at_state", "jobs", ["finished_at", "state", "account_id"]),
    ("ix_sync_runs_started_at", "sync_runs", ["started_at"]),
    ("ix_offer_bindings_state_sku", "offer_bindings", ["state", "sku", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
