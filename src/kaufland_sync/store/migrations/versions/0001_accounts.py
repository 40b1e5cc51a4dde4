"""Seller accounts, their storefront settings and warehouse mappings.

Revision ID: 0001_accounts
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001_accounts"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIRECTIONS = "('to_kaufland', 'from_kaufland', 'both', 'off')"


def _decimal(precision: int, scale: int) -> sa.types.TypeEngine[Any]:
    # Same as store.types.ExactDecimal: NUMERIC, but canonical text on SQLite (no float affinity).
    return sa.Numeric(precision, scale).with_variant(sa.String(precision + 2), "sqlite")


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("client_key", sa.String(128), nullable=False),
        sa.Column("secret_key_encrypted", sa.Text(), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=True),
        sa.Column("base_currency", sa.String(3), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_accounts_name")),
        sa.CheckConstraint(
            "environment IN ('production', 'playground', 'custom')",
            name=op.f("ck_accounts_environment"),
        ),
        sa.CheckConstraint(
            "(environment = 'custom') = (base_url IS NOT NULL)",
            name=op.f("ck_accounts_base_url_for_custom"),
        ),
    )
    op.create_table(
        "account_storefronts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("direction_offers", sa.String(16), nullable=False),
        sa.Column("direction_stock", sa.String(16), nullable=False),
        sa.Column("direction_prices", sa.String(16), nullable=False),
        sa.Column("direction_orders", sa.String(16), nullable=False),
        sa.Column("currency_rate", _decimal(18, 8), nullable=False),
        sa.Column("rounding", sa.String(8), nullable=False),
        sa.Column("markup_percent", _decimal(9, 4), nullable=False),
        sa.Column("use_minimum_price", sa.Boolean(), nullable=False),
        sa.Column("minimum_price_percent", _decimal(9, 4), nullable=True),
        sa.Column("handling_time", sa.Integer(), nullable=True),
        sa.Column("id_shipping_group", sa.BigInteger(), nullable=True),
        sa.Column("condition", sa.String(32), nullable=True),
        sa.Column("vat_indicator", sa.String(32), nullable=True),
        sa.Column("buffer_stock", sa.Integer(), nullable=False),
        sa.Column("max_stock", sa.Integer(), nullable=True),
        sa.Column("on_deactivate", sa.String(16), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_storefronts")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_storefronts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "account_id", "storefront", name=op.f("uq_account_storefronts_account_id_storefront")
        ),
        sa.CheckConstraint(
            "storefront IN ('de', 'cz', 'sk', 'pl', 'at', 'fr', 'it')",
            name=op.f("ck_account_storefronts_storefront"),
        ),
        *(
            sa.CheckConstraint(
                f"direction_{kind} IN {_DIRECTIONS}",
                name=op.f(f"ck_account_storefronts_direction_{kind}"),
            )
            for kind in ("offers", "stock", "prices", "orders")
        ),
        sa.CheckConstraint(
            "on_deactivate IN ('onhold', 'delete')",
            name=op.f("ck_account_storefronts_on_deactivate"),
        ),
        sa.CheckConstraint("buffer_stock >= 0", name=op.f("ck_account_storefronts_buffer_stock")),
        sa.CheckConstraint(
            "max_stock IS NULL OR max_stock >= 0", name=op.f("ck_account_storefronts_max_stock")
        ),
        sa.CheckConstraint(
            "handling_time IS NULL OR (handling_time >= 0 AND handling_time <= 100)",
            name=op.f("ck_account_storefronts_handling_time"),
        ),
    )
    op.create_table(
        "account_storefront_warehouses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_storefront_id", sa.Integer(), nullable=False),
        sa.Column("local_warehouse", sa.String(64), nullable=False),
        sa.Column("id_warehouse", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_storefront_warehouses")),
        sa.ForeignKeyConstraint(
            ["account_storefront_id"],
            ["account_storefronts.id"],
            name=op.f("fk_account_storefront_warehouses_account_storefront_id_account_storefronts"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "account_storefront_id",
            "local_warehouse",
            name=op.f("uq_account_storefront_warehouses_account_storefront_id_local_warehouse"),
        ),
    )


def downgrade() -> None:
    op.drop_table("account_storefront_warehouses")
    op.drop_table("account_storefronts")
    op.drop_table("accounts")
