"""Jobs: the job ledger (jobs, job schedules, leases), received push events, and the push
callback URL of an account.

Written by hand to match the models exactly (constraint names follow ``Base``'s naming
convention); the schema test compares the migrated database with the models. The one pending
job per account and kind is a *partial* unique index, which both SQLite and PostgreSQL support
with the same ``WHERE`` clause. Existing accounts get no callback URL (push notifications off).

Revision ID: 0007_jobs
Revises: 0006_fulfilment
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_jobs"
down_revision: str | None = "0006_fulfilment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported: a migration must keep meaning what it meant when written,
# whatever the models say later.
_KINDS = "'orders', 'stock', 'offers', 'outbox', 'returns', 'tickets', 'categories', 'performance'"
_STATES = "'queued', 'running', 'retrying', 'done', 'failed', 'dropped'"
_TRIGGERS = "'schedule', 'push', 'change', 'manual', 'recovery'"
_PENDING = "state IN ('queued', 'retrying')"


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("push_callback_url", sa.String(255), nullable=True))

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        _account_fk("jobs"),
        sa.CheckConstraint(f"kind IN ({_KINDS})", name=op.f("ck_jobs_kind")),
        sa.CheckConstraint(f"state IN ({_STATES})", name=op.f("ck_jobs_state")),
        sa.CheckConstraint(f"trigger IN ({_TRIGGERS})", name=op.f("ck_jobs_trigger")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_jobs_attempts")),
        sa.CheckConstraint("max_attempts >= 1", name=op.f("ck_jobs_max_attempts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(
        "uq_jobs_pending_account_id_kind",
        "jobs",
        ["account_id", "kind"],
        unique=True,
        sqlite_where=sa.text(_PENDING),
        postgresql_where=sa.text(_PENDING),
    )
    op.create_index("ix_jobs_state_not_before", "jobs", ["state", "not_before"])
    op.create_index("ix_jobs_account_id_kind_state", "jobs", ["account_id", "kind", "state"])

    op.create_table(
        "job_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        _account_fk("job_schedules"),
        sa.CheckConstraint(f"kind IN ({_KINDS})", name=op.f("ck_job_schedules_kind")),
        sa.CheckConstraint(
            "interval_minutes IN (0, 5, 15, 60)", name=op.f("ck_job_schedules_interval_minutes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_schedules")),
        sa.UniqueConstraint("account_id", "kind", name=op.f("uq_job_schedules_account_id_kind")),
    )

    op.create_table(
        "leases",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )

    op.create_table(
        "push_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("id_message", sa.String(255), nullable=False),
        sa.Column("event_name", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(500), nullable=True),
        sa.Column("storefront", sa.String(8), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        _account_fk("push_events"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_push_events_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_events")),
        sa.UniqueConstraint(
            "account_id", "id_message", name=op.f("uq_push_events_account_id_id_message")
        ),
    )
    op.create_index("ix_push_events_received_at", "push_events", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_push_events_received_at", table_name="push_events")
    op.drop_table("push_events")
    op.drop_table("leases")
    op.drop_table("job_schedules")
    op.drop_index("ix_jobs_account_id_kind_state", table_name="jobs")
    op.drop_index("ix_jobs_state_not_before", table_name="jobs")
    op.drop_index("uq_jobs_pending_account_id_kind", table_name="jobs")
    op.drop_table("jobs")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("push_callback_url")
