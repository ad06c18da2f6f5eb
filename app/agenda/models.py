"""Appointments (rendez-vous) planned with a household.

An appointment is social content (when and how the support team meets the household), except
a tripartite one — with the landlord — whose time, place and status are written for the three
parties: those columns name ``is_tripartite`` as their ``tenancy_when`` flag. The note is
social on every row. Times are stored in UTC and shown in Europe/Paris.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.bounds import DURATION
from app.db import UtcDateTime, VersionedMixin, db, utcnow
from app.households.models import LabelledEnum


class AppointmentMode(LabelledEnum):
    DOMICILE = "domicile"
    BUREAU = "bureau"
    TELEPHONE = "telephone"
    VISIO = "visio"
    AUTRE_LIEU = "autre_lieu"


AppointmentMode.LABELS = {
    "domicile": "Au domicile",
    "bureau": "Au bureau",
    "telephone": "Par téléphone",
    "visio": "En visioconférence",
    "autre_lieu": "Autre lieu",
}


class AppointmentWith(LabelledEnum):
    MENAGE = "menage"
    PARTENAIRE = "partenaire"
    BAILLEUR = "bailleur"


AppointmentWith.LABELS = {
    "menage": "Le ménage",
    "partenaire": "Le ménage et un partenaire",
    "bailleur": "Le ménage et le bailleur (rencontre tripartite)",
}


class AppointmentStatus(LabelledEnum):
    PREVU = "prevu"
    TENU = "tenu"
    NON_HONORE = "non_honore"
    ANNULE = "annule"


AppointmentStatus.LABELS = {
    "prevu": "Prévu",
    "tenu": "Tenu",
    "non_honore": "Non honoré",
    "annule": "Annulé",
}
STATUS_TONES = {"prevu": "info", "tenu": "success", "non_honore": "danger", "annule": "neutral"}

_TRIPARTITE = {"audience": "social", "tenancy_when": "is_tripartite"}


class Appointment(VersionedMixin, db.Model):
    """One planned meeting with a household: when, how long, where or how, with whom, its
    status, who planned it and whose agenda it is in."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint(
            f"duration_minutes BETWEEN {DURATION.low} AND {DURATION.high}",
            name="duration_range",
        ),
        CheckConstraint("status IN ('prevu', 'tenu', 'non_honore', 'annule')", name="known_status"),
        Index("ix_appointment_for_user_starts", "for_user_id", "starts_at"),
        Index("ix_appointment_household_starts", "household_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), info={"audience": "internal"}
    )
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, info=dict(_TRIPARTITE))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60, info=dict(_TRIPARTITE))
    mode: Mapped[str] = mapped_column(String(20), info=dict(_TRIPARTITE))
    place: Mapped[str | None] = mapped_column(String(200), info=dict(_TRIPARTITE))
    with_whom: Mapped[str] = mapped_column(String(20), info=dict(_TRIPARTITE))
    # A meeting with the landlord: its time, place and status are tenancy content.
    is_tripartite: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"audience": "tenancy"}
    )
    status: Mapped[str] = mapped_column(
        String(12), default=AppointmentStatus.PREVU.value, info=dict(_TRIPARTITE)
    )
    note: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    planned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), info={"audience": "internal"}
    )
    for_user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), info={"audience": "internal"}
    )
    # The visit that held it, or the missed-appointment attempt.
    intervention_id: Mapped[int | None] = mapped_column(
        ForeignKey("intervention.id", ondelete="SET NULL"), info={"audience": "internal"}
    )
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    household = relationship("Household", lazy="joined")
    for_user = relationship("User", foreign_keys=[for_user_id], lazy="joined")
    planned_by = relationship("User", foreign_keys=[planned_by_id], lazy="select")

    @property
    def mode_label(self) -> str:
        return AppointmentMode(self.mode).label

    @property
    def with_label(self) -> str:
        return AppointmentWith(self.with_whom).label

    @property
    def status_label(self) -> str:
        return AppointmentStatus(self.status).label

    @property
    def status_tone(self) -> str:
        return STATUS_TONES[self.status]

    @property
    def is_planned(self) -> bool:
        return self.status == AppointmentStatus.PREVU
