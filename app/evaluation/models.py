"""The money of a project and the financial aid of households (programme evaluation).

- ``ProjectBudgetLine``: one funder's share of a project's budget for a calendar year, the
  amount granted (notified) and the amount received (paid so far). Several lines may name
  the same funder (two grants of the State); "autre" lines carry their funder's name.
- ``ProjectPlaces``: the number of places (logements accompagnés) agreed for a project and
  a year, one row per project-year.
- ``HouseholdAid``: a financial aid requested for a household (FSL accès or maintien, CAF,
  commune/CCAS…), its decision and amounts. Support content: social audience, never read
  by landlord staff.

Money is stored in integer cents (``*_cents``), as everywhere in the app; services and
figures speak ``Decimal`` euros. The bilan's texts (``BilanText``) live in
``app/evaluation/models_bilan.py``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.bounds import COUNT, MONEY
from app.db import UtcDateTime, VersionedMixin, db, utcnow
from app.households.models import LabelledEnum

# The calendar years a budget, places or an aid may be recorded for.
YEAR_MIN, YEAR_MAX = 2000, 2100


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Funder(LabelledEnum):
    ETAT = "etat"
    BAILLEUR = "bailleur"
    DEPARTEMENT = "departement"
    CAF = "caf"
    COMMUNE = "commune"
    AUTRE = "autre"


Funder.LABELS = {
    "etat": "État / FNAVDL",
    "bailleur": "Bailleur",
    "departement": "Département / FSL",
    "caf": "CAF",
    "commune": "Commune",
    "autre": "Autre financeur",
}


class AidKind(LabelledEnum):
    FSL_ACCES = "fsl_acces"
    FSL_MAINTIEN = "fsl_maintien"
    CAF = "caf"
    COMMUNE = "commune"
    AUTRE = "autre"


AidKind.LABELS = {
    "fsl_acces": "FSL accès",
    "fsl_maintien": "FSL maintien",
    "caf": "Aide de la CAF",
    "commune": "Aide de la commune / CCAS",
    "autre": "Autre aide",
}


class AidStatus(LabelledEnum):
    DEMANDEE = "demandee"
    ACCORDEE = "accordee"
    REFUSEE = "refusee"


AidStatus.LABELS = {"demandee": "Demandée", "accordee": "Accordée", "refusee": "Refusée"}

AID_STATUS_TONES = {"demandee": "info", "accordee": "success", "refusee": "danger"}


class ProjectBudgetLine(VersionedMixin, db.Model):
    """What one funder granted a project for a year, and what it has paid."""

    __tablename__ = "project_budget_line"
    __table_args__ = (
        CheckConstraint(f"year BETWEEN {YEAR_MIN} AND {YEAR_MAX}", name="year_plausible"),
        CheckConstraint(_in("funder", Funder), name="funder_known"),
        CheckConstraint("funder <> 'autre' OR label IS NOT NULL", name="other_funder_named"),
        CheckConstraint(MONEY.sql("granted_cents", nullable=False), name="granted_plausible"),
        CheckConstraint(MONEY.sql("received_cents", nullable=False), name="received_plausible"),
        CheckConstraint("received_cents <= granted_cents", name="received_within_granted"),
        Index("ix_project_budget_line_project_year", "project_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    funder: Mapped[str] = mapped_column(String(20))
    # The funder's own name: required for "autre", optional detail otherwise ("DDETS").
    label: Mapped[str | None] = mapped_column(String(160))
    granted_cents: Mapped[int] = mapped_column(Integer)
    received_cents: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def funder_label(self) -> str:
        return Funder(self.funder).label

    @property
    def name(self) -> str:
        """How the line is shown: the funder, and its own name when given."""
        if self.funder == Funder.AUTRE:
            return self.label or self.funder_label
        return f"{self.funder_label} — {self.label}" if self.label else self.funder_label


class ProjectPlaces(VersionedMixin, db.Model):
    """The number of places (logements accompagnés) agreed for a project and a year."""

    __tablename__ = "project_places"
    __table_args__ = (
        UniqueConstraint("project_id", "year"),
        CheckConstraint(f"year BETWEEN {YEAR_MIN} AND {YEAR_MAX}", name="year_plausible"),
        CheckConstraint(COUNT.sql("places", nullable=False), name="places_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    places: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)


class HouseholdAid(VersionedMixin, db.Model):
    """A financial aid requested for the household, and its decision (support content)."""

    __tablename__ = "household_aid"
    __table_args__ = (
        CheckConstraint(_in("kind", AidKind), name="kind_known"),
        CheckConstraint("kind <> 'autre' OR label IS NOT NULL", name="other_kind_named"),
        CheckConstraint(_in("status", AidStatus), name="status_known"),
        CheckConstraint(MONEY.sql("requested_cents"), name="requested_plausible"),
        CheckConstraint(MONEY.sql("granted_cents"), name="granted_plausible"),
        CheckConstraint(
            "granted_cents IS NULL OR status = 'accordee'", name="granted_only_when_accorded"
        ),
        CheckConstraint("(status = 'demandee') = (decided_on IS NULL)", name="decided_when_final"),
        CheckConstraint(
            "decided_on IS NULL OR decided_on >= requested_on", name="decided_after_request"
        ),
        Index("ix_household_aid_household_requested", "household_id", "requested_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), info={"audience": "internal"}
    )
    kind: Mapped[str] = mapped_column(String(20), info={"audience": "social"})
    label: Mapped[str | None] = mapped_column(String(160), info={"audience": "social"})
    status: Mapped[str] = mapped_column(
        String(10), default=AidStatus.DEMANDEE, info={"audience": "social"}
    )
    requested_cents: Mapped[int | None] = mapped_column(Integer, info={"audience": "social"})
    granted_cents: Mapped[int | None] = mapped_column(Integer, info={"audience": "social"})
    requested_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    decided_on: Mapped[date | None] = mapped_column(Date, info={"audience": "social"})
    note: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    @property
    def kind_label(self) -> str:
        if self.kind == AidKind.AUTRE and self.label:
            return self.label
        return AidKind(self.kind).label

    @property
    def status_label(self) -> str:
        return AidStatus(self.status).label

    @property
    def status_tone(self) -> str:
        return AID_STATUS_TONES[self.status]
