"""The household's consents to share data with partners: given, withdrawn (never deleted:
a withdrawal keeps the record of what was shared before). ``app.households.services``
re-exports them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.audit.services import record
from app.db import db
from app.errors import DomainError
from app.formatting import format_date, today_paris
from app.households.checks import (
    _choice,
    _past_date,
)
from app.households.models import (
    Consent,
    DataCategory,
    Household,
    PartnerCategory,
)

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
