"""indicator cache

``indicator_cache``: the programme indicators computed for one scope and period, shared by
every worker and reused for ``INDICATOR_CACHE_SECONDS`` (see ``app/reports/cache.py``). Written
by hand; nothing else changes.

Revision ID: 5b1d2c3e4f60
Revises: 4875387474f0
Create Date: 2026-11-27 21:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5b1d2c3e4f60"
down_revision = "4875387474f0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "indicator_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_cache")),
        sa.UniqueConstraint("key", name=op.f("uq_indicator_cache_key")),
    )


def downgrade():
    op.drop_table("indicator_cache")
