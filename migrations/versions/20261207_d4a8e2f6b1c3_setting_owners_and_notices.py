"""setting owners and notices

Shared settings get an owner, and reminders may be notices without a household:

- ``intensity_level.project_id``: each project has its own levels. Every existing (global)
  level is attached to the first project and copied to every other project, with its name,
  rhythm, weight, state and version; each measure and each intensity change then points to
  the copy of its household's project. Existing measures keep the same rhythm and weight, and
  every project can open measures at once. The level names become unique per project.
- ``partner.owner_organisation_id``: the organisation of whoever created the entry (its
  ``partner.created`` journal entry), else of whoever last edited it; NULL when neither is
  known (administrators edit those).
- ``reminder.household_id`` becomes optional, ``reminder.project_id`` and ``reminder.body``
  are added: notices for coordinators (access given to their project, a proposed correction).

Revision ID: d4a8e2f6b1c3
Revises: a3f18c6d2e47
Create Date: 2026-12-07 02:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4a8e2f6b1c3"
down_revision = "a3f18c6d2e47"
branch_labels = None
depends_on = None

LEVEL_COLUMNS = (
    "name, contact_every_days, caseload_weight, is_active, updated_by_id, version, updated_at"
)

COPY_LEVELS = f"""
INSERT INTO intensity_level (project_id, {LEVEL_COLUMNS})
SELECT project.id, {", ".join("level." + c.strip() for c in LEVEL_COLUMNS.split(","))}
FROM intensity_level AS level CROSS JOIN project
WHERE level.project_id = :first AND project.id != :first
"""

# The copy, in the household's project, of the level named like ``{column}``'s level.
_COPY_OF = """(
    SELECT copy.id FROM intensity_level AS copy, intensity_level AS original, household
    WHERE original.id = {column} AND household.id = {household}
      AND copy.project_id = household.project_id AND copy.name = original.name)"""

REPOINT_MEASURES = f"""
UPDATE support_measure SET intensity_level_id = {
    _COPY_OF.format(
        column="support_measure.intensity_level_id", household="support_measure.household_id"
    )
}
WHERE household_id IN (SELECT id FROM household WHERE project_id != :first)
"""

_MEASURE_HOUSEHOLD = (
    "(SELECT household_id FROM support_measure WHERE support_measure.id = "
    "support_intensity_change.measure_id)"
)
REPOINT_CHANGES = f"""
UPDATE support_intensity_change SET
    to_level_id = {
    _COPY_OF.format(column="support_intensity_change.to_level_id", household=_MEASURE_HOUSEHOLD)
},
    from_level_id = CASE WHEN from_level_id IS NULL THEN NULL ELSE {
    _COPY_OF.format(column="support_intensity_change.from_level_id", household=_MEASURE_HOUSEHOLD)
} END
WHERE measure_id IN (
    SELECT support_measure.id FROM support_measure
    JOIN household ON household.id = support_measure.household_id
    WHERE household.project_id != :first)
"""

PARTNER_OWNERS = """
UPDATE partner SET owner_organisation_id = COALESCE(
    (SELECT creator.organisation_id FROM audit_entry
       JOIN "user" AS creator ON creator.id = audit_entry.actor_id
      WHERE audit_entry.action = 'partner.created' AND audit_entry.target_type = 'partner'
        AND audit_entry.target_id = partner.id
      ORDER BY audit_entry.id LIMIT 1),
    (SELECT editor.organisation_id FROM "user" AS editor WHERE editor.id = partner.updated_by_id))
"""


def _levels_per_project(conn) -> None:
    first = conn.execute(sa.text("SELECT MIN(id) FROM project")).scalar()
    if first is None:
        # No project, hence no household and no measure: the levels are unused.
        conn.execute(sa.text("DELETE FROM intensity_level"))
        return
    conn.execute(sa.text("UPDATE intensity_level SET project_id = :first"), {"first": first})
    conn.execute(sa.text(COPY_LEVELS), {"first": first})
    conn.execute(sa.text(REPOINT_CHANGES), {"first": first})
    conn.execute(sa.text(REPOINT_MEASURES), {"first": first})


def upgrade():
    with op.batch_alter_table("intensity_level", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_intensity_level_name", type_="unique")
    _levels_per_project(op.get_bind())
    with op.batch_alter_table("intensity_level", schema=None) as batch_op:
        batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_intensity_level_project_id_project"), "project", ["project_id"], ["id"]
        )
        batch_op.create_index(
            batch_op.f("ix_intensity_level_project_id"), ["project_id"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_intensity_level_project_id_name"), ["project_id", "name"]
        )

    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_organisation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_partner_owner_organisation_id_organisation"),
            "organisation",
            ["owner_organisation_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_partner_owner_organisation_id"), ["owner_organisation_id"], unique=False
        )
    op.execute(PARTNER_OWNERS)

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.alter_column("household_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_reminder_project_id_project"),
            "project",
            ["project_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_reminder_project_id"), ["project_id"], unique=False)


def downgrade():
    op.execute("DELETE FROM reminder WHERE household_id IS NULL")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_project_id"))
        batch_op.drop_constraint(batch_op.f("fk_reminder_project_id_project"), type_="foreignkey")
        batch_op.alter_column("household_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("body")
        batch_op.drop_column("project_id")

    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_owner_organisation_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_partner_owner_organisation_id_organisation"), type_="foreignkey"
        )
        batch_op.drop_column("owner_organisation_id")

    # Back to global levels: each name keeps its oldest row, measures and changes point to it.
    keeper = (
        "(SELECT MIN(kept.id) FROM intensity_level AS kept, intensity_level AS used "
        "WHERE used.id = {column} AND kept.name = used.name)"
    )
    op.execute(
        "UPDATE support_measure SET intensity_level_id = "
        + keeper.format(column="support_measure.intensity_level_id")
    )
    op.execute(
        "UPDATE support_intensity_change SET to_level_id = "
        + keeper.format(column="support_intensity_change.to_level_id")
        + ", from_level_id = "
        + keeper.format(column="support_intensity_change.from_level_id")
    )
    op.execute(
        "DELETE FROM intensity_level WHERE id NOT IN "
        "(SELECT MIN(id) FROM intensity_level GROUP BY name)"
    )
    with op.batch_alter_table("intensity_level", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_intensity_level_project_id_name"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_intensity_level_project_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_intensity_level_project_id_project"), type_="foreignkey"
        )
        batch_op.drop_column("project_id")
        batch_op.create_unique_constraint(batch_op.f("uq_intensity_level_name"), ["name"])
