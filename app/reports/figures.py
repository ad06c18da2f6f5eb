"""The building blocks of the programme indicators: the period, who was under support in
it, the exits, and the shapes a report is made of (figure, section, chart, indicators).
Definitions: docs/indicators.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, Select, and_, bindparam, case, exists, func, or_, select

from app.db import db
from app.households.models import Household
from app.housing.models import ProcedureStageKind
from app.projects.models import Project
from app.support.models import HousingAtExit, Measure, MeasureExit, MeasureStatus

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
    # NOT EXISTS rather than NOT IN (subquery): PostgreSQL runs a NOT IN once per row when
    # the subquery's rows do not fit in work_mem (see docs/performance.md).
    still_open = exists().where(
        Measure.household_id == ranked.c.household_id, Measure.status == MeasureStatus.EN_COURS
    )
    return select(ranked).where(ranked.c.rank == 1, ~still_open).subquery()


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


# --- statements built once --------------------------------------------------------------------

# The period as parameters: every statement of the indicators compares dates with these, so a
# statement built once serves every period (``Statements``).
PERIOD_PARAMETERS = Period(
    bindparam("period_start", type_=Date), bindparam("period_end", type_=Date)
)
# A coordinator's whole projects (``covers_whole_projects``): the households of these ids.
PROJECT_HOUSEHOLDS = select(Household.id).where(
    Household.project_id.in_(bindparam("project_ids", expanding=True))
)
_BUILT: dict[tuple[str, str], Select] = {}


class Statements:
    """Runs the indicators' statements. Building them (hundreds of SQLAlchemy objects, and
    their cache keys) took about 40 % of the page's time, so for a coordinator's whole projects —
    a scope that depends on nothing but the project ids — each statement is built once per
    process and dialect, with the period and the project ids as parameters. Any other scope
    (narrowed to the viewer by ``visible_households``) builds its statements on each call.

    ``build(scope, period)`` receives the scope and ``PERIOD_PARAMETERS``: it must take every
    date from that ``period``, never from the caller's."""

    def __init__(self, scope: Select | None, period: Period, project_ids: list[int]):
        self.scope = scope if scope is not None else PROJECT_HOUSEHOLDS
        self.shared = scope is None
        self.period = period
        self.parameters = {
            "period_start": period.start,
            "period_end": period.end,
            "project_ids": project_ids,
        }

    def execute(self, name: str, build):
        key = (db.session.get_bind().dialect.name, name)
        statement = _BUILT.get(key) if self.shared else None
        if statement is None:
            statement = build(self.scope, PERIOD_PARAMETERS)
            if self.shared:
                _BUILT[key] = statement
        return db.session.execute(statement, self.parameters)


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
