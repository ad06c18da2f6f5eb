"""Read-only reports for coordinators: caseloads, stalled files, programme indicators.

Every figure is computed in SQL (GROUP BY, COUNT, SUM, CASE, window functions) over the
households of ``scope_ids(user, project_ids)`` — built on ``visible_households`` — so a page
issues a fixed number of queries whatever the number of households. Python only assembles
the aggregated rows (one per référent, category or month). Definitions: docs/indicators.md.

Date arithmetic differs between SQLite and PostgreSQL: the helpers of the first section are
the only place that knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    Numeric,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)

from app.db import db
from app.households.models import (
    Household,
    HouseholdStage,
    Member,
    Orientation,
    OrientationKind,
    Prescriber,
)
from app.households.queries import visible_households
from app.housing.models import (
    Occupancy,
    ProcedureStage,
    ProcedureStageKind,
    RentAccountSnapshot,
    RepaymentPlan,
    RepaymentPlanStatus,
)
from app.interventions.models import Intervention
from app.interventions.queries import contact_counts, last_contacts
from app.projects.models import Project, TargetPublic
from app.reminders.models import OPEN_STATUSES, Reminder
from app.search import contains
from app.sql import days_between, greatest, least, month_floor, month_key, months_before
from app.support.models import (
    ExitReason,
    HousingAtExit,
    IntensityChange,
    IntensityLevel,
    Measure,
    MeasureExit,
    MeasureStatus,
    PostExitCheck,
)
from app.users.models import User, UserRole, project_member


def _sum_if(condition, value=1):
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _literal_date(day: date):
    return literal(day, Date)


# --- scope --------------------------------------------------------------------------------


def coordinator_projects(user) -> list[Project]:
    """The projects the coordinator works on (the project selector)."""
    ids = user.project_ids
    if not ids:
        return []
    return list(
        db.session.scalars(select(Project).where(Project.id.in_(ids)).order_by(Project.name))
    )


def scope_ids(user, project_ids, *, include_anonymised: bool = False) -> Select:
    """Ids of the households of ``project_ids`` that ``user`` may see. The indicators include
    anonymised files: anonymisation keeps the dates, categories and amounts they count."""
    return (
        visible_households(user, include_anonymised=include_anonymised)
        .with_only_columns(Household.id)
        .where(Household.project_id.in_(list(project_ids) or [-1]))
    )


def scoped_households(user, household_ids) -> list[Household]:
    """The households among ``household_ids`` that ``user`` may see (the reassignment
    re-checks every submitted id through this)."""
    ids = list(household_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            visible_households(user).where(Household.id.in_(ids)).order_by(Household.reference)
        ).unique()
    )


# --- caseloads and stalled files ------------------------------------------------------------

CLOSED_STAGES = (HouseholdStage.SORTIE.value, HouseholdStage.SUIVI_POST_SORTIE.value)
DEFAULT_WEIGHT = Decimal("1.0")  # a household not (yet) under a measure
REVIEW_HORIZON_DAYS = 30
ENDING_HORIZON_DAYS = 30
ARREARS_LOOKBACK_MONTHS = 3
DEFAULT_NO_CONTACT_DAYS = 45


def _open_measure_summary(scope: Select):
    """One row per household with an open measure: heaviest weight, tightest rhythm, start of
    support, earliest next review, earliest planned end."""
    return (
        select(
            Measure.household_id,
            func.max(IntensityLevel.caseload_weight).label("weight"),
            func.min(IntensityLevel.contact_every_days).label("contact_every_days"),
            func.min(Measure.start_on).label("supported_since"),
            func.min(Measure.next_review_on).label("next_review_on"),
            func.min(Measure.planned_end_on).label("planned_end_on"),
        )
        .join(IntensityLevel, IntensityLevel.id == Measure.intensity_level_id)
        .where(Measure.status == MeasureStatus.EN_COURS, Measure.household_id.in_(scope))
        .group_by(Measure.household_id)
        .subquery()
    )


def _overdue_reminders(scope: Select, today: date):
    """Open reminders past their (postponed) date addressed to the household's référent."""
    shown_on = func.coalesce(Reminder.postponed_to, Reminder.due_on)
    return (
        select(Reminder.household_id, func.count().label("overdue"))
        .join(Household, Household.id == Reminder.household_id)
        .where(
            Reminder.household_id.in_(scope),
            Reminder.status.in_(OPEN_STATUSES),
            Reminder.recipient_user_id == Household.referent_id,
            shown_on < today,
        )
        .group_by(Reminder.household_id)
        .subquery()
    )


def _rising_arrears(scope: Select):
    """Households whose current lease's latest rent account shows a debt higher — in amount
    or in months of rent — than the account 3 months earlier (see docs/indicators.md)."""
    # Only the scope's current leases: over every account of the country, this subquery alone
    # grouped 1.2 million rows on each caseload page.
    latest_month = (
        select(RentAccountSnapshot.occupancy_id, func.max(RentAccountSnapshot.month).label("month"))
        .where(
            RentAccountSnapshot.occupancy_id.in_(
                select(Occupancy.id).where(
                    Occupancy.end_on.is_(None), Occupancy.household_id.in_(scope)
                )
            )
        )
        .group_by(RentAccountSnapshot.occupancy_id)
        .subquery()
    )
    now = RentAccountSnapshot.__table__.alias("snapshot_now")
    before = RentAccountSnapshot.__table__.alias("snapshot_before")
    # Cross-multiplied in 64 bits: cents × cents overflows PostgreSQL's integer.
    higher_months = cast(now.c.balance_cents, BigInteger) * before.c.amount_due_cents > (
        cast(before.c.balance_cents, BigInteger) * now.c.amount_due_cents
    )
    return (
        select(Occupancy.household_id)
        .join(latest_month, latest_month.c.occupancy_id == Occupancy.id)
        .join(
            now,
            and_(now.c.occupancy_id == Occupancy.id, now.c.month == latest_month.c.month),
        )
        .join(
            before,
            and_(
                before.c.occupancy_id == Occupancy.id,
                before.c.month == months_before(now.c.month, ARREARS_LOOKBACK_MONTHS),
            ),
        )
        .where(
            Occupancy.end_on.is_(None),
            Occupancy.household_id.in_(scope),
            now.c.balance_cents > 0,
            or_(now.c.balance_cents > before.c.balance_cents, higher_months),
        )
        .distinct()
        .subquery()
    )


def household_flags(scope: Select, today: date):
    """One row per household of ``scope``: what the caseload and stalled-file pages count.

    ``is_active``: under an open measure, or not yet at the exit stages. ``weight``: the
    heaviest intensity weight of its open measures (1.0 without any)."""
    measures = _open_measure_summary(scope)
    contacts = last_contacts().where(_household_in(scope)).subquery()
    reminders = _overdue_reminders(scope, today)
    arrears = _rising_arrears(scope)
    since = func.coalesce(contacts.c.last_contact_on, measures.c.supported_since)
    days_since = days_between(since, today)
    supported = measures.c.household_id.is_not(None)
    return (
        select(
            Household.id.label("household_id"),
            Household.reference,
            Household.project_id,
            Household.referent_id,
            Household.stage,
            case((or_(supported, Household.stage.not_in(CLOSED_STAGES)), 1), else_=0).label(
                "is_active"
            ),
            case(
                (supported, measures.c.weight), else_=literal(DEFAULT_WEIGHT, Numeric(3, 1))
            ).label("weight"),
            measures.c.contact_every_days,
            contacts.c.last_contact_on,
            case((supported, days_since), else_=None).label("days_since_contact"),
            case((and_(supported, days_since > measures.c.contact_every_days), 1), else_=0).label(
                "is_contact_overdue"
            ),
            measures.c.next_review_on,
            measures.c.planned_end_on,
            case(
                (measures.c.next_review_on <= today + timedelta(days=REVIEW_HORIZON_DAYS), 1),
                else_=0,
            ).label("is_review_due"),
            case((measures.c.next_review_on < today, 1), else_=0).label("is_review_overdue"),
            case(
                (measures.c.planned_end_on <= today + timedelta(days=ENDING_HORIZON_DAYS), 1),
                else_=0,
            ).label("is_ending"),
            func.coalesce(reminders.c.overdue, 0).label("overdue_reminders"),
            case((arrears.c.household_id.is_not(None), 1), else_=0).label("is_arrears_rising"),
        )
        .outerjoin(measures, measures.c.household_id == Household.id)
        .outerjoin(contacts, contacts.c.household_id == Household.id)
        .outerjoin(reminders, reminders.c.household_id == Household.id)
        .outerjoin(arrears, arrears.c.household_id == Household.id)
        .where(Household.id.in_(scope))
        .subquery()
    )


def _household_in(scope: Select):
    from app.interventions.models import Intervention

    return Intervention.household_id.in_(scope)


@dataclass
class CaseloadRow:
    referent_id: int | None
    referent_name: str | None
    households: int
    weight: Decimal
    overdue_reminders: int
    contact_overdue: int
    reviews_due: int
    arrears_rising: int
    bar_class: str = "w-0"


@dataclass
class Caseloads:
    rows: list[CaseloadRow]

    @property
    def totals(self) -> CaseloadRow:
        return CaseloadRow(
            None,
            "Total",
            sum(r.households for r in self.rows),
            sum((r.weight for r in self.rows), Decimal(0)),
            sum(r.overdue_reminders for r in self.rows),
            sum(r.contact_overdue for r in self.rows),
            sum(r.reviews_due for r in self.rows),
            sum(r.arrears_rising for r in self.rows),
        )

    @property
    def most_loaded(self) -> CaseloadRow | None:
        named = [r for r in self.rows if r.referent_id is not None]
        return named[0] if named else None


def width_class(value, maximum) -> str:
    """``w-0`` … ``w-100`` in steps of 5 (bars without inline style)."""
    if not maximum or not value:
        return "w-0"
    step = int((Decimal(value) * 20 / Decimal(maximum)).to_integral_value(ROUND_HALF_UP)) * 5
    return f"w-{max(step, 5)}"


def caseloads(user, project_ids, today: date) -> Caseloads:
    """One row per référent (and one for households without any), heaviest caseload first.
    One query."""
    flags = household_flags(scope_ids(user, project_ids), today)
    rows = db.session.execute(
        select(
            flags.c.referent_id,
            User.full_name,
            func.count().label("households"),
            func.coalesce(func.sum(flags.c.weight), 0).label("weight"),
            func.coalesce(func.sum(flags.c.overdue_reminders), 0).label("overdue_reminders"),
            func.coalesce(func.sum(flags.c.is_contact_overdue), 0).label("contact_overdue"),
            func.coalesce(func.sum(flags.c.is_review_due), 0).label("reviews_due"),
            func.coalesce(func.sum(flags.c.is_arrears_rising), 0).label("arrears_rising"),
        )
        .outerjoin(User, User.id == flags.c.referent_id)
        .where(flags.c.is_active == 1)
        .group_by(flags.c.referent_id, User.full_name)
    ).all()
    result = [
        CaseloadRow(
            r.referent_id,
            r.full_name,
            int(r.households),
            Decimal(str(r.weight)).quantize(Decimal("0.1")),
            int(r.overdue_reminders),
            int(r.contact_overdue),
            int(r.reviews_due),
            int(r.arrears_rising),
        )
        for r in rows
    ]
    result.sort(key=lambda r: (r.referent_id is None, -r.weight, r.referent_name or ""))
    heaviest = max((r.weight for r in result), default=0)
    for row in result:
        row.bar_class = width_class(row.weight, heaviest)
    return Caseloads(result)


# What each number of the caseload page counts, for its drill-down list.
DRILL_DOWNS = {
    "menages": ("Ménages suivis", None),
    "rappels": ("Ménages avec des rappels en retard", "overdue_reminders"),
    "rythme": ("Ménages au-delà de leur rythme de contact", "is_contact_overdue"),
    "bilans": ("Bilans à faire dans les 30 jours (ou en retard)", "is_review_due"),
    "impayes": ("Ménages dont l'impayé augmente", "is_arrears_rising"),
}
NO_REFERENT = "aucun"


@dataclass
class HouseholdLine:
    household_id: int
    reference: str
    head_name: str | None
    project_id: int
    project_name: str
    referent_id: int | None
    referent_name: str | None
    stage: str
    weight: Decimal
    last_contact_on: date | None
    days_since_contact: int | None
    next_review_on: date | None
    planned_end_on: date | None
    overdue_reminders: int
    is_contact_overdue: bool
    is_review_due: bool
    is_review_overdue: bool
    is_ending: bool
    is_arrears_rising: bool

    @property
    def stage_label(self) -> str:
        return HouseholdStage(self.stage).label


def _lines(flags, *conditions) -> list[HouseholdLine]:
    head = Member.__table__.alias("head")
    rows = db.session.execute(
        select(
            flags,
            (head.c.first_name + literal(" ") + head.c.last_name).label("head_name"),
            Project.name.label("project_name"),
            User.full_name.label("referent_name"),
        )
        .join(Project, Project.id == flags.c.project_id)
        .outerjoin(User, User.id == flags.c.referent_id)
        .outerjoin(head, and_(head.c.household_id == flags.c.household_id, head.c.is_head))
        .where(*conditions)
        .order_by(flags.c.reference)
    ).all()
    return [
        HouseholdLine(
            household_id=r.household_id,
            reference=r.reference,
            head_name=r.head_name,
            project_id=r.project_id,
            project_name=r.project_name,
            referent_id=r.referent_id,
            referent_name=r.referent_name,
            stage=r.stage,
            weight=Decimal(str(r.weight)).quantize(Decimal("0.1")),
            last_contact_on=r.last_contact_on,
            days_since_contact=r.days_since_contact,
            next_review_on=r.next_review_on,
            planned_end_on=r.planned_end_on,
            overdue_reminders=int(r.overdue_reminders),
            is_contact_overdue=bool(r.is_contact_overdue),
            is_review_due=bool(r.is_review_due),
            is_review_overdue=bool(r.is_review_overdue),
            is_ending=bool(r.is_ending),
            is_arrears_rising=bool(r.is_arrears_rising),
        )
        for r in rows
    ]


def caseload_households(
    user, project_ids, today: date, *, kind: str = "menages", referent: str | int | None = None
) -> list[HouseholdLine]:
    """The households behind one number of the caseload page. One query."""
    flags = household_flags(scope_ids(user, project_ids), today)
    conditions = [flags.c.is_active == 1]
    column = DRILL_DOWNS.get(kind, DRILL_DOWNS["menages"])[1]
    if column is not None:
        conditions.append(flags.c[column] > 0)
    if referent == NO_REFERENT:
        conditions.append(flags.c.referent_id.is_(None))
    elif referent is not None:
        conditions.append(flags.c.referent_id == referent)
    return _lines(flags, *conditions)


@dataclass
class StalledFiles:
    no_contact_days: int
    no_contact: list[HouseholdLine] = field(default_factory=list)
    review_overdue: list[HouseholdLine] = field(default_factory=list)
    ending: list[HouseholdLine] = field(default_factory=list)
    no_referent: list[HouseholdLine] = field(default_factory=list)

    @property
    def household_count(self) -> int:
        return len({line.household_id for group in self.groups() for line in group[2]})

    def groups(self):
        return (
            (
                "sans-contact",
                f"Sans contact depuis plus de {self.no_contact_days} jours",
                self.no_contact,
            ),
            ("bilan", "Bilan en retard", self.review_overdue),
            ("fin", "Mesure finissant dans les 30 jours sans décision", self.ending),
            ("sans-referent", "Sans référent·e", self.no_referent),
        )


def stalled_files(user, project_ids, today: date, no_contact_days: int) -> StalledFiles:
    """Active households that stall, in four (overlapping) groups. One query."""
    flags = household_flags(scope_ids(user, project_ids), today)
    no_contact = flags.c.days_since_contact > no_contact_days
    lines = _lines(
        flags,
        flags.c.is_active == 1,
        or_(
            no_contact,
            flags.c.is_review_overdue == 1,
            flags.c.is_ending == 1,
            flags.c.referent_id.is_(None),
        ),
    )
    found = StalledFiles(no_contact_days)
    for line in lines:
        if line.days_since_contact is not None and line.days_since_contact > no_contact_days:
            found.no_contact.append(line)
        if line.is_review_overdue:
            found.review_overdue.append(line)
        if line.is_ending:
            found.ending.append(line)
        if line.referent_id is None:
            found.no_referent.append(line)
    found.no_contact.sort(key=lambda line: -(line.days_since_contact or 0))
    return found


def referent_candidates(project_ids) -> list[tuple[int, str]]:
    """Active social workers and coordinators of the projects: who may take households over."""
    rows = db.session.execute(
        select(User.id, User.full_name)
        .join(project_member, project_member.c.user_id == User.id)
        .where(
            project_member.c.project_id.in_(list(project_ids) or [-1]),
            User.is_active.is_(True),
            User.id.in_(
                select(UserRole.user_id).where(
                    UserRole.role.in_(["travailleur_social", "coordinateur"])
                )
            ),
        )
        .distinct()
        .order_by(User.full_name)
    )
    return [(row.id, row.full_name) for row in rows]


# --- programme indicators ------------------------------------------------------------------

DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12
HOUSED_AT_EXIT = (
    HousingAtExit.MAINTENU.value,
    HousingAtExit.LOGEMENT_SOCIAL.value,
    HousingAtExit.LOGEMENT_PRIVE.value,
)
JUDICIAL_STAGES = tuple(kind.value for kind in ProcedureStageKind if kind.is_judicial)


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def months(self) -> list[str]:
        """``YYYY-MM`` of every month the period touches."""
        keys, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            keys.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return keys


def _spans(scope: Select):
    """One row per household ever under a measure: ``entry_on`` (its first measure's start),
    ``is_open`` (a measure still open), ``last_closed_on``. Gaps between measures are ignored:
    support runs from the first start to the last closing."""
    return (
        select(
            Measure.household_id,
            func.min(Measure.start_on).label("entry_on"),
            func.max(case((Measure.status == MeasureStatus.EN_COURS, 1), else_=0)).label("is_open"),
            func.max(Measure.closed_on).label("last_closed_on"),
        )
        .where(Measure.household_id.in_(scope))
        .group_by(Measure.household_id)
        .subquery()
    )


def _supported(spans, period: Period):
    """Under support at some point of the period."""
    return and_(
        spans.c.entry_on <= period.end,
        or_(spans.c.is_open == 1, spans.c.last_closed_on >= period.start),
    )


def _supported_on(spans, day: date):
    return and_(spans.c.entry_on <= day, or_(spans.c.is_open == 1, spans.c.last_closed_on >= day))


def _supported_ids(scope: Select, period: Period) -> Select:
    spans = _spans(scope)
    return select(spans.c.household_id).where(_supported(spans, period))


def _latest_exits(scope: Select):
    """The latest exit of each household whose measures are all closed."""
    ranked = (
        select(
            MeasureExit.household_id,
            MeasureExit.exit_on,
            MeasureExit.reason,
            MeasureExit.housing_situation,
            MeasureExit.is_lease_glissed,
            func.row_number()
            .over(
                partition_by=MeasureExit.household_id,
                order_by=(MeasureExit.exit_on.desc(), MeasureExit.id.desc()),
            )
            .label("rank"),
        )
        .where(MeasureExit.household_id.in_(scope))
        .subquery()
    )
    still_open = select(Measure.household_id).where(
        Measure.status == MeasureStatus.EN_COURS, Measure.household_id.in_(scope)
    )
    return (
        select(ranked)
        .where(ranked.c.rank == 1, ranked.c.household_id.not_in(still_open))
        .subquery()
    )


def _exits_in(scope: Select, period: Period):
    exits = _latest_exits(scope)
    return exits, and_(exits.c.exit_on >= period.start, exits.c.exit_on <= period.end)


@dataclass(frozen=True)
class Figure:
    """One indicator value. ``kind``: count, days, months, ratio, percent, cents.
    ``is_breakdown``: a count in a category (masked under the threshold in exports);
    ``base``: the number of households a mean, share or amount is computed on."""

    key: str
    label: str
    value: int | Decimal | None
    kind: str = "count"
    is_breakdown: bool = False
    base: int | None = None


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure]
    note: str = ""


@dataclass
class ChartSeries:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, tuple]]  # (label, values)
    kinds: tuple[str, ...] = ()


@dataclass
class Indicators:
    period: Period
    projects: list[Project]
    sections: list[Section]
    charts: dict[str, ChartSeries]

    def figure(self, key: str) -> Figure:
        for section in self.sections:
            for item in section.figures:
                if item.key == key:
                    return item
        raise KeyError(key)

    def values(self) -> dict[str, int | Decimal | None]:
        return {f.key: f.value for s in self.sections for f in s.figures}


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _one_decimal(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _headline(scope, period: Period, project_ids) -> Section:
    spans = _spans(scope)
    exits, in_period = _exits_in(scope, period)
    row = db.session.execute(
        select(
            _sum_if(_supported(spans, period)).label("supported"),
            _sum_if(and_(spans.c.entry_on >= period.start, spans.c.entry_on <= period.end)).label(
                "entries"
            ),
            _sum_if(_supported_on(spans, period.end)).label("supported_at_end"),
            _sum_if(spans.c.entry_on <= period.end).label("cumulative"),
            select(func.count())
            .select_from(exits)
            .where(in_period)
            .scalar_subquery()
            .label("exits"),
            select(func.sum(Project.target_households))
            .where(Project.id.in_(list(project_ids) or [-1]))
            .scalar_subquery()
            .label("target"),
        ).select_from(spans)
    ).one()
    target = int(row.target) if row.target is not None else None
    return Section(
        "activite",
        "Activité de la période",
        [
            Figure("supported", "Ménages accompagnés dans la période", int(row.supported)),
            Figure("entries", "Entrées en accompagnement", int(row.entries)),
            Figure("exits", "Sorties d'accompagnement", int(row.exits)),
            Figure(
                "supported_at_end",
                "Ménages accompagnés à la fin de la période",
                int(row.supported_at_end),
            ),
            Figure(
                "cumulative", "Ménages accompagnés depuis le début du projet", int(row.cumulative)
            ),
            Figure("target", "Objectif du projet (ménages)", target),
            Figure(
                "target_share",
                "Part de l'objectif atteinte",
                _percent(int(row.cumulative), target or 0),
                "percent",
            ),
        ],
        "Un ménage est accompagné du début de sa première mesure à la clôture de sa dernière.",
    )


def _by_public(scope, period: Period) -> Section:
    supported = _supported_ids(scope, period)
    padded = literal(",") + Household.target_publics + literal(",")
    columns = [
        _sum_if(contains(padded, f",{public.value},")).label(public.value)
        for public in TargetPublic
    ]
    row = db.session.execute(
        select(*columns, _sum_if(Household.target_publics == "").label("none")).where(
            Household.id.in_(supported)
        )
    ).one()
    figures = [
        Figure(f"public_{p.value}", p.label, int(getattr(row, p.value)), is_breakdown=True)
        for p in TargetPublic
    ]
    figures.append(
        Figure("public_none", "Aucun public renseigné", int(row.none), is_breakdown=True)
    )
    return Section(
        "publics",
        "Ménages accompagnés par public",
        figures,
        "Un ménage peut relever de plusieurs publics : le total dépasse le nombre de ménages.",
    )


def _by_orientation(scope, period: Period) -> list[Section]:
    supported = _supported_ids(scope, period)
    ranked = (
        select(
            Orientation.household_id,
            Orientation.prescriber,
            Orientation.kind,
            func.row_number()
            .over(
                partition_by=Orientation.household_id,
                order_by=(Orientation.oriented_on.desc(), Orientation.id.desc()),
            )
            .label("rank"),
        )
        .where(Orientation.household_id.in_(supported))
        .subquery()
    )
    latest = select(ranked).where(ranked.c.rank == 1).subquery()
    without_orientation = ~(
        select(Orientation.id).where(Orientation.household_id == Household.id).exists()
    )
    rows = db.session.execute(
        select(latest.c.prescriber, latest.c.kind, func.count().label("n"))
        .group_by(latest.c.prescriber, latest.c.kind)
        .union_all(
            select(literal("-"), literal("-"), func.count()).where(
                Household.id.in_(supported), without_orientation
            )
        )
    ).all()
    by_prescriber: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    for prescriber, kind, n in rows:
        by_prescriber[prescriber] = by_prescriber.get(prescriber, 0) + int(n)
        by_kind[kind] = by_kind.get(kind, 0) + int(n)
    prescribers = [
        Figure(f"prescriber_{p.value}", p.label, by_prescriber.get(p.value, 0), is_breakdown=True)
        for p in Prescriber
    ]
    prescribers.append(
        Figure(
            "prescriber_none",
            "Orientation non renseignée",
            by_prescriber.get("-", 0),
            is_breakdown=True,
        )
    )
    kinds = [
        Figure(f"kind_{k.value}", k.label, by_kind.get(k.value, 0), is_breakdown=True)
        for k in OrientationKind
    ]
    kinds.append(Figure("kind_none", "Non renseigné", by_kind.get("-", 0), is_breakdown=True))
    note = "D'après la dernière orientation enregistrée de chaque ménage accompagné."
    return [
        Section("prescripteurs", "Ménages accompagnés par prescripteur", prescribers, note),
        Section("acces_maintien", "Accès ou maintien", kinds, note),
    ]


def _durations(scope, period: Period) -> list[int]:
    """Length of support in days of each household that left in the period, sorted: one row
    per exited household (a few dozen a year per project), fetched in one query."""
    spans = _spans(scope)
    exits, in_period = _exits_in(scope, period)
    duration = days_between(spans.c.entry_on, exits.c.exit_on)
    return [
        int(value)
        for value in db.session.scalars(
            select(duration)
            .select_from(exits)
            .join(spans, spans.c.household_id == exits.c.household_id)
            .where(in_period)
            .order_by(duration)
        )
    ]


def median(sorted_values: list[int]) -> Decimal | None:
    if not sorted_values:
        return None
    middle = len(sorted_values) // 2
    if len(sorted_values) % 2:
        return Decimal(sorted_values[middle])
    return (Decimal(sorted_values[middle - 1]) + Decimal(sorted_values[middle])) / 2


def _length_section(durations: list[int]) -> Section:
    n = len(durations)
    mean = _one_decimal(Decimal(sum(durations)) / n) if n else None
    middle = _one_decimal(median(durations))
    return Section(
        "duree",
        "Durée d'accompagnement des ménages sortis",
        [
            Figure("length_count", "Ménages sortis pris en compte", n),
            Figure("length_mean_days", "Durée moyenne (jours)", mean, "days", base=n),
            Figure("length_median_days", "Durée médiane (jours)", middle, "days", base=n),
            Figure(
                "length_mean_months",
                "Durée moyenne (mois)",
                _one_decimal(mean / DAYS_PER_MONTH) if mean is not None else None,
                "months",
                base=n,
            ),
        ],
        "Du début de la première mesure à la dernière sortie ; un mois compte 30,44 jours.",
    )


def _intensity_mix(scope, period: Period) -> Section:
    """Households supported on the last day of the period, by the heaviest intensity of their
    measures open that day (intensity history: the latest change on or before that day)."""
    day = period.end
    open_that_day = and_(
        Measure.household_id.in_(scope),
        Measure.start_on <= day,
        or_(Measure.closed_on.is_(None), Measure.closed_on >= day),
    )
    # The latest change on or before that day of each measure open that day: a correlated
    # ORDER BY … LIMIT 1 on the measure's changes (index on measure_id). A ROW_NUMBER() window
    # over the scope's changes cost 330 ms on SQLite (national data).
    latest_level = (
        select(IntensityChange.to_level_id)
        .where(IntensityChange.measure_id == Measure.id, IntensityChange.changed_on <= day)
        .order_by(IntensityChange.changed_on.desc(), IntensityChange.id.desc())
        .limit(1)
        .correlate(Measure)
        .scalar_subquery()
    )
    level_id = func.coalesce(latest_level, Measure.intensity_level_id)
    per_measure = (
        select(Measure.household_id, level_id.label("level_id")).where(open_that_day).subquery()
    )
    ranked = (
        select(
            per_measure.c.household_id,
            IntensityLevel.id.label("level_id"),
            func.row_number()
            .over(
                partition_by=per_measure.c.household_id,
                order_by=(
                    IntensityLevel.caseload_weight.desc(),
                    IntensityLevel.contact_every_days.asc(),
                ),
            )
            .label("rank"),
        )
        .join(IntensityLevel, IntensityLevel.id == per_measure.c.level_id)
        .subquery()
    )
    counts = (
        select(ranked.c.level_id, func.count().label("n"))
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.level_id)
        .subquery()
    )
    # Each project has its own levels, mostly under the same names: the levels of the scope's
    # projects, one line per name (keyed by its first level, so one project's keys are its
    # levels' ids).
    rows = db.session.execute(
        select(
            func.min(IntensityLevel.id),
            IntensityLevel.name,
            func.coalesce(func.sum(counts.c.n), 0),
        )
        .outerjoin(counts, counts.c.level_id == IntensityLevel.id)
        .where(
            IntensityLevel.project_id.in_(
                select(Household.project_id).where(Household.id.in_(scope))
            ),
            or_(IntensityLevel.is_active.is_(True), counts.c.n > 0),
        )
        .group_by(IntensityLevel.name)
        .order_by(func.max(IntensityLevel.caseload_weight).desc(), IntensityLevel.name)
    ).all()
    return Section(
        "intensite",
        "Répartition par intensité (à la fin de la période)",
        [Figure(f"intensity_{i}", name, int(n), is_breakdown=True) for i, name, n in rows],
        "Ménages accompagnés le dernier jour de la période, selon l'intensité la plus forte "
        "de leurs mesures ce jour-là.",
    )


def _contacts(scope, period: Period) -> Section:
    """Contacts (missed appointments excluded) in the period of the households supported in
    it, divided by their months of support within the period."""
    spans = _spans(scope)
    supported = _supported(spans, period)
    span_end = case((spans.c.is_open == 1, period.end), else_=spans.c.last_closed_on)
    first = greatest(spans.c.entry_on, _literal_date(period.start))
    last = least(span_end, _literal_date(period.end))
    supported_ids = select(spans.c.household_id).where(supported)
    contacts = (
        contact_counts(period.start, period.end)
        .where(Intervention.household_id.in_(supported_ids))
        .subquery()
    )
    row = db.session.execute(
        select(
            select(func.coalesce(func.sum(days_between(first, last) + 1), 0))
            .where(supported)
            .scalar_subquery()
            .label("days"),
            select(func.coalesce(func.sum(contacts.c.contacts), 0))
            .where(contacts.c.household_id.in_(supported_ids))
            .scalar_subquery()
            .label("contacts"),
        )
    ).one()
    days, count = int(row.days), int(row.contacts)
    household_months = Decimal(days) / DAYS_PER_MONTH if days else Decimal(0)
    ratio = _one_decimal(Decimal(count) / household_months) if days else None
    return Section(
        "contacts",
        "Contacts",
        [
            Figure("contacts", "Contacts dans la période", count),
            Figure(
                "household_months",
                "Mois d'accompagnement dans la période (tous ménages)",
                _one_decimal(household_months),
                "months",
            ),
            Figure("contacts_per_month", "Contacts par ménage et par mois", ratio, "ratio"),
        ],
        "Les rendez-vous non honorés ne comptent pas comme des contacts.",
    )


def _exits_breakdown(scope, period: Period) -> list[Section]:
    exits, in_period = _exits_in(scope, period)
    rows = db.session.execute(
        select(
            exits.c.reason,
            exits.c.housing_situation,
            func.count().label("n"),
            _sum_if(exits.c.is_lease_glissed.is_(True)).label("glissed"),
        )
        .where(in_period)
        .group_by(exits.c.reason, exits.c.housing_situation)
    ).all()
    reasons: dict[str, int] = {}
    housing: dict[str, int] = {}
    for r in rows:
        reasons[r.reason] = reasons.get(r.reason, 0) + int(r.n)
        housing[r.housing_situation] = housing.get(r.housing_situation, 0) + int(r.n)
    total = sum(reasons.values())
    housed = sum(housing.get(v, 0) for v in HOUSED_AT_EXIT)
    return [
        Section(
            "motifs",
            "Motifs de sortie",
            [
                Figure(
                    f"exit_reason_{r.value}", r.label, reasons.get(r.value, 0), is_breakdown=True
                )
                for r in ExitReason
            ],
        ),
        Section(
            "sortie_logement",
            "Situation de logement à la sortie",
            [
                *(
                    Figure(
                        f"exit_housing_{h.value}",
                        h.label,
                        housing.get(h.value, 0),
                        is_breakdown=True,
                    )
                    for h in HousingAtExit
                ),
                Figure("exit_housed", "Logés ou maintenus à la sortie", housed, is_breakdown=True),
                Figure(
                    "exit_housed_share",
                    "Part des sortants logés ou maintenus",
                    _percent(housed, total),
                    "percent",
                    base=total,
                ),
            ],
            "Logés ou maintenus : maintenus dans le logement, autre logement social ou parc privé.",
        ),
    ]


def _post_exit_12(scope, period: Period) -> Section:
    row = db.session.execute(
        select(
            func.count().label("due"),
            _sum_if(PostExitCheck.is_still_housed.is_(True)).label("housed"),
            _sum_if(PostExitCheck.is_still_housed.is_(False)).label("not_housed"),
            _sum_if(PostExitCheck.done_on.is_(None)).label("not_done"),
        ).where(
            PostExitCheck.household_id.in_(scope),
            PostExitCheck.months == 12,
            PostExitCheck.due_on >= period.start,
            PostExitCheck.due_on <= period.end,
        )
    ).one()
    done = int(row.due) - int(row.not_done)
    return Section(
        "suivi_12_mois",
        "Situation 12 mois après la sortie",
        [
            Figure("check12_due", "Vérifications à 12 mois échues dans la période", int(row.due)),
            Figure("check12_housed", "Toujours logés", int(row.housed), is_breakdown=True),
            Figure("check12_not_housed", "Plus logés", int(row.not_housed), is_breakdown=True),
            Figure("check12_not_done", "Non renseignées", int(row.not_done), is_breakdown=True),
            Figure(
                "check12_housed_share",
                "Part toujours logés (vérifications faites)",
                _percent(int(row.housed), done),
                "percent",
                base=done,
            ),
        ],
        "Ménages dont la vérification à 12 mois tombait dans la période.",
    )


def _household_snapshots(scope):
    """Every rent-account snapshot with its household."""
    return (
        select(
            Occupancy.household_id,
            RentAccountSnapshot.month,
            RentAccountSnapshot.balance_cents,
            RentAccountSnapshot.amount_due_cents,
            RentAccountSnapshot.occupancy_id,
        )
        .join(Occupancy, Occupancy.id == RentAccountSnapshot.occupancy_id)
        .where(Occupancy.household_id.in_(scope))
    )


def _picked_snapshot(people, condition, *, latest: bool):
    """Id of the first (or latest) snapshot of the household of the current ``people`` row
    matching ``condition(snapshots, people)``: a correlated ``ORDER BY … LIMIT 1`` on the
    household's leases (index on ``occupancy.household_id``, then ``(occupancy_id, month)``).

    A ``ROW_NUMBER()`` window over the scope's snapshots joined to ``people`` made PostgreSQL
    estimate one row per side and re-run the window in a nested loop for each exited
    household (53 s on the national data); this is a few index probes per household."""
    snapshot = RentAccountSnapshot.__table__
    order = (
        (snapshot.c.month.desc(), snapshot.c.occupancy_id.desc(), snapshot.c.id.desc())
        if latest
        else (snapshot.c.month.asc(), snapshot.c.occupancy_id.asc(), snapshot.c.id.asc())
    )
    return (
        select(snapshot.c.id)
        .join(Occupancy, Occupancy.id == snapshot.c.occupancy_id)
        .where(Occupancy.household_id == people.c.household_id, condition(snapshot, people))
        .order_by(*order)
        .limit(1)
        .correlate(people)
        .scalar_subquery()
    )


def _arrears(scope, period: Period) -> Section:
    spans = _spans(scope)
    exits, in_period = _exits_in(scope, period)
    exited = (
        select(exits.c.household_id, exits.c.exit_on, spans.c.entry_on)
        .join(spans, spans.c.household_id == exits.c.household_id)
        .where(in_period)
        .subquery()
    )
    # One pass over the exited households: the ids of both snapshots, then the two rows.
    picked = select(
        exited.c.household_id,
        _picked_snapshot(
            exited,
            lambda s, p: and_(s.c.month >= month_floor(p.c.entry_on), s.c.month <= p.c.exit_on),
            latest=False,
        ).label("entry_id"),
        _picked_snapshot(exited, lambda s, p: s.c.month <= p.c.exit_on, latest=True).label(
            "exit_id"
        ),
    ).subquery()
    at_entry = RentAccountSnapshot.__table__.alias("at_entry")
    at_exit = RentAccountSnapshot.__table__.alias("at_exit")
    entry_or_exit = (
        select(
            func.count().label("known"),
            _sum_if(at_entry.c.balance_cents > 0).label("entry_in_arrears"),
            _sum_if(at_entry.c.balance_cents > 0, at_entry.c.balance_cents).label("entry_cents"),
            _sum_if(at_exit.c.balance_cents > 0).label("exit_in_arrears"),
            _sum_if(at_exit.c.balance_cents > 0, at_exit.c.balance_cents).label("exit_cents"),
        )
        .select_from(picked)
        .join(at_entry, at_entry.c.id == picked.c.entry_id)
        .join(at_exit, at_exit.c.id == picked.c.exit_id)
    )
    supported = select(spans.c.household_id).where(_supported(spans, period)).subquery()
    end_picked = (
        select(
            _picked_snapshot(supported, lambda s, p: s.c.month <= period.end, latest=True).label(
                "snapshot_id"
            )
        )
        .select_from(supported)
        .subquery()
    )
    at_end = RentAccountSnapshot.__table__.alias("at_end")
    end_row = db.session.execute(
        select(
            func.count().label("known"),
            _sum_if(at_end.c.balance_cents > 0).label("in_arrears"),
            _sum_if(at_end.c.balance_cents > 3 * at_end.c.amount_due_cents).label("over_3"),
            _sum_if(at_end.c.balance_cents > 0, at_end.c.balance_cents).label("cents"),
        )
        .select_from(end_picked)
        .join(at_end, at_end.c.id == end_picked.c.snapshot_id)
    ).one()
    row = db.session.execute(entry_or_exit).one()
    known, end_known = int(row.known), int(end_row.known)
    return Section(
        "impayes",
        "Impayés de loyer",
        [
            Figure(
                "arrears_exited_known",
                "Ménages sortis dont le compte est connu à l'entrée et à la sortie",
                known,
            ),
            Figure(
                "arrears_entry_count",
                "… en impayé à l'entrée",
                int(row.entry_in_arrears),
                is_breakdown=True,
            ),
            Figure(
                "arrears_exit_count",
                "… en impayé à la sortie",
                int(row.exit_in_arrears),
                is_breakdown=True,
            ),
            Figure(
                "arrears_entry_cents",
                "Dette totale à l'entrée",
                int(row.entry_cents),
                "cents",
                base=known,
            ),
            Figure(
                "arrears_exit_cents",
                "Dette totale à la sortie",
                int(row.exit_cents),
                "cents",
                base=known,
            ),
            Figure(
                "arrears_end_known",
                "Ménages accompagnés dont le compte est connu (fin de période)",
                end_known,
            ),
            Figure("arrears_end_count", "… en impayé", int(end_row.in_arrears), is_breakdown=True),
            Figure(
                "arrears_over_3_count",
                "… avec plus de 3 mois d'impayé",
                int(end_row.over_3),
                is_breakdown=True,
            ),
            Figure(
                "arrears_over_3_share",
                "Part des ménages avec plus de 3 mois d'impayé",
                _percent(int(end_row.over_3), end_known),
                "percent",
                base=end_known,
            ),
        ],
        "Entrée : compte du mois d'entrée (ou le premier connu ensuite). Sortie : dernier compte "
        "connu du mois de sortie ou avant. Fin de période : dernier compte connu à cette date. "
        "Plus de 3 mois : dette supérieure à 3 fois le loyer et les charges du mois.",
    )


def _plans_and_procedures(scope, period: Period) -> Section:
    supported = _supported_ids(scope, period)
    in_period = and_(RepaymentPlan.start_on >= period.start, RepaymentPlan.start_on <= period.end)
    plans = (
        select(
            _sum_if(in_period).label("signed"),
            _sum_if(
                and_(
                    RepaymentPlan.start_on <= period.end,
                    RepaymentPlan.status == RepaymentPlanStatus.EN_COURS,
                )
            ).label("running"),
            _sum_if(
                and_(
                    in_period,
                    RepaymentPlan.status.in_(
                        [RepaymentPlanStatus.RESPECTE, RepaymentPlanStatus.SOLDE]
                    ),
                )
            ).label("kept"),
            _sum_if(and_(in_period, RepaymentPlan.status == RepaymentPlanStatus.ROMPU)).label(
                "broken"
            ),
        )
        .join(Occupancy, Occupancy.id == RepaymentPlan.occupancy_id)
        .where(Occupancy.household_id.in_(supported))
    ).subquery()
    stages = (
        select(Occupancy.household_id, ProcedureStage.stage, ProcedureStage.occurred_on)
        .join(Occupancy, Occupancy.id == ProcedureStage.occupancy_id)
        .where(Occupancy.household_id.in_(supported))
        .subquery()
    )
    first_judicial = (
        select(stages.c.household_id, func.min(stages.c.occurred_on).label("first_on"))
        .where(stages.c.stage.in_(JUDICIAL_STAGES))
        .group_by(stages.c.household_id)
        .subquery()
    )
    stage_in_period = and_(stages.c.occurred_on >= period.start, stages.c.occurred_on <= period.end)

    def households_with(stage: ProcedureStageKind):
        return (
            select(func.count(func.distinct(stages.c.household_id)))
            .where(stage_in_period, stages.c.stage == stage.value)
            .scalar_subquery()
        )

    exits, exit_in_period = _exits_in(scope, period)
    glissed = (
        select(func.count())
        .where(
            Occupancy.household_id.in_(scope),
            Occupancy.glissed_on >= period.start,
            Occupancy.glissed_on <= period.end,
        )
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            plans.c.signed,
            plans.c.running,
            plans.c.kept,
            plans.c.broken,
            select(func.count())
            .where(
                first_judicial.c.first_on >= period.start, first_judicial.c.first_on <= period.end
            )
            .scalar_subquery()
            .label("started"),
            households_with(ProcedureStageKind.PROTOCOLE_COHESION).label("suspended"),
            households_with(ProcedureStageKind.CLOTURE).label("closed"),
            households_with(ProcedureStageKind.CONCOURS_FORCE_PUBLIQUE).label("police"),
            select(func.count())
            .select_from(exits)
            .where(exit_in_period, exits.c.reason == ExitReason.EXPULSION.value)
            .scalar_subquery()
            .label("evicted"),
            glissed.label("glissed"),
        )
    ).one()
    return Section(
        "prevention",
        "Plans d'apurement, procédures d'expulsion, glissements de bail",
        [
            Figure(
                "plans_signed",
                "Plans d'apurement signés dans la période",
                int(row.signed),
                is_breakdown=True,
            ),
            Figure(
                "plans_kept",
                "… dont respectés ou soldés (à ce jour)",
                int(row.kept),
                is_breakdown=True,
            ),
            Figure(
                "plans_broken",
                "… dont non respectés (à ce jour)",
                int(row.broken),
                is_breakdown=True,
            ),
            Figure(
                "plans_running",
                "Plans en cours (statut actuel, signés avant la fin de période)",
                int(row.running),
                is_breakdown=True,
            ),
            Figure(
                "procedures_started",
                "Procédures d'expulsion engagées",
                int(row.started),
                is_breakdown=True,
            ),
            Figure(
                "procedures_suspended",
                "Procédures suspendues par un protocole de cohésion sociale",
                int(row.suspended),
                is_breakdown=True,
            ),
            Figure(
                "procedures_closed",
                "Procédures closes (dette soldée ou abandon)",
                int(row.closed),
                is_breakdown=True,
            ),
            Figure(
                "procedures_police",
                "Concours de la force publique demandés",
                int(row.police),
                is_breakdown=True,
            ),
            Figure(
                "procedures_completed",
                "Expulsions (sorties pour expulsion)",
                int(row.evicted),
                is_breakdown=True,
            ),
            Figure("leases_glissed", "Baux glissés", int(row.glissed), is_breakdown=True),
        ],
        "Procédure engagée : première étape judiciaire (commandement de payer ou après) dans la "
        "période. Ménages accompagnés dans la période seulement.",
    )


def _monthly_flows(scope, period: Period) -> ChartSeries:
    spans = _spans(scope)
    exits, in_period = _exits_in(scope, period)
    entry_month = month_key(spans.c.entry_on)
    exit_month = month_key(exits.c.exit_on)
    entries = dict(
        db.session.execute(
            select(entry_month, func.count())
            .where(spans.c.entry_on >= period.start, spans.c.entry_on <= period.end)
            .group_by(entry_month)
        ).all()
    )
    exits_by_month = dict(
        db.session.execute(
            select(exit_month, func.count()).where(in_period).group_by(exit_month)
        ).all()
    )
    return ChartSeries(
        "flux",
        "Entrées et sorties par mois",
        ("Entrées", "Sorties"),
        [
            (key, (int(entries.get(key, 0)), int(exits_by_month.get(key, 0))))
            for key in period.months()
        ],
        ("count", "count"),
    )


def _arrears_trend(scope, period: Period) -> ChartSeries:
    supported = _supported_ids(scope, period)
    snapshots = _household_snapshots(scope).where(Occupancy.household_id.in_(supported)).subquery()
    key = month_key(snapshots.c.month)
    rows = db.session.execute(
        select(
            key,
            _sum_if(snapshots.c.balance_cents > 0).label("households"),
            _sum_if(snapshots.c.balance_cents > 0, snapshots.c.balance_cents).label("cents"),
        )
        .where(
            snapshots.c.month >= month_floor(_literal_date(period.start)),
            snapshots.c.month <= period.end,
        )
        .group_by(key)
    ).all()
    by_month = {r[0]: (int(r.households), int(r.cents)) for r in rows}
    return ChartSeries(
        "impayes",
        "Évolution des impayés (comptes de fin de mois)",
        ("Ménages en impayé", "Dette totale"),
        [(k, by_month.get(k, (0, 0))) for k in period.months()],
        ("count", "cents"),
    )


def indicators(user, project_ids, period: Period) -> Indicators:
    """Every programme indicator for the projects and the period (a fixed number of
    queries)."""
    project_ids = list(project_ids)
    scope = scope_ids(user, project_ids, include_anonymised=True)
    sections = [_headline(scope, period, project_ids)]
    sections += [_by_public(scope, period), *_by_orientation(scope, period)]
    sections.append(_length_section(_durations(scope, period)))
    intensity = _intensity_mix(scope, period)
    sections += [intensity, _contacts(scope, period)]
    exit_sections = _exits_breakdown(scope, period)
    sections += [*exit_sections, _post_exit_12(scope, period)]
    sections += [_arrears(scope, period), _plans_and_procedures(scope, period)]
    housing_at_exit = exit_sections[1]
    charts = {
        "flux": _monthly_flows(scope, period),
        "intensite": ChartSeries(
            "intensite",
            intensity.title,
            ("Ménages",),
            [(f.label, (f.value,)) for f in intensity.figures],
            ("count",),
        ),
        "impayes": _arrears_trend(scope, period),
        "sorties": ChartSeries(
            "sorties",
            "Situation de logement à la sortie",
            ("Ménages",),
            [
                (f.label, (f.value,))
                for f in housing_at_exit.figures
                if f.key.startswith("exit_housing_")
            ],
            ("count",),
        ),
    }
    projects = list(
        db.session.scalars(
            select(Project).where(Project.id.in_(project_ids or [-1])).order_by(Project.name)
        )
    )
    return Indicators(period, projects, sections, charts)
