"""Partner directory, referrals with the consent check, tripartite meetings. Services never
commit.

A directory entry belongs to the organisation that created it (``can_edit_partner``): only it
edits the entry; others propose a correction, which reaches the owner's coordinators as a
notice through the listeners named in ``CORRECTION_LISTENERS`` (``reminders`` sits above
``partners``: named here, imported late)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from werkzeug.utils import import_string

from app import bounds
from app.audit.services import record
from app.db import db
from app.errors import DomainError, check_version
from app.formatting import format_date, today_paris
from app.households.consents import require_consent
from app.households.models import SupportDomain, search_key
from app.partners.models import (
    Partner,
    PartnerContact,
    PartnerDomain,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    TripartiteMeeting,
    referral_consent,
)
from app.permissions import can_edit_partner

S = ReferralStatus
# Where a referral may go from each status; refused, done and abandoned are final.
REFERRAL_TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.ENVOYEE: (S.ACCEPTEE, S.REFUSEE, S.ABANDONNEE),
    S.ACCEPTEE: (S.REALISEE, S.ABANDONNEE),
    S.REFUSEE: (),
    S.REALISEE: (),
    S.ABANDONNEE: (),
}


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


# --- directory ----------------------------------------------------------------------------

PARTNER_FIELDS = ("name", "domain", "kind", "address", "city", "phone", "email", "notes")


def _check_partner(values: dict, *, exclude_id: int | None = None) -> None:
    if not _clean(values.get("name")):
        raise DomainError("Indiquez le nom du partenaire.", field="name")
    if values.get("domain") not in PartnerDomain.__members__.values():
        raise DomainError("Choisissez le domaine du partenaire.", field="domain")
    clash = select(Partner.id).where(func.lower(Partner.name) == values["name"].strip().lower())
    if exclude_id is not None:
        clash = clash.where(Partner.id != exclude_id)
    if db.session.scalar(clash) is not None:
        raise DomainError("Un partenaire porte déjà ce nom dans l'annuaire.", field="name")


def _apply_partner(partner: Partner, values: dict) -> None:
    for name in PARTNER_FIELDS:
        value = values.get(name)
        setattr(partner, name, value.strip() if isinstance(value, str) else value)
    for name in ("kind", "address", "city", "phone", "email", "notes"):
        setattr(partner, name, _clean(getattr(partner, name)))
    partner.search_text = search_key(
        " ".join(filter(None, (partner.name, partner.kind, partner.city)))
    )


# ``module:function(actor, partner, message)``, called when a correction is proposed.
CORRECTION_LISTENERS: tuple[str, ...] = ("app.reminders.services:notify_partner_correction",)
CORRECTION_MAX = 1000


def _require_editor(actor, partner: Partner) -> None:
    if not can_edit_partner(actor, partner):
        raise DomainError(
            "Cette fiche appartient à une autre organisation : proposez-lui une correction."
        )


def create_partner(actor, **values) -> Partner:
    """A new directory entry, owned by the actor's organisation."""
    _check_partner(values)
    partner = Partner(updated_by_id=actor.id, owner_organisation_id=actor.organisation_id)
    _apply_partner(partner, values)
    db.session.add(partner)
    record(actor, "partner.created", target=partner, details={"domain": partner.domain})
    return partner


def update_partner(actor, partner: Partner, *, version, is_active: bool, **values) -> None:
    check_version(partner, version)
    _require_editor(actor, partner)
    _check_partner(values, exclude_id=partner.id)
    _apply_partner(partner, values)
    partner.is_active = bool(is_active)
    partner.updated_by_id = actor.id
    record(actor, "partner.updated", target=partner)


def add_partner_contact(
    actor,
    partner: Partner,
    *,
    full_name: str,
    job_title: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> PartnerContact:
    _require_editor(actor, partner)
    if not _clean(full_name):
        raise DomainError("Indiquez le nom du contact.", field="full_name")
    if not _clean(phone) and not _clean(email):
        raise DomainError("Indiquez au moins un téléphone ou une adresse e-mail.", field="phone")
    contact = PartnerContact(
        partner_id=partner.id,
        full_name=full_name.strip(),
        job_title=_clean(job_title),
        phone=_clean(phone),
        email=_clean(email),
    )
    db.session.add(contact)
    record(actor, "partner.contact_added", target=partner)
    return contact


def propose_correction(actor, partner: Partner, *, message: str | None) -> None:
    """Ask the organisation that owns ``partner`` to correct it: its coordinators get a
    notice with the message. The journal keeps who proposed it, not the text."""
    message = _clean(message)
    if message is None:
        raise DomainError("Indiquez la correction à proposer.", field="message")
    if len(message) > CORRECTION_MAX:
        raise DomainError(f"{CORRECTION_MAX} caractères au plus.", field="message")
    if can_edit_partner(actor, partner):
        raise DomainError("Cette fiche est celle de votre organisation : modifiez-la directement.")
    if partner.owner_organisation_id is None:
        raise DomainError(
            "Cette fiche n'a pas d'organisation propriétaire connue : signalez la correction "
            "à l'administrateur d'Ancrage."
        )
    for dotted in CORRECTION_LISTENERS:
        import_string(dotted)(actor, partner, message)
    record(
        actor,
        "partner.correction_proposed",
        target=partner,
        details={"owner_organisation_id": partner.owner_organisation_id},
    )


# --- referrals ----------------------------------------------------------------------------


def refer_household(
    actor,
    household,
    *,
    partner_id: int | None,
    domain: str,
    reason: str | None,
    referred_on: date,
    today: date | None = None,
) -> Referral:
    """Refer the household to a partner. Refused when the household has not consented, on
    that day, to the cell ``referral_consent`` names (health data for a health referral)."""
    today = today or today_paris()
    partner = db.session.get(Partner, partner_id) if partner_id else None
    if partner is None or not partner.is_active:
        raise DomainError(
            "Ce partenaire ne figure pas dans l'annuaire : choisissez-en un dans la liste.",
            field="partner_id",
        )
    if domain not in SupportDomain.__members__.values():
        raise DomainError("Choisissez le domaine de l'orientation.", field="domain")
    reason = _clean(reason)
    if reason is None:
        raise DomainError("Indiquez le motif de l'orientation.", field="reason")
    if referred_on is None:
        raise DomainError("Indiquez la date de l'orientation.", field="referred_on")
    if referred_on > today:
        raise DomainError(
            "Cette date est dans le futur : notez l'orientation une fois envoyée.",
            field="referred_on",
        )
    partner_category, data_category = referral_consent(partner.domain, domain)
    require_consent(
        household.id,
        partner_category,
        data_category,
        referred_on,
        "Orientation impossible sans l'accord du ménage à cette date : recueillez-le, "
        "enregistrez-le dans cette case, puis recommencez.",
        field="partner_id",
    )
    referral = Referral(
        household_id=household.id,
        partner_id=partner.id,
        domain=domain,
        reason=reason,
        referred_on=referred_on,
        status=S.ENVOYEE,
        status_on=referred_on,
        author_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(referral)
    db.session.flush()
    db.session.add(
        ReferralStatusChange(
            referral_id=referral.id, status=S.ENVOYEE, on=referred_on, by_id=actor.id
        )
    )
    record(
        actor,
        "referral.sent",
        household_id=household.id,
        target=referral,
        details={"partner_id": partner.id, "consent": str(data_category)},
    )
    return referral


def update_referral_status(
    actor,
    referral: Referral,
    *,
    version,
    status: str,
    on: date,
    comment: str | None = None,
    today: date | None = None,
) -> ReferralStatusChange:
    check_version(referral, version)
    allowed = REFERRAL_TRANSITIONS[referral.status]
    if status not in allowed:
        if not allowed:
            raise DomainError(
                f"Cette orientation est « {referral.status_label.lower()} » : son statut ne "
                "change plus."
            )
        raise DomainError(
            "Ce statut n'est pas possible après « " + referral.status_label.lower() + " ».",
            field="status",
        )
    if on is None:
        raise DomainError("Indiquez la date.", field="on")
    if on < referral.status_on:
        raise DomainError(
            f"La date ne peut pas précéder le statut actuel ({format_date(referral.status_on)}).",
            field="on",
        )
    if on > (today or today_paris()):
        raise DomainError("Cette date est dans le futur.", field="on")
    comment = _clean(comment)
    change = ReferralStatusChange(
        referral_id=referral.id, status=status, on=on, comment=comment, by_id=actor.id
    )
    db.session.add(change)
    referral.status = status
    referral.status_on = on
    if comment and status in (S.REALISEE, S.REFUSEE, S.ABANDONNEE):
        referral.outcome = comment
    referral.updated_by_id = actor.id
    record(
        actor,
        "referral.status_changed",
        household_id=referral.household_id,
        target=referral,
        details={"status": status},
    )
    return change


# --- tripartite meetings ------------------------------------------------------------------


def record_meeting(
    actor,
    household,
    *,
    held_on: date,
    attendees: str | None,
    decisions: str | None,
    next_meeting_on: date | None,
) -> TripartiteMeeting:
    """Record a held or planned tripartite meeting (a future date means planned)."""
    if held_on is None:
        raise DomainError("Indiquez la date de la réunion.", field="held_on")
    attendees = _clean(attendees)
    if attendees is None:
        raise DomainError("Indiquez les participants.", field="attendees")
    if next_meeting_on is not None and next_meeting_on <= held_on:
        raise DomainError(
            "La prochaine réunion doit avoir lieu après celle-ci.", field="next_meeting_on"
        )
    # A planned meeting is a planned date too (it feeds the calendar).
    bounds.check_planned(held_on, today_paris(), field="held_on")
    bounds.check_planned(next_meeting_on, today_paris(), field="next_meeting_on")
    meeting = TripartiteMeeting(
        household_id=household.id,
        held_on=held_on,
        attendees=attendees,
        decisions=_clean(decisions),
        next_meeting_on=next_meeting_on,
        author_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(meeting)
    record(actor, "meeting.recorded", household_id=household.id, target=meeting)
    return meeting
