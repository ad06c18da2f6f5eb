"""Business rules of the housing domain: dwellings, leases, the rent-account import, GLA
actions, repayment plans and eviction-prevention stages. The legal deadlines (pure functions)
are in ``deadlines.py``; ``next_deadline`` is re-exported here for the reminder jobs.

Services take plain values, check the rule, change the data, write the audit entry and never
commit; a refusal is a ``DomainError`` with a French message."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import bounds, metrics
from app.audit.models import AuditOutcome
from app.audit.services import record
from app.dates import add_months
from app.db import db
from app.errors import DomainError, check_version
from app.formatting import format_date, today_paris
from app.households.models import StageCause, search_key
from app.households.path import follow_work
from app.housing.deadlines import next_deadline as next_deadline
from app.housing.dwellings import assignable_dwellings
from app.housing.models import (
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
    RepaymentPlan,
    RepaymentPlanStatus,
    Typology,
)
from app.housing.rent_import import (
    ImportLimits,
    ImportRejected,
    ImportReport,
    ImportSource,
    read_rent_accounts,
    saved_columns,
    write_rent_accounts,
)
from app.organisations.models import OrganisationKind

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
    follow_work(actor, household, cause=StageCause.LEASE_STARTED, on=start_on)
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


# --- rent-account import (reading and validation: app/housing/rent_import/) ----------------


def import_rent_accounts(
    actor,
    organisation,
    *,
    content: bytes,
    month: date | None = None,
    today: date | None = None,
    progress: Callable | None = None,
    via: str = "web",
    limits: ImportLimits | None = None,
    positions: dict[str, int] | None = None,
    source: ImportSource | None = None,
) -> ImportReport:
    """Import the landlord's monthly extract, all or nothing.

    Rows are matched by lease reference (``reference_key``) among ``organisation``'s
    leases; rows of leases Ancrage does not follow are counted and set aside, another
    landlord's lease is an error. The whole file is read and validated first, within
    ``limits`` (from the configuration by default), with the columns of ``positions`` or
    else of the landlord's saved profile and the known synonyms, before the first write;
    any bad row or exceeded limit → ``ImportRejected`` and nothing is written. The writes
    are then a few bulk upserts of the rows that change (``rent_import.writer``)."""
    saved = saved_columns(organisation.id) if positions is None else None
    report, values = read_rent_accounts(
        organisation.id,
        content,
        month=month,
        today=today,
        progress=progress,
        limits=limits,
        positions=positions,
        saved=saved,
    )
    if not report.is_valid:
        raise ImportRejected(report)
    return write_rent_accounts(
        actor, organisation, report, values, via=via, progress=progress, source=source
    )


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
            "bad_rows": report.bad_rows,
            "file_problems": len(report.file_problems),
            "via": via,
        },
    )
    metrics.record_import("rent_accounts", "refused")
