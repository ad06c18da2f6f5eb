"""appointments

The ``appointment`` table: an appointment planned with a household (time in UTC, duration,
place or mode, with whom, status), who planned it, whose agenda it is in, and the visit or
missed-appointment attempt that closed it.

Revision ID: aaec4a8f27b0
Revises: d09806301559
Create Date: 2026-12-07 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "aaec4a8f27b0"
down_revision = "3cdb00ff9cf1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("with_whom", sa.String(length=20), nullable=False),
        sa.Column("is_tripartite", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("planned_by_id", sa.Integer(), nullable=True),
        sa.Column("for_user_id", sa.Integer(), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 1 AND 480", name=op.f("ck_appointment_duration_range")
        ),
        sa.CheckConstraint(
            "status IN ('prevu', 'tenu', 'non_honore', 'annule')",
            name=op.f("ck_appointment_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_appointment_household_id_household"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["planned_by_id"],
            ["user.id"],
            name=op.f("fk_appointment_planned_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["for_user_id"],
            ["user.id"],
            name=op.f("fk_appointment_for_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["intervention.id"],
            name=op.f("fk_appointment_intervention_id_intervention"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointment_for_user_starts", ["for_user_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_appointment_household_starts", ["household_id", "starts_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_household_starts")
        batch_op.drop_index("ix_appointment_for_user_starts")
    op.drop_table("appointment")
