"""Every business rule on households: creation, members, orientation, diagnostic, adhésion,
consents, support team and the path (parcours).

Services take ``(actor, target, *, values…)`` with plain values, check the rule, change the
data, write the audit entry and raise ``DomainError`` (French message, ``field`` = the form
field) — they never commit. ``today`` defaults to the day in Europe/Paris.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app import bounds
from app.audit.services import record
from app.db import db, utcnow
from app.errors import DomainError, check_version
from app.formatting import format_date, today_paris
from app.households.file_registry import provided
from app.households.models import (
    DIAGNOSTIC_AXES,
    Adhesion,
    Consent,
    DataCategory,
    Diagnostic,
    DiagnosticLevel,
    Household,
    HouseholdStage,
    HouseholdTeamMember,
    IncomeSource,
    Member,
    MemberRelation,
    Orientation,
    OrientationKind,
    PartnerCategory,
    Prescriber,
    StageTransition,
    SupportDomain,
    search_key,
)
from app.permissions import Role

S = HouseholdStage

# --- the path: allowed forward moves, defined once -----------------------------------------
#
# A household moves forward one stage at a time along
#   orientation → diagnostic → adhésion → accès → installation → maintien → sortie
#   → suivi post-sortie,
# with one shortcut: a household oriented for *maintien* is already housed, so after the
# adhésion it goes straight to maintien (no access to housing, no installation). Any move
# back to an earlier stage is allowed with a reason (a lost dwelling, an exit cancelled…).
FORWARD_MOVES: dict[str, frozenset[str]] = {
    S.ORIENTATION: frozenset({S.DIAGNOSTIC}),
    S.DIAGNOSTIC: frozenset({S.ADHESION}),
    S.ADHESION: frozenset({S.ACCES, S.MAINTIEN}),
    S.ACCES: frozenset({S.INSTALLATION}),
    S.INSTALLATION: frozenset({S.MAINTIEN}),
    S.MAINTIEN: frozenset({S.SORTIE}),
    S.SORTIE: frozenset({S.SUIVI_POST_SORTIE}),
    S.SUIVI_POST_SORTIE: frozenset(),
}
STAGE_ORDER: tuple[str, ...] = tuple(S)
# Forward moves that skip stages, and what makes them legitimate.
SHORTCUTS_FOR_HOUSED = {(S.ADHESION, S.MAINTIEN)}

DEFAULT_INTENSITIES = {
    "renforcee": "Renforcée",
    "soutenue": "Soutenue",
    "moderee": "Modérée",
}

NAME_MAX = 80
SHORT_TEXT_MAX = 160
LONG_TEXT_MAX = 5000
EARLIEST_BIRTH = date(1900, 1, 1)


# --- small checks shared by the services ---------------------------------------------------


def _text(
    value: str | None, *, field: str, label: str, max_length: int, required: bool = False
) -> str | None:
    value = (value or "").strip() or None
    if value is None and required:
        raise DomainError(f"{label} : ce champ est obligatoire.", field=field)
    if value is not None and len(value) > max_length:
        raise DomainError(f"{label} : {max_length} caractères au plus.", field=field)
    return value


def _past_date(
    value: date | None, *, field: str, label: str, today: date, not_before: date | None = None
) -> date:
    if value is None:
        raise DomainError(f"{label} : indiquez une date.", field=field)
    if value > today:
        raise DomainError(f"{label} : la date ne peut pas être dans le futur.", field=field)
    if value < (not_before or EARLIEST_BIRTH):
        raise DomainError(
            f"{label} : la date ne peut pas être antérieure au "
            f"{format_date(not_before or EARLIEST_BIRTH)}.",
            field=field,
        )
    return value


def _amount(value: int | None, *, field: str, label: str) -> int | None:
    if value is not None and value < 0:
        raise DomainError(f"{label} : le montant ne peut pas être négatif.", field=field)
    bounds.MONEY.check(value, field=field)
    return value


def _choice(value, enum, *, field: str, label: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        raise DomainError(f"{label} : choisissez une valeur de la liste.", field=field) from None


def _choices(values: Iterable[str] | None, enum, *, field: str, label: str) -> str:
    cleaned = {_choice(v, enum, field=field, label=label) for v in (values or ())}
    return ",".join(m.value for m in enum if m.value in cleaned)


def _touch(actor, household: Household) -> None:
    household.updated_by_id = getattr(actor, "id", None)
    household.updated_at = utcnow()


# --- households ------------------------------------------------------------------------------


def next_reference(year: int) -> str:
    """``M-2026-0042``: the year's next number (the unique constraint catches a race)."""
    prefix = f"M-{year}-"
    last = db.session.scalar(
        select(func.max(Household.reference)).where(Household.reference.like(prefix + "%"))
    )
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:04d}"


def create_household(
    actor,
    project,
    *,
    head_first_name: str,
    head_last_name: str,
    head_birth_on: date | None,
    phone: str | None = None,
    email: str | None = None,
    current_address: str | None = None,
    referent=None,
    reference: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Household:
    """Open a household file in ``project`` with its head of household, at the orientation
    stage. A social worker who creates a file becomes its référent unless one is named (so
    that the file stays in their caseload)."""
    today = today or today_paris()
    now = now or utcnow()
    if project is None or project.id not in getattr(actor, "project_ids", set()):
        raise DomainError("Choisissez un de vos projets.", field="project_id")
    if referent is None and Role.TRAVAILLEUR_SOCIAL in actor.roles:
        referent = actor
    if referent is not None:
        _check_referent_candidate(referent, project, field="referent_id")
    household = Household(
        reference=reference or next_reference(today.year),
        project_id=project.id,
        referent_id=referent.id if referent is not None else None,
        stage=S.ORIENTATION,
        stage_since_on=today,
        created_at=now,
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    _set_contact(household, phone=phone, email=email, current_address=current_address)
    db.session.add(household)
    head = _new_member(
        household,
        first_name=head_first_name,
        last_name=head_last_name,
        birth_on=head_birth_on,
        relation=MemberRelation.DEMANDEUR,
        is_head=True,
        today=today,
        field_prefix="head_",
    )
    head.created_at = now
    household.members.append(head)
    db.session.flush()
    db.session.add(
        StageTransition(
            household_id=household.id,
            from_stage=None,
            to_stage=S.ORIENTATION,
            on=today,
            by_id=actor.id,
        )
    )
    db.session.flush()
    record(actor, "household.created", household_id=household.id, target=household, now=now)
    return household


def _set_contact(household: Household, *, phone, email, current_address) -> None:
    household.phone = _text(phone, field="phone", label="Téléphone", max_length=30)
    household.email = _text(email, field="email", label="Adresse e-mail", max_length=254)
    if household.email is not None and "@" not in household.email:
        raise DomainError("Adresse e-mail : cette adresse n'est pas valide.", field="email")
    household.current_address = _text(
        current_address, field="current_address", label="Adresse actuelle", max_length=300
    )
    household.search_address = search_key(household.current_address)


def _set_housing_application(household, *, number, expires_on, today: date) -> None:
    """A demande de logement social is valid one year and renewed before it lapses: an expiry
    more than 13 months ahead, or years back, is a typing mistake."""
    if number is not None and len(number) > 30:
        raise DomainError("30 caractères au plus.", field="housing_application_number")
    if expires_on is not None and not (
        today - timedelta(days=3 * 365) <= expires_on <= today + timedelta(days=400)
    ):
        raise DomainError(
            "Une demande de logement social est valable un an : vérifiez la date d'expiration.",
            field="housing_application_expires_on",
        )
    household.housing_application_number = number
    household.housing_application_expires_on = expires_on


def update_household(
    actor,
    household: Household,
    *,
    expected_version,
    phone: str | None,
    email: str | None,
    current_address: str | None,
    monthly_income_cents: int | None,
    income_sources: Iterable[str],
    apl_cents: int | None,
    is_apl_paid_to_landlord: bool,
    debts_cents: int | None,
    has_overindebtedness_file: bool,
    target_publics: Iterable[str],
    difficulties: str | None,
    housing_application_number: str | None = None,
    housing_application_expires_on: date | None = None,
    today: date | None = None,
) -> Household:
    from app.projects.models import TargetPublic

    check_version(household, expected_version)
    _set_housing_application(
        household,
        number=housing_application_number,
        expires_on=housing_application_expires_on,
        today=today or today_paris(),
    )
    _set_contact(household, phone=phone, email=email, current_address=current_address)
    household.monthly_income_cents = _amount(
        monthly_income_cents, field="monthly_income_euros", label="Ressources mensuelles"
    )
    household.income_sources = _choices(
        income_sources, IncomeSource, field="income_sources", label="Sources de revenus"
    )
    household.apl_cents = _amount(apl_cents, field="apl_euros", label="Montant de l'APL")
    household.is_apl_paid_to_landlord = bool(is_apl_paid_to_landlord)
    household.debts_cents = _amount(debts_cents, field="debts_euros", label="Dettes")
    household.has_overindebtedness_file = bool(has_overindebtedness_file)
    household.target_publics = _choices(
        target_publics, TargetPublic, field="target_publics", label="Publics"
    )
    household.difficulties = _text(
        difficulties, field="difficulties", label="Difficultés", max_length=LONG_TEXT_MAX
    )
    _touch(actor, household)
    changed = [
        attr.key
        for attr in db.inspect(household).attrs
        if attr.history.has_changes() and attr.key not in {"updated_at", "updated_by_id"}
    ]
    db.session.flush()
    record(
        actor,
        "household.updated",
        household_id=household.id,
        target=household,
        details={"fields": sorted(changed)},
    )
    return household


# --- members ---------------------------------------------------------------------------------


def _new_member(
    household, *, first_name, last_name, birth_on, relation, is_head, today, field_prefix=""
) -> Member:
    member = Member(household=None, is_head=bool(is_head))
    _fill_member(
        household,
        member,
        first_name=first_name,
        last_name=last_name,
        birth_on=birth_on,
        relation=relation,
        today=today,
        field_prefix=field_prefix,
    )
    return member


def _fill_member(
    household, member, *, first_name, last_name, birth_on, relation, today, field_prefix=""
) -> None:
    first = _text(
        first_name,
        field=field_prefix + "first_name",
        label="Prénom",
        max_length=NAME_MAX,
        required=True,
    )
    last = _text(
        last_name, field=field_prefix + "last_name", label="Nom", max_length=NAME_MAX, required=True
    )
    if birth_on is not None:
        _past_date(
            birth_on, field=field_prefix + "birth_on", label="Date de naissance", today=today
        )
    relation = _choice(
        relation or MemberRelation.DEMANDEUR,
        MemberRelation,
        field=field_prefix + "relation",
        label="Lien",
    )
    key = search_key(f"{first} {last}")
    for other in household.members:
        if other is not member and other.search_name == key and other.birth_on == birth_on:
            raise DomainError(
                f"{first} {last}"
                + (f", né·e le {format_date(birth_on)}," if birth_on else "")
                + " fait déjà partie du ménage.",
                field=field_prefix + "first_name",
            )
    member.first_name, member.last_name = first, last
    member.birth_on, member.relation, member.search_name = birth_on, relation, key


def _make_head(household: Household, member: Member) -> None:
    """Exactly one head of household: naming one removes the mark from the others."""
    for other in household.members:
        if other is not member and other.is_head:
            other.is_head = False
    member.is_head = True


def add_member(
    actor,
    household: Household,
    *,
    first_name: str,
    last_name: str,
    birth_on: date | None,
    relation: str,
    is_head: bool = False,
    today: date | None = None,
) -> Member:
    today = today or today_paris()
    member = _new_member(
        household,
        first_name=first_name,
        last_name=last_name,
        birth_on=birth_on,
        relation=relation,
        is_head=False,
        today=today,
    )
    household.members.append(member)
    if is_head:
        _make_head(household, member)
    db.session.flush()
    record(
        actor,
        "household.member_added",
        household_id=household.id,
        target=member,
        details={"is_head": member.is_head},
    )
    return member


def update_member(
    actor,
    household: Household,
    member: Member,
    *,
    expected_version,
    first_name: str,
    last_name: str,
    birth_on: date | None,
    relation: str,
    is_head: bool,
    today: date | None = None,
) -> Member:
    today = today or today_paris()
    check_version(member, expected_version)
    if member.is_head and not is_head:
        raise DomainError(
            "Le ménage doit avoir un chef de ménage : désignez une autre personne comme "
            "chef de ménage depuis sa fiche.",
            field="is_head",
        )
    _fill_member(
        household,
        member,
        first_name=first_name,
        last_name=last_name,
        birth_on=birth_on,
        relation=relation,
        today=today,
    )
    if is_head:
        _make_head(household, member)
    db.session.flush()
    record(actor, "household.member_updated", household_id=household.id, target=member)
    return member


def remove_member(actor, household: Household, member: Member, *, expected_version) -> None:
    check_version(member, expected_version)
    if member.is_head:
        raise DomainError(
            "Le chef de ménage ne peut pas être retiré : désignez d'abord une autre personne "
            "comme chef de ménage."
        )
    record(
        actor,
        "household.member_removed",
        household_id=household.id,
        target=member,
    )
    household.members.remove(member)
    db.session.flush()


# --- orientation, diagnostic, adhésion -------------------------------------------------------


def record_orientation(
    actor,
    household: Household,
    *,
    prescriber: str,
    prescriber_detail: str | None,
    oriented_on: date | None,
    kind: str,
    reason: str | None,
    today: date | None = None,
) -> Orientation:
    today = today or today_paris()
    orientation = Orientation(
        household_id=household.id,
        prescriber=_choice(prescriber, Prescriber, field="prescriber", label="Prescripteur"),
        prescriber_detail=_text(
            prescriber_detail,
            field="prescriber_detail",
            label="Précision sur le prescripteur",
            max_length=SHORT_TEXT_MAX,
        ),
        oriented_on=_past_date(
            oriented_on,
            field="oriented_on",
            label="Date d'orientation",
            today=today,
            not_before=date(2000, 1, 1),
        ),
        kind=_choice(kind, OrientationKind, field="kind", label="Type d'orientation"),
        reason=_text(reason, field="reason", label="Motif", max_length=LONG_TEXT_MAX),
        recorded_by_id=actor.id,
    )
    db.session.add(orientation)
    db.session.flush()
    record(
        actor,
        "household.orientation_recorded",
        household_id=household.id,
        target=orientation,
        details={"prescriber": orientation.prescriber, "kind": orientation.kind},
    )
    return orientation


def intensity_choices() -> list[tuple[str, str]]:
    """Recommended-intensity choices: the support domain's configurable levels (provided as
    ``intensity_choices``, see ``app/support/file.py``), or the default short list when none
    is configured."""
    support_choices = provided("intensity_choices")
    if support_choices is None:
        return list(DEFAULT_INTENSITIES.items())
    # Until an administrator configures levels, the defaults keep the diagnostic usable.
    return list(support_choices()) or list(DEFAULT_INTENSITIES.items())


def record_diagnostic(
    actor,
    household: Household,
    *,
    carried_out_on: date | None,
    levels: dict[str, str],
    comments: dict[str, str | None],
    needs: Iterable[str],
    recommended_intensity: str | None,
    today: date | None = None,
) -> Diagnostic:
    today = today or today_paris()
    diagnostic = Diagnostic(
        household_id=household.id,
        carried_out_on=_past_date(
            carried_out_on,
            field="carried_out_on",
            label="Date du diagnostic",
            today=today,
            not_before=date(2000, 1, 1),
        ),
        needs=_choices(needs, SupportDomain, field="needs", label="Besoins"),
        author_id=actor.id,
    )
    for axis, label in DIAGNOSTIC_AXES.items():
        short = label.split(" (")[0]
        level = levels.get(axis)
        if not level:
            raise DomainError(f"{short} : choisissez un niveau.", field=f"{axis}_level")
        setattr(
            diagnostic,
            f"{axis}_level",
            _choice(level, DiagnosticLevel, field=f"{axis}_level", label=short),
        )
        setattr(
            diagnostic,
            f"{axis}_comment",
            _text(
                comments.get(axis),
                field=f"{axis}_comment",
                label=f"{short} — commentaire",
                max_length=LONG_TEXT_MAX,
            ),
        )
    allowed = dict(intensity_choices())
    if recommended_intensity and recommended_intensity not in allowed:
        raise DomainError(
            "Intensité recommandée : choisissez une valeur de la liste.",
            field="recommended_intensity",
        )
    diagnostic.recommended_intensity = recommended_intensity or None
    db.session.add(diagnostic)
    db.session.flush()
    record(
        actor,
        "household.diagnostic_recorded",
        household_id=household.id,
        target=diagnostic,
    )
    return diagnostic


def record_adhesion(
    actor,
    household: Household,
    *,
    signed_on: date | None,
    objectives: str | None,
    today: date | None = None,
) -> Adhesion:
    today = today or today_paris()
    if household.referent_id is None:
        raise DomainError(
            "Nommez d'abord le ou la référent·e du ménage : l'adhésion se signe avec lui ou "
            "elle (onglet Équipe)."
        )
    adhesion = Adhesion(
        household_id=household.id,
        signed_on=_past_date(
            signed_on,
            field="signed_on",
            label="Date de signature",
            today=today,
            not_before=date(2000, 1, 1),
        ),
        objectives=_text(
            objectives,
            field="objectives",
            label="Objectifs",
            max_length=LONG_TEXT_MAX,
            required=True,
        ),
        recorded_by_id=actor.id,
    )
    db.session.add(adhesion)
    db.session.flush()
    record(actor, "household.adhesion_recorded", household_id=household.id, target=adhesion)
    return adhesion


# --- consents --------------------------------------------------------------------------------


def give_consent(
    actor,
    household: Household,
    *,
    partner_category: str,
    data_category: str,
    given_on: date | None,
    today: date | None = None,
) -> Consent:
    today = today or today_paris()
    partner = _choice(
        partner_category, PartnerCategory, field="partner_category", label="Partenaires"
    )
    data = _choice(data_category, DataCategory, field="data_category", label="Données")
    given_on = _past_date(
        given_on,
        field="given_on",
        label="Date du consentement",
        today=today,
        not_before=date(2000, 1, 1),
    )
    active = db.session.scalar(
        select(Consent).where(
            Consent.household_id == household.id,
            Consent.partner_category == partner,
            Consent.data_category == data,
            Consent.withdrawn_on.is_(None),
        )
    )
    if active is not None:
        raise DomainError(
            f"Ce consentement est déjà en cours depuis le {format_date(active.given_on)}.",
            field="data_category",
        )
    consent = Consent(
        household_id=household.id,
        partner_category=partner,
        data_category=data,
        given_on=given_on,
        recorded_by_id=actor.id,
    )
    db.session.add(consent)
    db.session.flush()
    record(
        actor,
        "household.consent_given",
        household_id=household.id,
        target=consent,
        details={"partner_category": partner, "data_category": data},
    )
    return consent


def withdraw_consent(
    actor,
    household: Household,
    consent: Consent,
    *,
    withdrawn_on: date | None,
    today: date | None = None,
) -> Consent:
    today = today or today_paris()
    if consent.household_id != household.id:
        raise DomainError("Ce consentement ne concerne pas ce ménage.")
    if consent.withdrawn_on is not None:
        raise DomainError(
            f"Ce consentement a déjà été retiré le {format_date(consent.withdrawn_on)}.",
            field="withdrawn_on",
        )
    withdrawn_on = _past_date(
        withdrawn_on, field="withdrawn_on", label="Date du retrait", today=today
    )
    if withdrawn_on < consent.given_on:
        raise DomainError(
            "Date du retrait : elle ne peut pas précéder le consentement, donné le "
            f"{format_date(consent.given_on)}.",
            field="withdrawn_on",
        )
    consent.withdrawn_on = withdrawn_on
    consent.withdrawal_recorded_by_id = actor.id
    db.session.flush()
    record(
        actor,
        "household.consent_withdrawn",
        household_id=household.id,
        target=consent,
        details={
            "partner_category": consent.partner_category,
            "data_category": consent.data_category,
        },
    )
    return consent


# --- référent and support team ---------------------------------------------------------------


def _check_referent_candidate(user, project, *, field: str) -> None:
    roles = user.roles
    if not user.is_active or not roles & {Role.TRAVAILLEUR_SOCIAL, Role.COORDINATEUR}:
        raise DomainError(
            f"{user.full_name} n'est ni travailleur·se social·e ni coordinateur·rice.",
            field=field,
        )
    if project.id not in user.project_ids:
        raise DomainError(f"{user.full_name} ne travaille pas sur ce projet.", field=field)


def assign_referent(actor, household: Household, *, referent, expected_version) -> Household:
    check_version(household, expected_version)
    if referent is None:
        raise DomainError("Choisissez le ou la référent·e.", field="referent_id")
    _check_referent_candidate(referent, household.project, field="referent_id")
    previous = household.referent_id
    household.referent_id = referent.id
    household.referent = referent
    _touch(actor, household)
    db.session.flush()
    record(
        actor,
        "household.referent_assigned",
        household_id=household.id,
        target=household,
        details={"from_user_id": previous, "to_user_id": referent.id},
    )
    return household


def add_team_member(
    actor, household: Household, *, user, today: date | None = None
) -> HouseholdTeamMember:
    if user is None:
        raise DomainError("Choisissez une personne.", field="user_id")
    _check_referent_candidate(user, household.project, field="user_id")
    if user.id == household.referent_id or any(t.user_id == user.id for t in household.team):
        raise DomainError(
            f"{user.full_name} fait déjà partie de l'équipe du ménage.", field="user_id"
        )
    link = HouseholdTeamMember(user_id=user.id, user=user, added_on=today or today_paris())
    household.team.append(link)
    db.session.flush()
    record(
        actor,
        "household.team_member_added",
        household_id=household.id,
        target=link,
        details={"user_id": user.id},
    )
    return link


def remove_team_member(actor, household: Household, *, user_id: int) -> None:
    link = next((t for t in household.team if t.user_id == user_id), None)
    if link is None:
        raise DomainError("Cette personne ne fait pas partie de l'équipe du ménage.")
    record(
        actor,
        "household.team_member_removed",
        household_id=household.id,
        target=link,
        details={"user_id": user_id},
    )
    household.team.remove(link)
    db.session.flush()


# --- the path --------------------------------------------------------------------------------


def path_table() -> list[tuple[HouseholdStage, list[HouseholdStage]]]:
    """Each stage with the stages that may follow it, in path order (shown to users)."""
    return [(S(s), [S(n) for n in STAGE_ORDER if n in FORWARD_MOVES[s]]) for s in STAGE_ORDER]


def is_forward(from_stage: str, to_stage: str) -> bool:
    return STAGE_ORDER.index(to_stage) > STAGE_ORDER.index(from_stage)


def allowed_moves(household: Household) -> list[HouseholdStage]:
    """Stages the household may move to: the allowed forward moves, then any earlier stage
    (a move back needs a reason)."""
    forward = [S(s) for s in STAGE_ORDER if s in FORWARD_MOVES[household.stage]]
    if (household.stage, S.MAINTIEN) in SHORTCUTS_FOR_HOUSED and not _is_housed_for_maintien(
        household
    ):
        forward = [s for s in forward if s != S.MAINTIEN]
    backward = [S(s) for s in STAGE_ORDER if is_forward(s, household.stage)]
    return forward + backward


def _is_housed_for_maintien(household: Household) -> bool:
    """The shortcut to maintien fits a household already housed: its latest orientation is
    for maintien, or it holds a current lease."""
    from app.housing.models import Occupancy

    kind = db.session.scalar(
        select(Orientation.kind)
        .where(Orientation.household_id == household.id)
        .order_by(Orientation.oriented_on.desc(), Orientation.id.desc())
        .limit(1)
    )
    if kind == OrientationKind.MAINTIEN:
        return True
    return (
        db.session.scalar(
            select(Occupancy.id).where(
                Occupancy.household_id == household.id, Occupancy.end_on.is_(None)
            )
        )
        is not None
    )


def move_stage(
    actor,
    household: Household,
    *,
    to_stage: str,
    on: date | None,
    reason: str | None,
    expected_version,
    today: date | None = None,
) -> StageTransition:
    today = today or today_paris()
    check_version(household, expected_version)
    to_stage = _choice(to_stage, HouseholdStage, field="to_stage", label="Nouvelle étape")
    if to_stage == household.stage:
        raise DomainError(
            f"Le ménage est déjà à l'étape « {household.stage_label} ».", field="to_stage"
        )
    reason = _text(reason, field="reason", label="Motif", max_length=LONG_TEXT_MAX)
    forward = is_forward(household.stage, to_stage)
    if forward and S(to_stage) not in allowed_moves(household):
        nexts = ", ".join(
            f"« {s.label} »" for s in allowed_moves(household) if is_forward(household.stage, s)
        )
        raise DomainError(
            f"Depuis l'étape « {household.stage_label} », le ménage ne peut pas passer "
            f"directement à « {S(to_stage).label} »"
            + (f" : étape suivante possible {nexts}." if nexts else "."),
            field="to_stage",
        )
    if not forward and reason is None:
        raise DomainError(
            "Motif : un retour à une étape précédente doit être expliqué.", field="reason"
        )
    on = _past_date(
        on,
        field="on",
        label="Date du changement",
        today=today,
        not_before=household.stage_since_on,
    )
    transition = StageTransition(
        household_id=household.id,
        from_stage=household.stage,
        to_stage=to_stage,
        on=on,
        reason=reason,
        by_id=actor.id,
    )
    db.session.add(transition)
    household.stage = to_stage
    household.stage_since_on = on
    _touch(actor, household)
    db.session.flush()
    record(
        actor,
        "household.stage_moved",
        household_id=household.id,
        target=transition,
        details={"from": transition.from_stage, "to": to_stage, "backward": not forward},
    )
    return transition


def record_file_read(actor, household: Household, *, page: str, **details) -> None:
    """Showing a page of the household file (or printing it) is a read of the file: trace it,
    with the page's name only, never what it showed."""
    record(
        actor,
        "household.read",
        household_id=household.id,
        target=household,
        details={"page": page, **details},
    )
