"""Partner directory (by domain, with contacts), referrals of households to partners with their
status history, and tripartite meetings (household + landlord + support).

Visibility: the directory is professional information. Referrals are social content (support
team and coordinators). Tripartite meetings are shared with the landlord's staff."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UtcDateTime, VersionedMixin, db, utcnow
from app.households.models import DataCategory, LabelledEnum, PartnerCategory, SupportDomain


class PartnerDomain(LabelledEnum):
    """A partner's field. Each value is also the ``PartnerCategory`` that consents name."""

    SANTE = "sante"
    EMPLOI = "emploi"
    SOCIAL = "social"
    JUSTICE = "justice"
    LOGEMENT = "logement"

    @property
    def consent_category(self) -> PartnerCategory:
        return PartnerCategory(self.value)


PartnerDomain.LABELS = {
    "sante": "Santé",
    "emploi": "Emploi et formation",
    "social": "Social",
    "justice": "Justice",
    "logement": "Logement",
}


def referral_consent(partner_domain: str, domain: str) -> tuple[PartnerCategory, DataCategory]:
    """The consent cell (partner category, data category) a referral needs on its date.

    The column is the partner's category. The row is what the referral discloses: health
    information when the partner is a health partner (CMP, PASS, addictologie: being referred
    there says something about one's health) or when the referral is about health; otherwise
    the household's social situation and the reason of the referral. docs/support.md has the
    table."""
    partner = PartnerDomain(partner_domain).consent_category
    if partner is PartnerCategory.SANTE or domain == SupportDomain.SANTE:
        return partner, DataCategory.SANTE
    return partner, DataCategory.SITUATION_SOCIALE


class Partner(VersionedMixin, db.Model):
    __tablename__ = "partner"
    __table_args__ = (Index("ix_partner_domain_search", "domain", "search_text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    domain: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(80))  # "CMP", "Mission locale"…
    address: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    notes: Mapped[str | None] = mapped_column(Text)  # practical information only
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # name, kind and city lower-case without accents, kept by the services for search.
    search_text: Mapped[str] = mapped_column(String(400), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The organisation that created the entry: only its coordinators and administrators
    # edit it; everyone else reads it and may propose a correction. NULL for an entry whose
    # creator is unknown (older data): administrators edit those.
    owner_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id"), index=True
    )

    updated_by = relationship("User", lazy="select")
    owner = relationship("Organisation", lazy="select")
    contacts = relationship("PartnerContact", lazy="selectin", order_by="PartnerContact.full_name")

    @property
    def domain_label(self) -> str:
        return PartnerDomain(self.domain).label


class PartnerContact(db.Model):
    __tablename__ = "partner_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    full_name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))


class ReferralStatus(LabelledEnum):
    ENVOYEE = "envoyee"
    ACCEPTEE = "acceptee"
    REFUSEE = "refusee"
    REALISEE = "realisee"
    ABANDONNEE = "abandonnee"


ReferralStatus.LABELS = {
    "envoyee": "Envoyée",
    "acceptee": "Acceptée",
    "refusee": "Refusée par le partenaire",
    "realisee": "Réalisée",
    "abandonnee": "Abandonnée",
}

REFERRAL_STATUS_TONES = {
    "envoyee": "info",
    "acceptee": "accent",
    "refusee": "danger",
    "realisee": "success",
    "abandonnee": "neutral",
}


class Referral(VersionedMixin, db.Model):
    """An orientation of the household towards a partner (social content)."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id"), index=True, info={"audience": "health"}
    )
    domain: Mapped[str] = mapped_column(String(30), info={"audience": "health"})  # SupportDomain
    reason: Mapped[str] = mapped_column(Text, info={"audience": "social"})
    referred_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    status: Mapped[str] = mapped_column(
        String(12), default=ReferralStatus.ENVOYEE, info={"audience": "social"}
    )
    status_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    outcome: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )

    partner = relationship("Partner", lazy="joined")
    author = relationship("User", foreign_keys=[author_id], lazy="joined")
    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="select")
    history = relationship(
        "ReferralStatusChange",
        lazy="selectin",
        order_by="(ReferralStatusChange.on, ReferralStatusChange.id)",
    )

    @property
    def status_label(self) -> str:
        return ReferralStatus(self.status).label

    @property
    def status_tone(self) -> str:
        return REFERRAL_STATUS_TONES[self.status]

    @property
    def domain_label(self) -> str:
        return SupportDomain(self.domain).label


class ReferralStatusChange(db.Model):
    __tablename__ = "referral_status_change"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    status: Mapped[str] = mapped_column(String(12), info={"audience": "social"})
    on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    comment: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), info={"audience": "internal"})
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info={"audience": "internal"})

    by = relationship("User", lazy="joined")

    @property
    def status_label(self) -> str:
        return ReferralStatus(self.status).label


class TripartiteMeeting(VersionedMixin, db.Model):
    """A follow-up meeting of household, landlord and support; shared with the landlord, so
    its text is written for the three parties (no social detail)."""

    __tablename__ = "tripartite_meeting"
    __table_args__ = (Index("ix_tripartite_meeting_household_on", "household_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), info={"audience": "internal"}
    )
    held_on: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    attendees: Mapped[str] = mapped_column(Text, info={"audience": "tenancy"})
    decisions: Mapped[str | None] = mapped_column(Text, info={"audience": "tenancy"})
    next_meeting_on: Mapped[date | None] = mapped_column(Date, info={"audience": "tenancy"})
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )

    author = relationship("User", foreign_keys=[author_id], lazy="joined")
    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="select")
