"""A project's money and places per year, households' financial aid: the services that record
them (they never commit) and the co-financing axis's figures (the ``cofinancing`` provider).

Amounts arrive and leave as ``Decimal`` euros and are stored in cents. Rules:

- a budget line's amounts are between 0 and 10 million euros; the amount received cannot
  exceed the amount granted (a payment beyond the grant is a new grant: a new line);
- a year is between 2000 and next year;
- an aid's decision (accordée, refusée) has a date, not before the request nor in the future;
  only a granted aid has a granted amount (and must have one).

Definitions of the figures: docs/indicators.md, "Évaluation — cofinancements".
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, literal, select

from app import bounds
from app.audit.services import record
from app.db import db
from app.errors import DomainError, check_version
from app.evaluation.models import (
    YEAR_MIN,
    AidKind,
    AidStatus,
    Funder,
    HouseholdAid,
    ProjectBudgetLine,
    ProjectPlaces,
)
from app.evaluation.tables import Column, FigureTable, Kind, Row, provider
from app.forms import euros_to_cents
from app.households.models import Household
from app.reports.figures import Period, _spans, _supported, _supported_on
from app.reports.sql import literal_date, sum_if
from app.sql import days_between, greatest, least

LABEL_MAX = 160
NOTE_MAX = 2000


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def check_year(year, today: date) -> int:
    """A year a budget or places may be recorded for: 2000 to next year."""
    last = today.year + 1
    if not isinstance(year, int) or not YEAR_MIN <= year <= last:
        raise DomainError(f"Choisissez une année entre {YEAR_MIN} et {last}.", field="year")
    return year


def _cents(amount: Decimal | None, field: str, *, required: bool) -> int | None:
    if amount is None:
        if required:
            raise DomainError("Indiquez un montant en euros.", field=field)
        return None
    if amount < 0:
        raise DomainError("Un montant ne peut pas être négatif.", field=field)
    cents = euros_to_cents(amount)
    bounds.MONEY.check(cents, field=field)
    return cents


def _text(value: str | None, limit: int, field: str) -> str | None:
    value = _clean(value)
    if value is not None and len(value) > limit:
        raise DomainError(f"{limit} caractères au plus.", field=field)
    return value


def _require_project(actor, project_id: int) -> None:
    if project_id not in actor.project_ids:
        raise DomainError("Vous ne coordonnez pas ce projet.")


# --- budget lines ---------------------------------------------------------------------------


def _line_values(values: dict) -> dict:
    funder = values.get("funder")
    if funder not in Funder.__members__.values():
        raise DomainError("Choisissez le financeur.", field="funder")
    label = _text(values.get("label"), LABEL_MAX, "label")
    if funder == Funder.AUTRE and label is None:
        raise DomainError("Indiquez le nom de cet autre financeur.", field="label")
    granted = _cents(values.get("granted"), "granted", required=True)
    received = _cents(values.get("received"), "received", required=False) or 0
    if received > granted:
        raise DomainError(
            "Le montant reçu ne peut pas dépasser le montant accordé : un versement au-delà "
            "est un nouveau financement, à saisir sur une autre ligne.",
            field="received",
        )
    return {
        "funder": funder,
        "label": label,
        "granted_cents": granted,
        "received_cents": received,
        "note": _text(values.get("note"), NOTE_MAX, "note"),
    }


def create_budget_line(actor, project, *, year: int, today: date, **values) -> ProjectBudgetLine:
    """A funder's grant to ``project`` for ``year`` (funder, label, granted, received, note)."""
    _require_project(actor, project.id)
    line = ProjectBudgetLine(
        project_id=project.id, year=check_year(year, today), **_line_values(values)
    )
    db.session.add(line)
    record(actor, "funding.line_created", target=line, details=_line_details(line))
    return line


def update_budget_line(actor, line: ProjectBudgetLine, *, version, **values) -> None:
    check_version(line, version)
    _require_project(actor, line.project_id)
    for name, value in _line_values(values).items():
        setattr(line, name, value)
    record(actor, "funding.line_updated", target=line, details=_line_details(line))


def delete_budget_line(actor, line: ProjectBudgetLine, *, version) -> None:
    check_version(line, version)
    _require_project(actor, line.project_id)
    record(actor, "funding.line_deleted", target=line, details=_line_details(line))
    db.session.delete(line)


def _line_details(line: ProjectBudgetLine) -> dict:
    return {"project_id": line.project_id, "year": line.year, "funder": line.funder}


def set_places(
    actor, project, *, year: int, places: int | None, note: str | None, version, today: date
) -> ProjectPlaces:
    """The places agreed for ``project`` and ``year`` (created on the first save)."""
    _require_project(actor, project.id)
    check_year(year, today)
    if places is None:
        raise DomainError("Indiquez le nombre de places conventionnées.", field="places")
    bounds.COUNT.check(places, field="places")
    row = db.session.scalar(
        select(ProjectPlaces).where(
            ProjectPlaces.project_id == project.id, ProjectPlaces.year == year
        )
    )
    if row is None:
        if version not in (None, "", "0", 0):  # the form was opened on a row deleted since
            check_version(ProjectPlaces(version=0), version)
        row = ProjectPlaces(project_id=project.id, year=year)
        db.session.add(row)
    else:
        check_version(row, version)
    row.places, row.note = places, _text(note, NOTE_MAX, "note")
    record(
        actor, "funding.places_set", target=row, details={"project_id": project.id, "year": year}
    )
    return row


def budget_lines(project_id: int, year: int) -> list[ProjectBudgetLine]:
    """The lines of a project-year, in the order of the funders (État first)."""
    order = list(Funder)
    lines = list(
        db.session.scalars(
            select(ProjectBudgetLine)
            .where(ProjectBudgetLine.project_id == project_id, ProjectBudgetLine.year == year)
            .order_by(ProjectBudgetLine.label, ProjectBudgetLine.id)
        )
    )
    return sorted(lines, key=lambda line: order.index(line.funder))


def places_for(project_id: int, year: int) -> ProjectPlaces | None:
    return db.session.scalar(
        select(ProjectPlaces).where(
            ProjectPlaces.project_id == project_id, ProjectPlaces.year == year
        )
    )


def totals(lines) -> tuple[int, int]:
    """(granted, received) in cents."""
    return (
        sum(line.granted_cents for line in lines),
        sum(line.received_cents for line in lines),
    )


def totals_by_funder(lines) -> dict[str, tuple[int, int]]:
    """{funder: (granted, received)} in cents (several lines may name the same funder)."""
    found: dict[str, tuple[int, int]] = {}
    for line in lines:
        granted, received = found.get(line.funder, (0, 0))
        found[line.funder] = (granted + line.granted_cents, received + line.received_cents)
    return found


# --- households' financial aid ----------------------------------------------------------------


def _aid_values(values: dict, today: date) -> dict:
    kind, status = values.get("kind"), values.get("status")
    if kind not in AidKind.__members__.values():
        raise DomainError("Choisissez le type d'aide.", field="kind")
    if status not in AidStatus.__members__.values():
        raise DomainError("Choisissez où en est la demande.", field="status")
    label = _text(values.get("label"), LABEL_MAX, "label")
    if kind == AidKind.AUTRE and label is None:
        raise DomainError("Indiquez de quelle aide il s'agit.", field="label")
    requested_on, decided_on = values.get("requested_on"), values.get("decided_on")
    if requested_on is None:
        raise DomainError("Indiquez la date de la demande.", field="requested_on")
    bounds.check_date(requested_on, field="requested_on")
    if requested_on > today:
        raise DomainError(
            "La date de la demande ne peut pas être dans le futur.", field="requested_on"
        )
    granted = _cents(values.get("granted"), "granted", required=status == AidStatus.ACCORDEE)
    if status == AidStatus.DEMANDEE:
        if decided_on is not None:
            raise DomainError(
                "Une demande en attente n'a pas de date de décision : choisissez « Accordée » "
                "ou « Refusée », ou effacez la date.",
                field="decided_on",
            )
        if granted is not None:
            raise DomainError("Le montant accordé se saisit avec la décision.", field="granted")
    else:
        _check_decision(decided_on, requested_on, today)
        if status == AidStatus.REFUSEE and granted is not None:
            raise DomainError("Une aide refusée n'a pas de montant accordé.", field="granted")
    return {
        "kind": kind,
        "label": label if kind == AidKind.AUTRE else None,
        "status": status,
        "requested_cents": _cents(values.get("requested"), "requested", required=False),
        "granted_cents": granted,
        "requested_on": requested_on,
        "decided_on": decided_on,
        "note": _text(values.get("note"), NOTE_MAX, "note"),
    }


def _check_decision(decided_on: date | None, requested_on: date, today: date) -> None:
    if decided_on is None:
        raise DomainError("Indiquez la date de la décision.", field="decided_on")
    bounds.check_date(decided_on, field="decided_on")
    if decided_on < requested_on:
        raise DomainError("La décision ne peut pas précéder la demande.", field="decided_on")
    if decided_on > today:
        raise DomainError(
            "La date de la décision ne peut pas être dans le futur.", field="decided_on"
        )


def record_aid(actor, household, *, today: date, **values) -> HouseholdAid:
    """A financial aid requested for ``household`` (kind, label, status, requested, granted,
    requested_on, decided_on, note)."""
    aid = HouseholdAid(
        household_id=household.id, created_by_id=actor.id, **_aid_values(values, today)
    )
    db.session.add(aid)
    record(
        actor,
        "financial_aid.recorded",
        household_id=household.id,
        target=aid,
        details=_aid_details(aid),
    )
    return aid


def update_aid(actor, aid: HouseholdAid, *, version, today: date, **values) -> None:
    check_version(aid, version)
    for name, value in _aid_values(values, today).items():
        setattr(aid, name, value)
    record(
        actor,
        "financial_aid.updated",
        household_id=aid.household_id,
        target=aid,
        details=_aid_details(aid),
    )


def delete_aid(actor, aid: HouseholdAid, *, version) -> None:
    check_version(aid, version)
    record(
        actor,
        "financial_aid.deleted",
        household_id=aid.household_id,
        target=aid,
        details=_aid_details(aid),
    )
    db.session.delete(aid)


def _aid_details(aid: HouseholdAid) -> dict:
    # Kinds and statuses only: never the amounts, which say something of the household.
    return {"kind": aid.kind, "status": aid.status}


def household_aids(household) -> list[HouseholdAid]:
    return list(
        db.session.scalars(
            select(HouseholdAid)
            .where(HouseholdAid.household_id == household.id)
            .order_by(HouseholdAid.requested_on.desc(), HouseholdAid.id.desc())
        )
    )


def get_aid_or_404(household, aid_id: int) -> HouseholdAid:
    """An aid of ``household`` (already loaded in the viewer's scope), else 404."""
    from flask import abort

    aid = db.session.scalar(
        select(HouseholdAid).where(
            HouseholdAid.id == aid_id, HouseholdAid.household_id == household.id
        )
    )
    if aid is None:
        abort(404)
    return aid


# --- the co-financing axis's figures -----------------------------------------------------------

ZERO = Decimal(0)
CENT = Decimal("0.01")


def ratio(part, whole, places: str = "0.0001") -> Decimal | None:
    """``part / whole`` rounded half up, None when ``whole`` is zero."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _money(cents: int) -> Decimal:
    """Euros with their two decimals, from cents."""
    return (Decimal(cents) / 100).quantize(CENT)


def euros(part, whole) -> Decimal | None:
    return ratio(part, whole, "0.01")


def days_in_year(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


def evaluation_period(scope) -> Period | None:
    """The year of ``scope``, up to ``as_of`` when the year is not over; None before it."""
    end = min(scope.end, scope.as_of)
    return Period(scope.start, end) if end >= scope.start else None


def support_in_year(session, project_ids, period: Period | None) -> tuple[int, int, Decimal]:
    """(households supported in the period, supported on its last day, household-years).

    A household is supported from its first measure's start to its last measure's closing
    (still supported while a measure is open), as in the programme indicators; it counts in
    the period when that span meets it. Its days of support in the period (both ends
    included) added over every household and divided by the days of the calendar year make
    the household-years (a household supported all year long is one household-year)."""
    if period is None or not project_ids:
        return 0, 0, ZERO
    spans = _spans(select(Household.id).where(Household.project_id.in_(project_ids)))
    supported = _supported(spans, period)
    span_end = case((spans.c.is_open == 1, period.end), else_=spans.c.last_closed_on)
    first = greatest(spans.c.entry_on, literal_date(period.start))
    last = least(span_end, literal_date(period.end))
    row = session.execute(
        select(
            sum_if(supported).label("supported"),
            sum_if(_supported_on(spans, period.end)).label("at_end"),
            sum_if(supported, days_between(first, last) + literal(1)).label("days"),
        )
    ).one()
    years = Decimal(int(row.days)) / days_in_year(period.start.year)
    return int(row.supported), int(row.at_end), years


def _funders_table(session, scope) -> FigureTable:
    rows = session.execute(
        select(
            ProjectBudgetLine.funder,
            func.sum(ProjectBudgetLine.granted_cents),
            func.sum(ProjectBudgetLine.received_cents),
        )
        .where(ProjectBudgetLine.project_id.in_(scope.project_ids or (-1,)))
        .where(ProjectBudgetLine.year == scope.year)
        .group_by(ProjectBudgetLine.funder)
    ).all()
    granted = {funder: int(g or 0) for funder, g, _ in rows}
    received = {funder: int(r or 0) for funder, _, r in rows}
    total_granted, total_received = sum(granted.values()), sum(received.values())

    def row(key: str, label: str, g: int, r: int) -> Row:
        return Row(
            key,
            label,
            (
                _money(g),
                ratio(g, total_granted),
                _money(r),
                ratio(r, total_received),
            ),
        )

    return FigureTable(
        key="cofinancing.funders",
        axis="cofinancing",
        title="Financements par financeur",
        definition="evaluation-cofinancing-funders",
        columns=(
            Column("granted", "Montant accordé", Kind.AMOUNT),
            Column("granted_share", "Part de l'accordé", Kind.RATIO),
            Column("received", "Montant reçu", Kind.AMOUNT),
            Column("received_share", "Part du reçu", Kind.RATIO),
        ),
        rows=(
            *(row(f.value, f.label, granted.get(f, 0), received.get(f, 0)) for f in Funder),
            row("total", "Total", total_granted, total_received),
        ),
        row_total=True,
    )


def _costs_and_places(session, scope) -> list[FigureTable]:
    total_cents = session.scalar(
        select(func.coalesce(func.sum(ProjectBudgetLine.granted_cents), 0)).where(
            ProjectBudgetLine.project_id.in_(scope.project_ids or (-1,)),
            ProjectBudgetLine.year == scope.year,
        )
    )
    places = session.scalar(
        select(func.sum(ProjectPlaces.places)).where(
            ProjectPlaces.project_id.in_(scope.project_ids or (-1,)),
            ProjectPlaces.year == scope.year,
        )
    )
    supported, at_end, years = support_in_year(session, scope.project_ids, evaluation_period(scope))
    total = _money(int(total_cents))
    years_shown = years.quantize(CENT, rounding=ROUND_HALF_UP)
    costs = FigureTable(
        key="cofinancing.costs",
        axis="cofinancing",
        title="Coût de l'accompagnement",
        definition="evaluation-cofinancing-costs",
        columns=(
            Column("total_cost", "Coût total (montants accordés)", Kind.AMOUNT),
            Column("households", "Ménages accompagnés dans l'année", Kind.COUNT),
            Column("household_years", "Ménages-années accompagnés", Kind.RATIO),
            Column("cost_per_household", "Coût par ménage accompagné", Kind.AMOUNT),
            Column("cost_per_household_year", "Coût par ménage-année", Kind.AMOUNT),
        ),
        rows=(
            Row(
                "year",
                str(scope.year),
                (total, supported, years_shown, euros(total, supported), euros(total, years)),
            ),
        ),
    )
    occupancy = FigureTable(
        key="cofinancing.places",
        axis="cofinancing",
        title="Places conventionnées et ménages accompagnés",
        definition="evaluation-cofinancing-places",
        columns=(
            Column("places", "Places conventionnées", Kind.NUMBER),
            Column("households", "Ménages accompagnés dans l'année", Kind.COUNT),
            Column("households_at_end", "Ménages accompagnés en fin de période", Kind.COUNT),
            Column("household_years", "Ménages-années accompagnés", Kind.RATIO),
            Column("occupancy", "Taux d'occupation des places", Kind.RATIO),
        ),
        rows=(
            Row(
                "year",
                str(scope.year),
                (
                    None if places is None else int(places),
                    supported,
                    at_end,
                    years_shown,
                    ratio(years, places) if places else None,
                ),
            ),
        ),
    )
    return [costs, occupancy]


def _aid_table(session, scope) -> FigureTable:
    period = evaluation_period(scope)
    decided = HouseholdAid.decided_on <= scope.as_of
    granted = (HouseholdAid.status == AidStatus.ACCORDEE) & decided
    refused = (HouseholdAid.status == AidStatus.REFUSEE) & decided
    rows = []
    if period is not None and scope.project_ids:
        rows = session.execute(
            select(
                HouseholdAid.kind,
                func.count(HouseholdAid.id),
                sum_if(granted),
                sum_if(refused),
                func.coalesce(func.sum(HouseholdAid.requested_cents), 0),
                sum_if(granted, func.coalesce(HouseholdAid.granted_cents, 0)),
            )
            .join(Household, Household.id == HouseholdAid.household_id)
            .where(Household.project_id.in_(scope.project_ids))
            .where(HouseholdAid.requested_on.between(period.start, period.end))
            .group_by(HouseholdAid.kind)
        ).all()
    by_kind = {kind: tuple(int(v) for v in values) for kind, *values in rows}

    def row(key: str, label: str, values: tuple[int, ...]) -> Row:
        requested, n_granted, n_refused, asked, given = values
        money = (_money(asked), _money(given))
        # No « en attente » column: requests = granted + refused + pending would be an
        # equation in each row, giving a masked count back by subtraction (the reader
        # computes the pending ones when nothing is masked).
        return Row(key, label, (requested, n_granted, n_refused, *money))

    empty = (0, 0, 0, 0, 0)
    totals_ = tuple(sum(v[i] for v in by_kind.values()) for i in range(5)) if by_kind else empty
    return FigureTable(
        key="cofinancing.financial_aid",
        axis="cofinancing",
        title="Aides financières des ménages",
        definition="evaluation-cofinancing-financial-aid",
        columns=(
            Column("requested", "Demandes", Kind.COUNT),
            Column("granted", "Accordées", Kind.COUNT),
            Column("refused", "Refusées", Kind.COUNT),
            Column("requested_amount", "Montant demandé", Kind.AMOUNT),
            Column("granted_amount", "Montant accordé", Kind.AMOUNT),
        ),
        rows=(
            *(row(k.value, k.label, by_kind.get(k, empty)) for k in AidKind),
            row("total", "Total", totals_),
        ),
        row_total=True,
    )


@provider
def cofinancing(session, scope) -> list[FigureTable]:
    """The co-financing axis: funders' shares, costs, places, households' financial aid."""
    return [
        _funders_table(session, scope),
        *_costs_and_places(session, scope),
        _aid_table(session, scope),
    ]
