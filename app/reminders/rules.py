"""Reminder rules: which reminders should exist today.

A rule is one small unit: a code, a title, an audience, and one set-based query returning
the reminders that should exist today — columns ``household_id``, ``subject_id``, ``due_on``
(and ``landlord_id`` for the landlord's staff, ``title`` when the rule words it per row).
The sweep (``app.reminders.jobs``) inserts what is missing and closes what the query no
longer returns.

Rules never loop over households in Python; the queries scale with the number of reminders,
not of households (see ``benchmarks/bench_sweep.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import (
    Date,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
)

from app.documents.models import Document, DocumentCategory
from app.households.models import Household, HouseholdStage
from app.housing.models import (
    Dwelling,
    GlaAction,
    GlaActionKind,
    LeaseReview,
    LeaseType,
    Occupancy,
    ProcedureStage,
    ProcedureStageKind,
    RentAccountSnapshot,
    RepaymentPlan,
    RepaymentPlanStatus,
)
from app.housing.services import next_deadline
from app.interventions.queries import last_contacts
from app.reminders.models import (
    MANUAL_RULE,
    NEXT_ACTION_RULE,
    NEXT_ACTION_TITLE,
    PARTNER_CORRECTION_RULE,
    PROJECT_ACCESS_RULE,
    REASSIGNMENT_RULE,
)
from app.sql import greatest, shift, shift_by_column
from app.support.models import Measure, PostExitCheck
from app.support.queries import household_intensity, open_measures

# --- rules -----------------------------------------------------------------------------------


class Recipient(StrEnum):
    REFERENT = "referent"  # the household's référent (its coordinators when it has none)
    COORDINATEUR = "coordinateur"  # the coordinators of the household's project
    BAILLEUR = "bailleur"  # the staff of the dwelling's landlord


RECIPIENT_LABELS = {
    Recipient.REFERENT: "Référent·e du ménage",
    Recipient.COORDINATEUR: "Coordination du projet",
    Recipient.BAILLEUR: "Personnel du bailleur",
}


@dataclass(frozen=True)
class Rule:
    """``query(today, settings)`` returns ``household_id, subject_id, due_on`` (plus
    ``landlord_id`` for the landlord's staff, ``title`` when worded per row). ``refine``, when
    given, turns each returned row into ``(due_on, title)`` or None in Python — only for
    legal deadlines whose arithmetic lives in the housing domain (rows are leases in
    procedure, never all households)."""

    code: str
    title: str
    recipient: Recipient
    query: Callable[[date, dict[str, int]], Select]
    description: str
    refine: Callable[[object, date, dict[str, int]], tuple[date, str] | None] | None = None

    @property
    def recipient_label(self) -> str:
        return RECIPIENT_LABELS[self.recipient]


def _columns(household_id, subject_id, due_on, **extra):
    return (
        household_id.label("household_id"),
        subject_id.label("subject_id"),
        due_on.label("due_on"),
        *(value.label(name) for name, value in extra.items()),
    )


def _due_within(query: Select, today: date, lead_days: int) -> Select:
    """Keep the rows of ``query`` (labelled ``due_on``) due within ``lead_days``."""
    rows = query.subquery()
    return select(rows).where(rows.c.due_on <= today + timedelta(days=lead_days))


# Support: contacts, reviews, end of measure, after the exit ---------------------------------


def _contact_rhythm() -> Select:
    """Supported households: rhythm of their open measures and the date contacts count from
    (the last real contact, else the start of support)."""
    rhythm = household_intensity().subquery()
    last = last_contacts().subquery()
    return select(
        rhythm.c.household_id,
        rhythm.c.contact_every_days,
        func.coalesce(last.c.last_contact_on, rhythm.c.supported_since).label("since"),
    ).outerjoin(last, last.c.household_id == rhythm.c.household_id)


def contact_overdue(today: date, s: dict[str, int]) -> Select:
    """The next contact was due ``rhythm`` days after the last one and is late by more than
    the tolerance. A new contact moves the due date, which closes the reminder."""
    rows = _contact_rhythm().subquery()
    due = shift_by_column(rows.c.since, rows.c.contact_every_days)
    query = select(*_columns(rows.c.household_id, rows.c.household_id, due))
    return _due_within(query, today, -s["contact_grace_days"])


def no_contact(today: date, s: dict[str, int]) -> Select:
    """No contact for N weeks: the coordinators' signal of a stalled file."""
    rows = _contact_rhythm().subquery()
    due = shift(rows.c.since, days=7 * s["no_contact_weeks"])
    return _due_within(select(*_columns(rows.c.household_id, rows.c.household_id, due)), today, 0)


def review_due(today: date, s: dict[str, int]) -> Select:
    """The measure's next review (kept by the support services: start + 3 months, then each
    review + 3 months). Recording the review moves it."""
    rows = open_measures().where(Measure.next_review_on.is_not(None)).subquery()
    query = select(*_columns(rows.c.household_id, rows.c.measure_id, rows.c.next_review_on))
    return _due_within(query, today, s["review_lead_days"])


def measure_ending(today: date, s: dict[str, int]) -> Select:
    """The planned end of an open measure approaches: renew it (with a justification) or
    close it. A renewal moves the end; closing the measure ends the reminder."""
    rows = open_measures().subquery()
    query = select(*_columns(rows.c.household_id, rows.c.measure_id, rows.c.planned_end_on))
    return _due_within(query, today, s["measure_end_lead_days"])


def post_exit_check(today: date, s: dict[str, int]) -> Select:
    """The +6 and +12-month checks after an exit, until they are filled in."""
    query = select(
        *_columns(PostExitCheck.household_id, PostExitCheck.id, PostExitCheck.due_on),
        PostExitCheck.months.label("months"),
    ).where(PostExitCheck.done_on.is_(None))
    return _due_within(query, today, s["post_exit_lead_days"])


def _post_exit_title(row, today, s):
    return row.due_on, f"Vérification {row.months} mois après la sortie"


# Housing: bail glissant ---------------------------------------------------------------------


def _current_bail_glissant():
    """Conditions of a bail glissant still running and not yet slid."""
    return (
        Occupancy.lease_type == LeaseType.BAIL_GLISSANT,
        Occupancy.end_on.is_(None),
        Occupancy.glissed_on.is_(None),
    )


def lease_review_due(today: date, s: dict[str, int]) -> Select:
    """Bail glissant: the tripartite review every N months — the date the last review set,
    else N months after the last review, else N months after the lease started."""
    months = s["lease_review_interval_months"]
    last = (
        select(
            LeaseReview.occupancy_id,
            func.max(LeaseReview.held_on).label("held_on"),
            func.max(LeaseReview.next_review_on).label("next_on"),
        )
        .group_by(LeaseReview.occupancy_id)
        .subquery()
    )
    due = case(
        (last.c.held_on.is_(None), shift(Occupancy.start_on, months=months)),
        (last.c.next_on > last.c.held_on, last.c.next_on),
        else_=shift(last.c.held_on, months=months),
    )
    query = (
        select(*_columns(Occupancy.household_id, Occupancy.id, due))
        .outerjoin(last, last.c.occupancy_id == Occupancy.id)
        .where(*_current_bail_glissant())
    )
    return _due_within(query, today, s["lease_review_lead_days"])


def glissement_target(today: date, s: dict[str, int]) -> Select:
    """Bail glissant: the target date of glissement approaches and the lease has not slid."""
    query = (
        select(
            *_columns(
                Occupancy.household_id,
                Occupancy.id,
                Occupancy.glissement_target_on,
                landlord_id=Dwelling.landlord_id,
            )
        )
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(*_current_bail_glissant(), Occupancy.glissement_target_on.is_not(None))
    )
    return _due_within(query, today, s["glissement_lead_days"])


# Housing: arrears -----------------------------------------------------------------------------


def _arrears_streaks(s: dict[str, int]):
    """Current leases whose latest rent accounts show an *impayé constitué* (balance ≥ N ×
    the month's rent and charges): ``occupancy_id, since`` (first month of the current run of
    such months — the run restarts after any month below the threshold), ``reported_on``
    (CAF report noted on a snapshot of the run)."""
    snapshot = RentAccountSnapshot
    high = and_(
        snapshot.amount_due_cents > 0,
        snapshot.balance_cents >= s["arrears_rent_multiple"] * snapshot.amount_due_cents,
    )
    last_low = (
        select(snapshot.occupancy_id, func.max(snapshot.month).label("month"))
        .where(~high)
        .group_by(snapshot.occupancy_id)
        .subquery()
    )
    return (
        select(
            snapshot.occupancy_id,
            func.min(snapshot.month).label("since"),
            func.max(snapshot.caf_reported_on).label("reported_on"),
        )
        .outerjoin(last_low, last_low.c.occupancy_id == snapshot.occupancy_id)
        .where(high, or_(last_low.c.month.is_(None), snapshot.month > last_low.c.month))
        .group_by(snapshot.occupancy_id)
        .subquery()
    )


def _stage_since(stage: ProcedureStageKind, since):
    """A procedure stage of the lease recorded on or after ``since``."""
    return (
        select(ProcedureStage.id)
        .where(
            ProcedureStage.occupancy_id == Occupancy.id,
            ProcedureStage.stage == stage,
            ProcedureStage.occurred_on >= since,
        )
        .exists()
    )


def arrears_caf_report(today: date, s: dict[str, int]) -> Select:
    """Arrears reached N × the monthly rent: the landlord reports to the CAF within 2 months
    of the end of that month. A report date on a snapshot, or a « signalement CAF » stage,
    resolves it; so does the debt falling below the threshold."""
    streak = _arrears_streaks(s)
    due = shift(streak.c.since, months=1 + s["caf_report_months"])
    query = (
        select(
            *_columns(Occupancy.household_id, Occupancy.id, due, landlord_id=Dwelling.landlord_id)
        )
        .join(streak, streak.c.occupancy_id == Occupancy.id)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(
            Occupancy.end_on.is_(None),
            streak.c.reported_on.is_(None),
            ~_stage_since(ProcedureStageKind.SIGNALEMENT_CAF, streak.c.since),
        )
    )
    return _due_within(query, today, s["procedure_lead_days"])


def arrears_without_plan(today: date, s: dict[str, int]) -> Select:
    """Still in arrears N months after they were constituted and no repayment plan since:
    time to ask the FSL. A plan (not broken) started since then resolves it."""
    streak = _arrears_streaks(s)
    due = shift(streak.c.since, months=1 + s["repayment_plan_months"])
    plan_since = (
        select(RepaymentPlan.id)
        .where(
            RepaymentPlan.occupancy_id == Occupancy.id,
            RepaymentPlan.start_on >= streak.c.since,
            RepaymentPlan.status != RepaymentPlanStatus.ROMPU,
        )
        .exists()
    )
    query = (
        select(*_columns(Occupancy.household_id, Occupancy.id, due))
        .join(streak, streak.c.occupancy_id == Occupancy.id)
        .where(Occupancy.end_on.is_(None), ~plan_since)
    )
    return _due_within(query, today, s["procedure_lead_days"])


def insurance_certificate(today: date, s: dict[str, int]) -> Select:
    """The yearly insurance certificate: 12 months after the last one recorded as a GLA
    action, or after the lease started — or, when a certificate uploaded to the household's
    documents says until when it is valid, that date if it is later."""
    last = (
        select(GlaAction.occupancy_id, func.max(GlaAction.done_on).label("done_on"))
        .where(GlaAction.kind == GlaActionKind.ATTESTATION_ASSURANCE)
        .group_by(GlaAction.occupancy_id)
        .subquery()
    )
    certificate = (
        select(Document.household_id, func.max(Document.valid_until).label("valid_until"))
        .where(
            Document.category == DocumentCategory.ASSURANCE,
            Document.valid_until.is_not(None),
            Document.replaced_at.is_(None),
            Document.deleted_at.is_(None),
            Document.sha256.is_not(None),
        )
        .group_by(Document.household_id)
        .subquery()
    )
    yearly = shift(func.coalesce(last.c.done_on, Occupancy.start_on), months=12)
    due = case(
        (certificate.c.valid_until.is_(None), yearly),
        else_=greatest(yearly, certificate.c.valid_until),
    )
    query = (
        select(
            *_columns(Occupancy.household_id, Occupancy.id, due, landlord_id=Dwelling.landlord_id)
        )
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .outerjoin(last, last.c.occupancy_id == Occupancy.id)
        .outerjoin(certificate, certificate.c.household_id == Occupancy.household_id)
        .where(Occupancy.end_on.is_(None))
    )
    return _due_within(query, today, s["insurance_lead_days"])


def housing_application_expiring(today: date, s: dict[str, int]) -> Select:
    """The demande de logement social of a household not housed yet lapses soon: renew it.
    Renewing (a new expiry date) or moving in resolves the reminder."""
    housed = select(Occupancy.household_id).where(Occupancy.end_on.is_(None))
    query = select(
        *_columns(Household.id, Household.id, Household.housing_application_expires_on)
    ).where(
        Household.housing_application_expires_on.is_not(None),
        Household.anonymised_at.is_(None),
        Household.stage.not_in((HouseholdStage.SORTIE, HouseholdStage.SUIVI_POST_SORTIE)),
        Household.id.not_in(housed),
    )
    return _due_within(query, today, s["application_lead_days"])


# Housing: eviction procedure ------------------------------------------------------------------

JUDICIAL_STAGES = tuple(kind.value for kind in ProcedureStageKind if kind.is_judicial)


def _latest_stages() -> Select:
    """The latest procedure stage of each current lease: ``occupancy_id, household_id,
    landlord_id, stage_id, stage, occurred_on, hearing_on``."""
    ranked = select(
        ProcedureStage.id.label("stage_id"),
        ProcedureStage.occupancy_id,
        ProcedureStage.stage,
        ProcedureStage.occurred_on,
        ProcedureStage.hearing_on,
        func.row_number()
        .over(
            partition_by=ProcedureStage.occupancy_id,
            order_by=(ProcedureStage.occurred_on.desc(), ProcedureStage.id.desc()),
        )
        .label("rank"),
    ).subquery()
    return (
        select(
            ranked,
            Occupancy.household_id,
            Dwelling.landlord_id,
        )
        .join(Occupancy, Occupancy.id == ranked.c.occupancy_id)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(ranked.c.rank == 1, Occupancy.end_on.is_(None))
    )


# The deadlines of housing.services.next_deadline worth a reminder, and how to say them.
PROCEDURE_TITLES = {
    ProcedureStageKind.COMMANDEMENT_PAYER: "Fin du délai du commandement de payer (6 semaines)",
    ProcedureStageKind.ASSIGNATION: "Diagnostic social et financier à remettre avant l'audience",
    ProcedureStageKind.DIAGNOSTIC_SOCIAL_FINANCIER: "Audience au tribunal",
    ProcedureStageKind.COMMANDEMENT_QUITTER: "Fin du délai pour quitter les lieux",
    ProcedureStageKind.CONCOURS_FORCE_PUBLIQUE: "Expulsion possible (concours de la force "
    "publique)",
    ProcedureStageKind.PROTOCOLE_COHESION: "Fin du protocole de cohésion sociale",
}


def procedure_deadline(today: date, s: dict[str, int]) -> Select:
    """The deadline that follows the latest stage of a lease's procedure (rows: leases whose
    latest stage has one; the date itself comes from ``refine``)."""
    rows = _latest_stages().subquery()
    return select(
        *_columns(rows.c.household_id, rows.c.stage_id, rows.c.occurred_on),
        rows.c.stage,
        rows.c.occurred_on.label("occurred_on"),
        rows.c.hearing_on,
    ).where(rows.c.stage.in_([kind.value for kind in PROCEDURE_TITLES]))


def _procedure_refine(row, today: date, s: dict[str, int]):
    deadline = next_deadline(row.stage, row.occurred_on, hearing_on=row.hearing_on)
    if deadline is None or deadline.on > today + timedelta(days=s["procedure_lead_days"]):
        return None
    return deadline.on, PROCEDURE_TITLES[ProcedureStageKind(row.stage)]


def truce_season(today: date) -> tuple[date, date]:
    """The winter truce (1 November – 31 March) that is running or comes next."""
    if today.month <= 3:
        return date(today.year - 1, 11, 1), date(today.year, 3, 31)
    return date(today.year, 11, 1), date(today.year + 1, 3, 31)


def _in_judicial_procedure(due: date, *, landlord: bool) -> Select:
    rows = _latest_stages().subquery()
    extra = {"landlord_id": rows.c.landlord_id} if landlord else {}
    return select(
        *_columns(rows.c.household_id, rows.c.occupancy_id, literal(due, Date), **extra)
    ).where(rows.c.stage.in_(JUDICIAL_STAGES))


def truce_start(today: date, s: dict[str, int]) -> Select:
    """Households in a judicial procedure, from N days before 1 November until the truce
    ends: forced evictions stop."""
    start, end = truce_season(today)
    if not start - timedelta(days=s["truce_lead_days"]) <= today <= end:
        return _in_judicial_procedure(start, landlord=True).where(false())
    return _in_judicial_procedure(start, landlord=True)


def truce_end(today: date, s: dict[str, int]) -> Select:
    """Households in a judicial procedure, from N days before 31 March until the end of April:
    evictions are possible again from 1 April."""
    end = date(today.year if today.month <= 4 else today.year + 1, 3, 31)
    if not end - timedelta(days=s["truce_lead_days"]) <= today <= end + timedelta(days=30):
        return _in_judicial_procedure(end, landlord=False).where(false())
    return _in_judicial_procedure(end, landlord=False)


# Every automatic rule, in the order the administration page lists them.
RULES: tuple[Rule, ...] = (
    Rule(
        "contact_retard",
        "Contact en retard selon l'intensité",
        Recipient.REFERENT,
        contact_overdue,
        "Quand le dernier contact date de plus que le rythme de l'intensité (plus la tolérance).",
    ),
    Rule(
        "sans_contact",
        "Aucun contact depuis plusieurs semaines",
        Recipient.COORDINATEUR,
        no_contact,
        "Quand aucun contact n'a eu lieu depuis le nombre de semaines réglé.",
    ),
    Rule(
        "bilan_trimestriel",
        "Bilan de la mesure à faire",
        Recipient.REFERENT,
        review_due,
        "Avant la date du prochain bilan de la mesure (tous les 3 mois).",
    ),
    Rule(
        "fin_de_mesure",
        "Fin de mesure : renouveler ou clôturer",
        Recipient.REFERENT,
        measure_ending,
        "Avant la fin prévue d'une mesure en cours.",
    ),
    Rule(
        "bail_glissant_bilan",
        "Bilan tripartite du bail glissant",
        Recipient.REFERENT,
        lease_review_due,
        "Tous les 6 mois (réglable) après le début du bail ou le dernier bilan.",
    ),
    Rule(
        "glissement_cible",
        "Date cible de glissement du bail",
        Recipient.BAILLEUR,
        glissement_target,
        "Avant la date cible, tant que le bail n'a pas glissé.",
    ),
    Rule(
        "impaye_signalement_caf",
        "Impayé constitué : signalement à la CAF",
        Recipient.BAILLEUR,
        arrears_caf_report,
        "Dette ≥ 2 mois de loyer (réglable) : signalement dans les 2 mois.",
    ),
    Rule(
        "impaye_sans_plan",
        "Impayé sans plan d'apurement : saisir le FSL",
        Recipient.REFERENT,
        arrears_without_plan,
        "Toujours en impayé 6 mois après sa constitution, sans plan d'apurement.",
    ),
    Rule(
        "procedure_echeance",
        "Échéance de la procédure d'expulsion",
        Recipient.REFERENT,
        procedure_deadline,
        "Délais légaux après la dernière étape (commandement de payer + 6 semaines, audience, "
        "commandement de quitter les lieux + 2 mois…).",
        refine=_procedure_refine,
    ),
    Rule(
        "treve_debut",
        "Début de la trêve hivernale (ménage en procédure)",
        Recipient.BAILLEUR,
        truce_start,
        "Avant le 1er novembre, pour les ménages en procédure judiciaire.",
    ),
    Rule(
        "treve_fin",
        "Fin de la trêve hivernale (ménage en procédure)",
        Recipient.REFERENT,
        truce_end,
        "Avant le 31 mars, pour les ménages en procédure judiciaire.",
    ),
    Rule(
        "demande_logement",
        "Demande de logement social à renouveler",
        Recipient.REFERENT,
        housing_application_expiring,
        "Un mois avant l'expiration de la demande d'un ménage pas encore logé.",
    ),
    Rule(
        "attestation_assurance",
        "Attestation d'assurance annuelle",
        Recipient.BAILLEUR,
        insurance_certificate,
        "Un an après la dernière attestation notée (ou le début du bail).",
    ),
    Rule(
        "suivi_post_sortie",
        "Vérification après la sortie",
        Recipient.REFERENT,
        post_exit_check,
        "À 6 et 12 mois après la sortie, jusqu'à ce que la vérification soit notée.",
        refine=_post_exit_title,
    ),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}


def rule_title(code: str) -> str:
    if code == MANUAL_RULE:
        return "Rappel personnel"
    if code == REASSIGNMENT_RULE:
        return "Prendre contact après une réaffectation"
    if code == PROJECT_ACCESS_RULE:
        return "Nouvel accès à votre projet"
    if code == PARTNER_CORRECTION_RULE:
        return "Correction proposée pour l'annuaire des partenaires"
    if code == NEXT_ACTION_RULE:
        return NEXT_ACTION_TITLE
    rule = RULES_BY_CODE.get(code)
    return rule.title if rule else code


# The kinds of reminder an inbox can be filtered by: (code, label).
OTHER_KINDS = (
    (NEXT_ACTION_RULE, NEXT_ACTION_TITLE),
    (MANUAL_RULE, "Rappel personnel"),
    (REASSIGNMENT_RULE, "Prendre contact après une réaffectation"),
    (PROJECT_ACCESS_RULE, "Nouvel accès à votre projet"),
    (PARTNER_CORRECTION_RULE, "Correction proposée pour l'annuaire des partenaires"),
)
