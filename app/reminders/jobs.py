"""Reminder rules, the sweep that applies them, and the daily digest.

A rule is one small unit: a code, a title, an audience, and one set-based query returning
the reminders that should exist today — columns ``household_id``, ``subject_id``, ``due_on``
(and ``landlord_id`` for the landlord's staff, ``title`` when the rule words it per row).
The sweep inserts what is missing (``ON CONFLICT DO NOTHING`` on the reminder's unique key,
so two sweeps never duplicate) and closes, as "résolu automatiquement", the open reminders
of the rule that the query no longer returns: the condition was resolved.

Rules never loop over households in Python; the queries scale with the number of reminders,
not of households (see ``benchmarks/bench_sweep.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    Date,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app import metrics
from app.db import db, utcnow
from app.formatting import today_paris
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
from app.permissions import Role
from app.reminders.models import (
    DIGEST_MAX_ATTEMPTS,
    MANUAL_RULE,
    OPEN_STATUSES,
    PARTNER_CORRECTION_RULE,
    PROJECT_ACCESS_RULE,
    REASSIGNMENT_RULE,
    DigestDelivery,
    DigestState,
    Reminder,
    ReminderStatus,
)
from app.reminders.queries import current_settings
from app.support.models import Measure, PostExitCheck
from app.support.queries import household_intensity, open_measures

# --- date arithmetic that runs on SQLite and PostgreSQL ------------------------------------


def shift(expr, *, days: int = 0, months: int = 0):
    """``expr`` moved by whole months then days, as a SQL date. SQLite's ``date()`` rolls an
    overflowing day forward (31 Aug + 6 months = 3 Mar), PostgreSQL clamps it (28 Feb)."""
    if db.session.get_bind().dialect.name == "sqlite":
        modifiers = [f"{months:+d} months"] if months else []
        modifiers += [f"{days:+d} days"] if days else []
        return func.date(expr, *modifiers, type_=Date)
    return cast(expr + func.make_interval(0, months, 0, days), Date)


def shift_by_column(expr, days_column):
    """``expr`` plus a number of days read from a column."""
    if db.session.get_bind().dialect.name == "sqlite":
        modifier = literal("+").concat(cast(days_column, String)).concat(" days")
        return func.date(expr, modifier, type_=Date)
    return cast(expr + days_column, Date)


# --- rules -----------------------------------------------------------------------------------


class Audience(StrEnum):
    REFERENT = "referent"  # the household's référent (its coordinators when it has none)
    COORDINATEUR = "coordinateur"  # the coordinators of the household's project
    BAILLEUR = "bailleur"  # the staff of the dwelling's landlord


AUDIENCE_LABELS = {
    Audience.REFERENT: "Référent·e du ménage",
    Audience.COORDINATEUR: "Coordination du projet",
    Audience.BAILLEUR: "Personnel du bailleur",
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
    audience: Audience
    query: Callable[[date, dict[str, int]], Select]
    description: str
    refine: Callable[[object, date, dict[str, int]], tuple[date, str] | None] | None = None

    @property
    def audience_label(self) -> str:
        return AUDIENCE_LABELS[self.audience]


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
    action, or after the lease started."""
    last = (
        select(GlaAction.occupancy_id, func.max(GlaAction.done_on).label("done_on"))
        .where(GlaAction.kind == GlaActionKind.ATTESTATION_ASSURANCE)
        .group_by(GlaAction.occupancy_id)
        .subquery()
    )
    due = shift(func.coalesce(last.c.done_on, Occupancy.start_on), months=12)
    query = (
        select(
            *_columns(Occupancy.household_id, Occupancy.id, due, landlord_id=Dwelling.landlord_id)
        )
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .outerjoin(last, last.c.occupancy_id == Occupancy.id)
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
        Audience.REFERENT,
        contact_overdue,
        "Quand le dernier contact date de plus que le rythme de l'intensité (plus la tolérance).",
    ),
    Rule(
        "sans_contact",
        "Aucun contact depuis plusieurs semaines",
        Audience.COORDINATEUR,
        no_contact,
        "Quand aucun contact n'a eu lieu depuis le nombre de semaines réglé.",
    ),
    Rule(
        "bilan_trimestriel",
        "Bilan de la mesure à faire",
        Audience.REFERENT,
        review_due,
        "Avant la date du prochain bilan de la mesure (tous les 3 mois).",
    ),
    Rule(
        "fin_de_mesure",
        "Fin de mesure : renouveler ou clôturer",
        Audience.REFERENT,
        measure_ending,
        "Avant la fin prévue d'une mesure en cours.",
    ),
    Rule(
        "bail_glissant_bilan",
        "Bilan tripartite du bail glissant",
        Audience.REFERENT,
        lease_review_due,
        "Tous les 6 mois (réglable) après le début du bail ou le dernier bilan.",
    ),
    Rule(
        "glissement_cible",
        "Date cible de glissement du bail",
        Audience.BAILLEUR,
        glissement_target,
        "Avant la date cible, tant que le bail n'a pas glissé.",
    ),
    Rule(
        "impaye_signalement_caf",
        "Impayé constitué : signalement à la CAF",
        Audience.BAILLEUR,
        arrears_caf_report,
        "Dette ≥ 2 mois de loyer (réglable) : signalement dans les 2 mois.",
    ),
    Rule(
        "impaye_sans_plan",
        "Impayé sans plan d'apurement : saisir le FSL",
        Audience.REFERENT,
        arrears_without_plan,
        "Toujours en impayé 6 mois après sa constitution, sans plan d'apurement.",
    ),
    Rule(
        "procedure_echeance",
        "Échéance de la procédure d'expulsion",
        Audience.REFERENT,
        procedure_deadline,
        "Délais légaux après la dernière étape (commandement de payer + 6 semaines, audience, "
        "commandement de quitter les lieux + 2 mois…).",
        refine=_procedure_refine,
    ),
    Rule(
        "treve_debut",
        "Début de la trêve hivernale (ménage en procédure)",
        Audience.BAILLEUR,
        truce_start,
        "Avant le 1er novembre, pour les ménages en procédure judiciaire.",
    ),
    Rule(
        "treve_fin",
        "Fin de la trêve hivernale (ménage en procédure)",
        Audience.REFERENT,
        truce_end,
        "Avant le 31 mars, pour les ménages en procédure judiciaire.",
    ),
    Rule(
        "demande_logement",
        "Demande de logement social à renouveler",
        Audience.REFERENT,
        housing_application_expiring,
        "Un mois avant l'expiration de la demande d'un ménage pas encore logé.",
    ),
    Rule(
        "attestation_assurance",
        "Attestation d'assurance annuelle",
        Audience.BAILLEUR,
        insurance_certificate,
        "Un an après la dernière attestation notée (ou le début du bail).",
    ),
    Rule(
        "suivi_post_sortie",
        "Vérification après la sortie",
        Audience.REFERENT,
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
    rule = RULES_BY_CODE.get(code)
    return rule.title if rule else code


# --- the sweep ---------------------------------------------------------------------------


@dataclass
class RuleOutcome:
    created: int = 0
    closed: int = 0
    readdressed: int = 0


def _recipient(rule: Rule, row) -> dict:
    if rule.audience == Audience.BAILLEUR:
        return {
            "recipient_user_id": None,
            "recipient_role": Role.PERSONNEL_BAILLEUR.value,
            "recipient_organisation_id": row.landlord_id,
        }
    if rule.audience == Audience.REFERENT and row.referent_id is not None:
        return {
            "recipient_user_id": row.referent_id,
            "recipient_role": None,
            "recipient_organisation_id": None,
        }
    return {
        "recipient_user_id": None,
        "recipient_role": Role.COORDINATEUR.value,
        "recipient_organisation_id": None,
    }


def _wanted(rule: Rule, today: date, settings: dict[str, int], household_id: int | None):
    """The reminders the rule wants today, keyed by (subject_id, due_on)."""
    found = rule.query(today, settings).subquery()
    query = (
        select(found, Household.referent_id)
        .join(Household, Household.id == found.c.household_id)
        .where(Household.anonymised_at.is_(None))
    )
    if household_id is not None:
        query = query.where(Household.id == household_id)
    wanted = {}
    for row in db.session.execute(query):
        due_on, title = row.due_on, getattr(row, "title", None) or rule.title
        if rule.refine is not None:
            refined = rule.refine(row, today, settings)
            if refined is None:
                continue
            due_on, title = refined
        wanted[(row.subject_id, due_on)] = {
            "rule_code": rule.code,
            "household_id": row.household_id,
            "subject_id": row.subject_id,
            "due_on": due_on,
            "title": title,
            **_recipient(rule, row),
        }
    return wanted


def _insert(rows: Iterable[dict], now: datetime) -> int:
    rows = [{**row, "status": ReminderStatus.A_FAIRE.value, "created_at": now} for row in rows]
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Reminder.__table__)
    statement = insert.on_conflict_do_nothing(
        index_elements=["rule_code", "subject_id", "due_on"]
    ).returning(Reminder.__table__.c.id)
    return len(db.session.execute(statement, rows).all())


RECIPIENT_FIELDS = ("recipient_user_id", "recipient_role", "recipient_organisation_id")


def apply_rule(
    rule: Rule,
    now: datetime,
    settings: dict[str, int] | None = None,
    *,
    household_id: int | None = None,
    create: bool = True,
) -> RuleOutcome:
    """Bring the rule's reminders in line with the data (for one household, or all). With
    ``create=False`` it only closes what the data resolved and re-addresses what moved."""
    today = today_paris(now)
    settings = settings or current_settings()
    wanted = _wanted(rule, today, settings, household_id)
    outcome = RuleOutcome()
    open_query = select(
        Reminder.id,
        Reminder.subject_id,
        Reminder.due_on,
        Reminder.recipient_user_id,
        Reminder.recipient_role,
        Reminder.recipient_organisation_id,
    ).where(Reminder.rule_code == rule.code, Reminder.status.in_(OPEN_STATUSES))
    if household_id is not None:
        open_query = open_query.where(Reminder.household_id == household_id)
    resolved, readdress = [], []
    for row in db.session.execute(open_query):
        target = wanted.get((row.subject_id, row.due_on))
        if target is None:
            resolved.append(row.id)
        elif any(getattr(row, f) != target[f] for f in RECIPIENT_FIELDS):
            readdress.append((row.id, {f: target[f] for f in RECIPIENT_FIELDS}))
    outcome.created = _insert(wanted.values(), now) if create else 0
    outcome.closed = close_resolved(resolved, now)
    for reminder_id, recipient in readdress:  # a reassigned household: few rows
        db.session.execute(update(Reminder).where(Reminder.id == reminder_id).values(**recipient))
    outcome.readdressed = len(readdress)
    return outcome


def close_resolved(reminder_ids: list[int], now: datetime) -> int:
    if not reminder_ids:
        return 0
    closed = 0
    for start in range(0, len(reminder_ids), 500):
        chunk = reminder_ids[start : start + 500]
        closed += db.session.execute(
            update(Reminder)
            .where(Reminder.id.in_(chunk), Reminder.status.in_(OPEN_STATUSES))
            .values(
                status=ReminderStatus.FAIT.value,
                closed_at=now,
                closed_by_id=None,
                is_resolved_automatically=True,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    return closed


def sweep(now: datetime | None = None) -> dict:
    """Apply every rule once. Returns counts per rule (kept in ``job_run.summary``)."""
    from app.audit.services import record

    now = now or utcnow()
    settings = current_settings()
    summary = {}
    for rule in RULES:
        outcome = apply_rule(rule, now, settings)
        summary[rule.code] = [outcome.created, outcome.closed]
    totals = {
        "created": sum(c for c, _ in summary.values()),
        "closed": sum(c for _, c in summary.values()),
    }
    record(None, "reminder.swept", details=totals, now=now)
    db.session.expire_all()
    return {**totals, "rules": summary, "today": today_paris(now).isoformat()}


# --- the daily digest ------------------------------------------------------------------------

# Delivery records older than this are deleted by the next digest run: they only serve to
# keep a day to one message and to show recent failures.
DIGEST_KEEP_DAYS = 90
DIGEST_ROLES = (Role.COORDINATEUR, Role.TRAVAILLEUR_SOCIAL, Role.PERSONNEL_BAILLEUR)


@dataclass(frozen=True)
class DigestContent:
    subject: str
    text: str
    html: str
    item_count: int


def _settled_digests(day: date) -> Select:
    """The users whose digest of ``day`` needs nothing more: sent, nothing due, being sent
    (a sender that died mid-way is not second-guessed), or failed too many times."""
    return select(DigestDelivery.user_id).where(
        DigestDelivery.day == day,
        or_(
            DigestDelivery.state != DigestState.FAILED,
            DigestDelivery.attempts >= DIGEST_MAX_ATTEMPTS,
        ),
    )


def _digest_recipients(day: date) -> list[int]:
    """Active users who work with households and whose digest of ``day`` is still to be
    sent: no delivery record yet, or a failed one with attempts left."""
    from app.users.models import User, UserRole

    settled = _settled_digests(day)
    return list(
        db.session.scalars(
            select(User.id)
            .where(
                User.is_active.is_(True),
                User.id.in_(
                    select(UserRole.user_id).where(
                        UserRole.role.in_([role.value for role in DIGEST_ROLES])
                    )
                ),
                User.id.not_in(settled),
            )
            .order_by(User.id)
        )
    )


def digest_content(user, due: list[Reminder], day: date, base_url: str) -> DigestContent:
    """The message: rule titles, household references, dates and links only — never a
    household member's name, a note or the free text of a manual reminder. ``due`` holds the
    user's open reminders shown on ``day`` or before (what they may see, through
    ``my_open_reminders``)."""
    from flask import render_template

    def item(reminder: Reminder) -> dict:
        if reminder.household_id is None:  # a notice to coordinators: no household
            return {
                "shown_on": reminder.shown_on,
                "title": rule_title(reminder.rule_code),
                "reference": None,
                "link": f"{base_url}/rappels/",
            }
        return {
            "shown_on": reminder.shown_on,
            "title": rule_title(reminder.rule_code),
            "reference": reminder.household.reference,
            "link": f"{base_url}/menages/{reminder.household_id}/rappels",
        }

    overdue = [item(r) for r in due if r.shown_on < day]
    due_today = [item(r) for r in due if r.shown_on >= day]
    subject = f"Ancrage · {len(due)} rappel(s) à traiter"
    if overdue:
        subject += f", dont {len(overdue)} en retard"
    context = {
        "user_name": user.full_name,
        "day": day,
        "overdue": overdue,
        "due_today": due_today,
        "inbox_link": f"{base_url}/rappels/",
    }
    return DigestContent(
        subject=subject,
        text=render_template("reminders/digest_email.txt", **context),
        html=render_template("reminders/digest_email.html", **context),
        item_count=len(due),
    )


def _claim_digest(user_id: int, day: date, now: datetime, item_count: int) -> int | None:
    """Mark the user's digest of ``day`` as being sent, and commit, before it leaves: two
    runs at once never both send it. Returns the delivery id, or None when another run has
    it (or it is settled)."""
    existing = db.session.scalar(
        select(DigestDelivery.id).where(
            DigestDelivery.user_id == user_id, DigestDelivery.day == day
        )
    )
    if existing is None:
        delivery = DigestDelivery(
            user_id=user_id,
            day=day,
            state=DigestState.PENDING,
            attempts=1,
            item_count=item_count,
            updated_at=now,
        )
        try:
            with db.session.begin_nested():  # a lost race leaves the run's other work intact
                db.session.add(delivery)
        except IntegrityError:
            return None
        claimed = delivery.id
    else:
        retried = db.session.execute(
            update(DigestDelivery)
            .where(
                DigestDelivery.id == existing,
                DigestDelivery.state == DigestState.FAILED,
                DigestDelivery.attempts < DIGEST_MAX_ATTEMPTS,
            )
            .values(
                state=DigestState.PENDING,
                attempts=DigestDelivery.attempts + 1,
                item_count=item_count,
                updated_at=now,
            )
        )
        claimed = existing if retried.rowcount == 1 else None
    db.session.commit()
    return claimed


def _settle_digest(delivery_id: int, now: datetime, error: str | None) -> None:
    values = (
        {"state": DigestState.SENT, "sent_at": now, "last_error": None}
        if error is None
        else {"state": DigestState.FAILED, "last_error": error}
    )
    db.session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == delivery_id)
        .values(updated_at=now, **values)
    )
    db.session.commit()
    metrics.record_digest("sent" if error is None else "failed")


def _skip_digest(user_id: int, day: date, now: datetime) -> bool:
    """Nothing due for this user on ``day``: say so, once (a failed record becomes skipped
    when what was due has been dealt with in the meantime). False when another run recorded
    it first."""
    changed = db.session.execute(
        update(DigestDelivery)
        .where(
            DigestDelivery.user_id == user_id,
            DigestDelivery.day == day,
            DigestDelivery.state == DigestState.FAILED,
        )
        .values(state=DigestState.SKIPPED, item_count=0, updated_at=now)
    ).rowcount
    recorded = bool(changed)
    if not changed:
        try:
            with db.session.begin_nested():
                db.session.add(
                    DigestDelivery(
                        user_id=user_id,
                        day=day,
                        state=DigestState.SKIPPED,
                        attempts=0,
                        item_count=0,
                        updated_at=now,
                    )
                )
            recorded = True
        except IntegrityError:
            pass  # another run recorded this user's day first
    db.session.commit()
    return recorded


def send_digests(now: datetime | None = None, *, day: date | None = None) -> dict:
    """E-mail each user what is due on ``day`` (by default the Paris day of ``now``) and
    overdue, at most once per user and day, retrying failed sends at later runs.

    Unlike other jobs this one commits, once per user: the delivery record is claimed
    (``pending``) and committed before the message leaves, and settled (``sent`` or
    ``failed``) after, so that the SMTP conversation never happens inside a database
    transaction and a crash never sends a message twice. One user's failure does not stop
    the others. Returns counts (kept in ``job_run.summary``)."""
    from flask import current_app

    from app.mail import build_message, error_label, send_message
    from app.reminders.queries import my_open_reminders, shown_on
    from app.users.models import User

    now = now or utcnow()
    day = day or today_paris(now)
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    db.session.execute(
        delete(DigestDelivery).where(DigestDelivery.day < day - timedelta(days=DIGEST_KEEP_DAYS))
    )
    earlier = db.session.scalar(select(func.count()).select_from(_settled_digests(day).subquery()))
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    for user_id in _digest_recipients(day):
        user = db.session.get(User, user_id)
        due = db.session.scalars(my_open_reminders(user).where(shown_on <= day)).unique().all()
        if not due:
            counts["skipped"] += _skip_digest(user_id, day, now)
            continue
        content = digest_content(user, due, day, base_url)
        message = build_message(user.email, content.subject, content.text, html=content.html)
        delivery_id = _claim_digest(user_id, day, now, content.item_count)
        if delivery_id is None:
            continue
        # No database access from here until the outcome is written.
        try:
            send_message(message)
        except Exception as error:  # any failure is recorded, and retried by a later run
            label = error_label(error)
            current_app.logger.warning("digest to user %s not sent: %s", user_id, label)
            _settle_digest(delivery_id, now, label)
            counts["failed"] += 1
        else:
            _settle_digest(delivery_id, now, None)
            counts["sent"] += 1
    db.session.commit()
    # "earlier": users whose day was settled before this run (sent, nothing due, being sent,
    # or out of attempts), left alone.
    return {**counts, "earlier": earlier, "today": day.isoformat()}
