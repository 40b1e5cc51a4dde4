"""Fulfilment: order mappings, stock reservations and local statuses on orders, the outbox,
returns, return units, refunds, tickets, and the new sync-log kinds.

Written by hand to match the models exactly (constraint names follow ``Base``'s naming
convention); the schema test compares the migrated database with the models. Columns added to
existing tables get a server default so rows imported before this revision stay valid: their
lines reserve nothing (``stock_state`` ``none``) and their local status is filled in by the next
import.

Revision ID: 0006_fulfilment
Revises: 0005_orders
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_fulfilment"
down_revision: str | None = "0005_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STOCK_STATES = "'reserved', 'consumed', 'released', 'none'"
_MAPPING_KINDS = "'status', 'payment', 'shipping', 'carrier', 'cancel_reason', 'refund_reason'"
_OUTBOX_STATES = "'pending', 'sending', 'done', 'failed', 'unknown'"
_OUTBOX_ACTIONS = (
    "'send', 'add_shipment', 'cancel', 'refund', 'invoice', 'return_accept', "
    "'return_reject', 'return_clarify', 'return_repair'"
)
_OLD_KINDS = "'offers', 'stock'"
_NEW_KINDS = "'offers', 'stock', 'orders', 'returns', 'tickets', 'outbox'"


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
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("restock_returns", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("local_status", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("payment_method", sa.String(128), nullable=True))
        batch.add_column(sa.Column("shipping_method", sa.String(128), nullable=True))

    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(
            sa.Column("local_status", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("stock_state", sa.String(16), nullable=False, server_default="none")
        )
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.String(64), nullable=True))
        batch.create_check_constraint(
            op.f("ck_order_lines_stock_state"), f"stock_state IN ({_STOCK_STATES})"
        )
        # Order units are keyed per order (so per account), no longer marketplace-wide.
        batch.drop_constraint(op.f("uq_order_lines_id_order_unit"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_order_lines_order_id_id_order_unit"), ["order_id", "id_order_unit"]
        )
    op.drop_index("ix_order_lines_order_id", table_name="order_lines")
    op.create_index("ix_order_lines_id_order_unit", "order_lines", ["id_order_unit"])
    op.create_index("ix_order_lines_sku_stock_state", "order_lines", ["sku", "stock_state"])

    op.create_table(
        "order_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        *_timestamps(),
        _account_fk("order_mappings"),
        sa.CheckConstraint(f"kind IN ({_MAPPING_KINDS})", name=op.f("ck_order_mappings_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_mappings")),
        sa.UniqueConstraint(
            "account_id",
            "storefront",
            "kind",
            "source",
            name=op.f("uq_order_mappings_account_id_storefront_kind_source"),
        ),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attachment", sa.LargeBinary(), nullable=True),
        sa.Column("dedupe_key", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        *_timestamps(),
        _account_fk("outbox"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_outbox_order_id_orders"), ondelete="SET NULL"
        ),
        sa.CheckConstraint(f"state IN ({_OUTBOX_STATES})", name=op.f("ck_outbox_state")),
        sa.CheckConstraint(f"action IN ({_OUTBOX_ACTIONS})", name=op.f("ck_outbox_action")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_attempts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "account_id", "dedupe_key", name=op.f("uq_outbox_account_id_dedupe_key")
        ),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_order_id", "outbox", ["order_id"])

    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("id_return", sa.BigInteger(), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("tracking_provider", sa.String(100), nullable=True),
        sa.Column("tracking_code", sa.String(100), nullable=True),
        sa.Column("ts_created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ts_updated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        *_timestamps(),
        _account_fk("returns"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint(
            "account_id", "id_return", name=op.f("uq_returns_account_id_id_return")
        ),
    )

    op.create_table(
        "return_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("id_return_unit", sa.BigInteger(), nullable=False),
        sa.Column("id_order_unit", sa.BigInteger(), nullable=True),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("ts_created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restocked", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_return_units_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_return_units_order_line_id_order_lines"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_units")),
        sa.UniqueConstraint(
            "return_id", "id_return_unit", name=op.f("uq_return_units_return_id_id_return_unit")
        ),
    )
    op.create_index("ix_return_units_id_return_unit", "return_units", ["id_return_unit"])
    op.create_index("ix_return_units_id_order_unit", "return_units", ["id_order_unit"])

    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("id_order_unit", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        *_timestamps(),
        _account_fk("refunds"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_refunds_outbox_id_outbox"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])
    op.create_index("ix_refunds_id_order_unit", "refunds", ["id_order_unit"])

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("id_ticket", sa.String(64), nullable=False),
        sa.Column("storefront", sa.String(2), nullable=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("open_reason", sa.String(64), nullable=True),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("is_seller_responsible", sa.Boolean(), nullable=True),
        sa.Column("ids_order_units", sa.JSON(), nullable=False),
        sa.Column("ts_created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ts_updated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        *_timestamps(),
        _account_fk("tickets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint(
            "account_id", "id_ticket", name=op.f("uq_tickets_account_id_id_ticket")
        ),
    )

    _replace_kinds(_NEW_KINDS)


def _replace_kinds(kinds: str) -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_constraint(op.f("ck_sync_runs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_sync_runs_kind"), f"kind IN ({kinds})")


def downgrade() -> None:
    op.execute("DELETE FROM sync_runs WHERE kind NOT IN ('offers', 'stock')")
    _replace_kinds(_OLD_KINDS)
    op.drop_table("tickets")
    op.drop_index("ix_refunds_id_order_unit", table_name="refunds")
    op.drop_index("ix_refunds_order_id", table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_return_units_id_order_unit", table_name="return_units")
    op.drop_index("ix_return_units_id_return_unit", table_name="return_units")
    op.drop_table("return_units")
    op.drop_table("returns")
    op.drop_index("ix_outbox_order_id", table_name="outbox")
    op.drop_index("ix_outbox_state_next_attempt_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("order_mappings")
    op.drop_index("ix_order_lines_sku_stock_state", table_name="order_lines")
    op.drop_index("ix_order_lines_id_order_unit", table_name="order_lines")
    op.create_index("ix_order_lines_order_id", "order_lines", ["order_id"])
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_constraint(op.f("uq_order_lines_order_id_id_order_unit"), type_="unique")
        batch.create_unique_constraint(op.f("uq_order_lines_id_order_unit"), ["id_order_unit"])
        batch.drop_constraint(op.f("ck_order_lines_stock_state"), type_="check")
        batch.drop_column("cancel_reason")
        batch.drop_column("sent_at")
        batch.drop_column("stock_state")
        batch.drop_column("local_status")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("restock_returns")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("shipping_method")
        batch.drop_column("payment_method")
        batch.drop_column("local_status")
