"""Built-in catalogue: products, local warehouses, stock levels.

Written by hand to match ``kaufland_sync.store.models.catalog`` exactly (constraint names follow
``Base``'s naming convention); the schema test compares the migrated database with the models.

Revision ID: 0002_catalog
Revises: 0001_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_catalog"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None

_CONDITIONS = (
    "'NEW', 'USED___AS_NEW', 'USED___VERY_GOOD', 'USED___GOOD', 'USED___ACCEPTABLE', "
    "'REFURBISHED___AS_NEW', 'REFURBISHED___VERY_GOOD', 'REFURBISHED___GOOD', "
    "'REFURBISHED___ACCEPTABLE'"
)
_VAT = "'standard_rate', 'reduced_rate_1', 'reduced_rate_2', 'super_reduced_rate', 'zero_rate'"


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("ean", sa.String(14), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("brand", sa.String(255), nullable=True),
        sa.Column("category", sa.String(1000), nullable=True),
        sa.Column("image_urls", sa.JSON(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("condition", sa.String(32), nullable=False),
        sa.Column("vat_indicator", sa.String(32), nullable=True),
        sa.Column("weight_grams", sa.Integer(), nullable=True),
        sa.Column("handling_time", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("currency IN ('EUR', 'CZK', 'PLN')", name=op.f("ck_products_currency")),
        sa.CheckConstraint(f"condition IN ({_CONDITIONS})", name=op.f("ck_products_condition")),
        sa.CheckConstraint(
            f"vat_indicator IS NULL OR vat_indicator IN ({_VAT})",
            name=op.f("ck_products_vat_indicator"),
        ),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_products_price_minor")),
        sa.CheckConstraint(
            "weight_grams IS NULL OR weight_grams >= 0", name=op.f("ck_products_weight_grams")
        ),
        sa.CheckConstraint(
            "handling_time IS NULL OR (handling_time >= 0 AND handling_time <= 100)",
            name=op.f("ck_products_handling_time"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    op.create_index(op.f("ix_products_ean"), "products", ["ean"])
    op.create_index(op.f("ix_products_updated_at"), "products", ["updated_at"])

    op.create_table(
        "warehouses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
        sa.UniqueConstraint("code", name=op.f("uq_warehouses_code")),
    )

    op.create_table(
        "stock_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_stock_levels_quantity")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_stock_levels_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_levels_warehouse_id_warehouses"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_levels")),
        sa.UniqueConstraint(
            "product_id", "warehouse_id", name=op.f("uq_stock_levels_product_id_warehouse_id")
        ),
    )
    op.create_index(op.f("ix_stock_levels_warehouse_id"), "stock_levels", ["warehouse_id"])
    op.create_index(op.f("ix_stock_levels_updated_at"), "stock_levels", ["updated_at"])


def downgrade() -> None:
    op.drop_table("stock_levels")
    op.drop_table("warehouses")
    op.drop_table("products")
