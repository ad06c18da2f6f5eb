"""Caseloads per référent and stalled files, with their drill-down lists of households.

Every figure is computed in SQL over the households of ``scope_ids(user, project_ids)``, so
a page issues a fixed number of queries whatever the number of households."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter

from sqlalchemy import BigInteger, Numeric, Select, and_, case, cast, func, literal, or_, select

from app.db import db
from app.households.models import Household, HouseholdStage, Member
from app.housing.models import Occupancy, RentAccountSnapshot
from app.interventions.queries import last_contacts
from app.projects.models import Project
from app.reminders.models import OPEN_STATUSES, Reminder
from app.reports.scope import scope_ids
from app.sql import days_between, months_before
from app.support.models import IntensityLevel, Measure, MeasureStatus
from app.users.models import User, UserRole, project_member

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


def _lines_statement(flags, *conditions, first=None):
    """The lines of the households matching ``conditions``, ordered by ``first`` (if given)
    then by reference."""
    head = Member.__table__.alias("head")
    return (
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
        .order_by(*([] if first is None else [first]), flags.c.reference, flags.c.household_id)
    )


def _line(r) -> HouseholdLine:
    return HouseholdLine(
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


def _lines(
    flags, *conditions, limit: int | None = None, offset: int = 0, first=None
) -> list[HouseholdLine]:
    statement = _lines_statement(flags, *conditions, first=first).limit(limit).offset(offset)
    return [_line(r) for r in db.session.execute(statement)]


def _caseload_filter(user, project_ids, today: date, kind: str, referent):
    """The households behind one number of the caseload page: (flags, conditions)."""
    flags = household_flags(scope_ids(user, project_ids), today)
    conditions = [flags.c.is_active == 1]
    column = DRILL_DOWNS.get(kind, DRILL_DOWNS["menages"])[1]
    if column is not None:
        conditions.append(flags.c[column] > 0)
    if referent == NO_REFERENT:
        conditions.append(flags.c.referent_id.is_(None))
    elif referent is not None:
        conditions.append(flags.c.referent_id == referent)
    return flags, conditions


def caseload_households(
    user,
    project_ids,
    today: date,
    *,
    kind: str = "menages",
    referent: str | int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[HouseholdLine]:
    """``limit`` households behind one number of the caseload page, from ``offset`` (a page
    of the list). One query."""
    flags, conditions = _caseload_filter(user, project_ids, today, kind, referent)
    return _lines(flags, *conditions, limit=limit, offset=offset)


def count_caseload_households(
    user, project_ids, today: date, *, kind: str = "menages", referent=None
) -> int:
    """How many households ``iter_caseload_households`` gives. One query."""
    flags, conditions = _caseload_filter(user, project_ids, today, kind, referent)
    return db.session.scalar(select(func.count()).select_from(flags).where(*conditions))


# How many rows the export reads from the database at a time.
EXPORT_BATCH = 1000


def iter_caseload_households(
    user, project_ids, today: date, *, kind: str = "menages", referent=None
) -> Iterator[HouseholdLine]:
    """Every household behind one number of the caseload page, read in batches of
    ``EXPORT_BATCH`` (a server-side cursor on PostgreSQL): the export's memory does not grow
    with the caseload. One query."""
    flags, conditions = _caseload_filter(user, project_ids, today, kind, referent)
    statement = _lines_statement(flags, *conditions)
    result = db.session.execute(statement.execution_options(yield_per=EXPORT_BATCH))
    for r in result:
        yield _line(r)


# How many households each group of the stalled-files page lists: a project of the size of a
# département would otherwise put thousands of rows on one page. The figures above the groups
# are the full counts.
STALLED_SHOWN = 50


@dataclass
class StalledFiles:
    no_contact_days: int
    shown: int = STALLED_SHOWN
    totals: dict[str, int] = field(default_factory=dict)
    household_count: int = 0
    no_contact: list[HouseholdLine] = field(default_factory=list)
    review_overdue: list[HouseholdLine] = field(default_factory=list)
    ending: list[HouseholdLine] = field(default_factory=list)
    no_referent: list[HouseholdLine] = field(default_factory=list)

    def groups(self):
        """(anchor, title, the first lines, how many households in all) of each group."""
        return (
            (
                "sans-contact",
                f"Sans contact depuis plus de {self.no_contact_days} jours",
                self.no_contact,
                self.totals.get("no_contact", 0),
            ),
            ("bilan", "Bilan en retard", self.review_overdue, self.totals.get("review_overdue", 0)),
            (
                "fin",
                "Mesure finissant dans les 30 jours sans décision",
                self.ending,
                self.totals.get("ending", 0),
            ),
            (
                "sans-referent",
                "Sans référent·e",
                self.no_referent,
                self.totals.get("no_referent", 0),
            ),
        )


def stalled_files(
    user, project_ids, today: date, no_contact_days: int, *, shown: int | None = None
) -> StalledFiles:
    """Active households that stall, in four (overlapping) groups: the count of each and the
    first ``shown`` households of each, in one query that computes the households' flags
    once (window counts and a rank per group; a query per group recomputed them: 4 × 50 ms
    for a project of 2,000 households on PostgreSQL)."""
    shown = shown or STALLED_SHOWN
    flags = household_flags(scope_ids(user, project_ids), today)
    active = select(flags).where(flags.c.is_active == 1).subquery("active_flags")
    c = active.c
    groups = {  # name: (condition, what comes first)
        "no_contact": (c.days_since_contact > no_contact_days, c.days_since_contact.desc()),
        "review_overdue": (c.is_review_overdue == 1, None),
        "ending": (c.is_ending == 1, None),
        "no_referent": (c.referent_id.is_(None), None),
    }

    def counted(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)).over(), 0)

    def rank(condition, first):
        order = [*([] if first is None else [first]), c.reference, c.household_id]
        number = func.row_number().over(partition_by=case((condition, 1), else_=0), order_by=order)
        return case((condition, number))

    ranked = select(
        active,
        *(
            rank(condition, first).label(f"rank_{name}")
            for name, (condition, first) in groups.items()
        ),
        *(counted(condition).label(f"total_{name}") for name, (condition, _) in groups.items()),
        counted(or_(*(condition for condition, _ in groups.values()))).label("total_any"),
    ).subquery("ranked")
    rows = db.session.execute(
        _lines_statement(ranked, or_(*(ranked.c[f"rank_{name}"] <= shown for name in groups)))
    ).all()
    found = StalledFiles(no_contact_days, shown=shown)
    if not rows:
        found.totals = dict.fromkeys(groups, 0)
        return found
    found.totals = {name: int(getattr(rows[0], f"total_{name}")) for name in groups}
    found.household_count = int(rows[0].total_any)
    for name in groups:
        place = f"rank_{name}"
        mine = (r for r in rows if getattr(r, place) is not None and getattr(r, place) <= shown)
        chosen = sorted(mine, key=attrgetter(place))
        setattr(found, name, [_line(r) for r in chosen])
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
