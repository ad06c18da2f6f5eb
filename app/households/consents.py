"""The household's consents to share data with partners: given, withdrawn (never deleted:
a withdrawal keeps the record of what was shared before). ``app.households.services``
re-exports them.

A consent is one cell of a grid: a data category (row) × a partner category (column). Each
cell has a stable anchor on the Consentements tab (``cell_id``), and every refusal for a
missing consent goes through ``require_consent``/``consent_required``, which name the cell
("Consentement requis : Santé → Partenaires santé") and link to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import url_for
from markupsafe import Markup
from sqlalchemy import func, select

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
from app.households.queries import has_consent

# --- the cells -------------------------------------------------------------------------------


def cell_id(data_category: str, partner_category: str) -> str:
    """The cell's anchor on the Consentements tab: ``consentement-sante-partenaires-sante``,
    ``consentement-situation-sociale-bailleur``. Stable: links in messages point to it."""
    data = DataCategory(data_category).value.replace("_", "-")
    partner = PartnerCategory(partner_category)
    column = "bailleur" if partner is PartnerCategory.BAILLEUR else f"partenaires-{partner.value}"
    return f"consentement-{data}-{column}"


def cell_label(data_category: str, partner_category: str) -> str:
    """The cell as people read it: "Santé → Partenaires santé"."""
    return f"{DataCategory(data_category).label} → {PartnerCategory(partner_category).label}"


def cell_url(household_id: int, data_category: str, partner_category: str) -> str:
    return url_for(
        "households.consents",
        household_id=household_id,
        _anchor=cell_id(data_category, partner_category),
    )


class ConsentNotice(str):
    """ "Consentement requis : <cell>. <why>" — plain text wherever text is expected (logs, a
    form's error summary, JSON), and with the cell as a link to it when rendered as HTML
    (Jinja calls ``__html__``; a flashed message keeps it, Flask's session stores Markup)."""

    def __new__(cls, household_id: int, data_category: str, partner_category: str, why: str):
        label = cell_label(data_category, partner_category)
        notice = super().__new__(cls, f"Consentement requis : {label}. {why}".strip())
        notice.cell = (household_id, str(data_category), str(partner_category))
        notice.label = label
        notice.why = why
        return notice

    @property
    def plain(self) -> str:
        """The text without the link (for a place that is already a link)."""
        return str(self)

    def __html__(self) -> str:
        return (
            Markup('Consentement requis : <a href="{}">{}</a>. {}')
            .format(cell_url(*self.cell), self.label, self.why)
            .strip()
        )


def consent_notice(
    household_id: int, partner_category: str, data_category: str, why: str = ""
) -> ConsentNotice:
    """ "Consentement requis : <cell>. <why>", linking to the cell in HTML."""
    return ConsentNotice(household_id, data_category, partner_category, why)


def consent_required(
    household_id: int,
    partner_category: str,
    data_category: str,
    why: str = "",
    *,
    field: str | None = None,
) -> DomainError:
    """The refusal of an action that needs the household's consent for this cell."""
    return DomainError(
        consent_notice(household_id, partner_category, data_category, why), field=field
    )


def require_consent(
    household_id: int,
    partner_category: str,
    data_category: str,
    on: date,
    why: str = "",
    *,
    field: str | None = None,
) -> None:
    """Refuse (``consent_required``) unless the household consented to this cell on ``on``."""
    if not has_consent(household_id, partner_category, data_category, on):
        raise consent_required(household_id, partner_category, data_category, why, field=field)


@dataclass(frozen=True)
class Cell:
    """One cell of the grid as the tab shows it: its current consent (given, not withdrawn)
    or its last withdrawn one, or neither (never asked)."""

    data_category: DataCategory
    partner_category: PartnerCategory
    current: Consent | None
    withdrawn: Consent | None

    @property
    def id(self) -> str:
        return cell_id(self.data_category, self.partner_category)

    @property
    def label(self) -> str:
        return cell_label(self.data_category, self.partner_category)


def consent_grid(household_id: int) -> list[tuple[DataCategory, list[Cell]]]:
    """Rows (data categories) of cells (partner categories), in the enums' order."""
    consents = db.session.scalars(
        select(Consent)
        .where(Consent.household_id == household_id)
        .order_by(Consent.given_on, Consent.id)
    ).all()
    current, withdrawn = {}, {}
    for consent in consents:  # oldest first: the latest of each cell wins
        key = (consent.data_category, consent.partner_category)
        (withdrawn if consent.withdrawn_on else current)[key] = consent
    return [
        (
            data,
            [
                Cell(data, partner, current.get((data, partner)), withdrawn.get((data, partner)))
                for partner in PartnerCategory
            ],
        )
        for data in DataCategory
    ]


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
    # Given before the cell's last withdrawal, the new consent would overlap the withdrawn
    # one and say "given" on days the household had said "withdrawn": the history of the
    # cell must stay one sequence of periods, each after the previous withdrawal.
    last_withdrawn_on = db.session.scalar(
        select(func.max(Consent.withdrawn_on)).where(
            Consent.household_id == household.id,
            Consent.partner_category == partner,
            Consent.data_category == data,
        )
    )
    if last_withdrawn_on is not None and given_on < last_withdrawn_on:
        raise DomainError(
            "Date du consentement : elle ne peut pas précéder le dernier retrait de ce "
            f"consentement, le {format_date(last_withdrawn_on)}. Indiquez une date à partir "
            "de ce retrait.",
            field="given_on",
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
