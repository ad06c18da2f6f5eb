"""stage transition cause

``stage_transition.cause``: the recorded event (diagnostic, adhésion, measure opened or
closed, lease started) that moved the household along its path by itself; empty for a move
made by hand.

Revision ID: cd54d7703732
Revises: d09806301559
Create Date: 2026-12-07 08:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "cd54d7703732"
down_revision = "a2ea1ce621a4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stage_transition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("stage_transition", schema=None) as batch_op:
        batch_op.drop_column("cause")
