"""Business rules on households: creation, members, support team, the record of a file read.
The path (stages, orientation, diagnostic, adhésion) is in ``path.py``, consents in
``consents.py``; their services are re-exported here.

Services take ``(actor, target, *, values…)`` with plain values, check the rule, change the
data, write the audit entry and raise ``DomainError`` (French message, ``field`` = the form
field) — they never commit. ``today`` defaults to the day in Europe/Paris.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.audit.services import record
from app.db import db, utcnow
from app.errors import DomainError, check_version
from app.formatting import format_date, today_paris
from app.households.checks import (
    LONG_TEXT_MAX,
    NAME_MAX,
    _amount,
    _choice,
    _choices,
    _past_date,
    _text,
    _touch,
)
from app.households.models import (
    Household,
    HouseholdStage,
    HouseholdTeamMember,
    IncomeSource,
    Member,
    MemberRelation,
    StageTransition,
    search_key,
)
from app.permissions import Role

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
    situation: dict | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Household:
    """Open a household file in ``project`` with its head of household, at the orientation
    stage. A social worker who creates a file becomes its référent unless one is named (so
    that the file stays in their caseload). ``situation``: what the indicators count, all
    optional — the keys of ``set_situation`` (publics, resources, APL, debts)."""
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
        stage=HouseholdStage.ORIENTATION,
        stage_since_on=today,
        created_at=now,
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    _set_contact(household, phone=phone, email=email, current_address=current_address)
    set_situation(household, **(situation or {}))
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
            to_stage=HouseholdStage.ORIENTATION,
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
    check_version(household, expected_version)
    _set_housing_application(
        household,
        number=housing_application_number,
        expires_on=housing_application_expires_on,
        today=today or today_paris(),
    )
    _set_contact(household, phone=phone, email=email, current_address=current_address)
    set_situation(
        household,
        monthly_income_cents=monthly_income_cents,
        income_sources=income_sources,
        apl_cents=apl_cents,
        is_apl_paid_to_landlord=is_apl_paid_to_landlord,
        debts_cents=debts_cents,
        has_overindebtedness_file=has_overindebtedness_file,
        target_publics=target_publics,
    )
    household.difficulties = _text(
        difficulties, field="difficulties", label="Difficultés", max_length=LONG_TEXT_MAX
    )
    return _record_update(actor, household)


def _record_update(actor, household: Household) -> Household:
    """Stamp and audit an edit of the household (the names of the changed fields only)."""
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


def set_situation(
    household: Household,
    *,
    monthly_income_cents: int | None = None,
    income_sources: Iterable[str] = (),
    apl_cents: int | None = None,
    is_apl_paid_to_landlord: bool = False,
    debts_cents: int | None = None,
    has_overindebtedness_file: bool = False,
    target_publics: Iterable[str] = (),
) -> None:
    """The situation the funder's indicators count — target publics, resources, APL, debts —
    checked (amounts positive and plausible, choices from the lists) and set; every value
    is optional. Shared by the creation, the file's edit and the situation form."""
    from app.projects.models import TargetPublic

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


def update_situation(actor, household: Household, *, expected_version, **situation) -> Household:
    """Edit the situation alone (the file header's "Modifier la situation"): the keys of
    ``set_situation``."""
    check_version(household, expected_version)
    set_situation(household, **situation)
    return _record_update(actor, household)


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


# The path and the consents are modules of their own; their services stay importable here.
from app.households.consents import give_consent, withdraw_consent  # noqa: E402, F401
from app.households.path import (  # noqa: E402, F401
    DEFAULT_INTENSITIES,
    FORWARD_MOVES,
    SHORTCUTS_FOR_HOUSED,
    STAGE_ORDER,
    allowed_moves,
    earliest_move_on,
    follow_work,
    intensity_choices,
    is_forward,
    move_stage,
    path_table,
    record_adhesion,
    record_diagnostic,
    record_orientation,
)
