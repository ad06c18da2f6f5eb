"""Business rules of the housing domain: dwellings, leases, the rent-account import, GLA
actions, repayment plans and eviction-prevention stages, plus the legal deadlines (pure
functions).

Services take plain values, check the rule, change the data, write the audit entry and never
commit; a refusal is a ``DomainError`` with a French message."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import bounds
from app.audit.models import AuditOutcome
from app.audit.services import record
from app.db import db, utcnow
from app.errors import DomainError, check_version
from app.formatting import format_date, today_paris
from app.households.models import search_key
from app.housing.models import (
    AplStatus,
    Dwelling,
    Funding,
    GlaAction,
    GlaActionKind,
    LeaseReview,
    LeaseReviewDecision,
    LeaseType,
    Occupancy,
    ProcedureStage,
    ProcedureStageKind,
    RentAccountSnapshot,
    RepaymentPlan,
    RepaymentPlanStatus,
    Typology,
    refresh_tenancy_figures,
)
from app.organisations.models import OrganisationKind

# --- dates -------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the end of a shorter month (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def in_winter_truce(day: date) -> bool:
    """Trêve hivernale: from 1 November to 31 March inclusive, no forced eviction."""
    return day.month >= 11 or day.month <= 3


def after_winter_truce(day: date) -> date:
    """``day`` itself, or 1 April when it falls within the winter truce."""
    if not in_winter_truce(day):
        return day
    return date(day.year + 1 if day.month >= 11 else day.year, 4, 1)


@dataclass(frozen=True)
class Deadline:
    """The next legal deadline of a procedure: ``label`` says what becomes due or possible."""

    on: date
    label: str
    postponed_by_truce: bool = False


def next_deadline(
    stage: ProcedureStageKind | str, occurred_on: date, *, hearing_on: date | None = None
) -> Deadline | None:
    """The legal deadline that follows a procedure stage, or None when the law sets none.

    - impayé constitué: report to the CAF within 2 months;
    - signalement CAF: a repayment plan within 6 months, otherwise the CAF refers to the FSL;
    - saisine CCAPEX: the assignation is possible 2 months later at the earliest;
    - commandement de payer: 6 weeks to pay, then the assignation is possible;
    - assignation: the hearing is at least 6 weeks later, and the social and financial
      diagnostic is due before it (before the known hearing date when there is one);
    - diagnostic: the hearing (when its date is known);
    - commandement de quitter les lieux: 2 months, then a forced eviction is possible, but
      never during the winter truce (moved to 1 April);
    - concours de la force publique: the eviction may happen, except during the truce;
    - protocole de cohésion sociale: lasts 2 years, then a new lease within 3 months.
    """
    kind = ProcedureStageKind(stage)
    K = ProcedureStageKind
    if kind is K.IMPAYE_CONSTITUE:
        return Deadline(add_months(occurred_on, 2), "Signalement à la CAF à faire avant le")
    if kind is K.SIGNALEMENT_CAF:
        return Deadline(
            add_months(occurred_on, 6),
            "Plan d'apurement à proposer (sinon saisine du FSL) avant le",
        )
    if kind is K.SAISINE_CCAPEX:
        return Deadline(add_months(occurred_on, 2), "Assignation possible au plus tôt le")
    if kind is K.COMMANDEMENT_PAYER:
        return Deadline(
            occurred_on + timedelta(weeks=6), "Délai de paiement expiré : assignation possible le"
        )
    if kind is K.ASSIGNATION:
        if hearing_on is not None:
            return Deadline(
                hearing_on, "Diagnostic social et financier à remettre avant l'audience du"
            )
        return Deadline(
            occurred_on + timedelta(weeks=6),
            "Audience au plus tôt le (diagnostic social et financier à remettre avant)",
        )
    if kind is K.DIAGNOSTIC_SOCIAL_FINANCIER:
        return Deadline(hearing_on, "Audience le") if hearing_on else None
    if kind is K.AUDIENCE:
        return None
    if kind is K.COMMANDEMENT_QUITTER:
        return _eviction_possible(add_months(occurred_on, 2))
    if kind is K.CONCOURS_FORCE_PUBLIQUE:
        return _eviction_possible(occurred_on)
    if kind is K.PROTOCOLE_COHESION:
        return Deadline(
            add_months(occurred_on, 24),
            "Fin du protocole (nouveau bail sous 3 mois si respecté) le",
        )
    return None  # plan d'apurement, jugement, clôture: no legal deadline


def _eviction_possible(day: date) -> Deadline:
    moved = after_winter_truce(day)
    return Deadline(moved, "Expulsion possible à partir du", postponed_by_truce=moved != day)


# --- dwellings ---------------------------------------------------------------------------

_POSTAL_CODE = re.compile(r"^\d{5}$")


def _check_dwelling_values(values: dict) -> None:
    if values["rent_cents"] is None or values["rent_cents"] < 0:
        raise DomainError("Le loyer ne peut pas être négatif.", field="rent")
    if values["charges_cents"] is not None and values["charges_cents"] < 0:
        raise DomainError("Les charges ne peuvent pas être négatives.", field="charges")
    if values["surface_m2"] is not None and values["surface_m2"] <= 0:
        raise DomainError("La surface doit être supérieure à 0 m².", field="surface_m2")
    bounds.MONEY.check(values["rent_cents"], field="rent")
    bounds.MONEY.check(values["charges_cents"], field="charges")
    bounds.SURFACE.check(values["surface_m2"], field="surface_m2")
    if not _POSTAL_CODE.match(values["postal_code"] or ""):
        raise DomainError("Le code postal compte 5 chiffres.", field="postal_code")
    if values["typology"] not in Typology.__members__.values():
        raise DomainError("Choisissez la typologie (T1 à T6).", field="typology")
    if values["funding"] not in Funding.__members__.values():
        raise DomainError("Choisissez le financement (PLAI, PLUS ou PLS).", field="funding")


def _check_dwelling_reference(landlord_id: int, reference: str | None, dwelling_id=None) -> None:
    if not reference:
        return
    clash = db.session.scalar(
        select(Dwelling.id).where(
            Dwelling.landlord_id == landlord_id,
            Dwelling.landlord_reference == reference,
            Dwelling.id != (dwelling_id or -1),
        )
    )
    if clash is not None:
        raise DomainError(
            "Cette référence est déjà celle d'un autre logement de ce bailleur.",
            field="landlord_reference",
        )


def create_dwelling(actor, landlord, **values) -> Dwelling:
    """Add a dwelling to ``landlord``'s stock (``landlord`` already checked in the user's scope)."""
    if landlord.kind != OrganisationKind.BAILLEUR:
        raise DomainError("Un logement appartient à un bailleur.", field="landlord_id")
    values.setdefault("charges_cents", 0)
    values["charges_cents"] = values["charges_cents"] or 0
    _check_dwelling_values(values)
    _check_dwelling_reference(landlord.id, values.get("landlord_reference"))
    dwelling = Dwelling(landlord_id=landlord.id, updated_by_id=getattr(actor, "id", None), **values)
    dwelling.search_address = search_key(
        " ".join(str(values.get(k) or "") for k in ("address", "postal_code", "city", "residence"))
    )
    db.session.add(dwelling)
    db.session.flush()
    record(actor, "dwelling.created", target=dwelling, details={"landlord_id": landlord.id})
    return dwelling


def update_dwelling(actor, dwelling: Dwelling, *, version, **values) -> Dwelling:
    check_version(dwelling, version)
    values["charges_cents"] = values.get("charges_cents") or 0
    _check_dwelling_values(values)
    _check_dwelling_reference(dwelling.landlord_id, values.get("landlord_reference"), dwelling.id)
    changed = sorted(k for k, v in values.items() if getattr(dwelling, k) != v)
    for key, value in values.items():
        setattr(dwelling, key, value)
    dwelling.search_address = search_key(
        f"{dwelling.address} {dwelling.postal_code} {dwelling.city} {dwelling.residence or ''}"
    )
    dwelling.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record(actor, "dwelling.updated", target=dwelling, details={"fields": changed})
    return dwelling


# --- leases ------------------------------------------------------------------------------


def start_occupancy(
    actor,
    household,
    *,
    dwelling_id: int,
    lease_type: str,
    start_on: date,
    lease_reference: str | None = None,
    glissement_target_on: date | None = None,
) -> Occupancy:
    """Give ``household`` a lease on a dwelling the actor may assign to it."""
    from app.housing.queries import assignable_dwellings

    dwelling = db.session.scalar(
        assignable_dwellings(actor, household, include_occupied=True).where(
            Dwelling.id == dwelling_id
        )
    )
    if dwelling is None:
        raise DomainError("Choisissez un logement parmi ceux proposés.", field="dwelling_id")
    if lease_type not in LeaseType.__members__.values():
        raise DomainError("Choisissez le type de bail.", field="lease_type")
    current = db.session.scalar(
        select(Occupancy).where(Occupancy.household_id == household.id, Occupancy.end_on.is_(None))
    )
    if current is not None:
        raise DomainError(
            "Ce ménage a déjà un bail en cours (depuis le "
            f"{format_date(current.start_on)}) : terminez-le avant d'en saisir un nouveau.",
            field="dwelling_id",
        )
    occupied_since = db.session.scalar(
        select(Occupancy.start_on).where(
            Occupancy.dwelling_id == dwelling.id, Occupancy.end_on.is_(None)
        )
    )
    if occupied_since is not None:
        raise DomainError(
            "Ce logement est déjà occupé par un autre ménage (bail en cours depuis le "
            f"{format_date(occupied_since)}).",
            field="dwelling_id",
        )
    _check_glissement_target(lease_type, start_on, glissement_target_on)
    lease_reference = (lease_reference or "").strip() or None
    _check_lease_reference(dwelling.landlord_id, lease_reference)
    occupancy = Occupancy(
        household_id=household.id,
        dwelling_id=dwelling.id,
        lease_type=lease_type,
        start_on=start_on,
        lease_reference=lease_reference,
        glissement_target_on=glissement_target_on,
        updated_by_id=getattr(actor, "id", None),
    )
    db.session.add(occupancy)
    _flush_lease("Ce ménage ou ce logement a déjà un bail en cours.")
    record(
        actor,
        "occupancy.started",
        household_id=household.id,
        target=occupancy,
        details={"lease_type": lease_type, "dwelling_id": dwelling.id},
    )
    return occupancy


def _flush_lease(message: str) -> None:
    """Flush; the partial unique indexes catch two people saving a lease at the same moment."""
    try:
        db.session.flush()
    except IntegrityError as error:
        raise DomainError(message, field="dwelling_id") from error


def _check_glissement_target(lease_type: str, start_on: date, target: date | None) -> None:
    if target is None:
        return
    if lease_type != LeaseType.BAIL_GLISSANT:
        raise DomainError(
            "La date cible de glissement ne concerne que les baux glissants.",
            field="glissement_target_on",
        )
    if target < start_on:
        raise DomainError(
            "La date cible de glissement ne peut pas précéder le début du bail.",
            field="glissement_target_on",
        )


def _check_lease_reference(landlord_id: int, reference: str | None, *, except_id=None) -> None:
    """The reference keys the monthly import: two current leases of one landlord never share it."""
    if not reference:
        return
    clash = db.session.scalar(
        select(Occupancy.id)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(
            Dwelling.landlord_id == landlord_id,
            Occupancy.lease_reference == reference,
            Occupancy.end_on.is_(None),
            Occupancy.id != (except_id or -1),
        )
    )
    if clash is not None:
        raise DomainError(
            "Cette référence de bail est déjà utilisée par un autre bail en cours de ce bailleur.",
            field="lease_reference",
        )


def end_occupancy(actor, occupancy: Occupancy, *, version, end_on: date, end_reason: str | None):
    check_version(occupancy, version)
    if occupancy.end_on is not None:
        raise DomainError("Ce bail est déjà terminé.")
    if end_on < occupancy.start_on:
        raise DomainError(
            "La date de fin ne peut pas précéder le début du bail "
            f"({format_date(occupancy.start_on)}).",
            field="end_on",
        )
    occupancy.end_on = end_on
    occupancy.end_reason = end_reason
    occupancy.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record(actor, "occupancy.ended", household_id=occupancy.household_id, target=occupancy)
    return occupancy


def _require_bail_glissant(occupancy: Occupancy, what: str) -> None:
    if occupancy.lease_type != LeaseType.BAIL_GLISSANT:
        raise DomainError(f"{what} ne concerne que les baux glissants.")
    if occupancy.end_on is not None:
        raise DomainError("Ce bail est terminé.")


def record_lease_review(
    actor,
    occupancy: Occupancy,
    *,
    held_on: date,
    decision: str,
    comment: str | None = None,
    next_review_on: date | None = None,
) -> LeaseReview:
    """The 6-monthly tripartite review of a bail glissant; the next one defaults to +6 months."""
    _require_bail_glissant(occupancy, "Le bilan semestriel")
    if decision not in LeaseReviewDecision.__members__.values():
        raise DomainError("Choisissez la décision prise.", field="decision")
    if held_on < occupancy.start_on:
        raise DomainError("Le bilan ne peut pas précéder le début du bail.", field="held_on")
    if next_review_on is None and decision != LeaseReviewDecision.FIN:
        next_review_on = add_months(held_on, 6)
    if next_review_on is not None and next_review_on <= held_on:
        raise DomainError(
            "Le prochain bilan doit être postérieur à celui-ci.", field="next_review_on"
        )
    review = LeaseReview(
        occupancy_id=occupancy.id,
        held_on=held_on,
        decision=decision,
        comment=comment,
        next_review_on=next_review_on,
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(review)
    db.session.flush()
    occupancy.reviews.append(review)
    record(
        actor,
        "lease_review.recorded",
        household_id=occupancy.household_id,
        target=review,
        details={"decision": decision},
    )
    return review


def record_glissement(
    actor,
    occupancy: Occupancy,
    *,
    version,
    glissed_on: date,
    lease_reference: str | None = None,
) -> Occupancy:
    """The sub-let lease slides into the household's name: the bail glissant ends on
    ``glissed_on`` and a bail direct on the same dwelling starts that day."""
    check_version(occupancy, version)
    _require_bail_glissant(occupancy, "Le glissement")
    if glissed_on < occupancy.start_on:
        raise DomainError(
            "Le glissement ne peut pas précéder le début du bail.", field="glissed_on"
        )
    occupancy.glissed_on = glissed_on
    occupancy.end_on = glissed_on
    occupancy.end_reason = "Glissement du bail au nom du ménage"
    occupancy.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    reference = (lease_reference or "").strip() or occupancy.lease_reference
    _check_lease_reference(occupancy.dwelling.landlord_id, reference)
    direct = Occupancy(
        household_id=occupancy.household_id,
        dwelling_id=occupancy.dwelling_id,
        lease_type=LeaseType.BAIL_DIRECT,
        start_on=glissed_on,
        lease_reference=reference,
        updated_by_id=getattr(actor, "id", None),
    )
    db.session.add(direct)
    _flush_lease("Ce logement a déjà un autre bail en cours.")
    record(
        actor,
        "occupancy.glissed",
        household_id=occupancy.household_id,
        target=occupancy,
        details={"new_occupancy_id": direct.id},
    )
    return direct


# --- GLA actions, repayment plans, procedure stages --------------------------------------


def _check_past_date(day: date, occupancy: Occupancy, field_name: str, today: date) -> None:
    bounds.check_date(day, field=field_name)
    if day > today:
        raise DomainError("Cette date est dans le futur.", field=field_name)
    if day < occupancy.start_on:
        raise DomainError(
            f"Cette date précède le début du bail ({format_date(occupancy.start_on)}).",
            field=field_name,
        )


def record_gla_action(
    actor,
    occupancy: Occupancy,
    *,
    kind: str,
    done_on: date,
    outcome: str | None = None,
    today: date | None = None,
) -> GlaAction:
    if kind not in GlaActionKind.__members__.values():
        raise DomainError("Choisissez le type d'action.", field="kind")
    _check_past_date(done_on, occupancy, "done_on", today or today_paris())
    action = GlaAction(
        occupancy_id=occupancy.id,
        kind=kind,
        done_on=done_on,
        outcome=outcome,
        author_id=getattr(actor, "id", None),
    )
    db.session.add(action)
    db.session.flush()
    record(
        actor,
        "gla_action.recorded",
        household_id=occupancy.household_id,
        target=action,
        details={"kind": kind},
    )
    return action


def start_repayment_plan(
    actor,
    occupancy: Occupancy,
    *,
    start_on: date,
    monthly_cents: int,
    debt_cents: int | None = None,
) -> RepaymentPlan:
    if monthly_cents is None or monthly_cents <= 0:
        raise DomainError("La mensualité doit être supérieure à 0 €.", field="monthly")
    if debt_cents is not None and debt_cents <= 0:
        raise DomainError("La dette à apurer doit être supérieure à 0 €.", field="debt")
    bounds.MONEY.check(monthly_cents, field="monthly")
    bounds.MONEY.check(debt_cents, field="debt")
    bounds.check_date(start_on, field="start_on")
    if start_on < occupancy.start_on:
        raise DomainError("Le plan ne peut pas précéder le début du bail.", field="start_on")
    running = db.session.scalar(
        select(RepaymentPlan.id).where(
            RepaymentPlan.occupancy_id == occupancy.id,
            RepaymentPlan.status == RepaymentPlanStatus.EN_COURS,
        )
    )
    if running is not None:
        raise DomainError(
            "Un plan d'apurement est déjà en cours : indiquez d'abord s'il est soldé ou rompu."
        )
    plan = RepaymentPlan(
        occupancy_id=occupancy.id,
        start_on=start_on,
        monthly_cents=monthly_cents,
        debt_cents=debt_cents,
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(plan)
    db.session.flush()
    record(actor, "repayment_plan.started", household_id=occupancy.household_id, target=plan)
    return plan


def set_repayment_plan_status(actor, plan: RepaymentPlan, *, version, status: str, household_id):
    check_version(plan, version)
    if status not in RepaymentPlanStatus.__members__.values():
        raise DomainError("Choisissez le nouveau statut du plan.", field="status")
    plan.status = status
    db.session.flush()
    record(
        actor,
        "repayment_plan.status_changed",
        household_id=household_id,
        target=plan,
        details={"status": status},
    )
    return plan


def record_procedure_stage(
    actor,
    occupancy: Occupancy,
    *,
    stage: str,
    occurred_on: date,
    hearing_on: date | None = None,
    comment: str | None = None,
    today: date | None = None,
) -> ProcedureStage:
    if stage not in ProcedureStageKind.__members__.values():
        raise DomainError("Choisissez l'étape de la procédure.", field="stage")
    _check_past_date(occurred_on, occupancy, "occurred_on", today or today_paris())
    if hearing_on is not None:
        if stage not in (
            ProcedureStageKind.ASSIGNATION,
            ProcedureStageKind.DIAGNOSTIC_SOCIAL_FINANCIER,
            ProcedureStageKind.AUDIENCE,
        ):
            raise DomainError(
                "La date d'audience se saisit avec l'assignation, le diagnostic ou l'audience.",
                field="hearing_on",
            )
        if hearing_on < occurred_on:
            raise DomainError("L'audience ne peut pas précéder cette étape.", field="hearing_on")
    entry = ProcedureStage(
        occupancy_id=occupancy.id,
        stage=stage,
        occurred_on=occurred_on,
        hearing_on=hearing_on,
        comment=comment,
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(entry)
    db.session.flush()
    record(
        actor,
        "procedure_stage.recorded",
        household_id=occupancy.household_id,
        target=entry,
        details={"stage": stage},
    )
    return entry


# --- rent-account import -----------------------------------------------------------------


@dataclass(frozen=True)
class ImportColumn:
    key: str
    header: str  # the header of the template
    required: bool
    aliases: tuple[str, ...] = ()
    hint: str = ""


IMPORT_COLUMNS = (
    ImportColumn(
        "reference",
        "Référence du bail",
        True,
        ("reference bail", "ref bail", "reference", "n bail", "numero de bail", "num bail"),
        "la référence du bail dans votre logiciel, telle que saisie dans Ancrage",
    ),
    ImportColumn(
        "month",
        "Mois",
        False,
        ("mois du compte", "periode"),
        "AAAA-MM ou MM/AAAA ; facultatif si le mois est choisi à l'import",
    ),
    ImportColumn(
        "balance",
        "Solde",
        True,
        ("solde du compte", "solde locataire", "dette"),
        "montant dû par le ménage en fin de mois (négatif s'il est créditeur), ex. 1 234,56",
    ),
    ImportColumn(
        "amount_due",
        "Loyer et charges du mois",
        True,
        ("loyer et charges", "loyer charges comprises", "quittancement", "montant quittance"),
        "loyer + charges appelés pour le mois, ex. 412,80",
    ),
    ImportColumn(
        "last_payment_on",
        "Date du dernier paiement",
        False,
        ("dernier paiement", "date dernier paiement"),
        "JJ/MM/AAAA, vide s'il n'y a eu aucun paiement",
    ),
    ImportColumn(
        "apl_status", "APL", False, ("statut apl", "apl maintenue"), "maintenue, suspendue ou sans"
    ),
    ImportColumn(
        "caf_reported_on",
        "Date de signalement CAF",
        False,
        ("signalement caf", "date signalement caf"),
        "JJ/MM/AAAA, vide si pas de signalement",
    ),
)
TEMPLATE_HEADER = ";".join(c.header for c in IMPORT_COLUMNS)
MAX_REPORTED_PROBLEMS = 500
_WRITE_CHUNK = 5000


@dataclass(frozen=True)
class RowProblem:
    line: int
    reference: str
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return " ; ".join(self.reasons)


@dataclass
class ImportReport:
    """What the import found: file-level problems, every bad row, and what was written."""

    file_format: str = ""
    rows: int = 0
    file_problems: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    months: tuple[date, ...] = ()

    @property
    def is_valid(self) -> bool:
        return not self.file_problems and not self.problems

    @property
    def shown_problems(self) -> list[RowProblem]:
        return self.problems[:MAX_REPORTED_PROBLEMS]


class ImportRejected(DomainError):
    """The file has problems: nothing was imported; ``report`` lists them."""

    def __init__(self, report: ImportReport):
        count = len(report.problems)
        if report.file_problems:
            message = "Le fichier n'a pas pu être lu : rien n'a été importé."
        else:
            message = (
                f"{count} ligne{'s' if count > 1 else ''} à corriger : rien n'a été importé. "
                "Corrigez le fichier puis importez-le de nouveau."
            )
        super().__init__(message, field="file")
        self.report = report


def _normalise_header(text: object) -> str:
    key = search_key(str(text or "")).replace("°", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", key).split())


_HEADER_KEYS = {
    name: column.key
    for column in IMPORT_COLUMNS
    for name in (_normalise_header(column.header), *column.aliases)
}


def _decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), otherwise Windows-1252 (Excel's French CSV)."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _csv_rows(content: bytes) -> Iterator[tuple[int, list]]:
    text = _decode(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    for row in reader:
        yield reader.line_num, row


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, list(row)
    finally:
        workbook.close()


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_AMOUNT = re.compile(r"^[+-]?\d+(\.\d{1,2})?$")


def parse_amount(value) -> int:
    """Cents from ``1 234,56``, ``-12,5``, ``412.80``, ``1.234,56 €`` or a spreadsheet number;
    ValueError beyond the plausible balance (``bounds.BALANCE``)."""
    cents = _parse_cents(value)
    if not bounds.BALANCE.contains(cents):
        raise ValueError
    return cents


def _parse_cents(value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float | Decimal):
        try:
            return int((Decimal(str(value)) * 100).quantize(Decimal(1)))
        except InvalidOperation as error:
            raise ValueError from error
    text = str(value).strip().replace("€", "")
    for space in (" ", "\u00a0", "\u202f"):
        text = text.replace(space, "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    if not _AMOUNT.match(text):
        raise ValueError
    return int((Decimal(text) * 100).quantize(Decimal(1)))


_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%y")


def parse_day(value) -> date:
    """A date from a cell; ValueError when unreadable or outside 1900–2100."""
    day = _read_day(value)
    if not bounds.date_in_window(day):
        raise ValueError
    return day


def _read_day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError


_MONTH_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})$"), 1, 2),
    (re.compile(r"^(\d{1,2})/(\d{4})$"), 2, 1),
)


def parse_month(value) -> date:
    """First day of the month from ``2026-03``, ``03/2026``, a date or a spreadsheet date."""
    if isinstance(value, date):
        return first_of_month(value if not isinstance(value, datetime) else value.date())
    text = str(value).strip()
    for pattern, year_group, month_group in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            return date(int(match.group(year_group)), int(match.group(month_group)), 1)
    return first_of_month(parse_day(text))


_APL_VALUES = {
    "maintenue": AplStatus.MAINTENUE,
    "maintenu": AplStatus.MAINTENUE,
    "oui": AplStatus.MAINTENUE,
    "suspendue": AplStatus.SUSPENDUE,
    "suspendu": AplStatus.SUSPENDUE,
    "sans": AplStatus.SANS_APL,
    "sans apl": AplStatus.SANS_APL,
    "non": AplStatus.SANS_APL,
    "aucune": AplStatus.SANS_APL,
}


def _month_label(month: date) -> str:
    return format_date(month).split(" ", 1)[1]


@dataclass(frozen=True)
class _Lease:
    occupancy_id: int
    start_on: date
    end_on: date | None


def _lease_index(organisation_id: int) -> dict[str, _Lease]:
    """Every lease reference of the organisation, in one query. When a reference was reused
    (a glissement keeps it), the current lease wins, then the most recent one."""
    rows = db.session.execute(
        select(Occupancy.lease_reference, Occupancy.id, Occupancy.start_on, Occupancy.end_on)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(Dwelling.landlord_id == organisation_id, Occupancy.lease_reference.is_not(None))
        .order_by(Occupancy.end_on.is_(None), Occupancy.start_on, Occupancy.id)
    )
    return {ref: _Lease(oid, start, end) for ref, oid, start, end in rows}


def _progress(iterable: Iterable, progress: Callable | None, **kwargs) -> Iterable:
    return progress(iterable, **kwargs) if progress else iterable


def read_rent_accounts(
    organisation_id: int,
    content: bytes,
    *,
    month: date | None = None,
    today: date | None = None,
    progress: Callable | None = None,
) -> tuple[ImportReport, list[dict]]:
    """Parse and validate a landlord's extract without writing anything.

    Returns the report and, when it is valid, the rows to write (one dict per snapshot)."""
    today = today or today_paris()
    current_month = first_of_month(today)
    report = ImportReport(file_format="xlsx" if content[:4] == b"PK\x03\x04" else "csv")
    try:
        rows = iter(_xlsx_rows(content) if report.file_format == "xlsx" else _csv_rows(content))
        _header_line, header = next(
            ((n, r) for n, r in rows if not all(_is_blank(v) for v in r)), (0, None)
        )
    except Exception:
        report.file_problems.append(
            "Le fichier n'est ni un CSV (séparateur point-virgule) ni un classeur Excel "
            "(.xlsx) lisible."
        )
        return report, []
    if header is None:
        report.file_problems.append("Le fichier est vide.")
        return report, []
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _HEADER_KEYS.get(_normalise_header(name))
        if key and key not in positions:
            positions[key] = index
    missing = [c.header for c in IMPORT_COLUMNS if c.required and c.key not in positions]
    if missing:
        hint = ""
        if (
            report.file_format == "csv"
            and len(header) == 1
            and ("," in header[0] or "\t" in header[0])
        ):
            hint = " Le séparateur attendu est le point-virgule (;)."
        report.file_problems.append(
            "Colonnes obligatoires absentes : " + ", ".join(missing) + "." + hint
        )
        return report, []
    if month is None and "month" not in positions:
        report.file_problems.append(
            "Le mois du compte n'est indiqué nulle part : choisissez-le ou ajoutez une "
            "colonne « Mois »."
        )
        return report, []

    leases = _lease_index(organisation_id)
    seen: dict[tuple[int, date], int] = {}
    values: list[dict] = []
    imported_at = utcnow()
    width = max(positions.values()) + 1

    for line, raw in _progress(rows, progress, desc="Lecture", unit=" lignes"):
        if all(_is_blank(v) for v in raw):
            continue
        report.rows += 1
        cells = list(raw) + [None] * (width - len(raw))
        cell = {key: cells[index] for key, index in positions.items()}
        reasons: list[str] = []
        reference = "" if _is_blank(cell["reference"]) else str(cell["reference"]).strip()
        if isinstance(cell["reference"], float) and cell["reference"].is_integer():
            reference = str(int(cell["reference"]))
        lease = leases.get(reference)
        if not reference:
            reasons.append("référence du bail manquante")
        elif lease is None:
            reasons.append(f"référence de bail inconnue pour votre organisation (« {reference} »)")

        row_month = month
        if "month" in positions and not _is_blank(cell["month"]):
            try:
                row_month = parse_month(cell["month"])
            except ValueError:
                reasons.append(f"mois illisible (« {cell['month']} », attendu AAAA-MM)")
                row_month = None
            else:
                if month is not None and row_month != month:
                    reasons.append(
                        f"le mois de la ligne ({_month_label(row_month)}) n'est pas le mois "
                        f"choisi ({_month_label(month)})"
                    )
        elif month is None:
            reasons.append("mois manquant")
        if row_month is not None:
            if row_month > current_month:
                reasons.append(f"mois dans le futur ({_month_label(row_month)})")
            elif lease is not None and row_month < first_of_month(lease.start_on):
                reasons.append(f"le bail commence le {format_date(lease.start_on)}, après ce mois")
            elif lease is not None and lease.end_on and row_month > first_of_month(lease.end_on):
                reasons.append(f"le bail est terminé depuis le {format_date(lease.end_on)}")

        amounts = {}
        for key, label in (("balance", "solde"), ("amount_due", "loyer et charges du mois")):
            if _is_blank(cell[key]):
                reasons.append(f"{label} manquant")
                continue
            try:
                amounts[key] = parse_amount(cell[key])
            except ValueError:
                reasons.append(f"{label} illisible (« {cell[key]} », attendu par ex. 1 234,56)")
        if amounts.get("amount_due", 0) < 0:
            reasons.append("le loyer et les charges du mois ne peuvent pas être négatifs")

        days = {}
        for key, label in (
            ("last_payment_on", "date du dernier paiement"),
            ("caf_reported_on", "date de signalement CAF"),
        ):
            raw_day = cell.get(key)
            if _is_blank(raw_day):
                days[key] = None
                continue
            try:
                days[key] = parse_day(raw_day)
            except ValueError:
                reasons.append(
                    f"{label} illisible ou impossible (« {raw_day} », attendu JJ/MM/AAAA)"
                )
                continue
            if days[key] > today:
                reasons.append(f"{label} dans le futur")

        apl = None
        if not _is_blank(cell.get("apl_status")):
            apl = _APL_VALUES.get(_normalise_header(cell["apl_status"]))
            if apl is None:
                reasons.append(
                    f"APL illisible (« {cell['apl_status']} », "
                    "attendu maintenue, suspendue ou sans)"
                )

        if lease is not None and row_month is not None:
            first_line = seen.setdefault((lease.occupancy_id, row_month), line)
            if first_line != line:
                reasons.append(
                    f"ligne en double : ce bail et ce mois figurent déjà ligne {first_line}"
                )
        if reasons:
            report.problems.append(RowProblem(line, reference, tuple(reasons)))
            continue
        values.append(
            {
                "occupancy_id": lease.occupancy_id,
                "month": row_month,
                "balance_cents": amounts["balance"],
                "amount_due_cents": amounts["amount_due"],
                "last_payment_on": days["last_payment_on"],
                "apl_status": apl,
                "caf_reported_on": days["caf_reported_on"],
                "imported_at": imported_at,
            }
        )
    if report.rows == 0:
        report.file_problems.append("Le fichier ne contient aucune ligne de compte.")
    report.months = tuple(sorted({v["month"] for v in values}))
    return report, (values if report.is_valid else [])


def _upsert_statement():
    table = RentAccountSnapshot.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    updated = (
        "balance_cents",
        "amount_due_cents",
        "last_payment_on",
        "apl_status",
        "caf_reported_on",
        "imported_at",
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.occupancy_id, table.c.month],
        set_={name: statement.excluded[name] for name in updated},
    )


def _existing_snapshots(organisation_id: int, months: tuple[date, ...]) -> set[tuple[int, date]]:
    rows = db.session.execute(
        select(RentAccountSnapshot.occupancy_id, RentAccountSnapshot.month)
        .join(Occupancy, Occupancy.id == RentAccountSnapshot.occupancy_id)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(Dwelling.landlord_id == organisation_id, RentAccountSnapshot.month.in_(months))
    )
    return {(oid, month) for oid, month in rows}


def import_rent_accounts(
    actor,
    organisation,
    *,
    content: bytes,
    month: date | None = None,
    today: date | None = None,
    progress: Callable | None = None,
    via: str = "web",
) -> ImportReport:
    """Import the landlord's monthly extract, all or nothing.

    Rows are matched by lease reference among ``organisation``'s leases only (another
    landlord's reference is unknown here). Any bad row → ``ImportRejected`` and nothing is
    written. A month imported again updates its snapshots (unique occupancy × month)."""
    report, values = read_rent_accounts(
        organisation.id, content, month=month, today=today, progress=progress
    )
    if not report.is_valid:
        raise ImportRejected(report)
    existing = _existing_snapshots(organisation.id, report.months)
    report.updated = sum((v["occupancy_id"], v["month"]) in existing for v in values)
    report.created = len(values) - report.updated
    statement = _upsert_statement()
    chunks = [values[i : i + _WRITE_CHUNK] for i in range(0, len(values), _WRITE_CHUNK)]
    for chunk in _progress(chunks, progress, desc="Enregistrement", unit=" lots"):
        db.session.execute(statement, chunk)
    # The upsert bypasses the ORM (and its flush listener): the dashboard's figures of these
    # leases are refreshed here, in the same transaction.
    refresh_tenancy_figures(db.session, [v["occupancy_id"] for v in values])
    record(
        actor,
        "rent_accounts.imported",
        target=organisation,
        details={
            "format": report.file_format,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "months": len(report.months),
            "via": via,
        },
    )
    return report


def record_refused_import(actor, organisation, report: ImportReport, *, via: str = "web") -> None:
    """Audit a refused import (counts only); the caller commits after rolling back."""
    record(
        actor,
        "rent_accounts.import_refused",
        target=organisation,
        outcome=AuditOutcome.REFUSED,
        details={
            "format": report.file_format,
            "rows": report.rows,
            "bad_rows": len(report.problems),
            "file_problems": len(report.file_problems),
            "via": via,
        },
    )
