"""The landlord dashboard: the tenancies a landlord (or a coordinator) follows, their status
and risk, the key figures, the paged list and its rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, case, false, func, literal_column, or_, select
from sqlalchemy.orm import aliased, joinedload, lazyload

from app.db import db
from app.formatting import today_paris
from app.households.models import Household, HouseholdStage, Member
from app.housing.deadlines import Deadline, _stage_deadline
from app.housing.dwellings import is_landlord_viewer
from app.housing.models import (
    Dwelling,
    Occupancy,
    ProcedureStage,
    ProcedureStageKind,
    RentAccountSnapshot,
    RepaymentPlan,
    RepaymentPlanStatus,
    TenancyFigures,
    months_of_arrears,
)
from app.organisations.models import Organisation
from app.permissions import Permission, has_permission
from app.search import contains
from app.users.models import User


class TenancyStatus:
    A_JOUR = "a_jour"
    IMPAYE = "impaye"
    PLAN = "plan"
    PROCEDURE = "procedure"


TENANCY_STATUS_LABELS = {
    TenancyStatus.PROCEDURE: ("Procédure", "danger"),
    TenancyStatus.IMPAYE: ("Impayé", "warning"),
    TenancyStatus.PLAN: ("Plan en cours", "info"),
    TenancyStatus.A_JOUR: ("À jour", "success"),
}
_STATUS_RISK = {
    TenancyStatus.PROCEDURE: 3,
    TenancyStatus.IMPAYE: 2,
    TenancyStatus.PLAN: 1,
    TenancyStatus.A_JOUR: 0,
}
SUPPORTED_STAGES = {
    HouseholdStage.ADHESION,
    HouseholdStage.ACCES,
    HouseholdStage.INSTALLATION,
    HouseholdStage.MAINTIEN,
    HouseholdStage.SORTIE,
}


@dataclass
class TenancyRow:
    occupancy: Occupancy
    dwelling: Dwelling
    household_id: int
    household_reference: str
    head_name: str
    household_stage: str
    referent: User | None
    snapshot: RentAccountSnapshot | None
    plan: RepaymentPlan | None
    stage: ProcedureStage | None
    next_meeting_on: date | None = None

    @property
    def balance_cents(self) -> int:
        return self.snapshot.balance_cents if self.snapshot else 0

    @property
    def months_of_arrears(self) -> Decimal:
        if not self.snapshot:
            return Decimal(0)
        return months_of_arrears(self.snapshot.balance_cents, self.snapshot.amount_due_cents)

    @property
    def in_procedure(self) -> bool:
        return self.stage is not None and self.stage.stage_kind.is_judicial

    @property
    def status(self) -> str:
        if self.in_procedure:
            return TenancyStatus.PROCEDURE
        if self.plan is not None:
            return TenancyStatus.PLAN
        if self.balance_cents > 0:
            return TenancyStatus.IMPAYE
        return TenancyStatus.A_JOUR

    @property
    def status_label(self) -> str:
        return TENANCY_STATUS_LABELS[self.status][0]

    @property
    def status_tone(self) -> str:
        return TENANCY_STATUS_LABELS[self.status][1]

    @property
    def is_supported(self) -> bool:
        return self.referent is not None and self.household_stage in SUPPORTED_STAGES

    @property
    def deadline(self) -> Deadline | None:
        return _stage_deadline(self.stage) if self.stage else None


def tenancy_scope(user) -> Select:
    """Current leases whose tenancy ``user`` may see, joined to their dwelling and household:
    those of the visible households (``visible_households``), and for landlord-only viewers
    only in their organisation's dwellings.

    For landlord-only viewers the lease itself proves the household visible (a current lease
    in one of their dwellings is exactly what makes it visible to them), so only the
    anonymisation rule of ``visible_households`` is added: the national-scale dashboard then
    reads the landlord's leases once instead of also hashing every household of them first.
    ``tests/housing/test_dashboard.py`` checks both ways give the same leases."""
    from app.households.queries import visible_households

    query = (
        select(Occupancy.id)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .join(Household, Household.id == Occupancy.household_id)
        .where(Occupancy.end_on.is_(None))
    )
    if not has_permission(user, Permission.VIEW_TENANCIES):
        return query.where(false())
    if is_landlord_viewer(user):
        return query.where(
            Dwelling.landlord_id == user.organisation_id, Household.anonymised_at.is_(None)
        )
    return query.where(visible_households(user).whereclause)


JUDICIAL_STAGES = tuple(k.value for k in ProcedureStageKind if k.is_judicial)
DASHBOARD_PER_PAGE = 50


def _tenancy_facts(user, *, text: str = "", landlord_id: int | None = None):
    """One row per current lease of the scope with what its status, risk and key figures are
    computed from (its ``TenancyFigures``: the latest rent account's balance and amount due,
    the latest procedure stage, whether a repayment plan is running), in SQL. ``text`` (a
    ``search_key``) and ``landlord_id`` narrow it."""
    query = (
        tenancy_scope(user)
        .with_only_columns(
            Occupancy.id.label("occupancy_id"),
            Occupancy.household_id,
            Dwelling.landlord_id,
            Household.reference,
            Household.referent_id,
            Household.stage.label("household_stage"),
            func.coalesce(TenancyFigures.balance_cents, 0).label("balance_cents"),
            func.coalesce(TenancyFigures.amount_due_cents, 0).label("amount_due_cents"),
            TenancyFigures.procedure_stage.label("stage_kind"),
            func.coalesce(TenancyFigures.has_running_plan, False).label("has_plan"),
        )
        .outerjoin(TenancyFigures, TenancyFigures.occupancy_id == Occupancy.id)
    )
    if landlord_id:
        query = query.where(Dwelling.landlord_id == landlord_id)
    if text:
        head = aliased(Member)
        reference = func.lower(Household.reference)
        query = query.outerjoin(
            head, (head.household_id == Household.id) & head.is_head.is_(True)
        ).where(
            or_(
                # the same text as search_key(f"{reference} {head_name}")
                contains(reference + " " + func.coalesce(head.search_name, reference), text),
                contains(Dwelling.search_address, text),
                contains(func.lower(Occupancy.lease_reference), text),
            )
        )
    return query.subquery("tenancy_facts")


def _risk_columns(facts):
    """SQL expressions of a lease's status, its risk order and its key-figure flags, over
    ``_tenancy_facts`` (the same rules as ``TenancyRow``)."""
    judicial = facts.c.stage_kind.in_(JUDICIAL_STAGES)
    owes = facts.c.balance_cents > 0
    plan = facts.c.has_plan.is_(True)
    status = case(
        (judicial, TenancyStatus.PROCEDURE),
        (plan, TenancyStatus.PLAN),
        (owes, TenancyStatus.IMPAYE),
        else_=TenancyStatus.A_JOUR,
    )
    risk = case(
        (judicial, _STATUS_RISK[TenancyStatus.PROCEDURE]),
        (plan, _STATUS_RISK[TenancyStatus.PLAN]),
        (owes, _STATUS_RISK[TenancyStatus.IMPAYE]),
        else_=_STATUS_RISK[TenancyStatus.A_JOUR],
    )
    stage_rank = case(
        {k.value: k.rank for k in ProcedureStageKind if k.is_judicial},
        value=facts.c.stage_kind,
        else_=0,
    )
    # months_of_arrears(): one decimal, 0 when nothing is owed. ("1.0 *" keeps the division
    # exact on both databases and numeric on PostgreSQL, where round(numeric, 1) exists.)
    months = case(
        (
            owes & (facts.c.amount_due_cents > 0),
            func.round(literal_column("1.0") * facts.c.balance_cents / facts.c.amount_due_cents, 1),
        ),
        else_=0,
    )
    supported = facts.c.referent_id.is_not(None) & facts.c.household_stage.in_(
        [s.value for s in SUPPORTED_STAGES]
    )
    order = (
        risk.desc(),
        stage_rank.desc(),
        months.desc(),
        facts.c.balance_cents.desc(),
        facts.c.reference.asc(),
        facts.c.occupancy_id.asc(),
    )
    return status, supported, judicial, plan, owes, order


@dataclass(frozen=True)
class KeyFigures:
    tenancies: int
    in_arrears: int
    arrears_cents: int
    plans: int
    procedures: int
    supported: int


def _figure_columns(facts, *, window: bool = False) -> list:
    """The six ``KeyFigures`` as SQL aggregates over ``_tenancy_facts``: over the whole
    result, or (``window``) as window totals repeated on each row."""
    _status, supported, judicial, plan, owes, _order = _risk_columns(facts)

    def over(aggregate):
        return aggregate.over() if window else aggregate

    def total(condition, value=1):
        return func.coalesce(over(func.sum(case((condition, value), else_=0))), 0)

    return [
        over(func.count()),
        total(owes),
        total(owes, facts.c.balance_cents),
        total(plan),
        total(judicial),
        total(supported),
    ]


def key_figures(user) -> KeyFigures:
    """The dashboard's key figures over every current lease of the user's scope (whatever
    the filters of the table): one aggregate query."""
    row = db.session.execute(select(*_figure_columns(_tenancy_facts(user)))).one()
    return KeyFigures(*(int(value) for value in row))


def tenancy_landlords(user) -> list[tuple[int, str]]:
    """The landlords (id, name) of the current leases in the user's scope, for the filter; a
    landlord-only viewer's scope has one (or none), so the filter is not shown: no query."""
    if is_landlord_viewer(user):
        return []
    rows = db.session.execute(
        tenancy_scope(user)
        .with_only_columns(Dwelling.landlord_id, Organisation.name)
        .join(Organisation, Organisation.id == Dwelling.landlord_id)
        .distinct()
        .order_by(Organisation.name)
    ).all()
    return [(row[0], row[1]) for row in rows]


def dashboard_overview(
    user, *, page: int = 1, per_page: int = DASHBOARD_PER_PAGE
) -> tuple[KeyFigures, TenancyPage]:
    """The unfiltered dashboard in one pass over the leases: the key figures as window totals
    over every lease of the scope, on the rows of the requested page (most at risk first).
    ``key_figures`` + ``tenancy_page`` read the leases twice (on the national dataset,
    PostgreSQL: 105 ms -> 63 ms for the largest landlord)."""
    facts = _tenancy_facts(user)
    order = _risk_columns(facts)[-1]

    def read(number: int):
        return db.session.execute(
            select(facts.c.occupancy_id, *_figure_columns(facts, window=True))
            .order_by(*order)
            .limit(per_page)
            .offset((number - 1) * per_page)
        ).all()

    page = max(1, page)
    rows = read(page)
    if not rows and page > 1:  # past the last page: the totals say where it is
        rows = read(1)
        if rows:
            page = max(1, -(-int(rows[0][1]) // per_page))
            rows = read(page)
    figures = (
        KeyFigures(*(int(rows[0][i]) for i in range(1, 7)))
        if rows
        else KeyFigures(0, 0, 0, 0, 0, 0)
    )
    tenancies = tenancy_rows([row[0] for row in rows])
    return figures, TenancyPage(
        rows=tenancies, page=page, per_page=per_page, total=figures.tenancies
    )


@dataclass
class TenancyPage:
    """A page of the dashboard's table, with what the ``pagination`` macro reads."""

    rows: list[TenancyRow]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int:
        return self.page + 1


def _filtered_facts(user, *, status: str, supported: str, landlord_id, text: str):
    """``_tenancy_facts`` with the table's filters as conditions, and the risk order."""
    facts = _tenancy_facts(user, text=text, landlord_id=landlord_id)
    status_expr, supported_expr, _judicial, _plan, _owes, order = _risk_columns(facts)
    conditions = []
    if status:
        conditions.append(status_expr == status)
    if supported:
        conditions.append(supported_expr if supported == "oui" else ~supported_expr)
    return facts, conditions, order


def tenancy_ids(
    user,
    *,
    status: str = "",
    supported: str = "",
    landlord_id: int | None = None,
    text: str = "",
) -> list[int]:
    """Every filtered lease of the scope, most at risk first, in one ordered query (the
    export: reading it page by page sorted the whole stock again for each page)."""
    facts, conditions, order = _filtered_facts(
        user, status=status, supported=supported, landlord_id=landlord_id, text=text
    )
    return list(
        db.session.scalars(select(facts.c.occupancy_id).where(*conditions).order_by(*order))
    )


def tenancy_page(
    user,
    *,
    page: int = 1,
    per_page: int = DASHBOARD_PER_PAGE,
    status: str = "",
    supported: str = "",
    landlord_id: int | None = None,
    text: str = "",
) -> TenancyPage:
    """One page of the filtered tenancies in the user's scope, most at risk first: filtered,
    ordered and counted in SQL, then the rows of the page only loaded with their details.
    (Unfiltered: ``dashboard_overview``.)"""
    facts, conditions, order = _filtered_facts(
        user, status=status, supported=supported, landlord_id=landlord_id, text=text
    )
    total = db.session.scalar(select(func.count()).select_from(facts).where(*conditions))
    page = max(1, min(page, max(1, -(-total // per_page))))
    ids = list(
        db.session.scalars(
            select(facts.c.occupancy_id)
            .where(*conditions)
            .order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    rows = tenancy_rows(ids)
    return TenancyPage(rows=rows, page=page, per_page=per_page, total=total)


def tenancy_rows(ids: list[int]) -> list[TenancyRow]:
    """The tenancies of these current leases (already scoped and ordered) with their latest
    rent account, running plan, procedure stage and next meeting, in the order of ``ids``.
    Five queries whatever their number."""
    scope = ids or [-1]
    head = (
        select(Member.household_id, Member.first_name, Member.last_name)
        .where(Member.is_head.is_(True))
        .subquery()
    )
    base = db.session.execute(
        select(
            Occupancy,
            Household.reference,
            Household.stage,
            head.c.first_name,
            head.c.last_name,
            User,
        )
        .join(Household, Household.id == Occupancy.household_id)
        .outerjoin(head, head.c.household_id == Household.id)
        .outerjoin(User, User.id == Household.referent_id)
        .where(Occupancy.id.in_(scope))
        # The dashboard shows the référent's name and phone, never their roles or projects,
        # nor the lease reviews: without these options each would cost one query per
        # 500 tenancies (selectin batches) plus the users' roles and projects.
        .options(
            lazyload(Occupancy.reviews),
            lazyload(User.role_rows),
            lazyload(User.projects),
        )
    ).all()
    latest_month = (
        select(RentAccountSnapshot.occupancy_id, func.max(RentAccountSnapshot.month).label("month"))
        .where(RentAccountSnapshot.occupancy_id.in_(scope))
        .group_by(RentAccountSnapshot.occupancy_id)
        .subquery()
    )
    snapshots = {
        s.occupancy_id: s
        for s in db.session.scalars(
            select(RentAccountSnapshot).join(
                latest_month,
                (latest_month.c.occupancy_id == RentAccountSnapshot.occupancy_id)
                & (latest_month.c.month == RentAccountSnapshot.month),
            )
        )
    }
    plans = {
        p.occupancy_id: p
        for p in db.session.scalars(
            select(RepaymentPlan)
            .where(
                RepaymentPlan.occupancy_id.in_(scope),
                RepaymentPlan.status == RepaymentPlanStatus.EN_COURS,
            )
            .order_by(RepaymentPlan.start_on)
        )
    }
    ranked = (
        select(
            ProcedureStage.id,
            func.row_number()
            .over(
                partition_by=ProcedureStage.occupancy_id,
                order_by=(ProcedureStage.occurred_on.desc(), ProcedureStage.id.desc()),
            )
            .label("position"),
        )
        .where(ProcedureStage.occupancy_id.in_(scope))
        .subquery()
    )
    stages = {
        s.occupancy_id: s
        for s in db.session.scalars(
            select(ProcedureStage)
            .join(ranked, ranked.c.id == ProcedureStage.id)
            .where(ranked.c.position == 1)
            .options(
                joinedload(ProcedureStage.recorded_by).lazyload(User.role_rows),
                joinedload(ProcedureStage.recorded_by).lazyload(User.projects),
            )
        )
    }
    meetings = next_tripartite_meetings(scope)
    rows = []
    for occupancy, reference, stage, first, last, referent in base:
        plan = plans.get(occupancy.id)
        procedure_stage = stages.get(occupancy.id)
        if procedure_stage is not None and procedure_stage.stage in (ProcedureStageKind.CLOTURE,):
            procedure_stage = None
        rows.append(
            TenancyRow(
                occupancy=occupancy,
                dwelling=occupancy.dwelling,
                household_id=occupancy.household_id,
                household_reference=reference,
                head_name=f"{first} {last}" if first else reference,
                household_stage=stage,
                referent=referent,
                snapshot=snapshots.get(occupancy.id),
                plan=plan,
                stage=procedure_stage,
                next_meeting_on=meetings.get(occupancy.household_id),
            )
        )
    position = {occupancy_id: i for i, occupancy_id in enumerate(ids)}
    return sorted(rows, key=lambda r: position[r.occupancy.id])


def next_tripartite_meetings(scope: Select | list[int]) -> dict[int, date]:
    """Next tripartite meeting per household of the scope (the partners domain's meetings: one
    already planned, or the "next meeting" date set at the last one)."""
    from app.partners.models import TripartiteMeeting

    today = today_paris()
    households = select(Occupancy.household_id).where(Occupancy.id.in_(scope))
    planned = select(
        TripartiteMeeting.household_id.label("household_id"), TripartiteMeeting.held_on.label("on")
    ).where(TripartiteMeeting.household_id.in_(households), TripartiteMeeting.held_on >= today)
    announced = select(
        TripartiteMeeting.household_id.label("household_id"),
        TripartiteMeeting.next_meeting_on.label("on"),
    ).where(
        TripartiteMeeting.household_id.in_(households), TripartiteMeeting.next_meeting_on >= today
    )
    dates = planned.union_all(announced).subquery()
    rows = db.session.execute(
        select(dates.c.household_id, func.min(dates.c.on)).group_by(dates.c.household_id)
    )
    return dict(rows.all())
