"""plausible bounds

CHECK constraints for the main money, surface, count and weight columns, from the bounds
declared in app/bounds.py (copied here as literals: a migration must not change when the
code does). A surface outside 5–1000 m² (an infinite one stored on SQLite before the
bounds existed) cannot be a real measurement: it is cleared, so the upgrade does not fail
on it. Any other implausible amount stops the upgrade with the constraint's name, for a
person to correct.

Revision ID: d09806301559
Revises: d4e8f2a6b9c1
Create Date: 2026-12-07 02:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d09806301559"
down_revision = "d4e8f2a6b9c1"
branch_labels = None
depends_on = None

MONEY = (0, 1_000_000_000)  # cents: 0 to 10 000 000 €
BALANCE = (-1_000_000_000, 1_000_000_000)
SURFACE = (5, 1000)  # m²
COUNT = (0, 100_000)
WEIGHT = ("0.1", 10)

CHECKS = {
    "household": (
        ("income_plausible", "monthly_income_cents", MONEY),
        ("apl_plausible", "apl_cents", MONEY),
        ("debts_plausible", "debts_cents", MONEY),
    ),
    "dwelling": (
        ("rent_plausible", "rent_cents", MONEY),
        ("charges_plausible", "charges_cents", MONEY),
        ("surface_plausible", "surface_m2", SURFACE),
    ),
    "rent_account_snapshot": (
        ("amount_due_plausible", "amount_due_cents", MONEY),
        ("balance_plausible", "balance_cents", BALANCE),
    ),
    "repayment_plan": (
        ("monthly_plausible", "monthly_cents", MONEY),
        ("debt_plausible", "debt_cents", MONEY),
    ),
    "project": (
        ("grant_plausible", "grant_cents", MONEY),
        ("target_plausible", "target_households", COUNT),
    ),
    "intensity_level": (("weight_plausible", "caseload_weight", WEIGHT),),
}


def _condition(column, bounds):
    low, high = bounds
    return f"{column} IS NULL OR {column} BETWEEN {low} AND {high}"


def upgrade():
    low, high = SURFACE
    op.execute(
        "UPDATE dwelling SET surface_m2 = NULL WHERE surface_m2 IS NOT NULL "
        f"AND NOT (surface_m2 BETWEEN {low} AND {high})"
    )
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, bounds in checks:
                batch_op.create_check_constraint(name, _condition(column, bounds))


def downgrade():
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _column, _bounds in checks:
                batch_op.drop_constraint(name, type_="check")
