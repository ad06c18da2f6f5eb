"""The household's path (parcours): its stages, the moves allowed between them, and the
records that mark them — orientation, diagnostic, adhésion. The transition table is in
docs/households.md. Services follow the house rule (``(actor, target, *, values…)``, audit,
``DomainError``, never commit); ``app.households.services`` re-exports them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select

from app.audit.services import record
from app.db import db
from app.errors import DomainError, check_version
from app.formatting import today_paris
from app.households.checks import (
    LONG_TEXT_MAX,
    SHORT_TEXT_MAX,
    _choice,
    _choices,
    _past_date,
    _text,
    _touch,
)
from app.households.file_registry import provided
from app.households.models import (
    DIAGNOSTIC_AXES,
    Adhesion,
    Diagnostic,
    DiagnosticLevel,
    Household,
    HouseholdStage,
    Orientation,
    OrientationKind,
    Prescriber,
    StageCause,
    StageTransition,
    SupportDomain,
)

S = HouseholdStage

# --- the path: allowed forward moves, defined once -----------------------------------------
#
# A household moves forward one stage at a time along
#   orientation → diagnostic → adhésion → accès → installation → maintien → sortie
#   → suivi post-sortie,
# with one shortcut: a household oriented for *maintien* is already housed, so after the
# adhésion it goes straight to maintien (no access to housing, no installation). Any move
# back to an earlier stage is allowed with a reason (a lost dwelling, an exit cancelled…).
FORWARD_MOVES: dict[str, frozenset[str]] = {
    S.ORIENTATION: frozenset({S.DIAGNOSTIC}),
    S.DIAGNOSTIC: frozenset({S.ADHESION}),
    S.ADHESION: frozenset({S.ACCES, S.MAINTIEN}),
    S.ACCES: frozenset({S.INSTALLATION}),
    S.INSTALLATION: frozenset({S.MAINTIEN}),
    S.MAINTIEN: frozenset({S.SORTIE}),
    S.SORTIE: frozenset({S.SUIVI_POST_SORTIE}),
    S.SUIVI_POST_SORTIE: frozenset(),
}
STAGE_ORDER: tuple[str, ...] = tuple(S)
# Forward moves that skip stages, and what makes them legitimate.
SHORTCUTS_FOR_HOUSED = {(S.ADHESION, S.MAINTIEN)}

# The earliest date of a stage: a file entered after the fact may date its path years back,
# not before this.
EARLIEST_STAGE_ON = date(2000, 1, 1)

DEFAULT_INTENSITIES = {
    "renforcee": "Renforcée",
    "soutenue": "Soutenue",
    "moderee": "Modérée",
}


# --- orientation, diagnostic, adhésion -------------------------------------------------------


def record_orientation(
    actor,
    household: Household,
    *,
    prescriber: str,
    prescriber_detail: str | None,
    oriented_on: date | None,
    kind: str,
    reason: str | None,
    today: date | None = None,
) -> Orientation:
    today = today or today_paris()
    orientation = Orientation(
        household_id=household.id,
        prescriber=_choice(prescriber, Prescriber, field="prescriber", label="Prescripteur"),
        prescriber_detail=_text(
            prescriber_detail,
            field="prescriber_detail",
            label="Précision sur le prescripteur",
            max_length=SHORT_TEXT_MAX,
        ),
        oriented_on=_past_date(
            oriented_on,
            field="oriented_on",
            label="Date d'orientation",
            today=today,
            not_before=date(2000, 1, 1),
        ),
        kind=_choice(kind, OrientationKind, field="kind", label="Type d'orientation"),
        reason=_text(reason, field="reason", label="Motif", max_length=LONG_TEXT_MAX),
        recorded_by_id=actor.id,
    )
    db.session.add(orientation)
    db.session.flush()
    record(
        actor,
        "household.orientation_recorded",
        household_id=household.id,
        target=orientation,
        details={"prescriber": orientation.prescriber, "kind": orientation.kind},
    )
    return orientation


def intensity_choices() -> list[tuple[str, str]]:
    """Recommended-intensity choices: the support domain's configurable levels (provided as
    ``intensity_choices``, see ``app/support/file.py``), or the default short list when none
    is configured."""
    support_choices = provided("intensity_choices")
    if support_choices is None:
        return list(DEFAULT_INTENSITIES.items())
    # Until an administrator configures levels, the defaults keep the diagnostic usable.
    return list(support_choices()) or list(DEFAULT_INTENSITIES.items())


def record_diagnostic(
    actor,
    household: Household,
    *,
    carried_out_on: date | None,
    levels: dict[str, str],
    comments: dict[str, str | None],
    needs: Iterable[str],
    recommended_intensity: str | None,
    today: date | None = None,
) -> Diagnostic:
    today = today or today_paris()
    diagnostic = Diagnostic(
        household_id=household.id,
        carried_out_on=_past_date(
            carried_out_on,
            field="carried_out_on",
            label="Date du diagnostic",
            today=today,
            not_before=date(2000, 1, 1),
        ),
        needs=_choices(needs, SupportDomain, field="needs", label="Besoins"),
        author_id=actor.id,
    )
    for axis, label in DIAGNOSTIC_AXES.items():
        short = label.split(" (")[0]
        level = levels.get(axis)
        if not level:
            raise DomainError(f"{short} : choisissez un niveau.", field=f"{axis}_level")
        setattr(
            diagnostic,
            f"{axis}_level",
            _choice(level, DiagnosticLevel, field=f"{axis}_level", label=short),
        )
        setattr(
            diagnostic,
            f"{axis}_comment",
            _text(
                comments.get(axis),
                field=f"{axis}_comment",
                label=f"{short} — commentaire",
                max_length=LONG_TEXT_MAX,
            ),
        )
    allowed = dict(intensity_choices())
    if recommended_intensity and recommended_intensity not in allowed:
        raise DomainError(
            "Intensité recommandée : choisissez une valeur de la liste.",
            field="recommended_intensity",
        )
    diagnostic.recommended_intensity = recommended_intensity or None
    db.session.add(diagnostic)
    db.session.flush()
    record(
        actor,
        "household.diagnostic_recorded",
        household_id=household.id,
        target=diagnostic,
    )
    follow_work(
        actor, household, cause=StageCause.DIAGNOSTIC, on=diagnostic.carried_out_on, today=today
    )
    return diagnostic


def record_adhesion(
    actor,
    household: Household,
    *,
    signed_on: date | None,
    objectives: str | None,
    today: date | None = None,
) -> Adhesion:
    today = today or today_paris()
    if household.referent_id is None:
        raise DomainError(
            "Nommez d'abord le ou la référent·e du ménage : l'adhésion se signe avec lui ou "
            "elle (onglet Équipe)."
        )
    adhesion = Adhesion(
        household_id=household.id,
        signed_on=_past_date(
            signed_on,
            field="signed_on",
            label="Date de signature",
            today=today,
            not_before=date(2000, 1, 1),
        ),
        objectives=_text(
            objectives,
            field="objectives",
            label="Objectifs",
            max_length=LONG_TEXT_MAX,
            required=True,
        ),
        recorded_by_id=actor.id,
    )
    db.session.add(adhesion)
    db.session.flush()
    record(actor, "household.adhesion_recorded", household_id=household.id, target=adhesion)
    follow_work(actor, household, cause=StageCause.ADHESION, on=adhesion.signed_on, today=today)
    return adhesion


# --- the path --------------------------------------------------------------------------------


def path_table() -> list[tuple[HouseholdStage, list[HouseholdStage]]]:
    """Each stage with the stages that may follow it, in path order (shown to users)."""
    return [(S(s), [S(n) for n in STAGE_ORDER if n in FORWARD_MOVES[s]]) for s in STAGE_ORDER]


def is_forward(from_stage: str, to_stage: str) -> bool:
    return STAGE_ORDER.index(to_stage) > STAGE_ORDER.index(from_stage)


def allowed_moves(household: Household) -> list[HouseholdStage]:
    """Stages the household may move to: the allowed forward moves, then any earlier stage
    (a move back needs a reason)."""
    forward = [S(s) for s in STAGE_ORDER if s in FORWARD_MOVES[household.stage]]
    if (household.stage, S.MAINTIEN) in SHORTCUTS_FOR_HOUSED and not _is_housed_for_maintien(
        household
    ):
        forward = [s for s in forward if s != S.MAINTIEN]
    backward = [S(s) for s in STAGE_ORDER if is_forward(s, household.stage)]
    return forward + backward


def _is_oriented_for_maintien(household: Household) -> bool:
    kind = db.session.scalar(
        select(Orientation.kind)
        .where(Orientation.household_id == household.id)
        .order_by(Orientation.oriented_on.desc(), Orientation.id.desc())
        .limit(1)
    )
    return kind == OrientationKind.MAINTIEN


def _is_housed_for_maintien(household: Household) -> bool:
    """The shortcut to maintien fits a household already housed: its latest orientation is
    for maintien, or it holds a current lease."""
    from app.housing.models import Occupancy

    if _is_oriented_for_maintien(household):
        return True
    return (
        db.session.scalar(
            select(Occupancy.id).where(
                Occupancy.household_id == household.id, Occupancy.end_on.is_(None)
            )
        )
        is not None
    )


def move_stage(
    actor,
    household: Household,
    *,
    to_stage: str,
    on: date | None,
    reason: str | None,
    expected_version,
    today: date | None = None,
) -> StageTransition:
    today = today or today_paris()
    check_version(household, expected_version)
    to_stage = _choice(to_stage, HouseholdStage, field="to_stage", label="Nouvelle étape")
    if to_stage == household.stage:
        raise DomainError(
            f"Le ménage est déjà à l'étape « {household.stage_label} ».", field="to_stage"
        )
    reason = _text(reason, field="reason", label="Motif", max_length=LONG_TEXT_MAX)
    forward = is_forward(household.stage, to_stage)
    if forward and S(to_stage) not in allowed_moves(household):
        nexts = ", ".join(
            f"« {s.label} »" for s in allowed_moves(household) if is_forward(household.stage, s)
        )
        raise DomainError(
            f"Depuis l'étape « {household.stage_label} », le ménage ne peut pas passer "
            f"directement à « {S(to_stage).label} »"
            + (f" : étape suivante possible {nexts}." if nexts else "."),
            field="to_stage",
        )
    if not forward and reason is None:
        raise DomainError(
            "Motif : un retour à une étape précédente doit être expliqué.", field="reason"
        )
    on = _past_date(
        on,
        field="on",
        label="Date du changement",
        today=today,
        not_before=earliest_move_on(household),
    )
    return _record_move(actor, household, to_stage=to_stage, on=on, reason=reason)


def earliest_move_on(household: Household) -> date:
    """The earliest date a new move may take: the date of the last move (the path stays in
    order), or 1 January 2000. The entry made when the file was created does not count: a
    file typed in after the fact started its path before it was entered, so its first moves
    may be backdated to before its creation."""
    last = db.session.scalar(
        select(func.max(StageTransition.on)).where(
            StageTransition.household_id == household.id,
            StageTransition.from_stage.is_not(None),
        )
    )
    return max(last or EARLIEST_STAGE_ON, EARLIEST_STAGE_ON)


def _record_move(
    actor, household: Household, *, to_stage: str, on: date, reason=None, cause=None
) -> StageTransition:
    """Store the move (dated ``on``; who recorded it and when are kept), update the
    household and audit it."""
    transition = StageTransition(
        household_id=household.id,
        from_stage=household.stage,
        to_stage=to_stage,
        on=on,
        reason=reason,
        cause=cause,
        by_id=actor.id,
    )
    db.session.add(transition)
    household.stage = to_stage
    household.stage_since_on = on
    _touch(actor, household)
    db.session.flush()
    details = {
        "from": transition.from_stage,
        "to": to_stage,
        "backward": not is_forward(transition.from_stage, to_stage),
    }
    if cause:
        details["cause"] = cause
    record(
        actor,
        "household.stage_moved",
        household_id=household.id,
        target=transition,
        details=details,
    )
    return transition


# --- the path follows the work ---------------------------------------------------------------


def _stage_for(household: Household, cause: str) -> str:
    """The stage an event shows the household has reached (docs/households.md)."""
    if cause in (StageCause.MEASURE_OPENED, StageCause.LEASE_STARTED):
        # Support starts towards housing (accès) and a lease starts the installation — or,
        # for a household oriented for maintien, both are about keeping the home it has.
        if _is_oriented_for_maintien(household):
            return S.MAINTIEN
        return S.ACCES if cause == StageCause.MEASURE_OPENED else S.INSTALLATION
    return {
        StageCause.DIAGNOSTIC: S.DIAGNOSTIC,
        StageCause.ADHESION: S.ADHESION,
        StageCause.MEASURE_CLOSED: S.SORTIE,
    }[StageCause(cause)]


def follow_work(
    actor, household: Household, *, cause: str, on: date, today: date | None = None
) -> StageTransition | None:
    """Move the household to the stage the recorded event ``cause`` shows it has reached,
    dated by the event's own date (``on``) — unless it already is at that stage or a later
    one (the path never moves back by itself), or the event lies in the future (a lease
    signed for next month moves the stage by hand on the day). Called by the services that
    record those events: diagnostic and adhésion here, measures (``app.support.services``)
    and leases (``app.housing.services``), which sit above this domain and import it. A date
    before the last move is brought up to it, so the path stays in order."""
    today = today or today_paris()
    to_stage = _stage_for(household, cause)
    if not is_forward(household.stage, to_stage) or on is None or on > today:
        return None
    on = max(on, earliest_move_on(household))
    return _record_move(actor, household, to_stage=to_stage, on=on, cause=StageCause(cause).value)
