"""The legal deadlines of the housing domain (pure functions): the winter
truce, the deadline that follows each eviction-prevention stage, and how a page says it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.dates import add_months
from app.formatting import format_date
from app.housing.models import ProcedureStage, ProcedureStageKind


def in_winter_truce(day: date) -> bool:
    """Trêve hivernale: from 1 November to 31 March inclusive, no forced eviction."""
    return day.month >= 11 or day.month <= 3


def after_winter_truce(day: date) -> date:
    """``day`` itself, or 1 April when it falls within the winter truce."""
    if not in_winter_truce(day):
        return day
    return date(day.year + 1 if day.month >= 11 else day.year, 4, 1)


@dataclass(frozen=True)
class Deadline:
    """The next legal deadline of a procedure: ``label`` says what becomes due or possible."""

    on: date
    label: str
    postponed_by_truce: bool = False


def next_deadline(
    stage: ProcedureStageKind | str, occurred_on: date, *, hearing_on: date | None = None
) -> Deadline | None:
    """The legal deadline that follows a procedure stage, or None when the law sets none.

    - impayé constitué: report to the CAF within 2 months;
    - signalement CAF: a repayment plan within 6 months, otherwise the CAF refers to the FSL;
    - saisine CCAPEX: the assignation is possible 2 months later at the earliest;
    - commandement de payer: 6 weeks to pay, then the assignation is possible;
    - assignation: the hearing is at least 6 weeks later, and the social and financial
      diagnostic is due before it (before the known hearing date when there is one);
    - diagnostic: the hearing (when its date is known);
    - commandement de quitter les lieux: 2 months, then a forced eviction is possible, but
      never during the winter truce (moved to 1 April);
    - concours de la force publique: the eviction may happen, except during the truce;
    - protocole de cohésion sociale: lasts 2 years, then a new lease within 3 months.
    """
    kind = ProcedureStageKind(stage)
    K = ProcedureStageKind
    if kind is K.IMPAYE_CONSTITUE:
        return Deadline(add_months(occurred_on, 2), "Signalement à la CAF à faire avant le")
    if kind is K.SIGNALEMENT_CAF:
        return Deadline(
            add_months(occurred_on, 6),
            "Plan d'apurement à proposer (sinon saisine du FSL) avant le",
        )
    if kind is K.SAISINE_CCAPEX:
        return Deadline(add_months(occurred_on, 2), "Assignation possible au plus tôt le")
    if kind is K.COMMANDEMENT_PAYER:
        return Deadline(
            occurred_on + timedelta(weeks=6), "Délai de paiement expiré : assignation possible le"
        )
    if kind is K.ASSIGNATION:
        if hearing_on is not None:
            return Deadline(
                hearing_on, "Diagnostic social et financier à remettre avant l'audience du"
            )
        return Deadline(
            occurred_on + timedelta(weeks=6),
            "Audience au plus tôt le (diagnostic social et financier à remettre avant)",
        )
    if kind is K.DIAGNOSTIC_SOCIAL_FINANCIER:
        return Deadline(hearing_on, "Audience le") if hearing_on else None
    if kind is K.AUDIENCE:
        return None
    if kind is K.COMMANDEMENT_QUITTER:
        return _eviction_possible(add_months(occurred_on, 2))
    if kind is K.CONCOURS_FORCE_PUBLIQUE:
        return _eviction_possible(occurred_on)
    if kind is K.PROTOCOLE_COHESION:
        return Deadline(
            add_months(occurred_on, 24),
            "Fin du protocole (nouveau bail sous 3 mois si respecté) le",
        )
    return None  # plan d'apurement, jugement, clôture: no legal deadline


def _eviction_possible(day: date) -> Deadline:
    moved = after_winter_truce(day)
    return Deadline(moved, "Expulsion possible à partir du", postponed_by_truce=moved != day)


def _stage_deadline(stage: ProcedureStage) -> Deadline | None:
    return next_deadline(stage.stage, stage.occurred_on, hearing_on=stage.hearing_on)


def deadline_text(deadline: Deadline | None) -> str:
    if deadline is None:
        return ""
    text = f"{deadline.label} {format_date(deadline.on)}"
    if deadline.postponed_by_truce:
        text += " (reporté après la trêve hivernale)"
    return text
