"""landlord dashboard indexes

The landlord dashboard reads every current lease of a landlord's dwellings with its household
(18,775 for the largest landlord of the national dataset). These indexes hold what it reads
of each table, so that PostgreSQL (an index-only scan, once the table is vacuumed) and SQLite
(a covering index) read them instead of the rows: the landlord's dwelling ids, the current
lease of each dwelling with its household, and the household's anonymisation, référent,
stage and reference (``end_on`` too in the lease's: SQLite reads a partial index's condition
from the index). ``ix_dwelling_landlord_id_id`` replaces ``ix_dwelling_landlord_id``.

Revision ID: e3b9d1f7a254
Revises: b7d2c4e91a35
Create Date: 2026-12-08 02:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e3b9d1f7a254"
down_revision = "b7d2c4e91a35"
branch_labels = None
depends_on = None

CURRENT = sa.text("end_on IS NULL")


def upgrade():
    with op.batch_alter_table("dwelling", schema=None) as batch_op:
        batch_op.create_index("ix_dwelling_landlord_id_id", ["landlord_id", "id"])
        batch_op.drop_index("ix_dwelling_landlord_id")
    with op.batch_alter_table("occupancy", schema=None) as batch_op:
        batch_op.create_index(
            "ix_occupancy_current_dwelling_household",
            ["dwelling_id", "household_id", "id", "end_on"],
            sqlite_where=CURRENT,
            postgresql_where=CURRENT,
        )
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.create_index(
            "ix_household_tenancy_facts",
            ["id", "anonymised_at", "referent_id", "stage", "reference"],
        )


def downgrade():
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_index("ix_household_tenancy_facts")
    with op.batch_alter_table("occupancy", schema=None) as batch_op:
        batch_op.drop_index("ix_occupancy_current_dwelling_household")
    with op.batch_alter_table("dwelling", schema=None) as batch_op:
        batch_op.create_index("ix_dwelling_landlord_id", ["landlord_id"])
        batch_op.drop_index("ix_dwelling_landlord_id_id")
