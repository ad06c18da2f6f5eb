"""Manual reminders, done, postponed, thresholds: the rules and their audit entries."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from app.errors import DomainError
from app.reminders import services
from app.reminders.models import ReminderSetting
from app.reminders.queries import current_settings
from tests.factories import make_household
from tests.reminders.conftest import at

TODAY = date(2025, 6, 10)


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def manual(team):
    household = make_household(team.project, referent=team.worker)
    reminder = services.create_manual_reminder(
        team.worker,
        household,
        title="Rappeler la CAF pour l'APL",
        due_on=date(2025, 6, 12),
        now=at(TODAY),
    )
    db.session.flush()
    return reminder


def test_a_manual_reminder_is_for_its_author_and_audited(app, team, manual):
    assert manual.rule_code == "manuel" and manual.subject_id is None
    assert manual.recipient_user_id == team.worker.id
    assert manual.status == "a_faire"
    (entry,) = _audit("reminder.created")
    assert entry.actor_id == team.worker.id and entry.household_id == manual.household_id


def test_a_manual_reminder_needs_a_text_and_a_date_not_past(app, team):
    household = make_household(team.project, referent=team.worker)
    with pytest.raises(DomainError) as error:
        services.create_manual_reminder(
            team.worker, household, title="  ", due_on=TODAY, now=at(TODAY)
        )
    assert error.value.field == "title"
    with pytest.raises(DomainError) as error:
        services.create_manual_reminder(
            team.worker, household, title="Appeler", due_on=date(2025, 6, 9), now=at(TODAY)
        )
    assert error.value.field == "due_on"


def test_mark_done_keeps_the_note_and_who_closed_it(app, team, manual):
    services.mark_done(team.worker, manual, note="Fait par téléphone", now=at(TODAY))
    assert manual.status == "fait" and manual.done_note == "Fait par téléphone"
    assert manual.closed_by_id == team.worker.id and not manual.is_resolved_automatically
    (entry,) = _audit("reminder.done")
    assert entry.details == {"rule": "manuel", "has_note": True}
    with pytest.raises(DomainError, match="déjà clos"):
        services.mark_done(team.worker, manual, now=at(TODAY))


def test_postpone_needs_a_future_date_and_a_reason(app, team, manual):
    with pytest.raises(DomainError) as error:
        services.postpone(team.worker, manual, new_date=TODAY, reason="x", now=at(TODAY))
    assert error.value.field == "new_date"
    with pytest.raises(DomainError) as error:
        services.postpone(
            team.worker, manual, new_date=date(2025, 6, 20), reason=" ", now=at(TODAY)
        )
    assert error.value.field == "reason"
    services.postpone(
        team.worker,
        manual,
        new_date=date(2025, 6, 20),
        reason="Ménage absent jusqu'au 19",
        now=at(TODAY),
    )
    assert manual.status == "reporte" and manual.shown_on == date(2025, 6, 20)
    assert manual.due_on == date(2025, 6, 12)  # its key does not move
    (entry,) = _audit("reminder.postponed")
    assert entry.details["postponed_to"] == "2025-06-20"
    assert "absent" not in str(entry.details)  # the reason is not copied into the trace


def test_thresholds_are_saved_only_when_changed_and_audited(app, team):
    admin = team.coordinator
    values = {**current_settings(), "no_contact_weeks": 8}
    assert services.update_settings(admin, values) == ["no_contact_weeks"]
    db.session.flush()
    assert current_settings()["no_contact_weeks"] == 8
    assert db.session.get(ReminderSetting, "no_contact_weeks").updated_by_id == admin.id
    (entry,) = _audit("reminder.settings_changed")
    assert entry.details == {"keys": ["no_contact_weeks"]}
    with pytest.raises(DomainError) as error:
        services.update_settings(admin, {**values, "truce_lead_days": 900})
    assert error.value.field == "truce_lead_days"


def test_a_calendar_token_is_stored_hashed_and_replaced(app, team):
    from app.reminders.models import CalendarFeed

    first = services.create_calendar_feed(team.worker)
    db.session.flush()
    feed = db.session.scalar(select(CalendarFeed))
    assert len(first) >= 43  # 32 random bytes, URL-safe
    assert feed.token_hash == services.token_hash(first) and first not in feed.token_hash
    second = services.create_calendar_feed(team.worker)
    db.session.flush()
    assert feed.token_hash == services.token_hash(second) != services.token_hash(first)
    assert services.revoke_calendar_feed(team.worker) is True
    assert db.session.scalar(select(CalendarFeed)) is None
    assert [e.action for e in _audit("calendar.created")] == ["calendar.created"] * 2
    assert len(_audit("calendar.revoked")) == 1
