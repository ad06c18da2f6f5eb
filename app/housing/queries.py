"""Scoped reads of the housing domain: a household's leases and tenancy data, timeline events
and header alerts. Dwellings: ``dwellings.py``; the landlord dashboard: ``dashboard.py``;
the legal deadlines: ``deadlines.py``. The names the housing views import from here and
that now live in those modules are re-exported (``import x as x``).

Scope rules (see docs/housing.md):
- dwellings: landlord staff see their organisation's; coordinators those of their projects'
  landlords (lead landlord and partner organisations of kind bailleur);
- a household's tenancy data loads through the household (``get_household_or_404``);
  landlord-only viewers see only the leases in their organisation's dwellings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, lazyload

from app.dates import add_months, first_of_month
from app.db import db
from app.formatting import today_paris
from app.housing.dashboard import TENANCY_STATUS_LABELS as TENANCY_STATUS_LABELS
from app.housing.dashboard import dashboard_overview as dashboard_overview
from app.housing.dashboard import key_figures as key_figures
from app.housing.dashboard import tenancy_landlords as tenancy_landlords
from app.housing.dashboard import tenancy_page as tenancy_page
from app.housing.deadlines import Deadline, _stage_deadline
from app.housing.deadlines import deadline_text as deadline_text
from app.housing.dwellings import assignable_dwellings as assignable_dwellings
from app.housing.dwellings import dwelling_landlords as dwelling_landlords
from app.housing.dwellings import dwelling_occupants as dwelling_occupants
from app.housing.dwellings import get_dwelling_or_404 as get_dwelling_or_404
from app.housing.dwellings import is_landlord_viewer
from app.housing.dwellings import visible_dwellings as visible_dwellings
from app.housing.models import (
    Dwelling,
    GlaAction,
    Occupancy,
    ProcedureStage,
    ProcedureStageKind,
    RentAccountSnapshot,
    RepaymentPlan,
    RepaymentPlanStatus,
    months_of_arrears,
)
from app.permissions import Permission, has_permission
from app.users.queries import users_by_name

# --- a household's tenancy ---------------------------------------------------------------


def _visible_occupancies(household, viewer) -> Select:
    """The household's leases the viewer may see, most recent first."""
    query = select(Occupancy).where(Occupancy.household_id == household.id)
    if is_landlord_viewer(viewer):
        query = query.join(Dwelling, Dwelling.id == Occupancy.dwelling_id).where(
            Dwelling.landlord_id == viewer.organisation_id
        )
    return query.order_by(Occupancy.start_on.desc(), Occupancy.id.desc())


def household_occupancies(household, viewer) -> list[Occupancy]:
    """The household's leases the viewer may see, most recent first, with their reviews
    (joined: one query, not a second one for the reviews of a lease or two)."""
    query = _visible_occupancies(household, viewer)
    options = (*users_by_name(Occupancy), joinedload(Occupancy.reviews))
    return list(db.session.scalars(query.options(*options)).unique())


def household_leases(household, viewer) -> list[Occupancy]:
    """``household_occupancies`` with their dwelling only (not their reviews nor the users
    they name), for a page that shows the lease and its address."""
    query = _visible_occupancies(household, viewer)
    return list(db.session.scalars(query.options(lazyload(Occupancy.reviews))))


def file_occupancies(household, viewer) -> list[Occupancy]:
    """``household_occupancies``, loaded once per page of the household file (the timeline
    and the header both need them; see ``app.households.queries.loaded_once``)."""
    from app.households.queries import loaded_once

    return loaded_once(
        ("occupancies", household.id, viewer.id),
        lambda: household_occupancies(household, viewer),
    )


def file_procedure_stages(household, viewer) -> list[ProcedureStage]:
    """The procedure stages of the leases the viewer may see, newest first (by date, then by
    entry), loaded once per page of the household file."""
    from app.households.queries import loaded_once

    def load():
        ids = [o.id for o in file_occupancies(household, viewer)] or [-1]
        return list(
            db.session.scalars(
                select(ProcedureStage)
                .where(ProcedureStage.occupancy_id.in_(ids))
                .order_by(ProcedureStage.occurred_on.desc(), ProcedureStage.id.desc())
                .options(*users_by_name(ProcedureStage))
            )
        )

    return loaded_once(("procedure_stages", household.id, viewer.id), load)


def get_occupancy_or_404(household, viewer, occupancy_id: int) -> Occupancy:
    """A lease of the household (already loaded through its scoped query)."""
    for occupancy in household_occupancies(household, viewer):
        if occupancy.id == occupancy_id:
            return occupancy
    abort(404)


def current_occupancy(occupancies: list[Occupancy]) -> Occupancy | None:
    return next((o for o in occupancies if o.end_on is None), None)


@dataclass(frozen=True)
class TrendMonth:
    month: date
    snapshot: RentAccountSnapshot | None

    @property
    def balance_cents(self) -> int:
        return max(self.snapshot.balance_cents, 0) if self.snapshot else 0


@dataclass
class TenancyDetail:
    """Everything the Logement tab shows about the household's tenancy."""

    occupancies: list[Occupancy]
    current: Occupancy | None
    trend: list[TrendMonth]
    latest_snapshot: RentAccountSnapshot | None
    plans: list[RepaymentPlan]
    gla_actions: list[GlaAction]
    stages: list[ProcedureStage]
    deadline: Deadline | None

    @property
    def current_stage(self) -> ProcedureStage | None:
        return self.stages[0] if self.stages else None

    @property
    def running_plan(self) -> RepaymentPlan | None:
        return next((p for p in self.plans if p.status == RepaymentPlanStatus.EN_COURS), None)

    @property
    def trend_max_cents(self) -> int:
        return max((m.balance_cents for m in self.trend), default=0)

    def bar_width(self, month: TrendMonth) -> int:
        """Width class (0–100 by steps of 5) of a month's bar, relative to the largest."""
        top = self.trend_max_cents
        if top <= 0 or month.balance_cents <= 0:
            return 0
        return max(5, round(month.balance_cents * 20 / top) * 5)


def tenancy_detail(household, viewer, *, today: date | None = None) -> TenancyDetail:
    """The household's tenancy for the Logement tab, in a fixed number of queries (the leases
    shared with the file's header: ``file_occupancies``)."""
    today = today or today_paris()
    occupancies = file_occupancies(household, viewer)
    ids = [o.id for o in occupancies] or [-1]
    current = current_occupancy(occupancies)
    snapshots = list(
        db.session.scalars(
            select(RentAccountSnapshot)
            .where(RentAccountSnapshot.occupancy_id.in_(ids))
            .order_by(RentAccountSnapshot.month, RentAccountSnapshot.occupancy_id)
        )
    )
    # The 12 months end with the latest imported account (the current month's account only
    # exists once the landlord has closed it), or with last month when none was imported.
    last_month = snapshots[-1].month if snapshots else add_months(first_of_month(today), -1)
    first_month = add_months(last_month, -11)
    by_month = {s.month: s for s in snapshots}  # after a glissement, the newer lease wins
    trend = [
        TrendMonth(m, by_month.get(m)) for m in (add_months(first_month, i) for i in range(12))
    ]
    plans = list(
        db.session.scalars(
            select(RepaymentPlan)
            .where(RepaymentPlan.occupancy_id.in_(ids))
            .options(*users_by_name(RepaymentPlan))
            .order_by(RepaymentPlan.start_on.desc(), RepaymentPlan.id.desc())
        )
    )
    actions = list(
        db.session.scalars(
            select(GlaAction)
            .where(GlaAction.occupancy_id.in_(ids))
            .options(*users_by_name(GlaAction))
            .order_by(GlaAction.done_on.desc(), GlaAction.id.desc())
        )
    )
    stages = list(
        db.session.scalars(
            select(ProcedureStage)
            .where(ProcedureStage.occupancy_id.in_(ids))
            .options(*users_by_name(ProcedureStage))
            .order_by(ProcedureStage.occurred_on.desc(), ProcedureStage.id.desc())
        )
    )
    deadline = _stage_deadline(stages[0]) if stages and current else None
    return TenancyDetail(
        occupancies=occupancies,
        current=current,
        trend=trend,
        latest_snapshot=snapshots[-1] if snapshots else None,
        plans=plans,
        gla_actions=actions,
        stages=stages,
        deadline=deadline,
    )


# --- header alerts ------------------------------------------------------------------------


def header_alerts(household, viewer) -> list[tuple[str, str]]:
    """Badges for the household header: (text, tone). Arrears in months and the procedure."""
    if not has_permission(viewer, Permission.VIEW_TENANCIES):
        return []
    current = current_occupancy(file_occupancies(household, viewer))
    if current is None:
        return []
    from app.households.queries import loaded_earlier

    alerts = []
    read = loaded_earlier(("housing_header", household.id, viewer.id))
    if read is not None:  # the timeline's query read them for this page
        snapshot, stages = read
    else:
        snapshot = db.session.scalar(
            select(RentAccountSnapshot)
            .where(RentAccountSnapshot.occupancy_id == current.id)
            .order_by(RentAccountSnapshot.month.desc())
            .limit(1)
        )
        stages = file_procedure_stages(household, viewer)
    if snapshot is not None and snapshot.balance_cents > 0:
        months = months_of_arrears(snapshot.balance_cents, snapshot.amount_due_cents)
        shown = f"{months:.1f}".replace(".", ",").removesuffix(",0")
        tone = "danger" if months >= 2 else "warning"
        alerts.append((f"Impayé {shown} mois", tone))
    stage = next((s for s in stages if s.occupancy_id == current.id), None)
    if stage is not None and ProcedureStageKind(stage.stage).is_judicial:
        alerts.append((f"Procédure : {ProcedureStageKind(stage.stage).label.lower()}", "danger"))
    return alerts
