"""Reads of the audit log: one household's trace, and the administrators' search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, lazyload

from app.audit.models import AuditEntry, AuditOutcome
from app.db import db
from app.formatting import PARIS
from app.users.models import User

# French labels of the actions people look for; others show their dotted code.
ACTION_LABELS = {
    "household.read": "Consultation du dossier",
    "household.access_log_read": "Consultation de la liste des accès",
    "access.refused": "Accès refusé",
    "document.downloaded": "Document ouvert ou téléchargé",
    "auth.login": "Connexion",
    "auth.logout": "Déconnexion",
    "auth.login_failed": "Échec de connexion",
    "auth.login_throttled": "Connexion bloquée (trop d'échecs)",
    "auth.session_expired": "Session expirée",
    "auth.password_changed": "Mot de passe changé",
    "auth.password_reset_requested": "Demande de réinitialisation du mot de passe",
    "auth.password_reset": "Mot de passe réinitialisé par lien",
    "auth.reauthenticated": "Mot de passe confirmé",
    "auth.reauth_failed": "Échec de confirmation du mot de passe",
    "auth.totp_enabled": "Double authentification activée",
    "auth.totp_disabled": "Double authentification désactivée",
    "auth.totp_failed": "Code de double authentification refusé",
    "auth.totp_throttled": "Double authentification bloquée (trop d'échecs)",
    "auth.recovery_code_used": "Code de secours utilisé",
    "auth.recovery_codes_regenerated": "Codes de secours régénérés",
    "bilan.text_saved": "Texte du bilan annuel enregistré",
    "bilan.downloaded": "Bilan annuel téléchargé (Word ou PDF)",
}

OUTCOME_LABELS = {
    AuditOutcome.SUCCESS: "Réussi",
    AuditOutcome.REFUSED: "Refusé",
    AuditOutcome.FAILURE: "Échec",
}

# What counts as "consulting" a file on the household's access page.
HOUSEHOLD_READ_ACTIONS = ("household.read",)


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    if action.endswith(".export") or action.endswith("_exported"):
        return "Export"
    if action.endswith(".import") or action.endswith("_imported"):
        return "Import"
    return action


def household_entries(household_id: int) -> Select:
    """Every audit entry about one household, newest first, with its actor."""
    return (
        select(AuditEntry)
        .where(AuditEntry.household_id == household_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .options(  # the actors by name, without their roles and projects
            joinedload(AuditEntry.actor).lazyload(User.role_rows),
            joinedload(AuditEntry.actor).lazyload(User.projects),
        )
    )


@dataclass(frozen=True)
class Reader:
    user: User | None
    reads: int
    last_at: datetime


def household_readers(household_id: int) -> list[Reader]:
    """Who opened the file, how often and when last: one row per person, latest first."""
    rows = db.session.execute(
        select(AuditEntry.actor_id, func.count(AuditEntry.id), func.max(AuditEntry.at))
        .where(
            AuditEntry.household_id == household_id,
            AuditEntry.action.in_(HOUSEHOLD_READ_ACTIONS),
        )
        .group_by(AuditEntry.actor_id)
        .order_by(func.max(AuditEntry.at).desc())
    ).all()
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User)
            .where(User.id.in_([r[0] for r in rows if r[0]]))
            .options(lazyload(User.role_rows), lazyload(User.projects))  # name and organisation
        )
    }
    return [Reader(users.get(actor_id), count, last) for actor_id, count, last in rows]


@dataclass(frozen=True)
class LogFilters:
    actor_id: int | None = None
    action: str | None = None
    household_id: int | None = None
    start_on: date | None = None
    end_on: date | None = None
    outcome: str | None = None


def _paris_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def search_log(filters: LogFilters) -> Select:
    """The administrators' search, newest first. Dates are days in Europe/Paris, inclusive."""
    # The actor's name is all a row shows: not their roles, projects or organisation.
    query = select(AuditEntry).options(
        joinedload(AuditEntry.actor).options(
            lazyload(User.role_rows), lazyload(User.projects), lazyload(User.organisation)
        )
    )
    if filters.actor_id:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.action:
        # "auth." selects a whole family; "auth.login" one action.
        if filters.action.endswith("."):
            query = query.where(AuditEntry.action.startswith(filters.action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == filters.action)
    if filters.household_id:
        query = query.where(AuditEntry.household_id == filters.household_id)
    if filters.start_on:
        query = query.where(AuditEntry.at >= _paris_midnight_utc(filters.start_on))
    if filters.end_on:
        query = query.where(AuditEntry.at < _paris_midnight_utc(filters.end_on + timedelta(days=1)))
    if filters.outcome:
        query = query.where(AuditEntry.outcome == filters.outcome)
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


# The filter's vocabulary: families of actions (the part before the dot), fixed in code
# rather than read with SELECT DISTINCT over a journal that grows with the country.
# tests/audit/test_journal_vocabulary.py checks that every action the code records belongs
# to one of them.
ACTION_FAMILIES = {
    "auth": "Connexions et sécurité des comptes",
    "access": "Refus d'accès",
    "household": "Ménages : dossiers, parcours, consentements",
    "intervention": "Visites et contacts",
    "appointment": "Rendez-vous",
    "intensity_level": "Intensité de l'accompagnement",
    "objective": "Objectifs",
    "measure": "Mesures d'accompagnement",
    "meeting": "Réunions tripartites",
    "document": "Documents du dossier",
    "post_exit_check": "Suivis après la sortie",
    "referral": "Orientations vers les partenaires",
    "partner": "Partenaires",
    "occupancy": "Baux et occupations",
    "lease_review": "Revues de bail",
    "review": "Revues",
    "dwelling": "Logements",
    "housing": "Gestion locative : exports des bailleurs",
    "api": "API des bailleurs : clients et appels",
    "rent_accounts": "Comptes locatifs",
    "repayment_plan": "Plans d'apurement",
    "procedure_stage": "Procédures d'impayés",
    "gla_action": "Gestion locative adaptée",
    "reminder": "Rappels",
    "calendar": "Abonnements agenda",
    "reports": "Pilotage et exports",
    "funding": "Financement des projets : lignes et places",
    "financial_aid": "Aides financières des ménages",
    "evaluation": "Évaluation du programme",
    "bilan": "Bilans annuels d'évaluation",
    "retention": "Conservation et anonymisation",
    "organisation": "Organisations",
    "project": "Projets",
    "user": "Comptes utilisateurs",
}


def action_choices() -> list[tuple[str, str]]:
    """What the action filter offers: each family, then each action with a French label."""
    families = [(f"{code}.", label) for code, label in ACTION_FAMILIES.items()]
    labelled = [(code, label) for code, label in ACTION_LABELS.items()]
    return families + labelled


# How many people a name search proposes when it matches several.
ACTOR_SUGGESTIONS = 10


@dataclass(frozen=True)
class ActorSearch:
    """The "Personne" filter: the person found, or the few candidates, or nothing."""

    actor: User | None = None
    candidates: tuple[User, ...] = ()
    searched: str = ""

    @property
    def not_found(self) -> bool:
        return bool(self.searched) and self.actor is None and not self.candidates


def find_actor(actor_id: int | None, text: str) -> ActorSearch:
    """The person of the filter, by id (links) or by e-mail / part of the name (the form):
    one indexed lookup or a bounded search, never the list of every account."""
    if actor_id:
        actor = db.session.get(User, actor_id)
        return ActorSearch(actor=actor, searched="" if actor else f"n° {actor_id}")
    text = text.strip()[:254]
    if not text:
        return ActorSearch()
    # E-mails are stored lower-case under a unique index.
    by_email = db.session.scalar(select(User).where(User.email == text.lower()))
    if by_email is not None:
        return ActorSearch(actor=by_email, searched=text)
    matches = tuple(
        db.session.scalars(
            select(User)
            .where(User.full_name.icontains(text, autoescape=True))
            .order_by(User.full_name)
            .limit(ACTOR_SUGGESTIONS + 1)
        )
    )
    if len(matches) == 1:
        return ActorSearch(actor=matches[0], searched=text)
    return ActorSearch(candidates=matches[:ACTOR_SUGGESTIONS], searched=text)
