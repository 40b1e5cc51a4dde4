"""Customer chains: ``customer_days``, each buyer's order days with the day before, so the
dashboard counts distinct customers over a year without ``COUNT(DISTINCT ...)``.

One row per customer, storefront (``''``: over all the account's storefronts) and UTC day on
which the customer ordered, with ``previous_day``, the customer's latest earlier order day in
that storefront (NULL for the first). See :mod:`kaufland_sync.store.models.customer_days` for
the count and how the rows are kept true. Also an index on ``orders.customer_id`` (a customer's
orders: recomputing a chain, the customer pages).

The upgrade creates both and fills the chains from the orders already stored, in the
migration's transaction, with the dashboard's rules: an order's day is the UTC date of
``ordered_at``, else of ``created_at``; orders without a customer have no chain. The downgrade
drops them (the raw orders are untouched).

Revision ID: 0013_customer_days
Revises: 0012_job_stats_rollup
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_customer_days"
down_revision: str | None = "0012_job_stats_rollup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported: a migration must keep meaning what it meant when written.
_BACKFILL = """
INSERT INTO customer_days (customer_id, storefront, day, account_id, previous_day)
SELECT customer_id, storefront, d, account_id,
       LAG(d) OVER (PARTITION BY customer_id, storefront ORDER BY d)
FROM (
    SELECT DISTINCT o.account_id, o.customer_id, o.storefront, {day} AS d
    FROM orders o WHERE o.customer_id IS NOT NULL
    UNION ALL
    SELECT DISTINCT o.account_id, o.customer_id, '', {day} AS d
    FROM orders o WHERE o.customer_id IS NOT NULL
) AS days
"""
_DAY = {
    "sqlite": "substr(COALESCE(o.ordered_at, o.created_at), 1, 10)",
    "postgresql": "CAST(timezone('UTC', COALESCE(o.ordered_at, o.created_at)) AS date)",
}


def upgrade() -> None:
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    op.create_table(
        "customer_days",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("previous_day", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_days_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_customer_days_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "storefront", "day", name=op.f("pk_customer_days")),
    )
    op.create_index(
        "ix_customer_days_storefront_day", "customer_days", ["storefront", "day", "previous_day"]
    )
    op.create_index(
        "ix_customer_days_account_id_storefront_day",
        "customer_days",
        ["account_id", "storefront", "day", "previous_day"],
    )
    op.execute(_BACKFILL.format(day=_DAY[op.get_bind().dialect.name]))


def downgrade() -> None:
    op.drop_index("ix_customer_days_account_id_storefront_day", table_name="customer_days")
    op.drop_index("ix_customer_days_storefront_day", table_name="customer_days")
    op.drop_table("customer_days")
    op.drop_index("ix_orders_customer_id", table_name="orders")
