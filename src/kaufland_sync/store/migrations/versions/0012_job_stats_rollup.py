"""Job rollup: ``job_stats_daily``, jobs finished per UTC day, account and state.

The dashboard's sync health counted every job that finished in the period (a year is some
hundred thousand jobs); it now reads one row per day, account and state (see
:mod:`kaufland_sync.store.models.job_rollup` for how the rows are kept true).

The upgrade creates the table and fills it from the jobs already stored, in the migration's
transaction: a job's day is the UTC date of ``finished_at``; jobs that have not finished have
no row. The downgrade drops the table (the jobs are untouched).

Revision ID: 0012_job_stats_rollup
Revises: 0011_dashboard_rollup
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_job_stats_rollup"
down_revision: str | None = "0011_dashboard_rollup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported: a migration must keep meaning what it meant when written.
_BACKFILL = """
INSERT INTO job_stats_daily (day, account_id, state, jobs)
SELECT {day} AS d, account_id, state, COUNT(*)
FROM jobs
WHERE finished_at IS NOT NULL
GROUP BY d, account_id, state
"""
_DAY = {
    "sqlite": "substr(finished_at, 1, 10)",
    "postgresql": "CAST(timezone('UTC', finished_at) AS date)",
}


def upgrade() -> None:
    op.create_table(
        "job_stats_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_job_stats_daily_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("day", "account_id", "state", name=op.f("pk_job_stats_daily")),
    )
    op.create_index("ix_job_stats_daily_account_id_day", "job_stats_daily", ["account_id", "day"])
    op.execute(_BACKFILL.format(day=_DAY[op.get_bind().dialect.name]))


def downgrade() -> None:
    op.drop_index("ix_job_stats_daily_account_id_day", table_name="job_stats_daily")
    op.drop_table("job_stats_daily")
