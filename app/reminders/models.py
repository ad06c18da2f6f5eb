"""Reminders (rappels), their adjustable thresholds, the digest deliveries and calendar tokens.

A reminder is about one household — or, for a notice about the administration of Ancrage
(someone given access to a project, a correction proposed for a partner entry), about no
household at all — and addressed either to one user (the référent, the
author of a manual reminder) or to a role, optionally within one organisation (coordinators
of the household's project; the staff of the dwelling's landlord). Who actually sees it is
always further restricted to the households the user may see (``visible_households``).
"""

from __future__ import annotations

from dataclasses import dataclass
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

from app.db import UtcDateTime, db, utcnow
from app.households.models import LabelledEnum


class ReminderStatus(LabelledEnum):
    A_FAIRE = "a_faire"
    FAIT = "fait"
    REPORTE = "reporte"


ReminderStatus.LABELS = {"a_faire": "À faire", "fait": "Fait", "reporte": "Reporté"}
OPEN_STATUSES = (ReminderStatus.A_FAIRE.value, ReminderStatus.REPORTE.value)

MANUAL_RULE = "manuel"
# Created when a coordinator hands a household to a new référent (app.reports.services).
REASSIGNMENT_RULE = "reaffectation"
# Notices without a household, for coordinators (app.reminders.services): someone was given
# access to their project; a correction was proposed for their organisation's partner entry.
PROJECT_ACCESS_RULE = "acces_projet"
PARTNER_CORRECTION_RULE = "correction_partenaire"
# A visit's or contact's "Prochaine action" (app.reminders.next_actions): addressed to the
# intervention's author, subject_id = the intervention. Its title stays generic: the text of
# the next action is social content, read from the intervention where the viewer may.
NEXT_ACTION_RULE = "prochaine_action"
NEXT_ACTION_TITLE = "Prochaine action prévue"
# The yearly insurance certificate (a rule of app.reminders.rules, for the landlord's staff):
# their inbox shows one line per household, and closing it closes the older ones too.
INSURANCE_RULE = "attestation_assurance"


class Reminder(db.Model):
    """What is due, for whom, when, about which household, and the rule that created it.

    ``(rule_code, subject_id, due_on)`` is unique, so a sweep run twice creates nothing new;
    manual reminders have no subject (NULLs never collide). A postponed reminder keeps its
    ``due_on`` (its key) and shows ``postponed_to``.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("rule_code", "subject_id", "due_on"),
        CheckConstraint(
            "recipient_user_id IS NOT NULL OR recipient_role IS NOT NULL", name="has_recipient"
        ),
        CheckConstraint(
            "status != 'reporte' OR postponed_to IS NOT NULL", name="postponed_has_date"
        ),
        Index("ix_reminder_open_user", "status", "recipient_user_id"),
        # Reminders addressed to a role (landlord staff, coordinators): the count in the
        # navigation bar, on every page, reads them through this one.
        Index("ix_reminder_open_role", "recipient_role", "status", "recipient_organisation_id"),
        Index("ix_reminder_rule_status", "rule_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    rule_code: Mapped[str] = mapped_column(String(40), info={"audience": "tenancy"})
    # NULL for a notice: then only its addressees see it, and when it names a project,
    # only those of them who work on that project.
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    # The record the rule looked at (occupancy, measure, procedure stage…), or the household.
    subject_id: Mapped[int | None] = mapped_column(Integer, info={"audience": "internal"})
    # title, body and postpone_reason are "tenancy" because a reminder is scoped by row: a user
    # only ever reads the reminders addressed to them (reminders.queries.addressed_to), and a
    # reminder addressed to landlord staff is written for them. A channel that lists reminders
    # outside that scope (an API, an export) must filter by addressee first.
    title: Mapped[str] = mapped_column(String(200), info={"audience": "tenancy"})
    # A notice's message (the proposed correction), shown under the title.
    body: Mapped[str | None] = mapped_column(Text, info={"audience": "tenancy"})
    due_on: Mapped[date] = mapped_column(Date, info={"audience": "tenancy"})
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True, info={"audience": "internal"}
    )
    recipient_role: Mapped[str | None] = mapped_column(String(30), info={"audience": "internal"})
    recipient_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id"), info={"audience": "internal"}
    )
    status: Mapped[str] = mapped_column(
        String(10), default=ReminderStatus.A_FAIRE, info={"audience": "tenancy"}
    )
    postponed_to: Mapped[date | None] = mapped_column(Date, info={"audience": "tenancy"})
    postpone_reason: Mapped[str | None] = mapped_column(Text, info={"audience": "tenancy"})
    done_note: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), info={"audience": "internal"}
    )
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info={"audience": "internal"})
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), info={"audience": "internal"}
    )
    is_resolved_automatically: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"audience": "internal"}
    )

    household = relationship("Household", lazy="joined")
    closed_by = relationship("User", foreign_keys=[closed_by_id], lazy="select")
    # Whose reminder it is, shown on the household's tab.
    recipient_user = relationship("User", foreign_keys=[recipient_user_id], lazy="select")
    recipient_organisation = relationship("Organisation", lazy="select")

    @property
    def shown_on(self) -> date:
        """The date the reminder is due now (its postponed date if it was postponed)."""
        return self.postponed_to or self.due_on

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def status_label(self) -> str:
        return ReminderStatus(self.status).label

    @property
    def is_manual(self) -> bool:
        return self.rule_code == MANUAL_RULE

    @property
    def is_next_action(self) -> bool:
        return self.rule_code == NEXT_ACTION_RULE

    @property
    def recipient_label(self) -> str:
        """Whose reminder it is: a person's name, or a role (and its organisation)."""
        from app.permissions import Role

        if self.recipient_user_id is not None and self.recipient_user is not None:
            return self.recipient_user.full_name
        if self.recipient_role is None:
            return "—"
        label = Role(self.recipient_role).label
        if self.recipient_organisation is not None:
            return f"{label} · {self.recipient_organisation.name}"
        return label


# --- thresholds an administrator can change ----------------------------------------------


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    unit: str  # "jours", "semaines", "mois"
    default: int
    minimum: int = 0
    maximum: int = 365


# Defaults live here; the ``reminder_setting`` table holds only what an administrator changed.
SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("contact_grace_days", "Tolérance avant « contact en retard »", "jours", 3),
    SettingSpec("no_contact_weeks", "Alerte « sans contact depuis »", "semaines", 6, 1, 52),
    SettingSpec("review_lead_days", "Rappel avant un bilan", "jours", 14),
    SettingSpec("measure_end_lead_days", "Rappel avant la fin d'une mesure", "jours", 30),
    SettingSpec(
        "lease_review_interval_months", "Périodicité des bilans de bail glissant", "mois", 6, 1, 24
    ),
    SettingSpec("lease_review_lead_days", "Rappel avant un bilan de bail glissant", "jours", 30),
    SettingSpec("glissement_lead_days", "Rappel avant la date cible de glissement", "jours", 60),
    SettingSpec(
        "arrears_rent_multiple", "Impayé constitué à partir de (× loyer mensuel)", "fois", 2, 1, 12
    ),
    SettingSpec("caf_report_months", "Délai de signalement à la CAF", "mois", 2, 1, 12),
    SettingSpec(
        "repayment_plan_months", "Plan d'apurement attendu après l'impayé", "mois", 6, 1, 24
    ),
    SettingSpec("procedure_lead_days", "Rappel avant une échéance de procédure", "jours", 14),
    SettingSpec("truce_lead_days", "Rappel avant le début ou la fin de la trêve", "jours", 15),
    SettingSpec("insurance_lead_days", "Rappel avant l'attestation d'assurance", "jours", 15),
    SettingSpec(
        "application_lead_days", "Rappel avant l'expiration d'une demande de logement", "jours", 30
    ),
    SettingSpec("post_exit_lead_days", "Rappel avant un suivi après la sortie", "jours", 14),
)
SETTING_DEFAULTS = {spec.key: spec.default for spec in SETTINGS}


class ReminderSetting(db.Model):
    __tablename__ = "reminder_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


# --- digest and calendar ----------------------------------------------------------------


class DigestState(StrEnum):
    """Where a user's digest of one day stands (``digest_delivery.state``)."""

    PENDING = "pending"  # claimed, being sent (or the sender died: never re-sent that day)
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # refused or unreachable: a later run the same day tries again
    SKIPPED = "skipped"  # nothing due that day: no message


# Attempts per user and day before a failing digest is given up until the next day.
DIGEST_MAX_ATTEMPTS = 5


class DigestDelivery(db.Model):
    """One user's daily digest for one Paris day: its state and how many sends it took.

    The row is claimed (``pending``, committed) before the message leaves, so two runs never
    send it twice; a refusal leaves it ``failed`` with a short error label — an exception
    class and an SMTP code, never an address or a server's free text — for a later run to
    retry, up to ``DIGEST_MAX_ATTEMPTS``."""

    __tablename__ = "digest_delivery"
    __table_args__ = (
        UniqueConstraint("user_id", "day"),
        CheckConstraint("state IN ('pending', 'sent', 'failed', 'skipped')", name="known_state"),
        Index("ix_digest_delivery_day_state", "day", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # Europe/Paris day
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CalendarFeed(db.Model):
    """A user's secret calendar address. Only a SHA-256 of the token is stored: the address
    is shown once, and revoking deletes the row."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user = relationship("User", lazy="joined")
