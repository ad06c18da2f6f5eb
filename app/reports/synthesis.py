"""What the printable household synthesis shows, in a fixed number of queries.

The synthesis summarises many kinds of record, each in a few values: the stages' dates, the
joint meetings' dates, the open reminders, the rent account month by month, the running
repayment plan and the procedure's last stage. They are read as branches of one ``UNION
ALL`` (``app.households.timeline``: typed slots, statements built once per process) and come
back as plain values, not ORM objects. The lease (with its dwelling's address) and, for the
support team, the measures, objectives, last review and contacts stay ORM queries: the page
shows their model's labels.

Same scope and audiences as the pages they summarise: the leases the viewer may see
(``household_leases``), the reminders of the household's tab (the whole team's for the
support team, only those addressed to the viewer for others), and for landlord staff no
social content (the shared summaries instead of the contacts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select

from app.dates import add_months, first_of_month
from app.households.models import HouseholdStage, StageTransition
from app.households.timeline import (
    HOUSEHOLD_ID,
    OCCUPANCY_IDS,
    Branch,
    branch,
    cached,
    timeline_rows,
)
from app.housing.deadlines import Deadline, next_deadline
from app.housing.models import (
    Occupancy,
    ProcedureStage,
    ProcedureStageKind,
    RentAccountSnapshot,
    RepaymentPlan,
    RepaymentPlanStatus,
    months_of_arrears,
)
from app.housing.queries import TrendMonth, current_occupancy, household_leases
from app.partners.models import TripartiteMeeting
from app.permissions import can_read_social_content
from app.reminders.models import OPEN_STATUSES, Reminder
from app.reminders.queries import addressed_to_viewer, shown_on, viewer_values

REMINDERS_SHOWN = 10


@dataclass(frozen=True)
class Snapshot:
    """A month of the rent account, as the synthesis shows it."""

    occupancy_id: int
    month: date
    balance_cents: int
    amount_due_cents: int

    @property
    def months_of_arrears(self) -> Decimal:
        return months_of_arrears(self.balance_cents, self.amount_due_cents)


@dataclass(frozen=True)
class Stage:
    """The procedure's last stage."""

    id: int
    stage: str
    occurred_on: date
    hearing_on: date | None

    @property
    def stage_label(self) -> str:
        return ProcedureStageKind(self.stage).label

    def deadline(self) -> Deadline | None:
        return next_deadline(self.stage, self.occurred_on, hearing_on=self.hearing_on)


@dataclass(frozen=True)
class SynthesisTenancy:
    """The tenancy part of the synthesis (the names of ``TenancyDetail`` it shows)."""

    current: Occupancy | None
    trend: list[TrendMonth]
    latest_snapshot: Snapshot | None
    running_plan: SimpleNamespace | None  # start_on, monthly_cents
    current_stage: Stage | None
    deadline: Deadline | None


def synthesis_context(household, viewer, today: date, social: bool) -> dict:
    """The synthesis's values (the template's names). ``social``: the viewer reads the
    social audience (members' details, measures, objectives, reviews, contacts)."""
    from app.interventions.queries import household_interventions, shared_summaries
    from app.support.queries import household_measures, household_objectives, last_review

    leases = household_leases(household, viewer)
    current = current_occupancy(leases)
    team = can_read_social_content(viewer)
    values = {
        "household_id": household.id,
        "occupancy_ids": [o.id for o in leases] or [-1],
    }
    if not team:
        values.update(viewer_values(viewer))
    rows = timeline_rows(
        b.bind(**values)
        for b in (
            cached(("synthesis.transition",), _transitions),
            cached(("synthesis.meeting",), _meetings),
            cached(("synthesis.reminder", team), lambda: _reminders(team)),
            cached(("synthesis.snapshot",), _snapshots),
            cached(("synthesis.plan",), _running_plans),
            cached(("synthesis.stage",), _stages),
        )
    )
    meetings = sorted(rows["synthesis.meeting"], key=lambda m: (m.held_on, m.id), reverse=True)
    upcoming = sorted(
        {m.held_on for m in meetings if m.held_on >= today}
        | {m.next_meeting_on for m in meetings if m.next_meeting_on and m.next_meeting_on >= today}
    )
    context = {
        "stage_labels": {stage.value: stage.label for stage in HouseholdStage},
        "transitions": sorted(rows["synthesis.transition"], key=lambda t: (t.on, t.id)),
        "tenancy": _tenancy(rows, current, today),
        "last_meeting": meetings[0] if meetings else None,
        "upcoming_meetings": upcoming,
        "reminders": sorted(rows["synthesis.reminder"], key=lambda r: (r.due_on, r.id)),
    }
    if social:  # measures, objectives and the last review without their history
        context.update(
            measures=household_measures(household, history=False),
            objectives=household_objectives(household, updates=False),
            last_review=last_review(household),
            contacts=household_interventions(household, limit=8),
        )
    else:
        context.update(contacts=shared_summaries(household)[:8])
    return context


def _tenancy(rows, current, today: date) -> SynthesisTenancy:
    """As ``tenancy_detail``: the 12 months end with the latest imported account (or last
    month when none was imported); after a glissement, the newer lease's account wins."""
    snapshots = sorted(
        (Snapshot(**vars(s)) for s in rows["synthesis.snapshot"]),
        key=lambda s: (s.month, s.occupancy_id),
    )
    last_month = snapshots[-1].month if snapshots else add_months(first_of_month(today), -1)
    first_month = add_months(last_month, -11)
    by_month = {s.month: s for s in snapshots}
    trend = [
        TrendMonth(m, by_month.get(m)) for m in (add_months(first_month, i) for i in range(12))
    ]
    plans = rows["synthesis.plan"]
    stages = [Stage(**vars(s)) for s in rows["synthesis.stage"]]
    stage = max(stages, key=lambda s: (s.occurred_on, s.id), default=None)
    return SynthesisTenancy(
        current=current,
        trend=trend,
        latest_snapshot=snapshots[-1] if snapshots else None,
        running_plan=max(plans, key=lambda p: (p.start_on, p.id), default=None),
        current_stage=stage,
        deadline=stage.deadline() if stage and current else None,
    )


# --- the branches (built once per process) ------------------------------------------------


def _transitions() -> Branch:
    return branch(
        "synthesis.transition",
        id=StageTransition.id,
        on=StageTransition.on,
        to_stage=StageTransition.to_stage,
    ).where(StageTransition.household_id == HOUSEHOLD_ID)


def _meetings() -> Branch:
    return branch(
        "synthesis.meeting",
        id=TripartiteMeeting.id,
        held_on=TripartiteMeeting.held_on,
        next_meeting_on=TripartiteMeeting.next_meeting_on,
    ).where(TripartiteMeeting.household_id == HOUSEHOLD_ID)


def _reminders(team: bool) -> Branch:
    """The household's first open reminders by due date: the whole team's for the support
    team, only those addressed to the viewer for others (``household_reminders``)."""
    query = select(Reminder.id, Reminder.title, Reminder.due_on, shown_on.label("shown_on")).where(
        Reminder.household_id == HOUSEHOLD_ID, Reminder.status.in_(OPEN_STATUSES)
    )
    if not team:
        query = query.where(addressed_to_viewer())
    first = query.order_by(Reminder.due_on, Reminder.id).limit(REMINDERS_SHOWN).subquery()
    return branch(
        "synthesis.reminder",
        id=first.c.id,
        title=first.c.title,
        due_on=first.c.due_on,
        shown_on=first.c.shown_on,
    )


def _snapshots() -> Branch:
    return branch(
        "synthesis.snapshot",
        occupancy_id=RentAccountSnapshot.occupancy_id,
        month=RentAccountSnapshot.month,
        balance_cents=RentAccountSnapshot.balance_cents,
        amount_due_cents=RentAccountSnapshot.amount_due_cents,
    ).where(RentAccountSnapshot.occupancy_id.in_(OCCUPANCY_IDS))


def _running_plans() -> Branch:
    return branch(
        "synthesis.plan",
        id=RepaymentPlan.id,
        start_on=RepaymentPlan.start_on,
        monthly_cents=RepaymentPlan.monthly_cents,
    ).where(
        RepaymentPlan.occupancy_id.in_(OCCUPANCY_IDS),
        RepaymentPlan.status == RepaymentPlanStatus.EN_COURS,
    )


def _stages() -> Branch:
    return branch(
        "synthesis.stage",
        id=ProcedureStage.id,
        stage=ProcedureStage.stage,
        occurred_on=ProcedureStage.occurred_on,
        hearing_on=ProcedureStage.hearing_on,
    ).where(ProcedureStage.occupancy_id.in_(OCCUPANCY_IDS))
