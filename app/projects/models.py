from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.bounds import COUNT, MONEY
from app.db import UtcDateTime, VersionedMixin, db, utcnow


class FundingCall(StrEnum):
    HLM_ACCOMPAGNES = "hlm_accompagnes"
    FNAVDL = "fnavdl"
    AVDL = "avdl"
    ASLL = "asll"
    AUTRE = "autre"

    @property
    def label(self) -> str:
        return {
            "hlm_accompagnes": "10 000 logements HLM accompagnés",
            "fnavdl": "FNAVDL",
            "avdl": "AVDL",
            "asll": "ASLL (FSL)",
            "autre": "Autre financement",
        }[self.value]


class TargetPublic(StrEnum):
    """Publics cibles, shared by projects (targets) and households (flags)."""

    PRIORITAIRE_DALO = "prioritaire_dalo"
    PRIORITAIRE_PDALHPD = "prioritaire_pdalhpd"
    SORTIE_HEBERGEMENT = "sortie_hebergement"
    SORTIE_RUE = "sortie_rue"
    VIOLENCES = "violences"
    SORTIE_DETENTION = "sortie_detention"
    JEUNE_SORTANT_ASE = "jeune_sortant_ase"
    SANTE_MENTALE = "sante_mentale"
    MENACE_EXPULSION = "menace_expulsion"

    @property
    def label(self) -> str:
        return TARGET_PUBLIC_LABELS[self]


TARGET_PUBLIC_LABELS = {
    TargetPublic.PRIORITAIRE_DALO: "Prioritaire DALO",
    TargetPublic.PRIORITAIRE_PDALHPD: "Prioritaire PDALHPD",
    TargetPublic.SORTIE_HEBERGEMENT: "Sortie d'hébergement",
    TargetPublic.SORTIE_RUE: "Sortie de rue",
    TargetPublic.VIOLENCES: "Victime de violences",
    TargetPublic.SORTIE_DETENTION: "Sortie de détention",
    TargetPublic.JEUNE_SORTANT_ASE: "Jeune sortant de l'ASE",
    TargetPublic.SANTE_MENTALE: "Troubles de santé mentale",
    TargetPublic.MENACE_EXPULSION: "Menacé d'expulsion",
}

project_partner = Table(
    "project_partner",
    db.metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
)


class Project(VersionedMixin, db.Model):
    """Le projet financé (e.g. one answer to the "10 000 HLM accompagnés" call)."""

    __tablename__ = "project"
    __table_args__ = (
        CheckConstraint(
            "convention_end_on IS NULL OR convention_start_on IS NULL "
            "OR convention_end_on >= convention_start_on",
            name="convention_dates",
        ),
        CheckConstraint(
            "target_households IS NULL OR target_households >= 0", name="target_positive"
        ),
        CheckConstraint("grant_cents IS NULL OR grant_cents >= 0", name="grant_positive"),
        CheckConstraint(MONEY.sql("grant_cents"), name="grant_plausible"),
        CheckConstraint(COUNT.sql("target_households"), name="target_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    territory: Mapped[str] = mapped_column(String(160))
    lead_landlord_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    funding_call: Mapped[str] = mapped_column(String(30))
    convention_start_on: Mapped[date | None] = mapped_column(Date)
    convention_end_on: Mapped[date | None] = mapped_column(Date)
    target_households: Mapped[int | None] = mapped_column(Integer)
    grant_cents: Mapped[int | None] = mapped_column(Integer)
    target_publics: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    lead_landlord = relationship("Organisation", lazy="joined")
    # Loaded when asked for (the project's form): every request loads the signed-in user's
    # projects, and their partners are read nowhere else.
    partners = relationship(
        "Organisation", secondary=project_partner, lazy="select", order_by="Organisation.name"
    )

    @property
    def funding_call_label(self) -> str:
        return FundingCall(self.funding_call).label

    @property
    def target_public_list(self) -> list[TargetPublic]:
        return [TargetPublic(v) for v in self.target_publics.split(",") if v]
