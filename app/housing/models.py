"""Dwellings of landlord organisations and the households' leases (occupancies).

Rent accounts, repayment plans, GLA actions and eviction-prevention stages hang off the
occupancy (see below as they are added)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UtcDateTime, VersionedMixin, db, utcnow
from app.households.models import LabelledEnum


class Typology(LabelledEnum):
    T1 = "T1"
    T2 = "T2"
    T3 = "T3"
    T4 = "T4"
    T5 = "T5"
    T6 = "T6"


Typology.LABELS = {t: t for t in ("T1", "T2", "T3", "T4", "T5", "T6")}


class Funding(LabelledEnum):
    PLAI = "PLAI"
    PLUS = "PLUS"
    PLS = "PLS"


Funding.LABELS = {"PLAI": "PLAI (très social)", "PLUS": "PLUS", "PLS": "PLS"}


class LeaseType(LabelledEnum):
    BAIL_DIRECT = "bail_direct"
    BAIL_GLISSANT = "bail_glissant"
    SOUS_LOCATION = "sous_location"
    PROTOCOLE_COHESION = "protocole_cohesion"
    INDEMNITE_OCCUPATION = "indemnite_occupation"


LeaseType.LABELS = {
    "bail_direct": "Bail direct",
    "bail_glissant": "Bail glissant",
    "sous_location": "Sous-location",
    "protocole_cohesion": "Protocole de cohésion sociale",
    "indemnite_occupation": "Indemnité d'occupation",
}


class Dwelling(VersionedMixin, db.Model):
    __tablename__ = "dwelling"
    __table_args__ = (
        CheckConstraint("rent_cents >= 0", name="rent_positive"),
        CheckConstraint("charges_cents >= 0", name="charges_positive"),
        CheckConstraint("surface_m2 IS NULL OR surface_m2 > 0", name="surface_positive"),
        UniqueConstraint("landlord_id", "landlord_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    landlord_reference: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(5))
    city: Mapped[str] = mapped_column(String(120))
    residence: Mapped[str | None] = mapped_column(String(120))
    typology: Mapped[str] = mapped_column(String(2))
    surface_m2: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    funding: Mapped[str] = mapped_column(String(4))
    rent_cents: Mapped[int] = mapped_column(Integer)
    charges_cents: Mapped[int] = mapped_column(Integer, default=0)
    search_address: Mapped[str] = mapped_column(String(330), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    landlord = relationship("Organisation", lazy="joined")
    updated_by = relationship("User", lazy="select")

    @property
    def full_address(self) -> str:
        return f"{self.address}, {self.postal_code} {self.city}"

    @property
    def monthly_total_cents(self) -> int:
        return self.rent_cents + self.charges_cents


class Occupancy(VersionedMixin, db.Model):
    """A household's lease (or other occupancy title) on a dwelling.

    At most one current (``end_on IS NULL``) occupancy per household and per dwelling: the
    services check it with a clear message, and partial unique indexes hold it in the database.
    """

    __tablename__ = "occupancy"
    __table_args__ = (
        CheckConstraint("end_on IS NULL OR end_on >= start_on", name="end_after_start"),
        CheckConstraint(
            "glissement_target_on IS NULL OR glissement_target_on >= start_on",
            name="glissement_after_start",
        ),
        Index(
            "uq_occupancy_current_household",
            "household_id",
            unique=True,
            sqlite_where=text("end_on IS NULL"),
            postgresql_where=text("end_on IS NULL"),
        ),
        Index(
            "uq_occupancy_current_dwelling",
            "dwelling_id",
            unique=True,
            sqlite_where=text("end_on IS NULL"),
            postgresql_where=text("end_on IS NULL"),
        ),
        Index("ix_occupancy_lease_reference", "lease_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    dwelling_id: Mapped[int] = mapped_column(ForeignKey("dwelling.id"), index=True)
    lease_type: Mapped[str] = mapped_column(String(25))
    # The landlord's own reference for the lease: the key of the monthly rent-account import.
    lease_reference: Mapped[str | None] = mapped_column(String(40))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(200))
    glissement_target_on: Mapped[date | None] = mapped_column(Date)
    glissed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    household = relationship("Household", lazy="select")
    dwelling = relationship("Dwelling", lazy="joined")
    updated_by = relationship("User", lazy="select")
    reviews = relationship(
        "LeaseReview", lazy="selectin", order_by="LeaseReview.held_on", cascade="all, delete-orphan"
    )

    @property
    def lease_type_label(self) -> str:
        return LeaseType(self.lease_type).label

    @property
    def is_current(self) -> bool:
        return self.end_on is None


class LeaseReview(db.Model):
    """The 6-monthly tripartite review of a bail glissant (tenancy class: decisions on the
    lease, not social content)."""

    __tablename__ = "lease_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    occupancy_id: Mapped[int] = mapped_column(
        ForeignKey("occupancy.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(20))  # LeaseReviewDecision
    comment: Mapped[str | None] = mapped_column(Text)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LeaseReviewDecision(LabelledEnum):
    POURSUITE = "poursuite"
    GLISSEMENT = "glissement"
    PROLONGATION = "prolongation"
    FIN = "fin"


LeaseReviewDecision.LABELS = {
    "poursuite": "Poursuite de la sous-location",
    "glissement": "Glissement du bail accordé",
    "prolongation": "Prolongation avant glissement",
    "fin": "Fin du dispositif",
}
