"""next action reminders

A visit's "Prochaine action" is now a reminder for its author (app/reminders/next_actions.py,
rule code "prochaine_action"). No schema change: this data step opens that reminder for the
next actions already written with a date from today on (Paris), on visits not marked as
duplicates, that no later contact with the household has overtaken. Undated or past next
actions are left alone (they would all be overdue at once). Downgrade removes the reminders
of that rule.

Revision ID: a2ea1ce621a4
Revises: d09806301559
Create Date: 2026-12-07 09:00:00

"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a2ea1ce621a4"
down_revision = "aaec4a8f27b0"
branch_labels = None
depends_on = None

RULE = "prochaine_action"
TITLE = "Prochaine action prévue"
NOT_A_CONTACT = "rdv_non_honore"

intervention = sa.table(
    "intervention",
    sa.column("id", sa.Integer),
    sa.column("household_id", sa.Integer),
    sa.column("occurred_on", sa.Date),
    sa.column("mode", sa.String),
    sa.column("next_action", sa.String),
    sa.column("next_action_on", sa.Date),
    sa.column("author_id", sa.Integer),
    sa.column("is_duplicate", sa.Boolean),
)
reminder = sa.table(
    "reminder",
    sa.column("id", sa.Integer),
    sa.column("rule_code", sa.String),
    sa.column("household_id", sa.Integer),
    sa.column("subject_id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("due_on", sa.Date),
    sa.column("recipient_user_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("is_resolved_automatically", sa.Boolean),
)


def upgrade():
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Europe/Paris")).date()
    later = intervention.alias("later")
    overtaken = (
        sa.select(later.c.id)
        .where(
            later.c.household_id == intervention.c.household_id,
            later.c.occurred_on > intervention.c.occurred_on,
            later.c.is_duplicate == sa.false(),
            later.c.mode != NOT_A_CONTACT,
        )
        .exists()
    )
    existing = (
        sa.select(reminder.c.id)
        .where(reminder.c.rule_code == RULE, reminder.c.subject_id == intervention.c.id)
        .exists()
    )
    bind = op.get_bind()
    # UtcDateTime: naive UTC on SQLite, timestamptz on PostgreSQL.
    stamp = now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now
    rows = bind.execute(
        sa.select(
            intervention.c.id,
            intervention.c.household_id,
            intervention.c.next_action_on,
            intervention.c.author_id,
        ).where(
            intervention.c.next_action.is_not(None),
            intervention.c.next_action_on >= today,
            intervention.c.author_id.is_not(None),
            intervention.c.is_duplicate == sa.false(),
            ~overtaken,
            ~existing,
        )
    )
    values = [
        {
            "rule_code": RULE,
            "household_id": household_id,
            "subject_id": id_,
            "title": TITLE,
            "due_on": due_on,
            "recipient_user_id": author_id,
            "status": "a_faire",
            "created_at": stamp,
            "is_resolved_automatically": False,
        }
        for id_, household_id, due_on, author_id in rows
    ]
    if values:
        op.bulk_insert(reminder, values)


def downgrade():
    op.execute(reminder.delete().where(reminder.c.rule_code == RULE))
