"""The household (ménage), hub of the file: members, orientation, diagnostic, adhésion,
consents, support team and the dated path (parcours).

Field classes, applied by ``app.permissions`` in every channel: *tenancy* fields (reference,
head of household's name, members count, contact, stage, référent) may reach landlord staff;
*social* content (orientation reason, diagnostic, difficulties, adhésion objectives,
resources and debts) is for the support team and coordinators only."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.bounds import MONEY
from app.db import UtcDateTime, VersionedMixin, db, utcnow


def search_key(text: str | None) -> str:
    """Lower-case, accent-free form used for name and address search on every database."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry their French label in ``LABELS``."""

    @property
    def label(self) -> str:
        return self.LABELS[self.value]  # type: ignore[attr-defined]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class HouseholdStage(LabelledEnum):
    ORIENTATION = "orientation"
    DIAGNOSTIC = "diagnostic"
    ADHESION = "adhesion"
    ACCES = "acces"
    INSTALLATION = "installation"
    MAINTIEN = "maintien"
    SORTIE = "sortie"
    SUIVI_POST_SORTIE = "suivi_post_sortie"


HouseholdStage.LABELS = {
    "orientation": "Orientation",
    "diagnostic": "Diagnostic",
    "adhesion": "Adhésion",
    "acces": "Accès au logement",
    "installation": "Installation",
    "maintien": "Maintien",
    "sortie": "Sortie",
    "suivi_post_sortie": "Suivi après la sortie",
}


class SupportDomain(LabelledEnum):
    """Domains of support, shared by diagnostic needs, objectives and interventions."""

    BUDGET_DETTES = "budget_dettes"
    ACCES_DROITS = "acces_droits"
    RELATION_BAILLEUR = "relation_bailleur"
    LOGEMENT = "logement"
    VOISINAGE = "voisinage"
    SANTE = "sante"
    EMPLOI_FORMATION = "emploi_formation"
    PARENTALITE = "parentalite"
    VIE_SOCIALE = "vie_sociale"
    DEMARCHES = "demarches"

    @classmethod
    def parse_list(cls, stored: str | None) -> list[SupportDomain]:
        """The domains of a comma-separated column (needs, an intervention's domains)."""
        return [cls(v) for v in (stored or "").split(",") if v]


SupportDomain.LABELS = {
    "budget_dettes": "Budget et dettes",
    "acces_droits": "Accès aux droits",
    "relation_bailleur": "Relation au bailleur et paiement du loyer",
    "logement": "Appropriation et entretien du logement",
    "voisinage": "Voisinage",
    "sante": "Santé",
    "emploi_formation": "Emploi et formation",
    "parentalite": "Parentalité",
    "vie_sociale": "Vie sociale",
    "demarches": "Démarches administratives",
}


class MemberRelation(LabelledEnum):
    DEMANDEUR = "demandeur"
    CONJOINT = "conjoint"
    ENFANT = "enfant"
    ASCENDANT = "ascendant"
    AUTRE = "autre"


MemberRelation.LABELS = {
    "demandeur": "Demandeur·se",
    "conjoint": "Conjoint·e",
    "enfant": "Enfant",
    "ascendant": "Parent / ascendant",
    "autre": "Autre personne",
}


class Prescriber(LabelledEnum):
    SIAO = "siao"
    DALO = "dalo"
    CCAPEX = "ccapex"
    BAILLEUR = "bailleur"
    CCAS = "ccas"
    DEPARTEMENT = "departement"
    SPIP = "spip"
    ASE = "ase"
    AUTRE = "autre"


Prescriber.LABELS = {
    "siao": "SIAO",
    "dalo": "Commission de médiation DALO",
    "ccapex": "CCAPEX",
    "bailleur": "Bailleur",
    "ccas": "CCAS",
    "departement": "Conseil départemental",
    "spip": "SPIP",
    "ase": "Aide sociale à l'enfance",
    "autre": "Autre prescripteur",
}


class OrientationKind(LabelledEnum):
    ACCES = "acces"
    MAINTIEN = "maintien"


OrientationKind.LABELS = {"acces": "Accès au logement", "maintien": "Maintien dans le logement"}


class DiagnosticLevel(LabelledEnum):
    ACQUIS = "acquis"
    PARTIEL = "partiel"
    A_TRAVAILLER = "a_travailler"


DiagnosticLevel.LABELS = {
    "acquis": "Acquis",
    "partiel": "Partiellement acquis",
    "a_travailler": "À travailler",
}

DIAGNOSTIC_AXES = {
    "pouvoir_louer": "Pouvoir louer (ressources, droits, budget)",
    "savoir_louer": "Savoir louer (démarches, paiement du loyer, relation au bailleur)",
    "savoir_habiter": "Savoir habiter (entretien, usage du logement)",
    "environnement": "S'adapter à l'environnement (voisinage, quartier, services)",
}


class PartnerCategory(LabelledEnum):
    """Who information may be shared with (consents, referrals)."""

    BAILLEUR = "bailleur"
    SANTE = "sante"
    EMPLOI = "emploi"
    SOCIAL = "social"
    JUSTICE = "justice"
    LOGEMENT = "logement"


PartnerCategory.LABELS = {
    "bailleur": "Bailleur",
    "sante": "Partenaires santé",
    "emploi": "Partenaires emploi et formation",
    "social": "Partenaires sociaux (CCAS, Département, CAF)",
    "justice": "Partenaires justice",
    "logement": "Partenaires logement",
}


class DataCategory(LabelledEnum):
    """What may be shared."""

    COORDONNEES = "coordonnees"
    SITUATION_LOCATIVE = "situation_locative"
    SITUATION_SOCIALE = "situation_sociale"
    BUDGET = "budget"
    SANTE = "sante"


DataCategory.LABELS = {
    "coordonnees": "Identité et coordonnées",
    "situation_locative": "Situation locative",
    "situation_sociale": "Situation sociale et accompagnement",
    "budget": "Ressources, budget et dettes",
    "sante": "Santé",
}


class IncomeSource(LabelledEnum):
    SALAIRE = "salaire"
    RSA = "rsa"
    AAH = "aah"
    CHOMAGE = "chomage"
    RETRAITE = "retraite"
    PRESTATIONS_FAMILIALES = "prestations_familiales"
    PENSION_ALIMENTAIRE = "pension_alimentaire"
    AUCUNE = "aucune"
    AUTRE = "autre"


IncomeSource.LABELS = {
    "salaire": "Salaire",
    "rsa": "RSA",
    "aah": "AAH",
    "chomage": "Allocation chômage (ARE)",
    "retraite": "Retraite",
    "prestations_familiales": "Prestations familiales",
    "pension_alimentaire": "Pension alimentaire",
    "aucune": "Sans ressources",
    "autre": "Autre",
}


class Household(VersionedMixin, db.Model):
    __tablename__ = "household"
    __table_args__ = (
        CheckConstraint(
            "monthly_income_cents IS NULL OR monthly_income_cents >= 0", name="income_positive"
        ),
        CheckConstraint("apl_cents IS NULL OR apl_cents >= 0", name="apl_positive"),
        CheckConstraint("debts_cents IS NULL OR debts_cents >= 0", name="debts_positive"),
        CheckConstraint(MONEY.sql("monthly_income_cents"), name="income_plausible"),
        CheckConstraint(MONEY.sql("apl_cents"), name="apl_plausible"),
        CheckConstraint(MONEY.sql("debts_cents"), name="debts_plausible"),
        Index("ix_household_project_stage", "project_id", "stage"),
        # What the landlord dashboard reads of each current lease's household (anonymised,
        # référent, stage, reference), from the index alone.
        Index(
            "ix_household_tenancy_facts", "id", "anonymised_at", "referent_id", "stage", "reference"
        ),
    )
    # Audiences of the properties a projection (app.audience.project) may hand out, derived
    # from the columns of the same audience.
    __audience__ = {
        "display_name": "tenancy",
        "stage_label": "tenancy",
        "income_source_list": "social",
        "target_public_list": "health",
    }

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    reference: Mapped[str] = mapped_column(String(20), unique=True, info={"audience": "tenancy"})
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id"), index=True, info={"audience": "internal"}
    )
    referent_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), index=True, info={"audience": "internal"}
    )
    stage: Mapped[str] = mapped_column(
        String(20), default=HouseholdStage.ORIENTATION, info={"audience": "tenancy"}
    )
    stage_since_on: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    # contact (tenancy class)
    phone: Mapped[str | None] = mapped_column(String(30), info={"audience": "tenancy"})
    email: Mapped[str | None] = mapped_column(String(254), info={"audience": "tenancy"})
    current_address: Mapped[str | None] = mapped_column(String(300), info={"audience": "social"})
    search_address: Mapped[str] = mapped_column(
        String(300), default="", info={"audience": "social"}
    )
    # resources (social class)
    monthly_income_cents: Mapped[int | None] = mapped_column(Integer, info={"audience": "social"})
    income_sources: Mapped[str] = mapped_column(
        String(200), default="", info={"audience": "social"}
    )
    apl_cents: Mapped[int | None] = mapped_column(Integer, info={"audience": "social"})
    is_apl_paid_to_landlord: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"audience": "social"}
    )
    debts_cents: Mapped[int | None] = mapped_column(Integer, info={"audience": "social"})
    has_overindebtedness_file: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"audience": "social"}
    )
    difficulties: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    target_publics: Mapped[str] = mapped_column(
        String(300), default="", info={"audience": "health"}
    )
    # Demande de logement social: its number (NUR) and expiry date (valid one year, renewed).
    housing_application_number: Mapped[str | None] = mapped_column(
        String(30), info={"audience": "social"}
    )
    housing_application_expires_on: Mapped[date | None] = mapped_column(
        Date, info={"audience": "social"}
    )
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    anonymised_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, info={"audience": "internal"}
    )

    project = relationship("Project", lazy="joined")
    referent = relationship("User", foreign_keys=[referent_id], lazy="joined")
    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="select")
    members = relationship(
        "Member",
        back_populates="household",
        lazy="selectin",
        order_by="(Member.is_head.desc(), Member.birth_on)",
        cascade="all, delete-orphan",
    )
    team = relationship("HouseholdTeamMember", lazy="selectin", cascade="all, delete-orphan")

    @property
    def head(self) -> Member | None:
        return next((m for m in self.members if m.is_head), None)

    @property
    def display_name(self) -> str:
        head = self.head
        return f"{head.first_name} {head.last_name}" if head else self.reference

    @property
    def stage_label(self) -> str:
        return HouseholdStage(self.stage).label

    @property
    def target_public_list(self):
        from app.projects.models import TargetPublic

        return [TargetPublic(v) for v in self.target_publics.split(",") if v]

    @property
    def income_source_list(self) -> list[IncomeSource]:
        return [IncomeSource(v) for v in self.income_sources.split(",") if v]


class Member(VersionedMixin, db.Model):
    __tablename__ = "household_member"
    __table_args__ = (Index("ix_household_member_search_name", "search_name"),)

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    first_name: Mapped[str] = mapped_column(
        String(80), info={"audience": "social", "tenancy_when": "is_head"}
    )
    last_name: Mapped[str] = mapped_column(
        String(80), info={"audience": "social", "tenancy_when": "is_head"}
    )
    birth_on: Mapped[date | None] = mapped_column(Date, info={"audience": "social"})
    relation: Mapped[str] = mapped_column(
        String(20), default=MemberRelation.DEMANDEUR, info={"audience": "social"}
    )
    is_head: Mapped[bool] = mapped_column(Boolean, default=False, info={"audience": "tenancy"})
    # "first last" lower-case without accents, kept by the services for search.
    search_name: Mapped[str] = mapped_column(
        String(170), default="", info={"audience": "social", "tenancy_when": "is_head"}
    )
    # Dates the "personne ajoutée" timeline event; members created with the household share
    # its ``created_at`` (the creation event already names the head of household).
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    household = relationship("Household", back_populates="members")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def relation_label(self) -> str:
        return MemberRelation(self.relation).label


class HouseholdTeamMember(db.Model):
    """A professional of the support team (the référent is on ``Household.referent_id``)."""

    __tablename__ = "household_team_member"
    __table_args__ = (UniqueConstraint("household_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id"), index=True, info={"audience": "social"}
    )
    added_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})

    user = relationship("User", lazy="joined")


class Orientation(VersionedMixin, db.Model):
    __tablename__ = "orientation"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    prescriber: Mapped[str] = mapped_column(String(20), info={"audience": "social"})
    prescriber_detail: Mapped[str | None] = mapped_column(String(160), info={"audience": "social"})
    oriented_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    kind: Mapped[str] = mapped_column(String(10), info={"audience": "social"})
    reason: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})  # social class
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    recorded_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )


class Diagnostic(VersionedMixin, db.Model):
    """Social diagnostic (social class: support team and coordinators only)."""

    __tablename__ = "diagnostic"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    carried_out_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    pouvoir_louer_level: Mapped[str] = mapped_column(String(15), info={"audience": "social"})
    pouvoir_louer_comment: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    savoir_louer_level: Mapped[str] = mapped_column(String(15), info={"audience": "social"})
    savoir_louer_comment: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    savoir_habiter_level: Mapped[str] = mapped_column(String(15), info={"audience": "social"})
    savoir_habiter_comment: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    environnement_level: Mapped[str] = mapped_column(String(15), info={"audience": "social"})
    environnement_comment: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    needs: Mapped[str] = mapped_column(
        String(300), default="", info={"audience": "social"}
    )  # SupportDomain values
    recommended_intensity: Mapped[str | None] = mapped_column(
        String(40), info={"audience": "social"}
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    recorded_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )

    author = relationship("User", lazy="joined")

    @property
    def need_list(self) -> list[SupportDomain]:
        return SupportDomain.parse_list(self.needs)


class Adhesion(VersionedMixin, db.Model):
    """The signed support contract."""

    __tablename__ = "adhesion"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    signed_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    objectives: Mapped[str] = mapped_column(Text, info={"audience": "social"})  # social class
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    recorded_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )


class Consent(db.Model):
    """One consent to share one category of data with one category of partner.

    History is kept: a withdrawal dates the row; giving it again adds a new row."""

    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint(
            "withdrawn_on IS NULL OR withdrawn_on >= given_on", name="withdrawn_after_given"
        ),
        Index("ix_consent_household_partner", "household_id", "partner_category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), info={"audience": "internal"}
    )
    partner_category: Mapped[str] = mapped_column(String(20), info={"audience": "social"})
    data_category: Mapped[str] = mapped_column(String(30), info={"audience": "social"})
    given_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    withdrawn_on: Mapped[date | None] = mapped_column(Date, info={"audience": "social"})
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    withdrawal_recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )

    @property
    def partner_category_label(self) -> str:
        return PartnerCategory(self.partner_category).label

    @property
    def data_category_label(self) -> str:
        return DataCategory(self.data_category).label


class StageCause(LabelledEnum):
    """The recorded event that moved the household along its path by itself (a move made by
    hand has no cause): see ``app.households.path.follow_work``."""

    DIAGNOSTIC = "diagnostic"
    ADHESION = "adhesion"
    MEASURE_OPENED = "measure_opened"
    LEASE_STARTED = "lease_started"
    MEASURE_CLOSED = "measure_closed"


StageCause.LABELS = {
    "diagnostic": "diagnostic réalisé",
    "adhesion": "adhésion signée",
    "measure_opened": "mesure d'accompagnement ouverte",
    "lease_started": "bail signé",
    "measure_closed": "mesure d'accompagnement clôturée",
}


class StageTransition(db.Model):
    """A dated move of the household along its path; a move backwards carries a reason. ``on``
    is the date of the move (it may be long before ``at``, when it was recorded, for a file
    entered after the fact); ``by`` who recorded it; ``cause`` the event that made it, if it
    was not made by hand."""

    __tablename__ = "stage_transition"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    from_stage: Mapped[str | None] = mapped_column(String(20), info={"audience": "tenancy"})
    to_stage: Mapped[str] = mapped_column(String(20), info={"audience": "tenancy"})
    on: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    reason: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    cause: Mapped[str | None] = mapped_column(String(20), info={"audience": "social"})
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), info={"audience": "internal"})
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info={"audience": "internal"})

    by = relationship("User", lazy="joined")
