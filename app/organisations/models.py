from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UtcDateTime, VersionedMixin, db, utcnow


class OrganisationKind(StrEnum):
    BAILLEUR = "bailleur"
    ASSOCIATION = "association"
    COLLECTIVITE = "collectivite"
    PARTENAIRE = "partenaire"

    @property
    def label(self) -> str:
        return {
            "bailleur": "Bailleur HLM",
            "association": "Association d'accompagnement",
            "collectivite": "CCAS / Conseil départemental",
            "partenaire": "Partenaire (santé, emploi, social, justice)",
        }[self.value]


class Organisation(VersionedMixin, db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    users = relationship("User", back_populates="organisation", lazy="raise")

    @property
    def kind_label(self) -> str:
        return OrganisationKind(self.kind).label

    @property
    def is_landlord(self) -> bool:
        return self.kind == OrganisationKind.BAILLEUR
