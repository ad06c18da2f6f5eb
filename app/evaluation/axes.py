"""Four of the programme's evaluation axes — partnership, fit with the targeted publics,
support modes, adhesion — as figure tables (co-financing is ``app/evaluation/money.py``).
Definitions: docs/indicators.md, part « Évaluation ».

The households counted are those of ``app/reports/figures.py``: supported in the year means
under a measure at some point of it (first measure's start to latest closing). Every table is
one or two grouped queries; the rows counting households expose their drill-down through
``DRILLDOWNS`` with the same query as their count."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, and_, case, func, literal, or_, select

from app.evaluation.outcomes import (
    DELAY_COLUMNS,
    DRILLDOWNS,
    TITLES,
    _delay_households,
    _drilldown,
    _period,
    delay_rows,
    households_of,
)
from app.evaluation.tables import Column, EvaluationScope, FigureTable, Kind, Row, provider
from app.households.models import Adhesion, Consent, Household, IncomeSource
from app.interventions.models import Intervention, InterventionMode
from app.interventions.queries import _counts, _is_contact
from app.partners.models import Partner, PartnerDomain, Referral, TripartiteMeeting
from app.projects.models import Project, TargetPublic
from app.reports.figures import DAYS_PER_MONTH, _exits_in, _spans, _supported
from app.reports.sql import literal_date, sum_if
from app.search import contains
from app.sql import days_between, greatest, least
from app.support.models import ExitReason, IntensityChange, IntensityLevel, Measure


def _supported_ids(scope: EvaluationScope) -> Select:
    spans = _spans(households_of(scope.project_ids))
    return select(spans.c.household_id).where(_supported(spans, _period(scope)))


def _two(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _household_days(session, scope: EvaluationScope, ids: Select | None = None) -> int:
    """Days of support within the year of the households supported in it (of ``ids``)."""
    period = _period(scope)
    spans = _spans(households_of(scope.project_ids))
    span_end = case((spans.c.is_open == 1, period.end), else_=spans.c.last_closed_on)
    first = greatest(spans.c.entry_on, literal_date(period.start))
    last = least(span_end, literal_date(period.end))
    query = select(func.coalesce(func.sum(days_between(first, last) + 1), 0)).where(
        _supported(spans, period)
    )
    if ids is not None:
        query = query.where(spans.c.household_id.in_(ids))
    return int(session.scalar(query))


# --- partnership ------------------------------------------------------------------------------

REFERRAL_OUTCOMES = (
    ("en_cours", "En cours (envoyées, acceptées)", ("envoyee", "acceptee")),
    ("realisee", "Réalisées", ("realisee",)),
    ("refusee", "Refusées", ("refusee",)),
    ("abandonnee", "Abandonnées", ("abandonnee",)),
)


def _referrals(session, scope: EvaluationScope) -> FigureTable:
    period = _period(scope)
    grouped = session.execute(
        select(Partner.domain, Referral.status, func.count())
        .join(Partner, Partner.id == Referral.partner_id)
        .where(
            Referral.household_id.in_(households_of(scope.project_ids)),
            Referral.referred_on >= period.start,
            Referral.referred_on <= period.end,
        )
        .group_by(Partner.domain, Referral.status)
    ).all()
    counts = {(domain, status): int(n) for domain, status, n in grouped}
    rows = []
    for domain in PartnerDomain:
        values = [
            sum(counts.get((domain.value, s), 0) for s in statuses)
            for _, _, statuses in REFERRAL_OUTCOMES
        ]
        rows.append(Row(domain.value, domain.label, (*values, sum(values))))
    totals = tuple(sum(r.values[i] for r in rows) for i in range(len(REFERRAL_OUTCOMES) + 1))
    rows.append(Row("total", "Total", totals))
    return FigureTable(
        "partnership.referrals",
        "partnership",
        "Orientations vers les partenaires par domaine et suite donnée",
        "evaluation-partnership-referrals",
        (
            *(Column(key, label, Kind.NUMBER) for key, label, _ in REFERRAL_OUTCOMES),
            Column("total", "Orientations", Kind.NUMBER),
        ),
        tuple(rows),
        row_total=True,
        column_total=True,
    )


def _partnership_activity(session, scope: EvaluationScope) -> FigureTable:
    period = _period(scope)
    households = households_of(scope.project_ids)
    row = session.execute(
        select(
            select(func.count(func.distinct(Referral.partner_id)))
            .where(
                Referral.household_id.in_(households),
                Referral.referred_on >= period.start,
                Referral.referred_on <= period.end,
            )
            .scalar_subquery()
            .label("partners"),
            select(func.count())
            .where(
                TripartiteMeeting.household_id.in_(households),
                TripartiteMeeting.held_on >= period.start,
                TripartiteMeeting.held_on <= period.end,
            )
            .scalar_subquery()
            .label("meetings"),
            select(func.count())
            .where(
                Intervention.household_id.in_(households),
                _counts(),
                Intervention.mode == InterventionMode.VISITE_CONJOINTE.value,
                Intervention.occurred_on >= period.start,
                Intervention.occurred_on <= period.end,
            )
            .scalar_subquery()
            .label("joint_visits"),
        )
    ).one()
    days = _household_days(session, scope)
    years = _two(Decimal(days) / Decimal("365.25"))
    per_year = _two(Decimal(int(row.meetings)) * Decimal("365.25") / days) if days else None
    return FigureTable(
        "partnership.activity",
        "partnership",
        "Partenaires mobilisés, rencontres tripartites et contacts bailleur–accompagnement",
        "evaluation-partnership-activity",
        (
            Column("partners", "Partenaires mobilisés", Kind.NUMBER),
            Column("meetings", "Rencontres tripartites", Kind.NUMBER),
            Column("household_years", "Années-ménages d'accompagnement", Kind.RATIO),
            Column("meetings_per_household_year", "Rencontres par année-ménage", Kind.RATIO),
            Column("joint_visits", "Visites conjointes avec le bailleur", Kind.NUMBER),
        ),
        (
            Row(
                "year",
                str(scope.year),
                (int(row.partners), int(row.meetings), years, per_year, int(row.joint_visits)),
            ),
        ),
    )


# --- publics ----------------------------------------------------------------------------------


def _padded(column):
    return literal(",") + column + literal(",")


def _public_condition(public: str):
    if public == "none":
        return Household.target_publics == ""
    return contains(_padded(Household.target_publics), f",{public},")


def _publics(session, scope: EvaluationScope) -> FigureTable:
    supported = _supported_ids(scope)
    publics = [p.value for p in TargetPublic]
    households = session.execute(
        select(
            *(sum_if(_public_condition(p)).label(p) for p in publics),
            sum_if(_public_condition("none")).label("none"),
        ).where(Household.id.in_(supported))
    ).one()
    declared = session.execute(
        select(
            *(sum_if(contains(_padded(Project.target_publics), f",{p},")).label(p) for p in publics)
        ).where(Project.id.in_(list(scope.project_ids) or [-1]))
    ).one()
    key = "publics.targets"
    rows = [
        Row(
            p.value,
            p.label,
            (int(getattr(declared, p.value)), int(getattr(households, p.value))),
            _drilldown(key, p.value, scope),
        )
        for p in TargetPublic
    ]
    rows.append(
        Row(
            "none",
            "Aucun public renseigné",
            (0, int(households.none)),
            _drilldown(key, "none", scope),
        )
    )
    return FigureTable(
        key,
        "publics",
        TITLES[key],
        "evaluation-publics-targets",
        (
            Column("declared", "Projets visant ce public", Kind.NUMBER),
            Column("households", "Ménages accompagnés", Kind.COUNT),
        ),
        tuple(rows),
        notes=("Un ménage peut relever de plusieurs publics.",),
    )


def _public_households(households: Select, scope: EvaluationScope, row: str) -> Select | None:
    if row != "none" and row not in {p.value for p in TargetPublic}:
        return None
    return select(Household.id).where(
        Household.id.in_(_supported_ids(scope)),
        Household.id.in_(households),
        _public_condition(row),
    )


DRILLDOWNS["publics.targets"] = _public_households
TITLES["publics.targets"] = "Publics visés par le projet et publics accompagnés"


def _source_condition(source: str):
    if source == "none":
        return Household.income_sources == ""
    return contains(_padded(Household.income_sources), f",{source},")


def _resources(session, scope: EvaluationScope) -> FigureTable:
    supported = _supported_ids(scope)
    sources = [s.value for s in IncomeSource]
    row = session.execute(
        select(
            *(sum_if(_source_condition(s)).label(s) for s in sources),
            sum_if(_source_condition("none")).label("none"),
        ).where(Household.id.in_(supported))
    ).one()
    key = "publics.resources"
    rows = [
        Row(s.value, s.label, (int(getattr(row, s.value)),), _drilldown(key, s.value, scope))
        for s in IncomeSource
    ]
    rows.append(Row("none", "Non renseignées", (int(row.none),), _drilldown(key, "none", scope)))
    return FigureTable(
        key,
        "publics",
        TITLES[key],
        "evaluation-publics-resources",
        (Column("households", "Ménages accompagnés", Kind.COUNT),),
        tuple(rows),
        notes=(
            "Ressources telles qu'enregistrées au dossier (la situation à l'entrée n'est pas "
            "historisée) ; un ménage peut en avoir plusieurs.",
        ),
    )


def _resource_households(households: Select, scope: EvaluationScope, row: str) -> Select | None:
    if row != "none" and row not in {s.value for s in IncomeSource}:
        return None
    return select(Household.id).where(
        Household.id.in_(_supported_ids(scope)),
        Household.id.in_(households),
        _source_condition(row),
    )


DRILLDOWNS["publics.resources"] = _resource_households
TITLES["publics.resources"] = "Ressources des ménages accompagnés"


# --- support modes ----------------------------------------------------------------------------


def _contact_modes(session, scope: EvaluationScope) -> FigureTable:
    period = _period(scope)
    counts = dict(
        session.execute(
            select(Intervention.mode, func.count())
            .where(
                Intervention.household_id.in_(households_of(scope.project_ids)),
                _counts(),
                Intervention.occurred_on >= period.start,
                Intervention.occurred_on <= period.end,
            )
            .group_by(Intervention.mode)
        ).all()
    )
    rows = [Row(m.value, m.label, (int(counts.get(m.value, 0)),)) for m in InterventionMode]
    rows.append(Row("total", "Total", (sum(r.values[0] for r in rows),)))
    return FigureTable(
        "support.contact_modes",
        "support",
        "Interventions de l'année par mode de contact",
        "evaluation-support-contact-modes",
        (Column("interventions", "Interventions", Kind.NUMBER),),
        tuple(rows),
        row_total=True,
    )


def _levels_at_end(scope: EvaluationScope):
    """The households supported on the year's last day (or ``as_of``), each with the
    heaviest intensity level of its measures open that day (as the indicators' mix)."""
    day = _period(scope).end
    households = households_of(scope.project_ids)
    latest_level = (
        select(IntensityChange.to_level_id)
        .where(IntensityChange.measure_id == Measure.id, IntensityChange.changed_on <= day)
        .order_by(IntensityChange.changed_on.desc(), IntensityChange.id.desc())
        .limit(1)
        .correlate(Measure)
        .scalar_subquery()
    )
    per_measure = (
        select(
            Measure.household_id,
            func.coalesce(latest_level, Measure.intensity_level_id).label("level_id"),
        )
        .where(
            Measure.household_id.in_(households),
            Measure.start_on <= day,
            or_(Measure.closed_on.is_(None), Measure.closed_on >= day),
        )
        .subquery()
    )
    ranked = (
        select(
            per_measure.c.household_id,
            IntensityLevel.name,
            IntensityLevel.contact_every_days,
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
    return (
        select(ranked.c.household_id, ranked.c.name, ranked.c.contact_every_days)
        .where(ranked.c.rank == 1)
        .subquery()
    )


def _rhythm(session, scope: EvaluationScope) -> FigureTable:
    """Per intensity level at the end of the year: households, their contacts in the year per
    month of support in the year, and the monthly rhythm the level expects."""
    period = _period(scope)
    levels = _levels_at_end(scope)
    spans = _spans(households_of(scope.project_ids))
    span_end = case((spans.c.is_open == 1, period.end), else_=spans.c.last_closed_on)
    first = greatest(spans.c.entry_on, literal_date(period.start))
    last = least(span_end, literal_date(period.end))
    days = (
        select(spans.c.household_id, (days_between(first, last) + 1).label("days"))
        .where(_supported(spans, period))
        .subquery()
    )
    # Each household's contacts counted by its own index range (household, date) rather than
    # one grouped subquery joined back: once psycopg prepares the statement, PostgreSQL's
    # generic plan nested-looped that join over the whole aggregate (0.6-0.7 s instead of
    # 30 ms for the largest project, docs/performance.md); this shape has one plan only.
    contacts = (
        select(func.count())
        .where(
            Intervention.household_id == levels.c.household_id,
            _is_contact(),
            Intervention.occurred_on >= period.start,
            Intervention.occurred_on <= period.end,
        )
        .correlate(levels)
        .scalar_subquery()
    )
    per_household = select(
        levels.c.name, levels.c.contact_every_days, days.c.days, contacts.label("n")
    ).join(days, days.c.household_id == levels.c.household_id)
    counted = per_household.subquery()
    grouped = session.execute(
        select(
            counted.c.name,
            func.min(counted.c.contact_every_days),
            func.count(),
            func.coalesce(func.sum(counted.c.days), 0),
            func.coalesce(func.sum(counted.c.n), 0),
        )
        .group_by(counted.c.name)
        .order_by(func.min(counted.c.contact_every_days), counted.c.name)
    ).all()
    key = "support.intensity_rhythm"
    rows = []
    for name, every, n, day_count, contact_count in grouped:
        months = Decimal(int(day_count)) / DAYS_PER_MONTH
        observed = _two(Decimal(int(contact_count)) / months) if day_count else None
        rows.append(
            Row(
                name,
                name,
                (int(n), int(contact_count), observed, _two(DAYS_PER_MONTH / Decimal(every))),
                _drilldown(key, name, scope),
            )
        )
    return FigureTable(
        key,
        "support",
        TITLES[key],
        "evaluation-support-intensity-rhythm",
        (
            Column("households", "Ménages accompagnés en fin d'année", Kind.COUNT),
            Column("contacts", "Contacts dans l'année", Kind.NUMBER),
            Column("observed", "Contacts par ménage et par mois", Kind.RATIO),
            Column("expected", "Contacts attendus par mois", Kind.RATIO),
        ),
        tuple(rows),
    )


def _rhythm_households(households: Select, scope: EvaluationScope, row: str) -> Select:
    levels = _levels_at_end(scope)
    return select(levels.c.household_id).where(
        levels.c.name == row, levels.c.household_id.in_(households)
    )


DRILLDOWNS["support.intensity_rhythm"] = _rhythm_households
TITLES["support.intensity_rhythm"] = (
    "Intensité en fin d'année et rythme de contacts observé et attendu"
)


# --- adhesion ---------------------------------------------------------------------------------

ADHESION_ROWS = (
    ("adhesions", "Ménages ayant signé leur adhésion dans l'année"),
    ("refus", "Sorties pour fin d'adhésion du ménage"),
    ("depart", "Sorties par départ du logement sans solution connue"),
)


def _adhesion_ids(scope: EvaluationScope, row: str) -> Select | None:
    period = _period(scope)
    households = households_of(scope.project_ids)
    if row == "adhesions":
        return (
            select(Adhesion.household_id)
            .where(
                Adhesion.household_id.in_(households),
                Adhesion.signed_on >= period.start,
                Adhesion.signed_on <= period.end,
            )
            .distinct()
        )
    if row in ("refus", "depart"):
        exits, in_period = _exits_in(households, period)
        reason = ExitReason.REFUS if row == "refus" else ExitReason.DEPART
        return select(exits.c.household_id).where(in_period, exits.c.reason == reason.value)
    return None


def _adhesion(session, scope: EvaluationScope) -> list[FigureTable]:
    key = "adhesion.adhesions_and_refusals"
    rows = []
    for name, label in ADHESION_ROWS:
        ids = _adhesion_ids(scope, name).subquery()
        count = int(session.scalar(select(func.count()).select_from(ids)))
        rows.append(Row(name, label, (count,), _drilldown(key, name, scope)))
    period = _period(scope)
    households = households_of(scope.project_ids)
    given = and_(Consent.given_on >= period.start, Consent.given_on <= period.end)
    withdrawn = and_(
        Consent.withdrawn_on.is_not(None),
        Consent.withdrawn_on >= period.start,
        Consent.withdrawn_on <= period.end,
    )
    consents = session.execute(
        select(
            sum_if(given).label("given"),
            func.count(func.distinct(case((given, Consent.household_id)))).label("given_hh"),
            sum_if(withdrawn).label("withdrawn"),
            func.count(func.distinct(case((withdrawn, Consent.household_id)))).label(
                "withdrawn_hh"
            ),
        ).where(Consent.household_id.in_(households))
    ).one()
    time_key = "adhesion.time_to_adhesion"
    return [
        FigureTable(
            key,
            "adhesion",
            TITLES[key],
            "evaluation-adhesion-refusals",
            (Column("households", "Ménages", Kind.COUNT),),
            tuple(rows),
        ),
        FigureTable(
            "adhesion.consents",
            "adhesion",
            "Consentements au partage d'informations donnés et retirés",
            "evaluation-adhesion-consents",
            (
                Column("consents", "Consentements", Kind.NUMBER),
                Column("households", "Ménages", Kind.COUNT),
            ),
            (
                Row("given", "Donnés dans l'année", (int(consents.given), int(consents.given_hh))),
                Row(
                    "withdrawn",
                    "Retirés dans l'année",
                    (int(consents.withdrawn), int(consents.withdrawn_hh)),
                ),
            ),
        ),
        FigureTable(
            time_key,
            "adhesion",
            TITLES[time_key],
            "evaluation-outcomes-delays",
            DELAY_COLUMNS,
            delay_rows(session, scope, time_key)[:1],
        ),
    ]


def _adhesion_households(households: Select, scope: EvaluationScope, row: str) -> Select | None:
    ids = _adhesion_ids(scope, row)
    if ids is None:
        return None
    sub = ids.subquery()
    return select(sub.c[0]).where(sub.c[0].in_(households))


DRILLDOWNS["adhesion.adhesions_and_refusals"] = _adhesion_households
DRILLDOWNS["adhesion.time_to_adhesion"] = _delay_households
TITLES["adhesion.adhesions_and_refusals"] = "Adhésions, fins d'adhésion et départs"
TITLES["adhesion.time_to_adhesion"] = "Délai de l'orientation à l'adhésion"


@provider
def axes(session, scope: EvaluationScope) -> list[FigureTable]:
    return [
        _referrals(session, scope),
        _partnership_activity(session, scope),
        _publics(session, scope),
        _resources(session, scope),
        _contact_modes(session, scope),
        _rhythm(session, scope),
        *_adhesion(session, scope),
    ]
