"""Programme indicators for coordinators and funders: who was supported, how, for how long,
how they left and how they fared; ``indicators()`` assembles every section and chart.

Every figure is computed in SQL (GROUP BY, COUNT, SUM, CASE, window functions) over the
households of ``scope_ids(user, project_ids)`` — built on ``visible_households`` — in six
statements whatever the number of households, each a pass over one table of the scope with
its sections side by side (conditional aggregates). Python only assembles the aggregated
rows (one per category or month), and the short rows of the households that left in the
period (``_exits``). Statements are built once per process where the scope allows it
(``Statements``). Definitions: docs/indicators.md."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, or_, select

from app.db import db
from app.households.models import Household, Orientation, OrientationKind, Prescriber
from app.housing.models import RentAccountSnapshot
from app.interventions.queries import contact_count
from app.projects.models import Project, TargetPublic
from app.reports.figures import (
    DAYS_PER_MONTH,
    HOUSED_AT_EXIT,
    ChartSeries,
    Figure,
    Indicators,
    Period,
    Section,
    Statements,
    _exits_in,
    _length_section,
    _one_decimal,
    _percent,
    _spans,
    _supported,
    _supported_on,
)
from app.reports.rent_indicators import (
    _arrears,
    _arrears_trend,
    _picked_snapshot,
    _plans_and_procedures,
    prevention_parts,
)
from app.reports.scope import covers_whole_projects, scope_ids
from app.reports.sql import side_by_side, sum_if
from app.search import contains
from app.sql import days_between, greatest, least, month_floor, month_key
from app.support.models import (
    ExitReason,
    HousingAtExit,
    IntensityChange,
    IntensityLevel,
    Measure,
    PostExitCheck,
)


@dataclass(frozen=True)
class Activity:
    """The sums over the scope's households of one statement (``_activity``): who was
    supported in the period, at its end, since the start; their days of support and contacts
    in the period; their publics; entries by month."""

    supported: int
    entries: int
    supported_at_end: int
    cumulative: int
    days: int
    contacts: int
    publics: dict[str, int]  # TargetPublic value (or "none") -> supported households
    entries_by_month: dict[str, int]


SUMS = ("supported", "supported_at_end", "cumulative", "days", "contacts")
PUBLICS = (*(public.value for public in TargetPublic), "none")


def _activity_statement(scope, period: Period):
    """One pass over the scope's households (``_spans`` joined to the household): one row per
    household with a flag or a number per indicator, summed by month of entry (entries in
    the period; every other household in one group) — a few rows."""
    spans = _spans(scope)
    supported = _supported(spans, period)
    entered = and_(spans.c.entry_on >= period.start, spans.c.entry_on <= period.end)
    span_end = case((spans.c.is_open == 1, period.end), else_=spans.c.last_closed_on)
    first = greatest(spans.c.entry_on, period.start)
    last = least(span_end, period.end)
    padded = literal(",") + Household.target_publics + literal(",")

    def flag(condition):
        return case((condition, 1), else_=0)

    people = (
        select(
            case((entered, month_key(spans.c.entry_on))).label("entry_month"),
            flag(supported).label("supported"),
            flag(_supported_on(spans, period.end)).label("supported_at_end"),
            flag(spans.c.entry_on <= period.end).label("cumulative"),
            case((supported, days_between(first, last) + 1), else_=0).label("days"),
            case(
                (supported, contact_count(spans.c.household_id, period.start, period.end)),
                else_=0,
            ).label("contacts"),
            *(
                flag(and_(supported, contains(padded, f",{public.value},"))).label(public.value)
                for public in TargetPublic
            ),
            flag(and_(supported, Household.target_publics == "")).label("none"),
        )
        .select_from(spans)
        .join(Household, Household.id == spans.c.household_id)
        .subquery()
    )
    return select(
        people.c.entry_month,
        func.count().label("households"),
        *(func.sum(people.c[name]).label(name) for name in (*SUMS, *PUBLICS)),
    ).group_by(people.c.entry_month)


def _activity(q: Statements) -> Activity:
    rows = q.execute("activity", _activity_statement).all()
    total = {name: sum(int(getattr(r, name)) for r in rows) for name in (*SUMS, *PUBLICS)}
    by_month = {r.entry_month: int(r.households) for r in rows if r.entry_month is not None}
    return Activity(
        supported=total["supported"],
        entries=sum(by_month.values()),
        supported_at_end=total["supported_at_end"],
        cumulative=total["cumulative"],
        days=total["days"],
        contacts=total["contacts"],
        publics={name: total[name] for name in PUBLICS},
        entries_by_month=by_month,
    )


@dataclass(frozen=True)
class ExitRow:
    reason: str
    housing_situation: str
    month: str  # YYYY-MM
    days: int | None  # length of support; None without a measure start
    entry_balance_cents: int | None  # rent account at entry (None: unknown)
    exit_balance_cents: int | None  # rent account at exit


def _exits_statement(scope, period: Period):
    """The households that left in the period (their latest exit, no measure open), one row
    each — a few dozen a year per project — with what the exit sections, the length of
    support and the arrears at entry and exit need: the rent accounts of the month of entry
    (or the first known after) and of the exit (the last known on or before it), picked by
    a correlated ``ORDER BY … LIMIT 1`` per household (see ``_picked_snapshot``)."""
    exits, in_period = _exits_in(scope, period)
    # The household's entry (its first measure's start, as in ``_spans``): a correlated MIN
    # on its measures. Joining ``_spans`` made SQLite scan every span for each exit.
    entry_on = (
        select(func.min(Measure.start_on))
        .where(Measure.household_id == exits.c.household_id)
        .correlate(exits)
        .scalar_subquery()
    )
    exited = (
        select(
            exits.c.household_id,
            exits.c.exit_on,
            exits.c.reason,
            exits.c.housing_situation,
            entry_on.label("entry_on"),
        )
        .where(in_period)
        .subquery()
    )
    picked = select(
        exited,
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
    return (
        select(
            picked.c.reason,
            picked.c.housing_situation,
            month_key(picked.c.exit_on),
            days_between(picked.c.entry_on, picked.c.exit_on),
            at_entry.c.balance_cents,
            at_exit.c.balance_cents,
        )
        .select_from(picked)
        .outerjoin(at_entry, at_entry.c.id == picked.c.entry_id)
        .outerjoin(at_exit, at_exit.c.id == picked.c.exit_id)
    )


def _exits(q: Statements) -> list[ExitRow]:
    return [
        ExitRow(reason, housing, month, None if days is None else int(days), entry, exit_)
        for reason, housing, month, days, entry, exit_ in q.execute("exits", _exits_statement)
    ]


def _headline(activity: Activity, exits: list[ExitRow], projects: list[Project]) -> Section:
    targets = [p.target_households for p in projects if p.target_households is not None]
    target = sum(targets) if targets else None
    return Section(
        "activite",
        "Activité de la période",
        [
            Figure("supported", "Ménages accompagnés dans la période", activity.supported),
            Figure("entries", "Entrées en accompagnement", activity.entries),
            Figure("exits", "Sorties d'accompagnement", len(exits)),
            Figure(
                "supported_at_end",
                "Ménages accompagnés à la fin de la période",
                activity.supported_at_end,
            ),
            Figure(
                "cumulative", "Ménages accompagnés depuis le début du projet", activity.cumulative
            ),
            Figure("target", "Objectif du projet (ménages)", target),
            Figure(
                "target_share",
                "Part de l'objectif atteinte",
                _percent(activity.cumulative, target or 0),
                "percent",
            ),
        ],
        "Un ménage est accompagné du début de sa première mesure à la clôture de sa dernière.",
    )


def _by_public(activity: Activity) -> Section:
    figures = [
        Figure(f"public_{p.value}", p.label, activity.publics[p.value], is_breakdown=True)
        for p in TargetPublic
    ]
    figures.append(
        Figure("public_none", "Aucun public renseigné", activity.publics["none"], is_breakdown=True)
    )
    return Section(
        "publics",
        "Ménages accompagnés par public",
        figures,
        "Un ménage peut relever de plusieurs publics : le total dépasse le nombre de ménages.",
    )


def _orientations_part(supported):
    """The latest orientation of each household supported in the period (``supported``: a
    common table expression of their ids; a correlated ``ORDER BY … LIMIT 1`` on its
    orientations), counted by prescriber and by kind in one row; households without one
    count as not given (``none``)."""
    latest = (
        select(Orientation.id)
        .where(Orientation.household_id == supported.c.household_id)
        .order_by(Orientation.oriented_on.desc(), Orientation.id.desc())
        .limit(1)
        .correlate(supported)
        .scalar_subquery()
    )
    picked = select(latest.label("orientation_id")).select_from(supported).subquery()
    return (
        select(
            *(
                sum_if(Orientation.prescriber == p.value).label(f"prescriber_{p.value}")
                for p in Prescriber
            ),
            *(
                sum_if(Orientation.kind == k.value).label(f"kind_{k.value}")
                for k in OrientationKind
            ),
            sum_if(picked.c.orientation_id.is_(None)).label("orientation_none"),
        )
        .select_from(picked)
        .outerjoin(Orientation, Orientation.id == picked.c.orientation_id)
        .subquery()
    )


def _by_orientation(row) -> list[Section]:
    """``row``: the one-row statement (``_orientations_part``'s columns)."""
    by_prescriber = {p.value: int(getattr(row, f"prescriber_{p.value}")) for p in Prescriber}
    by_kind = {k.value: int(getattr(row, f"kind_{k.value}")) for k in OrientationKind}
    by_prescriber["-"] = by_kind["-"] = int(row.orientation_none)
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


def _durations(exits: list[ExitRow]) -> list[int]:
    """Length of support in days of each household that left in the period, sorted."""
    return sorted(row.days for row in exits if row.days is not None)


def _intensity_statement(scope, period: Period):
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
    return (
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
    )


def _intensity_mix(q: Statements) -> Section:
    rows = q.execute("intensity", _intensity_statement).all()
    return Section(
        "intensite",
        "Répartition par intensité (à la fin de la période)",
        [Figure(f"intensity_{i}", name, int(n), is_breakdown=True) for i, name, n in rows],
        "Ménages accompagnés le dernier jour de la période, selon l'intensité la plus forte "
        "de leurs mesures ce jour-là.",
    )


def _contacts(activity: Activity) -> Section:
    """Contacts (missed appointments excluded) in the period of the households supported in
    it, divided by their months of support within the period."""
    days, count = activity.days, activity.contacts
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


def _exits_breakdown(exits: list[ExitRow]) -> list[Section]:
    reasons = Counter(row.reason for row in exits)
    housing = Counter(row.housing_situation for row in exits)
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


def _post_exit_12_part(scope, period: Period):
    """The 12-month checks due in the period: a one-row aggregate (``_one_row_statement``)."""
    return (
        select(
            func.count().label("check12_due"),
            sum_if(PostExitCheck.is_still_housed.is_(True)).label("check12_housed"),
            sum_if(PostExitCheck.is_still_housed.is_(False)).label("check12_not_housed"),
            sum_if(PostExitCheck.done_on.is_(None)).label("check12_not_done"),
        )
        .where(
            PostExitCheck.household_id.in_(scope),
            PostExitCheck.months == 12,
            PostExitCheck.due_on >= period.start,
            PostExitCheck.due_on <= period.end,
        )
        .subquery()
    )


def _one_row_statement(scope, period: Period):
    """Every section made of one-row aggregates, in one statement: the 12-month checks, the
    latest orientations, and the rent accounts and prevention figures (``prevention_parts``);
    the households supported in the period a common table expression, computed once."""
    spans = _spans(scope)
    supported = select(spans.c.household_id).where(_supported(spans, period)).cte("supported")
    return side_by_side(
        _post_exit_12_part(scope, period),
        _orientations_part(supported),
        *prevention_parts(scope, supported, period),
    )


def _post_exit_12(row) -> Section:
    """``row``: the one-row statement (``_post_exit_12_part``'s columns)."""
    due, housed = int(row.check12_due), int(row.check12_housed)
    not_housed, not_done = int(row.check12_not_housed), int(row.check12_not_done)
    done = due - not_done
    return Section(
        "suivi_12_mois",
        "Situation 12 mois après la sortie",
        [
            Figure("check12_due", "Vérifications à 12 mois échues dans la période", due),
            Figure("check12_housed", "Toujours logés", housed, is_breakdown=True),
            Figure("check12_not_housed", "Plus logés", not_housed, is_breakdown=True),
            Figure("check12_not_done", "Non renseignées", not_done, is_breakdown=True),
            Figure(
                "check12_housed_share",
                "Part toujours logés (vérifications faites)",
                _percent(housed, done),
                "percent",
                base=done,
            ),
        ],
        "Ménages dont la vérification à 12 mois tombait dans la période.",
    )


def _monthly_flows(activity: Activity, exits: list[ExitRow], period: Period) -> ChartSeries:
    entries = activity.entries_by_month
    exits_by_month = Counter(row.month for row in exits)
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


def indicators(user, project_ids, period: Period) -> Indicators:
    """Every programme indicator for the projects and the period (a fixed number of
    queries, each a pass over the scope's households or one of their tables)."""
    project_ids = list(project_ids)
    whole = covers_whole_projects(user, project_ids)
    scope = None if whole else scope_ids(user, project_ids, include_anonymised=True)
    q = Statements(scope, period, project_ids)
    projects = list(
        db.session.scalars(
            select(Project).where(Project.id.in_(project_ids or [-1])).order_by(Project.name)
        )
    )
    activity = _activity(q)
    exits = _exits(q)
    sections = [_headline(activity, exits, projects)]
    one_row = q.execute("one_row", _one_row_statement).one()
    sections += [_by_public(activity), *_by_orientation(one_row)]
    sections.append(_length_section(_durations(exits)))
    intensity = _intensity_mix(q)
    sections += [intensity, _contacts(activity)]
    exit_sections = _exits_breakdown(exits)
    sections += [*exit_sections, _post_exit_12(one_row)]
    sections += [_arrears(exits, one_row), _plans_and_procedures(exits, one_row)]
    housing_at_exit = exit_sections[1]
    charts = {
        "flux": _monthly_flows(activity, exits, period),
        "intensite": ChartSeries(
            "intensite",
            intensity.title,
            ("Ménages",),
            [(f.label, (f.value,)) for f in intensity.figures],
            ("count",),
        ),
        "impayes": _arrears_trend(q),
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
    return Indicators(period, projects, sections, charts)
