"""Dashboard rollup: ``order_stats_daily``, order lines, revenue and orders per UTC day.

The dashboard added up every order line of a period (a year is a million lines on a busy
store); it now reads one row per day, account, storefront, currency and local status (see
:mod:`kaufland_sync.store.models.rollup` for the rows and how they are kept true).

The upgrade creates the table and fills it from the orders already stored, in the migration's
transaction, with the same rules the model module applies: an order's day is the UTC date of
``ordered_at``, else of ``created_at``; revenue is ``price + shipping_rate`` of the lines that
are not ``cancelled``; a line without a local status counts as ``unmapped``; the order row has
``local_status = ''``. The downgrade drops the table (the raw orders are untouched).

Revision ID: 0011_dashboard_rollup
Revises: 0010_offer_pause
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_dashboard_rollup"
down_revision: str | None = "0010_offer_pause"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported: a migration must keep meaning what it meant when written.
_COLUMNS = "day, account_id, storefront, currency, local_status, lines, revenue, orders"
_BACKFILL = """
INSERT INTO order_stats_daily ({columns})
SELECT {day} AS d, o.account_id, o.storefront, COALESCE(o.currency, '') AS c,
       COALESCE(NULLIF(l.local_status, ''), 'unmapped') AS s, COUNT(*),
       COALESCE(SUM(CASE WHEN l.status = 'cancelled' THEN 0
                         ELSE COALESCE(l.price, 0) + COALESCE(l.shipping_rate, 0) END), 0),
       0
FROM orders o JOIN order_lines l ON l.order_id = o.id
GROUP BY d, o.account_id, o.storefront, c, s;
INSERT INTO order_stats_daily ({columns})
SELECT {day} AS d, o.account_id, o.storefront, COALESCE(o.currency, '') AS c, '', 0, 0, COUNT(*)
FROM orders o
GROUP BY d, o.account_id, o.storefront, c
"""
_DAY = {
    "sqlite": "substr(COALESCE(o.ordered_at, o.created_at), 1, 10)",
    "postgresql": "CAST(timezone('UTC', COALESCE(o.ordered_at, o.created_at)) AS date)",
}


def upgrade() -> None:
    op.create_table(
        "order_stats_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("local_status", sa.String(64), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_order_stats_daily_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "day",
            "account_id",
            "storefront",
            "currency",
            "local_status",
            name=op.f("pk_order_stats_daily"),
        ),
    )
    op.create_index(
        "ix_order_stats_daily_account_id_day", "order_stats_daily", ["account_id", "day"]
    )
    dialect = op.get_bind().dialect.name
    for statement in _BACKFILL.format(columns=_COLUMNS, day=_DAY[dialect]).split(";"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_order_stats_daily_account_id_day", table_name="order_stats_daily")
    op.drop_table("order_stats_daily")
