"""Housing on the household file's timeline: the leases and their tripartite reviews for
everyone who sees the household; GLA actions, procedure stages and repayment plans (tenancy
information) for those holding ``VIEW_TENANCIES``. The leases are the page's shared load
(``file_occupancies``, the header shows the current one); the rest are branches of the
page's one timeline query (``app.households.timeline``), with the current lease's latest rent
account, which the header's arrears badge needs and is kept for it (``remember``)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.households.file_registry import TimelineEvent, remember
from app.households.timeline import CURRENT_OCCUPANCY_ID, OCCUPANCY_IDS, Branch, branch
from app.housing.models import (
    GlaAction,
    GlaActionKind,
    ProcedureStage,
    ProcedureStageKind,
    RentAccountSnapshot,
    RepaymentPlan,
    RepaymentPlanStatus,
)
from app.housing.queries import current_occupancy, file_occupancies
from app.permissions import Permission, has_permission
from app.users.models import User


def header_key(household, viewer) -> tuple:
    return ("housing_header", household.id, viewer.id)


def housing_branches(household, viewer) -> list[Branch]:
    return _tenancy_branches(household, viewer, (_gla(), _stages(), _plans()))


def header_branches(household, viewer) -> list[Branch]:
    """What the arrears and procedure badges need, on the pages without the timeline."""
    return _tenancy_branches(household, viewer, (_stages(),))


def _tenancy_branches(household, viewer, lease_branches) -> list[Branch]:
    if not has_permission(viewer, Permission.VIEW_TENANCIES):
        return []
    occupancies = file_occupancies(household, viewer)  # only the leases the viewer sees
    ids = [o.id for o in occupancies] or [-1]
    branches = [b.bind(occupancy_ids=ids) for b in lease_branches]
    current = current_occupancy(occupancies)
    if current is not None:
        branches.append(_latest_account().bind(current_occupancy_id=current.id))
    return branches


def keep_for_the_header(household, viewer, rows) -> None:
    """The current lease's latest account and the stages, newest first (as
    ``file_procedure_stages``), for ``queries.header_alerts``."""
    if not has_permission(viewer, Permission.VIEW_TENANCIES):
        return
    stages = sorted(rows.get("housing.stage", ()), key=lambda s: (s.occurred_on, s.id))
    accounts = rows.get("housing.latest_account", ())
    remember(header_key(household, viewer), (accounts[0] if accounts else None, stages[::-1]))


# Built once per process (``app.households.timeline``: the leases are parameters).


@cache
def _gla() -> Branch:
    by = aliased(User)
    return (
        branch(
            "housing.gla",
            id=GlaAction.id,
            done_on=GlaAction.done_on,
            kind=GlaAction.kind,
            outcome=GlaAction.outcome,
            author=by.full_name,
        )
        .outerjoin(by, by.id == GlaAction.author_id)
        .where(GlaAction.occupancy_id.in_(OCCUPANCY_IDS))
    )


@cache
def _stages() -> Branch:
    return branch(
        "housing.stage",
        id=ProcedureStage.id,
        occupancy_id=ProcedureStage.occupancy_id,
        stage=ProcedureStage.stage,
        occurred_on=ProcedureStage.occurred_on,
        comment=ProcedureStage.comment,
    ).where(ProcedureStage.occupancy_id.in_(OCCUPANCY_IDS))


@cache
def _plans() -> Branch:
    return branch(
        "housing.plan",
        id=RepaymentPlan.id,
        start_on=RepaymentPlan.start_on,
        status=RepaymentPlan.status,
    ).where(RepaymentPlan.occupancy_id.in_(OCCUPANCY_IDS))


@cache
def _latest_account() -> Branch:
    """The current lease's latest rent account (the header's arrears badge)."""
    latest = (
        select(func.max(RentAccountSnapshot.month))
        .where(RentAccountSnapshot.occupancy_id == CURRENT_OCCUPANCY_ID)
        .scalar_subquery()
    )
    return branch(
        "housing.latest_account",
        balance_cents=RentAccountSnapshot.balance_cents,
        amount_due_cents=RentAccountSnapshot.amount_due_cents,
    ).where(
        RentAccountSnapshot.occupancy_id == CURRENT_OCCUPANCY_ID,
        RentAccountSnapshot.month == latest,
    )


def housing_events(household, viewer, rows) -> list[TimelineEvent]:
    occupancies = file_occupancies(household, viewer)
    events = []
    for o in occupancies:
        place = f"{o.dwelling.typology} · {o.dwelling.full_address}"
        events.append(
            TimelineEvent(
                on=o.start_on,
                kind="housing",
                title=f"Début du bail ({o.lease_type_label})",
                summary=place,
                icon="home",
                tags=("logement",),
                record=("occupancy", o.id),
            )
        )
        if o.end_on:
            events.append(
                TimelineEvent(
                    on=o.end_on,
                    kind="housing",
                    title="Glissement du bail" if o.glissed_on else "Fin du bail",
                    summary=o.end_reason or place,
                    icon="home",
                    tags=("logement",),
                )
            )
    # The reviews came with their leases (``Occupancy.reviews``); taken in the order of entry.
    reviews = sorted((r for o in occupancies for r in o.reviews), key=lambda r: r.id)
    for review in reviews:
        events.append(
            TimelineEvent(
                on=review.held_on,
                kind="review",
                title="Bilan tripartite du bail glissant",
                summary=review.decision_label,
                detail=review.comment,
                icon="swap",
                tags=("logement",),
            )
        )
    if not has_permission(viewer, Permission.VIEW_TENANCIES):
        return events
    keep_for_the_header(household, viewer, rows)
    stages = rows.get("housing.stage", ())
    for action in sorted(rows.get("housing.gla", ()), key=lambda a: a.id):
        events.append(
            TimelineEvent(
                on=action.done_on,
                kind="housing",
                title=f"Action de GLA : {GlaActionKind(action.kind).label}",
                summary=action.outcome or "",
                author=action.author,
                icon="edit",
                tags=("situation locative",),
            )
        )
    # In the order of entry, as the events of the other kinds.
    for stage in sorted(stages, key=lambda s: s.id):
        events.append(
            TimelineEvent(
                on=stage.occurred_on,
                kind="alert",
                title=f"Procédure : {ProcedureStageKind(stage.stage).label}",
                summary=stage.comment or "",
                icon="warning",
                tags=("situation locative",),
            )
        )
    for plan in sorted(rows.get("housing.plan", ()), key=lambda p: p.id):
        events.append(
            TimelineEvent(
                on=plan.start_on,
                kind="housing",
                title="Plan d'apurement",
                summary=f"Statut : {RepaymentPlanStatus(plan.status).label}",
                icon="euro",
                tags=("situation locative",),
            )
        )
    return events
