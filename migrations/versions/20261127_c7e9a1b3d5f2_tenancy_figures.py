"""tenancy figures

The landlord dashboard's per-lease figures (latest rent account's balance and amount due,
latest procedure stage, running repayment plan), derived from their sources and kept by
``app.housing.models.refresh_tenancy_figures``. Filled here for the leases that exist.

Revision ID: c7e9a1b3d5f2
Revises: 5b1d2c3e4f60
Create Date: 2026-11-27 21:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c7e9a1b3d5f2"
down_revision = "5b1d2c3e4f60"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO tenancy_figures
    (occupancy_id, balance_cents, amount_due_cents, procedure_stage, has_running_plan)
SELECT
    occupancy.id,
    latest.balance_cents,
    latest.amount_due_cents,
    (SELECT procedure_stage.stage FROM procedure_stage
      WHERE procedure_stage.occupancy_id = occupancy.id
      ORDER BY procedure_stage.occurred_on DESC, procedure_stage.id DESC LIMIT 1),
    EXISTS (SELECT 1 FROM repayment_plan
      WHERE repayment_plan.occupancy_id = occupancy.id AND repayment_plan.status = 'en_cours')
FROM occupancy
LEFT OUTER JOIN rent_account_snapshot AS latest ON latest.id = (
    SELECT rent_account_snapshot.id FROM rent_account_snapshot
    WHERE rent_account_snapshot.occupancy_id = occupancy.id
    ORDER BY rent_account_snapshot.month DESC LIMIT 1)
"""


def upgrade():
    op.create_table(
        "tenancy_figures",
        sa.Column("occupancy_id", sa.Integer(), nullable=False),
        sa.Column("balance_cents", sa.Integer(), nullable=True),
        sa.Column("amount_due_cents", sa.Integer(), nullable=True),
        sa.Column("procedure_stage", sa.String(length=30), nullable=True),
        sa.Column("has_running_plan", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["occupancy_id"],
            ["occupancy.id"],
            name=op.f("fk_tenancy_figures_occupancy_id_occupancy"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("occupancy_id", name=op.f("pk_tenancy_figures")),
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_table("tenancy_figures")
