"""Visits and contacts (interventions) and the history of their corrections.

Field classes: ``note`` is restricted (support team and coordinators); ``shared_summary`` may
reach the landlord, only when ``is_summary_shared`` was ticked with the household's consent;
everything else (mode, domains, duration, next action) is social content."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.bounds import DURATION
from app.db import UtcDateTime, VersionedMixin, db, utcnow
from app.households.models import LabelledEnum, SupportDomain

# minutes: a full day of accompaniment at most (declared in app/bounds.py)
DURATION_MIN, DURATION_MAX = DURATION.low, DURATION.high


class InterventionMode(LabelledEnum):
    VISITE_DOMICILE = "visite_domicile"
    BUREAU = "bureau"
    TELEPHONE = "telephone"
    ACCOMPAGNEMENT_PHYSIQUE = "accompagnement_physique"
    VISITE_CONJOINTE = "visite_conjointe"
    RDV_NON_HONORE = "rdv_non_honore"


InterventionMode.LABELS = {
    "visite_domicile": "Visite à domicile",
    "bureau": "Entretien au bureau",
    "telephone": "Téléphone",
    "accompagnement_physique": "Accompagnement physique à un rendez-vous",
    "visite_conjointe": "Visite conjointe avec le bailleur",
    "rdv_non_honore": "Rendez-vous non honoré",
}

MODE_ICONS = {
    "visite_domicile": "home",
    "bureau": "building",
    "telephone": "phone",
    "accompagnement_physique": "walk",
    "visite_conjointe": "users",
    "rdv_non_honore": "x",
}

# A missed appointment is an attempt, not a contact: contact rhythms ignore it.
NOT_A_CONTACT = (InterventionMode.RDV_NON_HONORE,)


class Intervention(VersionedMixin, db.Model):
    __tablename__ = "intervention"
    __table_args__ = (
        CheckConstraint(
            f"duration_minutes IS NULL OR duration_minutes BETWEEN {DURATION_MIN} "
            f"AND {DURATION_MAX}",
            name="duration_range",
        ),
        CheckConstraint(
            "is_summary_shared = false OR shared_summary IS NOT NULL", name="shared_has_text"
        ),
        Index("ix_intervention_household_on", "household_id", "occurred_on"),
        Index("ix_intervention_mode_on", "mode", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), info={"audience": "internal"}
    )
    occurred_on: Mapped[date] = mapped_column(
        Date, info={"audience": "social", "tenancy_when": "is_summary_shared"}
    )
    mode: Mapped[str] = mapped_column(
        String(30), info={"audience": "social", "tenancy_when": "is_summary_shared"}
    )
    duration_minutes: Mapped[int | None] = mapped_column(Integer, info={"audience": "social"})
    domains: Mapped[str] = mapped_column(String(300), default="", info={"audience": "social"})
    note: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})  # restricted
    shared_summary: Mapped[str | None] = mapped_column(
        Text, info={"audience": "social", "tenancy_when": "is_summary_shared"}
    )
    is_summary_shared: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"audience": "tenancy"}
    )
    next_action: Mapped[str | None] = mapped_column(String(300), info={"audience": "social"})
    next_action_on: Mapped[date | None] = mapped_column(Date, info={"audience": "social"})
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    # A visit entered twice by mistake stays (visits are never deleted) but counts nowhere:
    # not in contacts, rhythms, reminders, indicators nor caseloads (see mark_duplicate).
    is_duplicate: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), info={"audience": "internal"}
    )
    duplicate_marked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    duplicate_marked_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, info={"audience": "internal"}
    )

    author = relationship("User", foreign_keys=[author_id], lazy="joined")
    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="select")
    corrections = relationship(
        "InterventionCorrection",
        lazy="select",
        order_by="InterventionCorrection.id.desc()",
        cascade="all, delete-orphan",
    )

    @property
    def mode_label(self) -> str:
        return InterventionMode(self.mode).label

    @property
    def is_contact(self) -> bool:
        return counts_as_contact(self.mode, self.is_duplicate)

    @property
    def domain_list(self) -> list[SupportDomain]:
        return SupportDomain.parse_list(self.domains)


def counts_as_contact(mode: str, is_duplicate: bool) -> bool:
    """A real contact with the household: neither a missed appointment nor a visit marked
    as entered twice (``queries._is_contact`` is the same rule in SQL)."""
    return mode not in NOT_A_CONTACT and not is_duplicate


# Fields whose previous text a correction keeps.
CORRECTABLE_FIELDS = {
    "note": "Note réservée",
    "shared_summary": "Compte rendu partagé avec le bailleur",
    "next_action": "Prochaine action",
}


class InterventionCorrection(db.Model):
    """The previous text of one field, who replaced it and when."""

    __tablename__ = "intervention_correction"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    intervention_id: Mapped[int] = mapped_column(
        ForeignKey("intervention.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    field: Mapped[str] = mapped_column(String(30), info={"audience": "social"})
    previous_text: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    corrected_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    corrected_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    corrected_by = relationship("User", lazy="joined")

    @property
    def field_label(self) -> str:
        return CORRECTABLE_FIELDS[self.field]
