"""submission keys and duplicate visits

``form_submission``: the one-time keys of create forms (``app.submissions``), unique per user
and key. ``intervention``: a visit entered twice by mistake can be marked as such (who, when)
and then counts nowhere.

Revision ID: d4e8f2a6b9c1
Revises: d4a8e2f61b09
Create Date: 2026-12-07 02:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4e8f2a6b9c1"
down_revision = "d4a8e2f61b09"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("result_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_form_submission_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submission")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_form_submission_user_id_key")),
    )
    with op.batch_alter_table("form_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_submission_created_at"), ["created_at"], unique=False
        )

    with op.batch_alter_table("intervention", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_duplicate", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("duplicate_marked_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("duplicate_marked_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_intervention_duplicate_marked_by_id_user"),
            "user",
            ["duplicate_marked_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("intervention", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_intervention_duplicate_marked_by_id_user"), type_="foreignkey"
        )
        batch_op.drop_column("duplicate_marked_at")
        batch_op.drop_column("duplicate_marked_by_id")
        batch_op.drop_column("is_duplicate")

    with op.batch_alter_table("form_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_submission_created_at"))

    op.drop_table("form_submission")
