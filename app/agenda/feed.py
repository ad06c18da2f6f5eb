"""The calendar feed (``/calendrier/<token>.ics``): what goes in it and its RFC 5545 text.

Appointments are timed events in Europe/Paris (``DTSTART;TZID=Europe/Paris``, with the
zone's ``VTIMEZONE``); reminders (next actions arrive as ``prochaine_action`` reminders) and
tripartite meetings, which carry no time, stay all-day events. An overdue open reminder is
shown on today, not left on a past day nobody looks at. UIDs carry the installation's host
(``PUBLIC_BASE_URL``), so two installations never share one.

A summary never holds more than a kind of event and a household reference: no name, no
note, no partner — the calendar lives outside Ancrage. Landlord staff receive their own
reminders and the tripartite meetings and appointments of the households they see, nothing
social (``agenda.queries.visible_appointments`` reads the row flag).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, url_for
from sqlalchemy import select

from app.agenda.models import Appointment, AppointmentStatus
from app.agenda.queries import visible_appointments
from app.audience import can_read
from app.db import db
from app.households.models import Household
from app.households.queries import visible_households
from app.mail import message_id_domain
from app.partners.queries import next_meetings
from app.reminders.models import MANUAL_RULE, Reminder
from app.reminders.queries import my_open_reminders
from app.reminders.rules import rule_title

# A next action written on a visit becomes a reminder of this rule (reminders domain).
NEXT_ACTION_RULE = "prochaine_action"
# Appointments stay in the feed this long after their day.
PAST_DAYS = 30


@dataclass(frozen=True)
class FeedEvent:
    """One entry: all-day on ``on``, or timed from ``starts_at`` for ``minutes``."""

    uid: str
    summary: str
    household_id: int
    on: date | None = None
    starts_at: datetime | None = None
    minutes: int = 0

    @property
    def sort_key(self):
        day = self.on or self.starts_at.date()
        return (day, self.uid)


def _reminder_summary(reminder: Reminder, today: date) -> str:
    if reminder.rule_code == NEXT_ACTION_RULE:
        kind = "Action prévue"
    elif reminder.rule_code == MANUAL_RULE:
        kind = "Rappel personnel"
    else:
        kind = rule_title(reminder.rule_code)
    late = "En retard · " if reminder.shown_on < today else ""
    return f"{late}{kind} · ménage {reminder.household.reference}"


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def feed_events(user, today: date) -> list[FeedEvent]:
    """The user's open reminders (overdue ones on today), their planned and held
    appointments of the last 30 days and ahead, and the next tripartite meeting of each
    household they see."""
    reminders = db.session.scalars(
        my_open_reminders(user).where(Reminder.household_id.is_not(None))
    )
    events = [
        FeedEvent(
            f"rappel-{r.id}",
            _reminder_summary(r, today),
            r.household_id,
            on=max(r.shown_on, today),
        )
        for r in reminders
    ]
    appointments = visible_appointments(user).where(
        Appointment.status.in_((AppointmentStatus.PREVU.value, AppointmentStatus.TENU.value)),
        Appointment.starts_at >= _utc_midnight(today - timedelta(days=PAST_DAYS)),
    )
    if can_read(user, Appointment.note):
        appointments = appointments.where(Appointment.for_user_id == user.id)
    for a in db.session.scalars(appointments):
        kind = "Rencontre tripartite" if a.is_tripartite else "Rendez-vous"
        events.append(
            FeedEvent(
                f"rendez-vous-{a.id}",
                f"{kind} · ménage {a.household.reference}",
                a.household_id,
                starts_at=a.starts_at,
                minutes=a.duration_minutes,
            )
        )
    meetings = next_meetings(today).subquery()
    visible = visible_households(user).with_only_columns(Household.id)
    rows = db.session.execute(
        select(meetings.c.household_id, meetings.c.next_meeting_on, Household.reference)
        .join(Household, Household.id == meetings.c.household_id)
        .where(meetings.c.household_id.in_(visible))
    )
    events += [
        FeedEvent(
            f"reunion-{household}-{on:%Y%m%d}",
            f"Réunion tripartite · ménage {reference}",
            household,
            on=on,
        )
        for household, on, reference in rows
    ]
    return sorted(events, key=lambda e: e.sort_key)


# --- RFC 5545 --------------------------------------------------------------------------------

TZID = "Europe/Paris"
# The rules of the zone since 1996 (last Sunday of March / of October), enough for any date
# the feed holds; every calendar application reads them.
VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
)


def installation_host() -> str:
    return message_id_domain(current_app.config["PUBLIC_BASE_URL"])


def ics_calendar(events, now: datetime) -> str:
    """RFC 5545 text: timed events in Europe/Paris, all-day ones as dates, escaped and
    folded."""
    from app.formatting import to_paris

    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    host = installation_host()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Ancrage//Agenda//FR",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Ancrage",
        f"X-WR-TIMEZONE:{TZID}",
        *VTIMEZONE,
    ]
    for event in events:
        link = url_for("households.show", household_id=event.household_id, _external=True)
        if event.starts_at is not None:
            start = to_paris(event.starts_at)
            end = start + timedelta(minutes=event.minutes)
            when = [
                f"DTSTART;TZID={TZID}:{_ics_local(start)}",
                f"DTEND;TZID={TZID}:{_ics_local(end)}",
            ]
        else:
            when = [
                f"DTSTART;VALUE=DATE:{_ics_day(event.on)}",
                f"DTEND;VALUE=DATE:{_ics_day(_next_day(event.on))}",
            ]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}@{host}",
            f"DTSTAMP:{stamp}",
            *when,
            f"SUMMARY:{_ics_text(event.summary)}",
            f"URL:{link}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _ics_day(day: date) -> str:
    # Not strftime: "%Y" drops the leading zeros of a year before 1000 on glibc.
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _ics_local(moment: datetime) -> str:
    return f"{_ics_day(moment.date())}T{moment.hour:02d}{moment.minute:02d}00"


def _next_day(day: date) -> date:
    """The exclusive end of an all-day event; a row dated 9999-12-31 (stored before the
    bounds existed) must not take the whole feed down."""
    return day if day == date.max else day + timedelta(days=1)


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a character
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, 74
    return "\r\n ".join(parts)
