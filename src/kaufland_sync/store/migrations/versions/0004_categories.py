"""Kaufland's category tree cache, category mappings, product attributes and product-data
review status.

Written by hand to match ``kaufland_sync.store.models.categories`` exactly (constraint names
follow ``Base``'s naming convention); the schema test compares the migrated database with the
models.

Revision ID: 0004_categories
Revises: 0003_bindings
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004_categories"
down_revision: str | None = "0003_bindings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STOREFRONTS = "storefront IN ('de', 'cz', 'sk', 'pl', 'at', 'fr', 'it')"


def _decimal(precision: int, scale: int) -> sa.types.TypeEngine[Any]:
    # Same as store.types.ExactDecimal: NUMERIC, but canonical text on SQLite (no float affinity).
    return sa.Numeric(precision, scale).with_variant(sa.String(precision + 2), "sqlite")


def upgrade() -> None:
    op.create_table(
        "kaufland_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("id_category", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("title", sa.String(255), nullable=True),
        sa.Column("id_parent_category", sa.BigInteger(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("is_leaf", sa.Boolean(), nullable=False),
        sa.Column("variable_fee", _decimal(9, 4), nullable=True),
        sa.Column("fixed_fee", _decimal(12, 4), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_STOREFRONTS, name=op.f("ck_kaufland_categories_storefront")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kaufland_categories")),
        sa.UniqueConstraint(
            "storefront",
            "id_category",
            name=op.f("uq_kaufland_categories_storefront_id_category"),
        ),
    )

    op.create_table(
        "category_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("local_category", sa.String(1000), nullable=False),
        sa.Column("id_category", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("alternatives", sa.JSON(), nullable=False),
        sa.Column("sample_sku", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_STOREFRONTS, name=op.f("ck_category_mappings_storefront")),
        sa.CheckConstraint(
            "source IN ('suggested', 'manual')", name=op.f("ck_category_mappings_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_mappings")),
        sa.UniqueConstraint(
            "storefront",
            "local_category",
            name=op.f("uq_category_mappings_storefront_local_category"),
        ),
    )

    op.create_table(
        "product_attributes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_attributes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_attributes")),
        sa.UniqueConstraint(
            "product_id", "name", name=op.f("uq_product_attributes_product_id_name")
        ),
    )

    op.create_table(
        "product_data_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("ean", sa.String(15), nullable=False),
        sa.Column("locale", sa.String(5), nullable=False),
        sa.Column("sku", sa.String(255), nullable=True),
        sa.Column("payload_hash", sa.String(64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("update_status", sa.String(32), nullable=True),
        sa.Column("product_ready", sa.Boolean(), nullable=False),
        sa.Column("id_product", sa.BigInteger(), nullable=True),
        sa.Column("not_ready_reason", sa.String(64), nullable=True),
        sa.Column("fail_reason", sa.String(64), nullable=True),
        sa.Column("missing_attributes", sa.JSON(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_product_data_statuses_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_data_statuses")),
        sa.UniqueConstraint(
            "account_id",
            "ean",
            "locale",
            name=op.f("uq_product_data_statuses_account_id_ean_locale"),
        ),
    )


def downgrade() -> None:
    op.drop_table("product_data_statuses")
    op.drop_table("product_attributes")
    op.drop_table("category_mappings")
    op.drop_table("kaufland_categories")
