"""Imported orders: customers, orders, order lines, and the import cursors.

Written by hand to match ``kaufland_sync.store.models.orders`` exactly (constraint names follow
``Base``'s naming convention); the schema test compares the migrated database with the models.

Revision ID: 0005_orders
Revises: 0004_categories
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_orders"
down_revision: str | None = "0004_categories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("id_buyer", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        *_timestamps(),
        _account_fk("customers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint(
            "account_id", "id_buyer", name=op.f("uq_customers_account_id_id_buyer")
        ),
    )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("id_order", sa.String(64), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(200), nullable=False),
        sa.Column("billing_address", sa.JSON(), nullable=True),
        sa.Column("shipping_address", sa.JSON(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        *_timestamps(),
        _account_fk("orders"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_orders_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("account_id", "id_order", name=op.f("uq_orders_account_id_id_order")),
    )

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("id_order_unit", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.String(255), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("price", sa.Integer(), nullable=True),
        sa.Column("revenue_gross", sa.Integer(), nullable=True),
        sa.Column("revenue_net", sa.Integer(), nullable=True),
        sa.Column("shipping_rate", sa.Integer(), nullable=True),
        # Same as store.types.ExactDecimal: NUMERIC, but canonical text on SQLite.
        sa.Column("vat", sa.Numeric(5, 2).with_variant(sa.String(7), "sqlite"), nullable=True),
        sa.Column("delivery_time_expires_iso", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ts_updated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("addresses_hidden", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint("id_order_unit", name=op.f("uq_order_lines_id_order_unit")),
    )
    op.create_index("ix_order_lines_order_id", "order_lines", ["order_id"])

    op.create_table(
        "sync_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("position", sa.DateTime(timezone=True), nullable=False),
        _account_fk("sync_cursors"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_cursors")),
        sa.UniqueConstraint(
            "account_id",
            "storefront",
            "kind",
            name=op.f("uq_sync_cursors_account_id_storefront_kind"),
        ),
    )


def downgrade() -> None:
    op.drop_table("sync_cursors")
    op.drop_index("ix_order_lines_order_id", table_name="order_lines")
    op.drop_table("order_lines")
    op.drop_table("orders")
    op.drop_table("customers")
