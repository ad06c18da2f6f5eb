"""digest delivery

One row per user and Paris day with the state of that day's digest (pending, sent, failed,
skipped), its attempts and a short error label, replacing the ``reminder_digest_sent``
marker (which only knew "sent"). Past markers are kept as ``sent`` rows.

Revision ID: 518725b17a65
Revises: c7e9a1b3d5f2
Create Date: 2026-12-07 02:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "518725b17a65"
down_revision = "c7e9a1b3d5f2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "digest_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=120), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'failed', 'skipped')",
            name=op.f("ck_digest_delivery_known_state"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_digest_delivery_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_delivery")),
        sa.UniqueConstraint("user_id", "day", name=op.f("uq_digest_delivery_user_id_day")),
    )
    with op.batch_alter_table("digest_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_digest_delivery_day_state", ["day", "state"], unique=False)
    op.execute(
        "INSERT INTO digest_delivery "
        "(user_id, day, state, attempts, item_count, updated_at, sent_at) "
        "SELECT user_id, sent_on, 'sent', 1, item_count, sent_at, sent_at "
        "FROM reminder_digest_sent"
    )
    op.drop_table("reminder_digest_sent")


def downgrade():
    op.create_table(
        "reminder_digest_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_reminder_digest_sent_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_digest_sent")),
        sa.UniqueConstraint(
            "user_id", "sent_on", name=op.f("uq_reminder_digest_sent_user_id_sent_on")
        ),
    )
    op.execute(
        "INSERT INTO reminder_digest_sent (user_id, sent_on, sent_at, item_count) "
        "SELECT user_id, day, sent_at, item_count FROM digest_delivery WHERE state = 'sent'"
    )
    with op.batch_alter_table("digest_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_delivery_day_state")
    op.drop_table("digest_delivery")
