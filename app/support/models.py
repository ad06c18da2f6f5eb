"""Support measures adjusted in duration and intensity: intensity levels, measures with their
renewals and intensity changes, objectives with dated updates, reviews (bilans), exits and the
+6/+12-month checks.

Visibility: everything here is *social* content (support team and coordinators), except the
fact that the household is supported at all and by whom, which landlord staff may know.
"""

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
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.bounds import WEIGHT
from app.db import UtcDateTime, VersionedMixin, db, utcnow
from app.households.models import LabelledEnum, SupportDomain


class IntensityLevel(VersionedMixin, db.Model):
    """A level of support intensity of one project, configured by that project's
    coordinators. A measure only takes a level of its household's project, so no one outside
    the project changes the rhythm of its measures."""

    __tablename__ = "intensity_level"
    __table_args__ = (
        CheckConstraint("contact_every_days BETWEEN 1 AND 365", name="rhythm_range"),
        CheckConstraint("caseload_weight > 0", name="weight_positive"),
        UniqueConstraint("project_id", "name"),
        CheckConstraint(WEIGHT.sql("caseload_weight"), name="weight_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    contact_every_days: Mapped[int] = mapped_column(Integer)
    caseload_weight: Mapped[Decimal] = mapped_column(Numeric(3, 1))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    updated_by = relationship("User", lazy="select")
    project = relationship("Project", lazy="select")

    @property
    def rhythm_label(self) -> str:
        days = self.contact_every_days
        return "un contact par jour" if days == 1 else f"un contact tous les {days} jours"


# name, contact every N days, caseload weight
DEFAULT_INTENSITY_LEVELS = (
    ("Renforcée", 7, Decimal("2.0")),
    ("Soutenue", 14, Decimal("1.5")),
    ("Modérée", 30, Decimal("1.0")),
)


class MeasureType(LabelledEnum):
    HLM_ACCOMPAGNES = "hlm_accompagnes"
    AVDL = "avdl"
    ASLL = "asll"
    IML = "iml"
    BAIL_GLISSANT = "bail_glissant"
    CHEZ_SOI_DABORD = "chez_soi_dabord"
    AUTRE = "autre"


MeasureType.LABELS = {
    "hlm_accompagnes": "10 000 logements HLM accompagnés",
    "avdl": "AVDL",
    "asll": "ASLL",
    "iml": "Intermédiation locative (IML)",
    "bail_glissant": "Bail glissant",
    "chez_soi_dabord": "Un chez-soi d'abord",
    "autre": "Autre mesure",
}


class MeasureStatus(LabelledEnum):
    EN_COURS = "en_cours"
    CLOTUREE = "cloturee"


MeasureStatus.LABELS = {"en_cours": "En cours", "cloturee": "Clôturée"}


def measure_type_label(kind: str, detail: str | None) -> str:
    label = MeasureType(kind).label
    return f"{label} ({detail})" if detail else label


def check_label(months: int) -> str:
    return f"Vérification à {months} mois"


class Measure(VersionedMixin, db.Model):
    """A support measure. At most one open measure of a given type per household: the service
    checks it with a clear message, a partial unique index holds it in the database."""

    __tablename__ = "support_measure"
    __table_args__ = (
        CheckConstraint("planned_end_on > start_on", name="end_after_start"),
        CheckConstraint("closed_on IS NULL OR closed_on >= start_on", name="closed_after_start"),
        Index(
            "uq_support_measure_open_type",
            "household_id",
            "type",
            unique=True,
            sqlite_where=text("status = 'en_cours'"),
            postgresql_where=text("status = 'en_cours'"),
        ),
        Index("ix_support_measure_status_end", "status", "planned_end_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    type: Mapped[str] = mapped_column(String(20), info={"audience": "social"})
    type_detail: Mapped[str | None] = mapped_column(String(120), info={"audience": "social"})
    referent_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    intensity_level_id: Mapped[int] = mapped_column(
        ForeignKey("intensity_level.id"), info={"audience": "social"}
    )
    start_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    planned_end_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    # Kept by the services: start + 3 months, then each review + 3 months; none once final.
    next_review_on: Mapped[date | None] = mapped_column(Date, info={"audience": "social"})
    # Whether a measure is open is a fact landlord staff may know ("Accompagné").
    status: Mapped[str] = mapped_column(
        String(10), default=MeasureStatus.EN_COURS, info={"audience": "tenancy"}
    )
    closed_on: Mapped[date | None] = mapped_column(Date, info={"audience": "social"})
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )

    referent = relationship("User", foreign_keys=[referent_id], lazy="joined")
    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="select")
    intensity = relationship("IntensityLevel", lazy="joined")
    # Same-day entries in the order they were made, whichever way the list is loaded.
    renewals = relationship(
        "MeasureRenewal",
        lazy="selectin",
        order_by="(MeasureRenewal.renewed_on, MeasureRenewal.id)",
    )
    intensity_changes = relationship(
        "IntensityChange",
        lazy="selectin",
        order_by="(IntensityChange.changed_on, IntensityChange.id)",
    )
    exit = relationship("MeasureExit", lazy="selectin", uselist=False)

    @property
    def type_label(self) -> str:
        return measure_type_label(self.type, self.type_detail)

    @property
    def is_open(self) -> bool:
        return self.status == MeasureStatus.EN_COURS

    @property
    def status_label(self) -> str:
        return MeasureStatus(self.status).label


class MeasureRenewal(db.Model):
    __tablename__ = "support_measure_renewal"
    __table_args__ = (
        CheckConstraint("new_end_on > previous_end_on", name="extends_end"),
        CheckConstraint("length(justification) > 0", name="justified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("support_measure.id", ondelete="CASCADE"),
        index=True,
        info={"audience": "internal"},
    )
    renewed_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    previous_end_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    new_end_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    justification: Mapped[str] = mapped_column(Text, info={"audience": "social"})
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), info={"audience": "internal"})
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info={"audience": "internal"})

    by = relationship("User", lazy="joined")


class IntensityChange(db.Model):
    """One dated intensity of a measure; the first row is the intensity at opening."""

    __tablename__ = "support_intensity_change"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("support_measure.id", ondelete="CASCADE"),
        index=True,
        info={"audience": "internal"},
    )
    changed_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    from_level_id: Mapped[int | None] = mapped_column(
        ForeignKey("intensity_level.id"), info={"audience": "social"}
    )
    to_level_id: Mapped[int] = mapped_column(
        ForeignKey("intensity_level.id"), info={"audience": "social"}
    )
    reason: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), info={"audience": "internal"})
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info={"audience": "internal"})

    from_level = relationship("IntensityLevel", foreign_keys=[from_level_id], lazy="joined")
    to_level = relationship("IntensityLevel", foreign_keys=[to_level_id], lazy="joined")
    by = relationship("User", lazy="joined")


class ObjectiveStatus(LabelledEnum):
    A_ENGAGER = "a_engager"
    EN_COURS = "en_cours"
    ATTEINT = "atteint"
    ABANDONNE = "abandonne"
    EN_PAUSE = "en_pause"


ObjectiveStatus.LABELS = {
    "a_engager": "À engager",
    "en_cours": "En cours",
    "atteint": "Atteint",
    "abandonne": "Abandonné",
    "en_pause": "En pause",
}

OBJECTIVE_STATUS_TONES = {
    "a_engager": "neutral",
    "en_cours": "info",
    "atteint": "success",
    "abandonne": "danger",
    "en_pause": "warning",
}


class Objective(VersionedMixin, db.Model):
    __tablename__ = "support_objective"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    domain: Mapped[str] = mapped_column(String(30), info={"audience": "social"})
    title: Mapped[str] = mapped_column(String(200), info={"audience": "social"})
    status: Mapped[str] = mapped_column(
        String(12), default=ObjectiveStatus.A_ENGAGER, info={"audience": "social"}
    )
    set_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )

    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="select")
    updates = relationship(
        "ObjectiveUpdate",
        lazy="selectin",
        order_by="(ObjectiveUpdate.on.desc(), ObjectiveUpdate.id.desc())",
    )

    @property
    def domain_label(self) -> str:
        return SupportDomain(self.domain).label

    @property
    def status_label(self) -> str:
        return ObjectiveStatus(self.status).label

    @property
    def status_tone(self) -> str:
        return OBJECTIVE_STATUS_TONES[self.status]


class ObjectiveUpdate(db.Model):
    __tablename__ = "support_objective_update"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    objective_id: Mapped[int] = mapped_column(
        ForeignKey("support_objective.id", ondelete="CASCADE"),
        index=True,
        info={"audience": "internal"},
    )
    on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    status: Mapped[str] = mapped_column(String(12), info={"audience": "social"})
    comment: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    review_id: Mapped[int | None] = mapped_column(
        ForeignKey("support_review.id"), info={"audience": "internal"}
    )
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), info={"audience": "internal"})
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info={"audience": "internal"})

    by = relationship("User", lazy="joined")

    @property
    def status_label(self) -> str:
        return ObjectiveStatus(self.status).label


class ReviewKind(LabelledEnum):
    TRIMESTRIEL = "trimestriel"
    MI_PARCOURS = "mi_parcours"
    FINAL = "final"


ReviewKind.LABELS = {
    "trimestriel": "Bilan trimestriel",
    "mi_parcours": "Bilan à mi-parcours",
    "final": "Bilan final",
}


class Review(db.Model):
    """A bilan of a measure; progress per objective is kept as objective updates."""

    __tablename__ = "support_review"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("support_measure.id", ondelete="CASCADE"),
        index=True,
        info={"audience": "internal"},
    )
    kind: Mapped[str] = mapped_column(String(12), info={"audience": "social"})
    held_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    summary: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info={"audience": "internal"})

    author = relationship("User", lazy="joined")
    progress = relationship("ObjectiveUpdate", lazy="selectin", order_by="ObjectiveUpdate.id")

    @property
    def kind_label(self) -> str:
        return ReviewKind(self.kind).label


class ExitReason(LabelledEnum):
    OBJECTIFS_ATTEINTS = "objectifs_atteints"
    FIN_DE_MESURE = "fin_de_mesure"
    RELOGEMENT = "relogement"
    REORIENTATION = "reorientation"
    REFUS = "refus"
    DEPART = "depart"
    EXPULSION = "expulsion"
    DECES = "deces"
    AUTRE = "autre"


ExitReason.LABELS = {
    "objectifs_atteints": "Objectifs atteints, autonomie suffisante",
    "fin_de_mesure": "Fin de la durée de la mesure",
    "relogement": "Relogement (mutation, autre logement)",
    "reorientation": "Réorientation vers un autre accompagnement",
    "refus": "Fin d'adhésion du ménage",
    "depart": "Départ du logement sans solution connue",
    "expulsion": "Expulsion",
    "deces": "Décès",
    "autre": "Autre motif",
}


class HousingAtExit(LabelledEnum):
    MAINTENU = "maintenu"
    LOGEMENT_SOCIAL = "logement_social"
    LOGEMENT_PRIVE = "logement_prive"
    HEBERGEMENT = "hebergement"
    TIERS = "tiers"
    SANS_LOGEMENT = "sans_logement"
    INCONNU = "inconnu"


HousingAtExit.LABELS = {
    "maintenu": "Maintenu dans le logement",
    "logement_social": "Autre logement social",
    "logement_prive": "Logement du parc privé",
    "hebergement": "Hébergement ou structure",
    "tiers": "Hébergé chez un tiers",
    "sans_logement": "Sans logement",
    "inconnu": "Situation inconnue",
}

POST_EXIT_CHECK_MONTHS = (6, 12)


class MeasureExit(db.Model):
    """The closing of a measure (sortie). One per measure."""

    __tablename__ = "support_measure_exit"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("support_measure.id", ondelete="CASCADE"),
        unique=True,
        info={"audience": "internal"},
    )
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    exit_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    reason: Mapped[str] = mapped_column(String(20), info={"audience": "social"})
    housing_situation: Mapped[str] = mapped_column(String(20), info={"audience": "social"})
    is_lease_glissed: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"audience": "social"}
    )
    handover: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), info={"audience": "internal"})
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, info={"audience": "internal"})

    by = relationship("User", lazy="joined")
    checks = relationship("PostExitCheck", lazy="selectin", order_by="PostExitCheck.months")

    @property
    def reason_label(self) -> str:
        return ExitReason(self.reason).label

    @property
    def housing_label(self) -> str:
        return HousingAtExit(self.housing_situation).label


class PostExitCheck(VersionedMixin, db.Model):
    """The +6 or +12-month check after an exit: created with the exit, filled in later."""

    __tablename__ = "support_post_exit_check"
    __table_args__ = (
        UniqueConstraint("exit_id", "months"),
        CheckConstraint("months IN (6, 12)", name="months_allowed"),
        Index("ix_support_post_exit_check_due", "done_on", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    exit_id: Mapped[int] = mapped_column(
        ForeignKey("support_measure_exit.id", ondelete="CASCADE"),
        index=True,
        info={"audience": "internal"},
    )
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    months: Mapped[int] = mapped_column(Integer, info={"audience": "social"})
    due_on: Mapped[date] = mapped_column(Date, info={"audience": "social"})
    done_on: Mapped[date | None] = mapped_column(Date, info={"audience": "social"})
    is_still_housed: Mapped[bool | None] = mapped_column(Boolean, info={"audience": "social"})
    is_rent_up_to_date: Mapped[bool | None] = mapped_column(Boolean, info={"audience": "social"})
    comment: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )

    updated_by = relationship("User", lazy="select")

    @property
    def label(self) -> str:
        return check_label(self.months)
