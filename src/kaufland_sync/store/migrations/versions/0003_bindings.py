"""Offer bindings (product ↔ Kaufland unit per account and storefront) and the sync log.

Written by hand to match ``kaufland_sync.store.models.sync`` exactly (constraint names follow
``Base``'s naming convention); the schema test compares the migrated database with the models.

Revision ID: 0003_bindings
Revises: 0002_catalog
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_bindings"
down_revision = "0002_catalog"
branch_labels = None
depends_on = None

_STATES = "'pending_create', 'active', 'onhold', 'deleted', 'failed'"
_KINDS = "'offers', 'stock'"
_OUTCOMES = "'running', 'ok', 'partial', 'failed', 'skipped'"


def upgrade() -> None:
    op.create_table(
        "offer_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("id_unit", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=True),
        sa.Column("stock_hash", sa.String(64), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"state IN ({_STATES})", name=op.f("ck_offer_bindings_state")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_offer_bindings_attempts")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_offer_bindings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_bindings")),
        sa.UniqueConstraint(
            "account_id",
            "storefront",
            "sku",
            name=op.f("uq_offer_bindings_account_id_storefront_sku"),
        ),
    )
    op.create_index(
        "ix_offer_bindings_work", "offer_bindings", ["account_id", "storefront", "state"]
    )

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "created",
                "updated",
                "unchanged",
                "held",
                "deleted",
                "failed",
                "skipped",
                "calls",
            )
        ),
        sa.Column("error_summary", sa.Text(), nullable=True),
        sa.CheckConstraint(f"kind IN ({_KINDS})", name=op.f("ck_sync_runs_kind")),
        sa.CheckConstraint(f"outcome IN ({_OUTCOMES})", name=op.f("ck_sync_runs_outcome")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sync_runs_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index("ix_sync_runs_account_id_started_at", "sync_runs", ["account_id", "started_at"])


def downgrade() -> None:
    op.drop_table("sync_runs")
    op.drop_table("offer_bindings")
