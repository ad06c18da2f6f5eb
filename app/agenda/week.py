"""« Ma semaine »: a user's seven days from a start day, built from what each domain owns —
appointments (here), open reminders addressed to them (reminders: next actions arrive as
``prochaine_action`` reminders), tripartite meetings (partners), measures ending and post-exit
checks (support). Overdue items come first when the week shown holds today.

Its statements do not grow with the number of items: one query per kind of item, then one for
the reference and name of every household they are about (``HouseholdLabel``), never the
households' full records.

Who sees what: the support team and coordinators everything about the households they see;
landlord staff only tripartite meetings and appointments, and their reminders (the social
parts are asked through ``can_read`` on the columns they come from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import lazyload

from app.agenda import queries
from app.agenda.models import Appointment
from app.audience import can_read
from app.db import db
from app.formatting import PARIS, to_paris
from app.households.models import Household, HouseholdTeamMember, Member
from app.households.queries import visible_households
from app.interventions.models import Intervention
from app.partners.models import TripartiteMeeting
from app.reminders.models import NEXT_ACTION_RULE, OPEN_STATUSES, Reminder
from app.reminders.queries import my_reminders, shown_on
from app.support.models import Measure, MeasureStatus, PostExitCheck

DAYS = 7


@dataclass(frozen=True)
class HouseholdLabel:
    """What the week shows of a household: its id (for links), reference and display name
    (the head of household's name, else the reference, as ``Household.display_name``)."""

    id: int
    reference: str
    display_name: str


@dataclass
class Item:
    """One entry of the week. ``kind``: rendez-vous, rappel, reunion, fin-mesure,
    suivi-sortie."""

    kind: str
    on: date
    title: str
    household_id: int | None = None
    household: HouseholdLabel | None = None  # set by build_week from household_id
    at: datetime | None = None
    appointment: Appointment | None = None
    reminder: Reminder | None = None
    overdue: bool = False
    detail: str | None = None  # a next action's text, for those who may read it

    @property
    def sort_key(self):
        return (self.on, self.at is None, self.at or datetime.min.replace(tzinfo=UTC), self.title)


@dataclass
class Week:
    start: date
    today: date
    overdue: list[Item] = field(default_factory=list)
    days: dict[date, list[Item]] = field(default_factory=dict)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=DAYS - 1)

    @property
    def total(self) -> int:
        return len(self.overdue) + sum(len(items) for items in self.days.values())


def paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def followed_households(owner, viewer):
    """Ids of the households ``owner`` follows (référent or team member) that ``viewer``
    sees."""
    followed = union(
        select(Household.id).where(Household.referent_id == owner.id),
        select(HouseholdTeamMember.household_id).where(HouseholdTeamMember.user_id == owner.id),
    ).subquery()
    visible = visible_households(viewer).with_only_columns(Household.id)
    return select(followed.c[0]).where(followed.c[0].in_(visible))


def build_week(viewer, owner, start: date, today: date) -> Week:
    """``owner``'s week from ``start`` as ``viewer`` may see it (the same person, or a
    coordinator looking at a worker of their scope)."""
    week = Week(start=start, today=today, days={start + timedelta(days=n): [] for n in range(DAYS)})
    with_overdue = start <= today <= week.end
    items = _appointments(viewer, owner, week, with_overdue)
    items += _reminders(viewer, owner, week, with_overdue)
    items += _meetings(viewer, owner, week)
    if can_read(viewer, Measure.planned_end_on):
        items += _measures_ending(viewer, owner, week)
        items += _post_exit_checks(viewer, owner, week, with_overdue)
    labels = household_labels({i.household_id for i in items if i.household_id is not None})
    for item in items:
        item.household = labels.get(item.household_id)
    for item in sorted(items, key=lambda i: i.sort_key):
        if item.overdue and with_overdue:
            week.overdue.append(item)
        elif item.on in week.days:
            week.days[item.on].append(item)
    return week


def _appointments(viewer, owner, week: Week, with_overdue: bool) -> list[Item]:
    start, end = paris_midnight(week.start), paris_midnight(week.end + timedelta(days=1))
    found = queries.week_appointments(
        viewer,
        start,
        end,
        for_user_id=_agenda_of(viewer, owner),
        overdue_for=owner.id if with_overdue else None,
    )
    return [_appointment_item(a, week.today) for a in found]


def _agenda_of(viewer, owner) -> int | None:
    """Landlord staff have no appointments of their own: they see the tripartite ones of the
    households they see, whoever planned them."""
    return owner.id if can_read(viewer, Appointment.note) else None


def _appointment_item(appointment: Appointment, today: date) -> Item:
    day = to_paris(appointment.starts_at).date()
    return Item(
        "rendez-vous",
        day,
        "Rencontre tripartite" if appointment.is_tripartite else "Rendez-vous",
        appointment.household_id,
        at=appointment.starts_at,
        appointment=appointment,
        overdue=day < today and appointment.is_planned,
    )


def _reminders(viewer, owner, week: Week, with_overdue: bool) -> list[Item]:
    query = (
        my_reminders(owner)
        .where(Reminder.status.in_(OPEN_STATUSES), shown_on <= week.end)
        .order_by(shown_on, Reminder.id)
        .options(lazyload("*"))
    )
    if not with_overdue:
        query = query.where(shown_on >= week.start)
    if owner.id != viewer.id:
        visible = visible_households(viewer).with_only_columns(Household.id)
        query = query.where(Reminder.household_id.in_(visible))
    return [
        Item(
            "rappel",
            r.shown_on,
            r.title,
            r.household_id,
            reminder=r,
            overdue=r.shown_on < week.today and with_overdue,
            detail=text or None,
        )
        for r, text in _with_next_action_texts(viewer, query)
    ]


def _with_next_action_texts(viewer, query) -> list[tuple[Reminder, str | None]]:
    """Each reminder with its next action's text, read from the intervention in the same
    query, and only where ``viewer`` may read it (never landlord staff), as
    ``reminders.next_actions.next_action_texts`` decides."""
    if not can_read(viewer, Intervention.next_action):
        return [(r, None) for r in db.session.scalars(query)]
    query = query.outerjoin(
        Intervention,
        and_(Reminder.rule_code == NEXT_ACTION_RULE, Intervention.id == Reminder.subject_id),
    ).add_columns(Intervention.next_action)
    return [(r, text) for r, text in db.session.execute(query)]


def _meetings(viewer, owner, week: Week) -> list[Item]:
    """Tripartite meetings dated in the week: held on a day of it, or announced for it by
    an earlier meeting (dates only: the meeting records carry no time)."""
    if can_read(viewer, Appointment.note):
        households = followed_households(owner, viewer)
    else:
        households = visible_households(viewer).with_only_columns(Household.id)
    rows = db.session.execute(
        select(
            TripartiteMeeting.household_id,
            TripartiteMeeting.held_on,
            TripartiteMeeting.next_meeting_on,
        ).where(
            TripartiteMeeting.household_id.in_(households),
            or_(
                TripartiteMeeting.held_on.between(week.start, week.end),
                TripartiteMeeting.next_meeting_on.between(week.start, week.end),
            ),
        )
    ).all()
    days = set()
    for household_id, held_on, next_on in rows:
        for day in (held_on, next_on):
            if day is not None and week.start <= day <= week.end:
                days.add((household_id, day))
    return [
        Item("reunion", day, "Réunion tripartite", h)
        for h, day in sorted(days, key=lambda x: (x[1], x[0]))
    ]


def _measures_ending(viewer, owner, week: Week) -> list[Item]:
    rows = db.session.execute(
        select(Measure.household_id, Measure.planned_end_on).where(
            Measure.status == MeasureStatus.EN_COURS,
            Measure.planned_end_on.between(week.start, week.end),
            Measure.household_id.in_(followed_households(owner, viewer)),
        )
    ).all()
    return [Item("fin-mesure", on, "Fin de mesure prévue", h) for h, on in rows]


def _post_exit_checks(viewer, owner, week: Week, with_overdue: bool) -> list[Item]:
    query = select(PostExitCheck.household_id, PostExitCheck.due_on, PostExitCheck.months).where(
        PostExitCheck.done_on.is_(None),
        PostExitCheck.due_on <= week.end,
        PostExitCheck.household_id.in_(followed_households(owner, viewer)),
    )
    if not with_overdue:
        query = query.where(PostExitCheck.due_on >= week.start)
    rows = db.session.execute(query).all()
    return [
        Item(
            "suivi-sortie",
            on,
            f"Suivi après la sortie ({months} mois)",
            h,
            overdue=on < week.today,
        )
        for h, on, months in rows
    ]


def household_labels(ids: set[int]) -> dict[int, HouseholdLabel]:
    """The reference and display name of these households (ids read from the viewer's scoped
    queries), in one query: their heads joined, the first by birth date as
    ``Household.head`` takes it."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Household.id, Household.reference, Member.id, Member.first_name, Member.last_name)
        .outerjoin(Member, and_(Member.household_id == Household.id, Member.is_head.is_(True)))
        .where(Household.id.in_(ids))
        .order_by(Household.id, Member.birth_on, Member.id)
    )
    labels: dict[int, HouseholdLabel] = {}
    for id_, reference, head_id, first_name, last_name in rows:
        if id_ not in labels:
            name = f"{first_name} {last_name}" if head_id is not None else reference
            labels[id_] = HouseholdLabel(id_, reference, name)
    return labels
