"""Offer pause: a person may stop one product's offer on one storefront without deactivating
the product everywhere.

* ``offer_bindings.paused`` (false for every existing binding): the exporter holds a paused
  offer on Kaufland and sends nothing else for it until it is resumed;
* ``ix_offer_bindings_sku`` (SKU, account, storefront): the products pages read the bindings of
  a page of SKUs across every account, which no existing index serves;
* ``ix_offer_bindings_paused_sku``: the few paused offers (the products list's filter) without
  reading every binding.

Revision ID: 0010_offer_pause
Revises: 0009_dashboard_indexes
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_offer_pause"
down_revision: str | None = "0009_dashboard_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offer_bindings") as batch:
        batch.add_column(
            sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_offer_bindings_sku", "offer_bindings", ["sku", "account_id", "storefront"])
    op.create_index("ix_offer_bindings_paused_sku", "offer_bindings", ["paused", "sku"])


def downgrade() -> None:
    op.drop_index("ix_offer_bindings_paused_sku", table_name="offer_bindings")
    op.drop_index("ix_offer_bindings_sku", table_name="offer_bindings")
    with op.batch_alter_table("offer_bindings") as batch:
        batch.drop_column("paused")
