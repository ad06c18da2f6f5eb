"""Dwellings of landlord organisations and the households' leases (occupancies).

Rent accounts, repayment plans, GLA actions and eviction-prevention stages hang off the
occupancy (see below as they are added)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Select,
    String,
    Text,
    UniqueConstraint,
    delete,
    event,
    exists,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from app.bounds import BALANCE, MONEY, SURFACE
from app.db import UtcDateTime, VersionedMixin, db, utcnow
from app.households.models import LabelledEnum


def _lease_key(reference: str | None) -> str | None:
    from app.housing.rent_import.references import reference_key

    return reference_key(reference) or None


def _reference_key_default(context) -> str | None:
    """The key of an occupancy inserted without one (a bulk insert)."""
    return _lease_key(context.get_current_parameters().get("lease_reference"))


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
        CheckConstraint(MONEY.sql("rent_cents"), name="rent_plausible"),
        CheckConstraint(MONEY.sql("charges_cents"), name="charges_plausible"),
        CheckConstraint(SURFACE.sql("surface_m2"), name="surface_plausible"),
        UniqueConstraint("landlord_id", "landlord_reference"),
        # A landlord's dwelling ids from the index alone (``dashboard.tenancy_scope``).
        Index("ix_dwelling_landlord_id_id", "landlord_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
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
        Index("ix_occupancy_lease_reference_key", "lease_reference_key"),
        # Each dwelling's current lease and household from the index alone (the landlord
        # dashboard); ``end_on`` because SQLite reads a partial index's condition from it.
        Index(
            "ix_occupancy_current_dwelling_household",
            "dwelling_id",
            "household_id",
            "id",
            "end_on",
            sqlite_where=text("end_on IS NULL"),
            postgresql_where=text("end_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id"), index=True, info={"audience": "internal"}
    )
    dwelling_id: Mapped[int] = mapped_column(
        ForeignKey("dwelling.id"), index=True, info={"audience": "tenancy"}
    )
    lease_type: Mapped[str] = mapped_column(String(25), info={"audience": "tenancy"})
    # The landlord's own reference for the lease: the key of the monthly rent-account import.
    lease_reference: Mapped[str | None] = mapped_column(String(40), info={"audience": "tenancy"})
    # ``rent_import.reference_key(lease_reference)``, kept with it (``_keep_reference_key``,
    # and the default for bulk inserts): the import looks a batch's references up by it.
    lease_reference_key: Mapped[str | None] = mapped_column(
        String(80), default=_reference_key_default, info={"audience": "internal"}
    )
    start_on: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    end_on: Mapped[date | None] = mapped_column(Date, info={"audience": "tenancy"})
    end_reason: Mapped[str | None] = mapped_column(String(200), info={"audience": "tenancy"})
    glissement_target_on: Mapped[date | None] = mapped_column(Date, info={"audience": "tenancy"})
    glissed_on: Mapped[date | None] = mapped_column(Date, info={"audience": "tenancy"})
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )

    household = relationship("Household", lazy="select")
    dwelling = relationship("Dwelling", lazy="joined")
    updated_by = relationship("User", lazy="select")
    reviews = relationship(
        "LeaseReview",
        lazy="selectin",
        order_by="(LeaseReview.held_on, LeaseReview.id)",
        cascade="all, delete-orphan",
    )

    @validates("lease_reference")
    def _keep_reference_key(self, _name, value):
        self.lease_reference_key = _lease_key(value)
        return value

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

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    occupancy_id: Mapped[int] = mapped_column(
        ForeignKey("occupancy.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    held_on: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    decision: Mapped[str] = mapped_column(
        String(20), info={"audience": "tenancy"}
    )  # LeaseReviewDecision
    comment: Mapped[str | None] = mapped_column(Text, info={"audience": "tenancy"})
    next_review_on: Mapped[date | None] = mapped_column(Date, info={"audience": "tenancy"})
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    recorded_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    @property
    def decision_label(self) -> str:
        return LeaseReviewDecision(self.decision).label


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


# --- situation locative (landlord side: tenancy class) ----------------------------------


class AplStatus(LabelledEnum):
    MAINTENUE = "maintenue"
    SUSPENDUE = "suspendue"
    SANS_APL = "sans_apl"


AplStatus.LABELS = {
    "maintenue": "APL maintenue",
    "suspendue": "APL suspendue",
    "sans_apl": "Pas d'APL",
}


class RentAccountSnapshot(db.Model):
    """The rent account of a lease at the end of one month, as exported by the landlord.

    ``month`` is the first day of the month. One row per (occupancy, month): importing the
    same month again updates it. ``balance_cents`` > 0 is what the tenant owes."""

    __tablename__ = "rent_account_snapshot"
    __table_args__ = (
        UniqueConstraint("occupancy_id", "month"),
        CheckConstraint("amount_due_cents >= 0", name="amount_due_positive"),
        CheckConstraint(MONEY.sql("amount_due_cents"), name="amount_due_plausible"),
        CheckConstraint(BALANCE.sql("balance_cents"), name="balance_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    # No index of its own: the unique (occupancy_id, month) one serves every lookup.
    occupancy_id: Mapped[int] = mapped_column(
        ForeignKey("occupancy.id", ondelete="CASCADE"), info={"audience": "internal"}
    )
    month: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    balance_cents: Mapped[int] = mapped_column(Integer, info={"audience": "tenancy"})
    # Rent and charges called for the month (the denominator of the months of arrears).
    amount_due_cents: Mapped[int] = mapped_column(Integer, info={"audience": "tenancy"})
    last_payment_on: Mapped[date | None] = mapped_column(Date, info={"audience": "tenancy"})
    apl_status: Mapped[str | None] = mapped_column(
        String(10), info={"audience": "tenancy"}
    )  # AplStatus
    caf_reported_on: Mapped[date | None] = mapped_column(Date, info={"audience": "tenancy"})
    imported_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    @property
    def months_of_arrears(self) -> Decimal:
        return months_of_arrears(self.balance_cents, self.amount_due_cents)

    @property
    def apl_label(self) -> str:
        return AplStatus(self.apl_status).label if self.apl_status else ""


def months_of_arrears(balance_cents: int, amount_due_cents: int) -> Decimal:
    """Debt expressed in months of rent and charges, one decimal (0 when nothing is owed)."""
    if balance_cents <= 0 or amount_due_cents <= 0:
        return Decimal(0)
    return (Decimal(balance_cents) / Decimal(amount_due_cents)).quantize(Decimal("0.1"))


class RepaymentPlanStatus(LabelledEnum):
    EN_COURS = "en_cours"
    RESPECTE = "respecte"
    ROMPU = "rompu"
    SOLDE = "solde"


RepaymentPlanStatus.LABELS = {
    "en_cours": "En cours",
    "respecte": "Respecté",
    "rompu": "Non respecté",
    "solde": "Soldé",
}


class RepaymentPlan(VersionedMixin, db.Model):
    """Plan d'apurement: the tenant repays the debt by monthly instalments on top of the rent."""

    __tablename__ = "repayment_plan"
    __table_args__ = (
        CheckConstraint("monthly_cents > 0", name="monthly_positive"),
        CheckConstraint("debt_cents IS NULL OR debt_cents > 0", name="debt_positive"),
        CheckConstraint(MONEY.sql("monthly_cents"), name="monthly_plausible"),
        CheckConstraint(MONEY.sql("debt_cents"), name="debt_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    occupancy_id: Mapped[int] = mapped_column(
        ForeignKey("occupancy.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    start_on: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    monthly_cents: Mapped[int] = mapped_column(Integer, info={"audience": "tenancy"})
    debt_cents: Mapped[int | None] = mapped_column(Integer, info={"audience": "tenancy"})
    status: Mapped[str] = mapped_column(
        String(10), default=RepaymentPlanStatus.EN_COURS, info={"audience": "tenancy"}
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    @property
    def status_label(self) -> str:
        return RepaymentPlanStatus(self.status).label


class GlaActionKind(LabelledEnum):
    CONTACT_IMPAYE = "contact_impaye"
    PROPOSITION_PLAN = "proposition_plan"
    VISITE_TECHNIQUE = "visite_technique"
    MEDIATION_VOISINAGE = "mediation_voisinage"
    ATTESTATION_ASSURANCE = "attestation_assurance"
    AUTRE = "autre"


GlaActionKind.LABELS = {
    "contact_impaye": "Contact au sujet de l'impayé",
    "proposition_plan": "Proposition de plan d'apurement",
    "visite_technique": "Visite technique",
    "mediation_voisinage": "Médiation de voisinage",
    "attestation_assurance": "Attestation d'assurance",
    "autre": "Autre action",
}


class GlaAction(db.Model):
    """An action of adapted rental management (gestion locative adaptée) by the landlord."""

    __tablename__ = "gla_action"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    occupancy_id: Mapped[int] = mapped_column(
        ForeignKey("occupancy.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    kind: Mapped[str] = mapped_column(String(25), info={"audience": "tenancy"})
    done_on: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    outcome: Mapped[str | None] = mapped_column(Text, info={"audience": "tenancy"})
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    recorded_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    author = relationship("User", lazy="joined")

    @property
    def kind_label(self) -> str:
        return GlaActionKind(self.kind).label


class ProcedureStageKind(LabelledEnum):
    """Stages of the prevention of evictions, in their usual order."""

    IMPAYE_CONSTITUE = "impaye_constitue"
    SIGNALEMENT_CAF = "signalement_caf"
    PLAN_APUREMENT = "plan_apurement"
    SAISINE_CCAPEX = "saisine_ccapex"
    COMMANDEMENT_PAYER = "commandement_payer"
    ASSIGNATION = "assignation"
    DIAGNOSTIC_SOCIAL_FINANCIER = "diagnostic_social_financier"
    AUDIENCE = "audience"
    JUGEMENT = "jugement"
    COMMANDEMENT_QUITTER = "commandement_quitter"
    CONCOURS_FORCE_PUBLIQUE = "concours_force_publique"
    PROTOCOLE_COHESION = "protocole_cohesion"
    CLOTURE = "cloture"

    @property
    def rank(self) -> int:
        return list(ProcedureStageKind).index(self)

    @property
    def is_judicial(self) -> bool:
        """From the commandement de payer on, the lease is under an eviction procedure."""
        return (
            ProcedureStageKind.COMMANDEMENT_PAYER.rank
            <= self.rank
            <= (ProcedureStageKind.CONCOURS_FORCE_PUBLIQUE.rank)
        )


ProcedureStageKind.LABELS = {
    "impaye_constitue": "Impayé constitué",
    "signalement_caf": "Signalement à la CAF",
    "plan_apurement": "Plan d'apurement",
    "saisine_ccapex": "Saisine de la CCAPEX",
    "commandement_payer": "Commandement de payer",
    "assignation": "Assignation",
    "diagnostic_social_financier": "Diagnostic social et financier",
    "audience": "Audience",
    "jugement": "Jugement",
    "commandement_quitter": "Commandement de quitter les lieux",
    "concours_force_publique": "Demande de concours de la force publique",
    "protocole_cohesion": "Protocole de cohésion sociale",
    "cloture": "Procédure close (dette soldée ou abandon)",
}


class ProcedureStage(db.Model):
    """One dated stage of the eviction-prevention procedure of a lease.

    ``hearing_on`` is the hearing date, known from the assignation on: the social and
    financial diagnostic is due before it."""

    __tablename__ = "procedure_stage"
    __table_args__ = (
        CheckConstraint(
            "hearing_on IS NULL OR hearing_on >= occurred_on", name="hearing_after_stage"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    occupancy_id: Mapped[int] = mapped_column(
        ForeignKey("occupancy.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    stage: Mapped[str] = mapped_column(String(30), info={"audience": "tenancy"})
    occurred_on: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    hearing_on: Mapped[date | None] = mapped_column(Date, info={"audience": "tenancy"})
    comment: Mapped[str | None] = mapped_column(String(300), info={"audience": "tenancy"})
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    recorded_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    recorded_by = relationship("User", lazy="joined")

    @property
    def stage_kind(self) -> ProcedureStageKind:
        return ProcedureStageKind(self.stage)

    @property
    def stage_label(self) -> str:
        return self.stage_kind.label


class TenancyFigures(db.Model):
    """What the landlord dashboard sorts and counts each lease by, derived from its rent
    accounts, procedure stages and repayment plans: the latest account's balance and amount
    due, the latest procedure stage, whether a plan is running.

    Never edited: ``refresh_tenancy_figures`` rewrites the rows of the leases whose sources
    changed — after every ORM flush that touches a source (the listener below), and
    explicitly after the bulk writes that bypass the ORM (the rent-account import, the
    benchmark generator; the demo data goes through the ORM). Without it the dashboard
    computed these with three correlated subqueries per lease on every request (18,775
    leases for the largest landlord)."""

    __tablename__ = "tenancy_figures"

    occupancy_id: Mapped[int] = mapped_column(
        ForeignKey("occupancy.id", ondelete="CASCADE"),
        primary_key=True,
        info={"audience": "internal"},
    )
    balance_cents: Mapped[int | None] = mapped_column(Integer, info={"audience": "tenancy"})
    amount_due_cents: Mapped[int | None] = mapped_column(Integer, info={"audience": "tenancy"})
    procedure_stage: Mapped[str | None] = mapped_column(String(30), info={"audience": "tenancy"})
    has_running_plan: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"audience": "tenancy"}
    )


# Sources of ``TenancyFigures``: an ORM flush that adds, changes or deletes one of these
# refreshes the figures of its lease.
FIGURE_SOURCES = (RentAccountSnapshot, ProcedureStage, RepaymentPlan)
REFRESH_CHUNK = 5_000


def _figures_select(ids) -> Select:
    latest_snapshot = (
        select(RentAccountSnapshot.id)
        .where(RentAccountSnapshot.occupancy_id == Occupancy.id)
        .order_by(RentAccountSnapshot.month.desc())
        .limit(1)
        .correlate(Occupancy)
        .scalar_subquery()
    )
    latest_stage = (
        select(ProcedureStage.stage)
        .where(ProcedureStage.occupancy_id == Occupancy.id)
        .order_by(ProcedureStage.occurred_on.desc(), ProcedureStage.id.desc())
        .limit(1)
        .correlate(Occupancy)
        .scalar_subquery()
    )
    running_plan = (
        exists()
        .where(
            RepaymentPlan.occupancy_id == Occupancy.id,
            RepaymentPlan.status == RepaymentPlanStatus.EN_COURS,
        )
        .correlate(Occupancy)
    )
    return (
        select(
            Occupancy.id,
            RentAccountSnapshot.balance_cents,
            RentAccountSnapshot.amount_due_cents,
            latest_stage,
            running_plan,
        )
        .outerjoin(RentAccountSnapshot, RentAccountSnapshot.id == latest_snapshot)
        .where(Occupancy.id.in_(ids))
    )


def refresh_tenancy_figures(connection, occupancy_ids) -> None:
    """Recompute the figures of these leases from their sources (two statements per 5,000
    leases). ``connection``: a Connection or a Session, inside the caller's transaction."""
    ids = sorted(set(occupancy_ids))
    table = TenancyFigures.__table__
    columns = ["occupancy_id", "balance_cents", "amount_due_cents"]
    columns += ["procedure_stage", "has_running_plan"]
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        connection.execute(delete(table).where(table.c.occupancy_id.in_(chunk)))
        connection.execute(table.insert().from_select(columns, _figures_select(chunk)))


@event.listens_for(Session, "after_flush")
def _refresh_after_flush(session, _flush_context) -> None:
    touched = {
        instance.occupancy_id
        for instance in (*session.new, *session.dirty, *session.deleted)
        if isinstance(instance, FIGURE_SOURCES) and instance.occupancy_id is not None
    }
    if touched:
        refresh_tenancy_figures(session.connection(), touched)
