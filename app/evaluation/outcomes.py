"""Outcomes of the households, computed from what is already recorded: the status of each
entry cohort at exit and 6, 12 and 24 months after entry, arrears at entry, at the last known
month and at exit, times from orientation to adhesion and to the lease, support duration and
intensity path. Definitions: docs/indicators.md, part « Évaluation ».

Every table is a few grouped queries over one per-household subquery; the drill-down to the
households a row counts (``row_households``) filters the same subquery, so a row's count and
its list cannot disagree. A household enters the programme on its first measure's start and
leaves on its latest exit once all its measures are closed (``app/reports/figures.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, and_, case, extract, func, literal, or_, select

from app.dates import add_months
from app.evaluation.tables import Column, EvaluationScope, FigureTable, Kind, Row, provider
from app.households.models import Adhesion, Household, Orientation
from app.housing.models import Occupancy, RentAccountSnapshot
from app.reports.figures import Period, _latest_exits, _spans, _supported, median
from app.reports.rent_indicators import _picked_snapshot
from app.reports.sql import literal_date, sum_if
from app.sql import days_between, month_floor, shift
from app.support.models import (
    ExitReason,
    HousingAtExit,
    IntensityChange,
    IntensityLevel,
    Measure,
    PostExitCheck,
)

COHORT_YEARS = 4  # the scope's year and the three before it
MOMENTS = (("exit", None), ("6m", 6), ("12m", 12), ("24m", 24))
STATUSES = (
    ("maintenu", "Dans leur logement"),
    ("glissement", "Bail glissé à leur nom"),
    ("autre_logement", "Dans un autre logement ordinaire"),
    ("heberge", "Relogés ailleurs (hébergement, tiers)"),
    ("expulse", "Expulsés"),
    ("perdu_de_vue", "Perdus de vue"),
    ("autre", "Autre situation"),
    ("sans_bail", "Encore accompagnés, sans bail en cours"),
    ("inconnu", "Pas encore connu"),
)
DRILLDOWNS: dict[str, Callable[[Select, EvaluationScope, str], Select | None]] = {}
# The French title of every table offering a drill-down (the drill-down page's heading).
TITLES: dict[str, str] = {
    "outcomes.status_exit": "Situation à la sortie, par année d'entrée",
    "outcomes.status_6m": "Situation 6 mois après l'entrée, par année d'entrée",
    "outcomes.status_12m": "Situation 12 mois après l'entrée, par année d'entrée",
    "outcomes.status_24m": "Situation 24 mois après l'entrée, par année d'entrée",
    "outcomes.delays": "Délais depuis l'orientation",
    "outcomes.support_duration": "Durée d'accompagnement des ménages sortis dans l'année",
    "outcomes.intensity_path": "Parcours d'intensité des ménages accompagnés dans l'année",
}


def households_of(project_ids) -> Select:
    """Every household of the projects, anonymised ones included (as the indicators)."""
    return select(Household.id).where(Household.project_id.in_(list(project_ids) or [-1]))


def _period(scope: EvaluationScope) -> Period:
    return Period(scope.start, min(scope.end, scope.as_of))


def _drilldown(key: str, row: str, scope: EvaluationScope) -> dict[str, str]:
    """The drill-down arguments of a row (the project comes from the page showing it)."""
    return {"table": key, "row": row, "year": str(scope.year), "as_of": scope.as_of.isoformat()}


# --- status by cohort -------------------------------------------------------------------------


def _exit_status(exits):
    return case(
        (exits.c.reason == ExitReason.EXPULSION.value, "expulse"),
        (exits.c.is_lease_glissed.is_(True), "glissement"),
        (exits.c.housing_situation == HousingAtExit.MAINTENU.value, "maintenu"),
        (
            exits.c.housing_situation.in_(
                (HousingAtExit.LOGEMENT_SOCIAL.value, HousingAtExit.LOGEMENT_PRIVE.value)
            ),
            "autre_logement",
        ),
        (
            exits.c.housing_situation.in_(
                (HousingAtExit.HEBERGEMENT.value, HousingAtExit.TIERS.value)
            ),
            "heberge",
        ),
        (exits.c.housing_situation == HousingAtExit.INCONNU.value, "perdu_de_vue"),
        else_="autre",
    )


def _cohorts(scope: EvaluationScope):
    """One row per household whose entry falls in the cohort years: its cohort and its
    status at exit and at each moment after entry (see the docs for the rules)."""
    households = households_of(scope.project_ids)
    spans = _spans(households)
    latest = _latest_exits(households)
    exits = select(latest).where(latest.c.exit_on <= scope.as_of).subquery()
    cohort = extract("year", spans.c.entry_on)
    exit_status = _exit_status(exits)
    columns = [
        spans.c.household_id,
        cohort.label("cohort"),
        case((exits.c.exit_on.is_not(None), exit_status), else_="inconnu").label("s_exit"),
    ]
    for name, months in MOMENTS[1:]:
        day = shift(spans.c.entry_on, months=months)
        cutoff = add_months(scope.as_of, -months)
        lease_open = and_(
            Occupancy.household_id == spans.c.household_id,
            Occupancy.start_on <= day,
            or_(Occupancy.end_on.is_(None), Occupancy.end_on >= day),
        )
        glissed = select(Occupancy.id).where(lease_open, Occupancy.glissed_on <= day).exists()
        leased = select(Occupancy.id).where(lease_open).exists()
        no_longer_housed = (
            select(PostExitCheck.id)
            .where(
                PostExitCheck.household_id == spans.c.household_id,
                PostExitCheck.done_on <= day,
                PostExitCheck.is_still_housed.is_(False),
            )
            .exists()
        )
        columns.append(
            case(
                (spans.c.entry_on > cutoff, "inconnu"),
                (
                    and_(exits.c.exit_on.is_not(None), exits.c.exit_on <= day),
                    case(
                        (
                            and_(
                                exit_status.in_(
                                    ("maintenu", "glissement", "autre_logement", "heberge")
                                ),
                                no_longer_housed,
                            ),
                            "autre",
                        ),
                        else_=exit_status,
                    ),
                ),
                (glissed, "glissement"),
                (leased, "maintenu"),
                else_="sans_bail",
            ).label(f"s_{name}")
        )
    return (
        select(*columns)
        .select_from(spans)
        .outerjoin(exits, exits.c.household_id == spans.c.household_id)
        .where(
            spans.c.entry_on >= date(scope.year - COHORT_YEARS + 1, 1, 1),
            spans.c.entry_on <= min(scope.end, scope.as_of),
        )
        .subquery()
    )


def _cohort_years(scope: EvaluationScope) -> list[int]:
    return [scope.year - COHORT_YEARS + 1 + i for i in range(COHORT_YEARS)]


def _status_tables(session, scope: EvaluationScope) -> list[FigureTable]:
    people = _cohorts(scope)
    moment_columns = [getattr(people.c, f"s_{name}") for name, _ in MOMENTS]
    grouped = session.execute(
        select(people.c.cohort, *moment_columns, func.count()).group_by(
            people.c.cohort, *moment_columns
        )
    ).all()
    years = _cohort_years(scope)
    columns = (
        *(Column(key, label, Kind.COUNT) for key, label in STATUSES),
        Column("total", "Ménages de la cohorte", Kind.COUNT),
    )
    tables = []
    for index, (name, _) in enumerate(MOMENTS):
        counts: dict[tuple[int, str], int] = {}
        for row in grouped:
            key = (int(row[0]), row[1 + index])
            counts[key] = counts.get(key, 0) + int(row[-1])
        key = f"outcomes.status_{name}"
        rows = []
        for year in years:
            values = [counts.get((year, status), 0) for status, _ in STATUSES]
            rows.append(
                Row(
                    str(year),
                    f"Entrés en {year}",
                    (*values, sum(values)),
                    _drilldown(key, str(year), scope),
                )
            )
        totals = tuple(sum(r.values[i] for r in rows) for i in range(len(columns)))
        rows.append(Row("total", "Total", totals, _drilldown(key, "total", scope)))
        tables.append(
            FigureTable(
                key,
                "outcomes",
                TITLES[key],
                "evaluation-outcomes-status",
                columns,
                tuple(rows),
                row_total=True,
                column_total=True,
            )
        )
    return tables


def _status_households(households: Select, scope: EvaluationScope, row: str) -> Select | None:
    people = _cohorts(scope)
    query = select(people.c.household_id).where(people.c.household_id.in_(households))
    if row == "total":
        return query
    if row not in {str(year) for year in _cohort_years(scope)}:
        return None
    return query.where(people.c.cohort == int(row))


for _name, _ in MOMENTS:
    DRILLDOWNS[f"outcomes.status_{_name}"] = _status_households


# --- times from orientation -------------------------------------------------------------------


def _delays(scope: EvaluationScope, target: str):
    """One row per household whose first adhesion (or first lease) falls in the year:
    ``household_id, days`` from its first orientation to that date."""
    households = households_of(scope.project_ids)
    if target == "adhesion":
        event = (
            select(Adhesion.household_id, func.min(Adhesion.signed_on).label("on"))
            .where(Adhesion.household_id.in_(households))
            .group_by(Adhesion.household_id)
            .subquery()
        )
    else:
        event = (
            select(Occupancy.household_id, func.min(Occupancy.start_on).label("on"))
            .where(Occupancy.household_id.in_(households))
            .group_by(Occupancy.household_id)
            .subquery()
        )
    oriented = (
        select(Orientation.household_id, func.min(Orientation.oriented_on).label("on"))
        .where(Orientation.household_id.in_(households))
        .group_by(Orientation.household_id)
        .subquery()
    )
    period = _period(scope)
    return (
        select(event.c.household_id, days_between(oriented.c.on, event.c.on).label("days"))
        .join(oriented, oriented.c.household_id == event.c.household_id)
        .where(
            event.c.on >= period.start,
            event.c.on <= period.end,
            oriented.c.on <= event.c.on,
        )
        .subquery()
    )


DELAY_ROWS = (
    ("adhesion", "De l'orientation à l'adhésion"),
    ("bail", "De l'orientation au début du bail"),
)


def delay_rows(session, scope: EvaluationScope, key: str) -> tuple[Row, ...]:
    rows = []
    for target, label in DELAY_ROWS:
        delays = _delays(scope, target)
        days = sorted(int(d) for d in session.scalars(select(delays.c.days)))
        rows.append(Row(target, label, (len(days), median(days)), _drilldown(key, target, scope)))
    return tuple(rows)


def _delay_households(households: Select, scope: EvaluationScope, row: str) -> Select | None:
    if row not in dict(DELAY_ROWS):
        return None
    delays = _delays(scope, row)
    return select(delays.c.household_id).where(delays.c.household_id.in_(households))


DRILLDOWN_DELAYS = "outcomes.delays"
DRILLDOWNS[DRILLDOWN_DELAYS] = _delay_households
DELAY_COLUMNS = (
    Column("households", "Ménages", Kind.COUNT),
    Column("median_days", "Durée médiane (jours)", Kind.DAYS),
)


# --- support duration -------------------------------------------------------------------------


def _exited(scope: EvaluationScope):
    """Households whose latest exit (all measures closed) falls in the year, with their
    support duration in days (first measure's start to that exit)."""
    households = households_of(scope.project_ids)
    spans = _spans(households)
    exits = _latest_exits(households)
    period = _period(scope)
    return (
        select(
            exits.c.household_id,
            days_between(spans.c.entry_on, exits.c.exit_on).label("days"),
        )
        .join(spans, spans.c.household_id == exits.c.household_id)
        .where(exits.c.exit_on >= period.start, exits.c.exit_on <= period.end)
        .subquery()
    )


def _duration_table(session, scope: EvaluationScope) -> FigureTable:
    exited = _exited(scope)
    days = sorted(int(d) for d in session.scalars(select(exited.c.days)))
    key = "outcomes.support_duration"
    mean = (Decimal(sum(days)) / len(days)).quantize(Decimal("0.1")) if days else None
    return FigureTable(
        key,
        "outcomes",
        TITLES[key],
        "evaluation-outcomes-duration",
        (
            Column("households", "Ménages sortis", Kind.COUNT),
            Column("median_days", "Durée médiane (jours)", Kind.DAYS),
            Column("mean_days", "Durée moyenne (jours)", Kind.DAYS),
        ),
        (
            Row(
                "exited",
                "Sortis dans l'année",
                (len(days), median(days), mean),
                _drilldown(key, "exited", scope),
            ),
        ),
    )


def _exited_households(households: Select, scope: EvaluationScope, row: str) -> Select | None:
    if row != "exited":
        return None
    exited = _exited(scope)
    return select(exited.c.household_id).where(exited.c.household_id.in_(households))


DRILLDOWNS["outcomes.support_duration"] = _exited_households


# --- intensity path ---------------------------------------------------------------------------

PATHS = (
    ("down", "Intensité allégée"),
    ("up", "Intensité renforcée"),
    ("same", "Intensité inchangée"),
)


def _paths(scope: EvaluationScope):
    """One row per household supported in the year: ``down``, ``up`` or ``same`` comparing
    the level its support started at (the first recorded intensity of its measures: opening
    a measure records a change from no level) with the level its last change up to the end
    of the year reached, by caseload weight then contact rhythm.

    Both levels are correlated ``ORDER BY … LIMIT 1`` probes on the household's changes
    (indexes on ``measure.household_id`` and ``intensity_change.measure_id``): two
    ``ROW_NUMBER()`` windows over the scope's changes, self-joined, took 1 s on PostgreSQL
    (national data) and 3.7 s in the drill-down."""
    households = households_of(scope.project_ids)
    spans = _spans(households)
    period = _period(scope)
    supported = select(spans.c.household_id).where(_supported(spans, period)).subquery()

    def probe(level, order):
        return (
            select(level)
            .join(Measure, Measure.id == IntensityChange.measure_id)
            .where(
                Measure.household_id == supported.c.household_id,
                IntensityChange.changed_on <= period.end,
            )
            .order_by(*order)
            .limit(1)
            .correlate(supported)
            .scalar_subquery()
        )

    levels = select(
        supported.c.household_id,
        probe(
            func.coalesce(IntensityChange.from_level_id, IntensityChange.to_level_id),
            (IntensityChange.changed_on.asc(), IntensityChange.id.asc()),
        ).label("first_id"),
        probe(
            IntensityChange.to_level_id,
            (IntensityChange.changed_on.desc(), IntensityChange.id.desc()),
        ).label("last_id"),
    ).subquery()
    before = IntensityLevel.__table__.alias("before_level")
    after = IntensityLevel.__table__.alias("after_level")
    weight_before = before.c.caseload_weight * 10000 - before.c.contact_every_days
    weight_after = after.c.caseload_weight * 10000 - after.c.contact_every_days
    return (
        select(
            levels.c.household_id,
            case(
                (weight_after < weight_before, "down"),
                (weight_after > weight_before, "up"),
                else_=literal("same"),
            ).label("path"),
        )
        .outerjoin(before, before.c.id == levels.c.first_id)
        .outerjoin(after, after.c.id == levels.c.last_id)
        .subquery()
    )


def _path_table(session, scope: EvaluationScope) -> FigureTable:
    paths = _paths(scope)
    counts = dict(session.execute(select(paths.c.path, func.count()).group_by(paths.c.path)).all())
    key = "outcomes.intensity_path"
    rows = [
        Row(path, label, (int(counts.get(path, 0)),), _drilldown(key, path, scope))
        for path, label in PATHS
    ]
    rows.append(
        Row(
            "total",
            "Ménages accompagnés dans l'année",
            (sum(r.values[0] for r in rows),),
            _drilldown(key, "total", scope),
        )
    )
    return FigureTable(
        key,
        "outcomes",
        TITLES[key],
        "evaluation-outcomes-intensity-path",
        (Column("households", "Ménages", Kind.COUNT),),
        tuple(rows),
        row_total=True,
    )


def _path_households(households: Select, scope: EvaluationScope, row: str) -> Select | None:
    paths = _paths(scope)
    query = select(paths.c.household_id).where(paths.c.household_id.in_(households))
    if row == "total":
        return query
    if row not in dict(PATHS):
        return None
    return query.where(paths.c.path == row)


DRILLDOWNS["outcomes.intensity_path"] = _path_households


# --- arrears ----------------------------------------------------------------------------------


def _arrears_table(session, scope: EvaluationScope) -> FigureTable:
    """Arrears (a positive rent-account balance) of the households supported in the year at
    entry and at the last known month, and of those who left in it at exit."""
    households = households_of(scope.project_ids)
    spans = _spans(households)
    period = _period(scope)
    people = (
        select(spans.c.household_id, spans.c.entry_on).where(_supported(spans, period)).subquery()
    )
    exited = _exited(scope)
    exits = _latest_exits(households)
    exited_people = (
        select(exits.c.household_id, exits.c.exit_on)
        .where(exits.c.household_id.in_(select(exited.c.household_id)))
        .subquery()
    )
    end = literal_date(period.end)
    picks = {
        "entry": (
            people,
            _picked_snapshot(
                people,
                lambda s, p: and_(s.c.month >= month_floor(p.c.entry_on), s.c.month <= end),
                latest=False,
            ),
        ),
        "last": (people, _picked_snapshot(people, lambda s, p: s.c.month <= end, latest=True)),
        "exit": (
            exited_people,
            _picked_snapshot(exited_people, lambda s, p: s.c.month <= p.c.exit_on, latest=True),
        ),
    }
    labels = {
        "entry": "À l'entrée",
        "last": "Au dernier mois connu de l'année",
        "exit": "À la sortie (sortis dans l'année)",
    }
    rows = []
    snapshot = RentAccountSnapshot.__table__
    for name, (source, picked) in picks.items():
        ids = select(picked.label("snapshot_id")).select_from(source).subquery()
        row = session.execute(
            select(
                func.count().label("known"),
                sum_if(snapshot.c.balance_cents > 0).label("in_arrears"),
                sum_if(snapshot.c.balance_cents > 0, snapshot.c.balance_cents).label("cents"),
            )
            .select_from(ids)
            .join(snapshot, snapshot.c.id == ids.c.snapshot_id)
        ).one()
        rows.append(
            Row(
                name,
                labels[name],
                (int(row.known), int(row.in_arrears), Decimal(int(row.cents)) / 100),
            )
        )
    return FigureTable(
        "outcomes.arrears",
        "outcomes",
        "Impayés de loyer à l'entrée, au dernier mois connu et à la sortie",
        "evaluation-outcomes-arrears",
        (
            Column("known", "Ménages dont le compte est connu", Kind.COUNT),
            Column("in_arrears", "Dont en impayé", Kind.COUNT),
            Column("amount", "Montant des impayés (€)", Kind.AMOUNT),
        ),
        tuple(rows),
    )


@provider
def outcomes(session, scope: EvaluationScope) -> list[FigureTable]:
    tables = _status_tables(session, scope)
    tables.append(
        FigureTable(
            DRILLDOWN_DELAYS,
            "outcomes",
            TITLES[DRILLDOWN_DELAYS],
            "evaluation-outcomes-delays",
            DELAY_COLUMNS,
            delay_rows(session, scope, DRILLDOWN_DELAYS),
        )
    )
    tables += [
        _duration_table(session, scope),
        _path_table(session, scope),
        _arrears_table(session, scope),
    ]
    return tables
