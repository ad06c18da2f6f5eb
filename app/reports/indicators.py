"""Programme indicators for coordinators and funders: who was supported, how, for how long,
how they left and how they fared; ``indicators()`` assembles every section and chart.

Every figure is computed in SQL (GROUP BY, COUNT, SUM, CASE, window functions) over the
households of ``scope_ids(user, project_ids)`` — built on ``visible_households`` — so a page
issues a fixed number of queries whatever the number of households. Python only assembles
the aggregated rows (one per category or month). Definitions: docs/indicators.md."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import and_, case, func, literal, or_, select

from app.db import db
from app.households.models import Household, Orientation, OrientationKind, Prescriber
from app.interventions.models import Intervention
from app.interventions.queries import contact_counts
from app.projects.models import Project, TargetPublic
from app.reports.figures import (
    DAYS_PER_MONTH,
    HOUSED_AT_EXIT,
    ChartSeries,
    Figure,
    Indicators,
    Period,
    Section,
    _exits_in,
    _one_decimal,
    _percent,
    _spans,
    _supported,
    _supported_ids,
    _supported_on,
)
from app.reports.rent_indicators import _arrears, _arrears_trend, _plans_and_procedures
from app.reports.scope import scope_ids
from app.reports.sql import literal_date, sum_if
from app.search import contains
from app.sql import days_between, greatest, least, month_key
from app.support.models import (
    ExitReason,
    HousingAtExit,
    IntensityChange,
    IntensityLevel,
    Measure,
    PostExitCheck,
)


def _headline(scope, period: Period, project_ids) -> Section:
    spans = _spans(scope)
    exits, in_period = _exits_in(scope, period)
    row = db.session.execute(
        select(
            sum_if(_supported(spans, period)).label("supported"),
            sum_if(and_(spans.c.entry_on >= period.start, spans.c.entry_on <= period.end)).label(
                "entries"
            ),
            sum_if(_supported_on(spans, period.end)).label("supported_at_end"),
            sum_if(spans.c.entry_on <= period.end).label("cumulative"),
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
        sum_if(contains(padded, f",{public.value},")).label(public.value) for public in TargetPublic
    ]
    row = db.session.execute(
        select(*columns, sum_if(Household.target_publics == "").label("none")).where(
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
    first = greatest(spans.c.entry_on, literal_date(period.start))
    last = least(span_end, literal_date(period.end))
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
            sum_if(exits.c.is_lease_glissed.is_(True)).label("glissed"),
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
            sum_if(PostExitCheck.is_still_housed.is_(True)).label("housed"),
            sum_if(PostExitCheck.is_still_housed.is_(False)).label("not_housed"),
            sum_if(PostExitCheck.done_on.is_(None)).label("not_done"),
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
