"""search terms kept server-side; throttled login attempts marked

- ``search_term``: the text typed in a list's search box, behind the random token its
  result URL carries (``app.search``), instead of the signed (not encrypted) session cookie.
- ``login_attempt.is_throttled``: an attempt refused by the throttling before the password
  was checked; it counts in no limit (``app.auth.services.login_throttle``).

Revision ID: a3f18c6d2e47
Revises: 518725b17a65
Create Date: 2026-12-07 02:10:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "a3f18c6d2e47"
down_revision = "518725b17a65"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_term",
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_key", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_search_term_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_search_term")),
    )
    with op.batch_alter_table("search_term", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_term_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_search_term_user_id"), ["user_id"])
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_throttled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_column("is_throttled")
    with op.batch_alter_table("search_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_term_user_id"))
        batch_op.drop_index(batch_op.f("ix_search_term_created_at"))
    op.drop_table("search_term")
