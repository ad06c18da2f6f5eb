"""Recording and correcting visits and contacts. Services never commit."""

from __future__ import annotations

from datetime import date, datetime

from app import bounds
from app.audit.services import record
from app.db import db, utcnow
from app.errors import DomainError, NotAllowed, check_version
from app.formatting import today_paris
from app.households.consents import consent_notice, require_consent
from app.households.file_registry import provided
from app.households.models import DataCategory, PartnerCategory, SupportDomain
from app.households.queries import has_consent
from app.interventions.models import (
    CORRECTABLE_FIELDS,
    Intervention,
    InterventionCorrection,
    InterventionMode,
)

# What a summary shared with the landlord discloses, hence the consent it needs.
SHARED_SUMMARY_CONSENT = (PartnerCategory.BAILLEUR, DataCategory.SITUATION_SOCIALE)


def can_share_with_landlord(household_id: int, on: date) -> bool:
    """Whether a summary of a contact on ``on`` may be shared with the landlord."""
    partner_category, data_category = SHARED_SUMMARY_CONSENT
    return has_consent(household_id, partner_category, data_category, on)


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _check_sharing(household_id: int, on: date, share: bool, summary: str | None) -> None:
    if not share:
        return
    if summary is None:
        raise DomainError(
            "Écrivez le compte rendu à partager, ou décochez le partage avec le bailleur.",
            field="shared_summary",
        )
    partner_category, data_category = SHARED_SUMMARY_CONSENT
    require_consent(
        household_id,
        partner_category,
        data_category,
        on,
        "Sans l'accord du ménage à la date du contact, le compte rendu ne peut pas être "
        "partagé avec le bailleur.",
        field="share_with_landlord",
    )


def landlord_summary_notice(household_id: int) -> str:
    """Why the visit form has no summary for the landlord today, naming the consent cell
    that brings it (its message links to the cell)."""
    partner_category, data_category = SHARED_SUMMARY_CONSENT
    return consent_notice(
        household_id,
        partner_category,
        data_category,
        "Le résumé partagé avec le bailleur n'est proposé qu'avec cet accord du ménage.",
    )


def _check_next_action(next_action: str | None, next_action_on: date | None, today: date) -> None:
    if next_action_on is not None and next_action is None:
        raise DomainError("Précisez la prochaine action prévue à cette date.", field="next_action")
    if next_action_on is not None and next_action_on < today:
        raise DomainError(
            "La date de la prochaine action est passée : choisissez aujourd'hui ou une date à "
            "venir.",
            field="next_action_on",
        )
    bounds.check_planned(next_action_on, today, field="next_action_on")


def record_visit(
    actor,
    household,
    *,
    occurred_on: date,
    mode: str,
    duration_minutes: int | None = None,
    domains: list[str] = (),
    note: str | None = None,
    shared_summary: str | None = None,
    share_with_landlord: bool = False,
    next_action: str | None = None,
    next_action_on: date | None = None,
    today: date | None = None,
) -> Intervention:
    """Record a visit, contact or missed appointment with the household."""
    today = today or today_paris()
    if occurred_on is None:
        raise DomainError("Indiquez la date.", field="occurred_on")
    bounds.check_date(occurred_on, field="occurred_on")
    if occurred_on > today:
        raise DomainError(
            "Cette date est dans le futur : notez la visite une fois qu'elle a eu lieu.",
            field="occurred_on",
        )
    if mode not in InterventionMode.__members__.values():
        raise DomainError("Choisissez le type de contact.", field="mode")
    bounds.DURATION.check(duration_minutes, field="duration_minutes")
    unknown = [d for d in domains if d not in SupportDomain.__members__.values()]
    if unknown:
        raise DomainError("Un des domaines choisis n'existe pas.", field="domains")
    shared_summary, next_action = _clean(shared_summary), _clean(next_action)
    _check_sharing(household.id, occurred_on, share_with_landlord, shared_summary)
    _check_next_action(next_action, next_action_on, today)
    intervention = Intervention(
        household_id=household.id,
        occurred_on=occurred_on,
        mode=mode,
        duration_minutes=duration_minutes,
        domains=",".join(d for d in SupportDomain if d in domains),
        note=_clean(note),
        shared_summary=shared_summary,
        is_summary_shared=bool(share_with_landlord),
        next_action=next_action,
        next_action_on=next_action_on,
        author_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(intervention)
    record(
        actor,
        "intervention.recorded",
        household_id=household.id,
        target=intervention,
        details={"mode": mode, "shared": bool(share_with_landlord)},
    )
    # A contact resolves the contact reminders at once rather than at the next hourly sweep;
    # reminders (a domain above this one) provides that rule when it is installed.
    resolve_contact_reminders = provided("resolve_contact_reminders")
    if mode != InterventionMode.RDV_NON_HONORE and resolve_contact_reminders is not None:
        resolve_contact_reminders(household.id)
    _saved(actor, intervention, is_new=True)
    return intervention


def _saved(actor, intervention: Intervention, *, is_new: bool = False) -> None:
    """Tell reminders (a domain above this one, when installed) that the intervention was
    saved: its next action becomes, moves or closes a reminder for its author, and a new
    contact closes the household's earlier next actions."""
    saved = provided("intervention_saved")
    if saved is not None:
        db.session.flush()
        saved(actor, intervention, is_new=is_new)


def correct_intervention(
    actor,
    intervention: Intervention,
    *,
    version,
    note: str | None,
    shared_summary: str | None,
    share_with_landlord: bool,
    next_action: str | None,
    next_action_on: date | None,
    today: date | None = None,
) -> list[InterventionCorrection]:
    """Correct the texts of an intervention, keeping each replaced text, who and when."""
    today = today or today_paris()
    check_version(intervention, version)
    new = {
        "note": _clean(note),
        "shared_summary": _clean(shared_summary),
        "next_action": _clean(next_action),
    }
    _check_sharing(
        intervention.household_id,
        intervention.occurred_on,
        share_with_landlord,
        new["shared_summary"],
    )
    if next_action_on != intervention.next_action_on:
        _check_next_action(new["next_action"], next_action_on, today)
    elif next_action_on is not None and new["next_action"] is None:
        raise DomainError("Précisez la prochaine action prévue à cette date.", field="next_action")
    corrections = []
    for name in CORRECTABLE_FIELDS:
        previous = getattr(intervention, name)
        if new[name] != previous:
            corrections.append(
                InterventionCorrection(
                    intervention_id=intervention.id,
                    field=name,
                    previous_text=previous,
                    corrected_by_id=actor.id,
                )
            )
            setattr(intervention, name, new[name])
    sharing_changed = bool(share_with_landlord) != intervention.is_summary_shared
    dates_changed = next_action_on != intervention.next_action_on
    if not corrections and not sharing_changed and not dates_changed:
        raise DomainError("Aucune modification : rien n'a été enregistré.")
    intervention.is_summary_shared = bool(share_with_landlord)
    intervention.next_action_on = next_action_on
    intervention.updated_by_id = actor.id
    db.session.add_all(corrections)
    record(
        actor,
        "intervention.corrected",
        household_id=intervention.household_id,
        target=intervention,
        details={
            "fields": [c.field for c in corrections]
            + (["is_summary_shared"] if sharing_changed else [])
            + (["next_action_on"] if dates_changed else [])
        },
    )
    if dates_changed or "next_action" in {c.field for c in corrections}:
        _saved(actor, intervention)
    return corrections


def can_mark_duplicate(actor, intervention: Intervention) -> bool:
    """Its author, or a coordinator (who sees the household), may say a visit was entered
    twice; another worker of the team may not."""
    from app.permissions import Role

    return intervention.author_id == actor.id or actor.has_role(Role.COORDINATEUR)


def mark_duplicate(actor, intervention: Intervention, *, now: datetime | None = None) -> None:
    """Flag a visit entered twice by mistake. It stays in the file (visits are never
    deleted), struck through, and leaves every count: contacts, contact rhythms and their
    reminders, caseloads, indicators."""
    if not can_mark_duplicate(actor, intervention):
        raise NotAllowed("Seul l'auteur de la visite ou un coordinateur peut la marquer.")
    if intervention.is_duplicate:
        raise DomainError("Cette visite est déjà marquée comme saisie en double.")
    intervention.is_duplicate = True
    intervention.duplicate_marked_by_id = actor.id
    intervention.duplicate_marked_at = now or utcnow()
    record(
        actor,
        "intervention.marked_duplicate",
        household_id=intervention.household_id,
        target=intervention,
    )
    _saved(actor, intervention)


def unmark_duplicate(actor, intervention: Intervention) -> None:
    """Undo ``mark_duplicate`` (a visit flagged by mistake counts again)."""
    if not can_mark_duplicate(actor, intervention):
        raise NotAllowed("Seul l'auteur de la visite ou un coordinateur peut la rétablir.")
    if not intervention.is_duplicate:
        raise DomainError("Cette visite n'est pas marquée comme saisie en double.")
    intervention.is_duplicate = False
    intervention.duplicate_marked_by_id = None
    intervention.duplicate_marked_at = None
    record(
        actor,
        "intervention.duplicate_unmarked",
        household_id=intervention.household_id,
        target=intervention,
    )
    _saved(actor, intervention)
