"""scheduler heartbeat

``scheduler_heartbeat``: one row the scheduler refreshes at start and after each job, read
by the readiness check ``/sante/pret`` (see ``app/scheduler.py``). Written by hand; nothing
else changes.

Revision ID: d4a8e2f61b09
Revises: d4a8e2f6b1c3
Create Date: 2026-12-07 02:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4a8e2f61b09"
down_revision = "d4a8e2f6b1c3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_heartbeat")),
    )


def downgrade():
    op.drop_table("scheduler_heartbeat")
