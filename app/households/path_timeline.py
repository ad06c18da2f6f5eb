"""The household's path on its file's timeline: stage transitions for everyone who sees the
file; orientation, diagnostic, adhésion, consents and members added for the viewers who read
their columns (declared social in ``app.audience``: not landlord staff). Read as branches of
the page's one timeline query (``app.households.timeline``); a kind the viewer may not read
is not even selected."""

from __future__ import annotations

from sqlalchemy.orm import aliased

from app.audience import can_read
from app.formatting import format_date, to_paris
from app.households.file_registry import TimelineEvent, provided
from app.households.models import (
    DIAGNOSTIC_AXES,
    Adhesion,
    Consent,
    DataCategory,
    Diagnostic,
    DiagnosticLevel,
    HouseholdStage,
    Member,
    Orientation,
    OrientationKind,
    PartnerCategory,
    Prescriber,
    StageCause,
    StageTransition,
    SupportDomain,
    search_key,
)
from app.households.path import DEFAULT_INTENSITIES
from app.households.timeline import HOUSEHOLD_ID, Branch, branch, cached
from app.users.models import User


def _stage_label(value: str | None) -> str:
    return HouseholdStage(value).label if value else ""


def path_branches(household, viewer) -> list[Branch]:
    """What of the path this viewer may read, as timeline branches."""
    social = can_read(viewer, StageTransition.reason)
    wanted = [_transitions(social)]
    if can_read(viewer, Orientation.reason):
        wanted.append(cached(("path.orientation",), _orientations))
    if can_read(viewer, Diagnostic.carried_out_on):
        wanted.append(cached(("path.diagnostic",), _diagnostics))
    if can_read(viewer, Adhesion.objectives):
        wanted.append(cached(("path.adhesion",), _adhesions))
    if can_read(viewer, Consent.given_on):
        wanted.append(cached(("path.consent",), _consents))
    branches = [b.bind(household_id=household.id) for b in wanted]
    names = provided("intensity_name_branch")
    if names is not None and can_read(viewer, Diagnostic.carried_out_on):
        # the names of the recommended intensities (support's levels)
        branches.append(cached(("path.intensity_name",), lambda: names("path.intensity_name")))
    return branches


def _transitions(social: bool) -> Branch:
    def build():
        by = aliased(User)
        fields = dict(
            id=StageTransition.id,
            on=StageTransition.on,
            at=StageTransition.at,
            from_stage=StageTransition.from_stage,
            to_stage=StageTransition.to_stage,
            author=by.full_name,
        )
        if social:  # why it moved (« suite à : diagnostic réalisé », the reason for a move
            # back) may tell a social story: support team only, not even selected for others
            fields.update(cause=StageTransition.cause, reason=StageTransition.reason)
        return (
            branch("path.transition", **fields)
            .outerjoin(by, by.id == StageTransition.by_id)
            .where(StageTransition.household_id == HOUSEHOLD_ID)
        )

    return cached(("path.transition", social), build)


def _orientations() -> Branch:
    by = aliased(User)
    return (
        branch(
            "path.orientation",
            id=Orientation.id,
            prescriber=Orientation.prescriber,
            prescriber_detail=Orientation.prescriber_detail,
            oriented_on=Orientation.oriented_on,
            kind=Orientation.kind,
            reason=Orientation.reason,
            recorded_at=Orientation.recorded_at,
            author=by.full_name,
        )
        .outerjoin(by, by.id == Orientation.recorded_by_id)
        .where(Orientation.household_id == HOUSEHOLD_ID)
    )


def _diagnostics() -> Branch:
    by = aliased(User)
    axes = {}
    for axis in DIAGNOSTIC_AXES:
        axes[f"{axis}_level"] = getattr(Diagnostic, f"{axis}_level")
        axes[f"{axis}_comment"] = getattr(Diagnostic, f"{axis}_comment")
    return (
        branch(
            "path.diagnostic",
            id=Diagnostic.id,
            carried_out_on=Diagnostic.carried_out_on,
            recorded_at=Diagnostic.recorded_at,
            needs=Diagnostic.needs,
            recommended_intensity=Diagnostic.recommended_intensity,
            author=by.full_name,
            **axes,
        )
        .outerjoin(by, by.id == Diagnostic.author_id)
        .where(Diagnostic.household_id == HOUSEHOLD_ID)
    )


def _adhesions() -> Branch:
    by = aliased(User)
    return (
        branch(
            "path.adhesion",
            id=Adhesion.id,
            signed_on=Adhesion.signed_on,
            recorded_at=Adhesion.recorded_at,
            objectives=Adhesion.objectives,
            author=by.full_name,
        )
        .outerjoin(by, by.id == Adhesion.recorded_by_id)
        .where(Adhesion.household_id == HOUSEHOLD_ID)
    )


def _consents() -> Branch:
    by, withdrawn_by = aliased(User), aliased(User)
    return (
        branch(
            "path.consent",
            id=Consent.id,
            data_category=Consent.data_category,
            partner_category=Consent.partner_category,
            given_on=Consent.given_on,
            withdrawn_on=Consent.withdrawn_on,
            author=by.full_name,
            withdrawal_author=withdrawn_by.full_name,
        )
        .outerjoin(by, by.id == Consent.recorded_by_id)
        .outerjoin(withdrawn_by, withdrawn_by.id == Consent.withdrawal_recorded_by_id)
        .where(Consent.household_id == HOUSEHOLD_ID)
    )


def intensity_names(rows) -> dict[str, str]:
    """Recommended-intensity code → the level's name, from the levels' branch (the code is
    the accent-free lower-case name); the defaults when no level is configured."""
    # In the order of ``intensity_choices`` (tightest rhythm first, then name): for two names
    # of one code ("Soutenue", "soutenue"), the same one wins.
    ordered = sorted(rows, key=lambda r: (r.every, r.name))
    names = {search_key(r.name).replace(" ", "_"): r.name for r in ordered}
    return names or dict(DEFAULT_INTENSITIES)


def path_events(household, viewer, rows) -> list[TimelineEvent]:
    """The path's events, each kind in the order of entry."""

    def entered(kind):
        return sorted(rows.get(kind, ()), key=lambda r: r.id)

    social = can_read(viewer, StageTransition.reason)
    events = [_transition_event(t, social) for t in entered("path.transition")]
    events += [_orientation_event(o) for o in entered("path.orientation")]
    diagnostics = entered("path.diagnostic")
    if diagnostics:
        intensities = intensity_names(rows.get("path.intensity_name", ()))
        events += [_diagnostic_event(d, intensities) for d in diagnostics]
    events += [_adhesion_event(a) for a in entered("path.adhesion")]
    for consent in entered("path.consent"):
        events += _consent_events(consent)
    if can_read(viewer, Member.relation):
        events += [
            TimelineEvent(
                on=member.created_at.date(),
                at=member.created_at,
                kind="path",
                icon="plus",
                title=f"Personne ajoutée : {member.full_name}",
                summary=member.relation_label,
            )
            for member in household.members
            if member.created_at != household.created_at
        ]
    return events


def _transition_event(transition, social: bool) -> TimelineEvent:
    backward = transition.from_stage is not None and (
        list(HouseholdStage).index(HouseholdStage(transition.to_stage))
        < list(HouseholdStage).index(HouseholdStage(transition.from_stage))
    )
    if transition.from_stage is None:
        title = "Entrée dans le parcours : " + _stage_label(transition.to_stage)
    elif backward:
        title = "Retour à l'étape " + _stage_label(transition.to_stage)
    else:
        title = "Étape " + _stage_label(transition.to_stage)
    parts = [f"Depuis « {_stage_label(transition.from_stage)} »"] if transition.from_stage else []
    if social and transition.cause:  # « suite à : diagnostic réalisé » is support content
        parts.append("suite à : " + StageCause(transition.cause).label)
    if transition.at is not None and to_paris(transition.at).date() > transition.on:
        # Backdated (a file entered after the fact): when it was recorded is kept and shown.
        parts.append(f"saisi le {format_date(to_paris(transition.at).date())}")
    summary = " · ".join(parts)
    return TimelineEvent(
        on=transition.on,
        at=transition.at,
        kind="path",
        icon="undo" if backward else "arrow-right",
        title=title,
        summary=summary,
        # The reason for a move back may tell a social story: support team only.
        detail=transition.reason if social else None,
        author=transition.author,
        tags=("retour",) if backward else (),
    )


def _orientation_event(orientation) -> TimelineEvent:
    prescriber = Prescriber(orientation.prescriber).label
    if orientation.prescriber_detail:
        prescriber += f" ({orientation.prescriber_detail})"
    return TimelineEvent(
        on=orientation.oriented_on,
        at=orientation.recorded_at,
        kind="social",
        icon="arrow-right",
        title=f"Orientation par {prescriber}",
        summary=OrientationKind(orientation.kind).label,
        detail=orientation.reason,
        author=orientation.author,
    )


def _diagnostic_event(diagnostic, intensities: dict[str, str]) -> TimelineEvent:
    lines = []
    for axis, label in DIAGNOSTIC_AXES.items():
        level = DiagnosticLevel(getattr(diagnostic, f"{axis}_level")).label
        comment = getattr(diagnostic, f"{axis}_comment")
        lines.append(f"{label.split(' (')[0]} : {level}" + (f" — {comment}" if comment else ""))
    needs = SupportDomain.parse_list(diagnostic.needs)
    if needs:
        lines.append("Besoins : " + ", ".join(n.label for n in needs))
    code = diagnostic.recommended_intensity
    intensity = intensities.get(code, code) if code else None
    if intensity:
        lines.append(f"Intensité recommandée : {intensity}")
    to_work = sum(
        getattr(diagnostic, f"{axis}_level") == DiagnosticLevel.A_TRAVAILLER
        for axis in DIAGNOSTIC_AXES
    )
    return TimelineEvent(
        on=diagnostic.carried_out_on,
        at=diagnostic.recorded_at,
        kind="review",
        icon="target",
        title="Diagnostic social",
        summary=f"{to_work} axe{'s' if to_work > 1 else ''} à travailler sur 4"
        + (f" · intensité {intensity.lower()}" if intensity else ""),
        detail="\n".join(lines),
        author=diagnostic.author,
    )


def _adhesion_event(adhesion) -> TimelineEvent:
    return TimelineEvent(
        on=adhesion.signed_on,
        at=adhesion.recorded_at,
        kind="social",
        icon="sign",
        title="Adhésion signée",
        summary="Contrat d'accompagnement",
        detail=adhesion.objectives,
        author=adhesion.author,
    )


def _consent_events(consent) -> list[TimelineEvent]:
    what = (
        f"{DataCategory(consent.data_category).label} → "
        f"{PartnerCategory(consent.partner_category).label}"
    )
    events = [
        TimelineEvent(
            on=consent.given_on,
            kind="partner",
            icon="check",
            title="Consentement donné",
            summary=what,
            author=consent.author,
        )
    ]
    if consent.withdrawn_on:
        events.append(
            TimelineEvent(
                on=consent.withdrawn_on,
                kind="alert",
                icon="x",
                title="Consentement retiré",
                summary=what + f" (donné le {format_date(consent.given_on)})",
                author=consent.withdrawal_author,
            )
        )
    return events
