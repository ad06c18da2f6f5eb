"""Support on the household file's timeline: measures opened, renewed, their intensity changes,
exits and post-exit checks, and the reviews. Columns declared social: nothing is selected for
a viewer who may not read them (landlord staff). Read as branches of the page's one timeline
query (``app.households.timeline``); the open measures' facts the header needs (review due,
contact rhythm, end) come with them and are kept for it (``remember``)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.audience import can_read
from app.formatting import format_date
from app.households.file_registry import TimelineEvent, remember
from app.households.timeline import HOUSEHOLD_ID, Branch, branch
from app.support.models import (
    ExitReason,
    HousingAtExit,
    IntensityChange,
    IntensityLevel,
    Measure,
    MeasureExit,
    MeasureRenewal,
    MeasureStatus,
    ObjectiveUpdate,
    PostExitCheck,
    Review,
    ReviewKind,
    check_label,
    measure_type_label,
)
from app.users.models import User


def open_measure_facts_key(household, viewer) -> tuple:
    return ("open_measure_facts", household.id, viewer.id)


def intensity_name_branch(kind: str) -> Branch:
    """The active intensity levels' names (one row per name), for the diagnostic's
    recommended intensity (provided to the household domain as ``intensity_name_branch``)."""
    return (
        branch(kind, name=IntensityLevel.name, every=func.min(IntensityLevel.contact_every_days))
        .where(IntensityLevel.is_active.is_(True))
        .group_by(IntensityLevel.name)
    )


def support_branches(household, viewer) -> list[Branch]:
    if not can_read(viewer, Measure.start_on):
        return []
    return [b.bind(household_id=household.id) for b in _branches()]


@cache
def _branches() -> tuple[Branch, ...]:
    """Built once per process (``app.households.timeline``: the household is a parameter)."""
    mine = Measure.household_id == HOUSEHOLD_ID
    first_level = (
        select(IntensityLevel.name)
        .join(IntensityChange, IntensityChange.to_level_id == IntensityLevel.id)
        .where(IntensityChange.measure_id == Measure.id)
        .order_by(IntensityChange.changed_on, IntensityChange.id)
        .limit(1)
        .scalar_subquery()
    )
    referent, by = aliased(User), aliased(User)
    measures = (
        branch(
            "support.measure",
            id=Measure.id,
            start_on=Measure.start_on,
            created_at=Measure.created_at,
            type=Measure.type,
            type_detail=Measure.type_detail,
            status=Measure.status,
            planned_end_on=Measure.planned_end_on,
            next_review_on=Measure.next_review_on,
            contact_every_days=IntensityLevel.contact_every_days,
            first_level=first_level,
            author=referent.full_name,
        )
        .join(IntensityLevel, IntensityLevel.id == Measure.intensity_level_id)
        .outerjoin(referent, referent.id == Measure.referent_id)
        .where(mine)
    )
    renewals = (
        branch(
            "support.renewal",
            id=MeasureRenewal.id,
            renewed_on=MeasureRenewal.renewed_on,
            new_end_on=MeasureRenewal.new_end_on,
            justification=MeasureRenewal.justification,
            at=MeasureRenewal.at,
            measure_id=Measure.id,
            author=by.full_name,
        )
        .join(Measure, Measure.id == MeasureRenewal.measure_id)
        .outerjoin(by, by.id == MeasureRenewal.by_id)
        .where(mine)
    )
    by, before, after = aliased(User), aliased(IntensityLevel), aliased(IntensityLevel)
    changes = (
        branch(
            "support.intensity_change",
            id=IntensityChange.id,
            changed_on=IntensityChange.changed_on,
            from_name=before.name,
            to_name=after.name,
            reason=IntensityChange.reason,
            at=IntensityChange.at,
            measure_id=Measure.id,
            author=by.full_name,
        )
        .join(Measure, Measure.id == IntensityChange.measure_id)
        .join(before, before.id == IntensityChange.from_level_id)  # the first one has none
        .join(after, after.id == IntensityChange.to_level_id)
        .outerjoin(by, by.id == IntensityChange.by_id)
        .where(mine)
    )
    by = aliased(User)
    exits = (
        branch(
            "support.exit",
            id=MeasureExit.id,
            exit_on=MeasureExit.exit_on,
            reason=MeasureExit.reason,
            housing_situation=MeasureExit.housing_situation,
            is_lease_glissed=MeasureExit.is_lease_glissed,
            handover=MeasureExit.handover,
            at=MeasureExit.at,
            measure_id=MeasureExit.measure_id,
            author=by.full_name,
        )
        .outerjoin(by, by.id == MeasureExit.by_id)
        .where(MeasureExit.household_id == HOUSEHOLD_ID)
    )
    checks = branch(
        "support.check",
        id=PostExitCheck.id,
        months=PostExitCheck.months,
        done_on=PostExitCheck.done_on,
        is_still_housed=PostExitCheck.is_still_housed,
        is_rent_up_to_date=PostExitCheck.is_rent_up_to_date,
        comment=PostExitCheck.comment,
        updated_at=PostExitCheck.updated_at,
        exit_id=PostExitCheck.exit_id,
    ).where(PostExitCheck.household_id == HOUSEHOLD_ID, PostExitCheck.done_on.is_not(None))
    # The timeline shows how many objectives a review examined, not the updates themselves.
    examined = (
        select(func.count(ObjectiveUpdate.id))
        .where(ObjectiveUpdate.review_id == Review.id)
        .correlate(Review)
        .scalar_subquery()
    )
    by = aliased(User)
    reviews = (
        branch(
            "support.review",
            id=Review.id,
            held_on=Review.held_on,
            kind=Review.kind,
            summary=Review.summary,
            at=Review.at,
            examined=examined,
            author=by.full_name,
        )
        .outerjoin(by, by.id == Review.author_id)
        .where(Review.household_id == HOUSEHOLD_ID)
    )
    return (measures, renewals, changes, exits, checks, reviews)


def header_branches(household, viewer) -> list[Branch]:
    """The open measures' dates and rhythm, for the header's badges on the pages without the
    timeline (``queries.header_alerts``)."""
    if not can_read(viewer, Measure.next_review_on):
        return []
    return [_open_measures().bind(household_id=household.id)]


def keep_for_the_header(household, viewer, rows) -> None:
    if can_read(viewer, Measure.next_review_on):
        found = rows.get("support.open_measure", [])
        remember(open_measure_facts_key(household, viewer), found)


@cache
def _open_measures() -> Branch:
    return (
        branch(
            "support.open_measure",
            start_on=Measure.start_on,
            planned_end_on=Measure.planned_end_on,
            next_review_on=Measure.next_review_on,
            contact_every_days=IntensityLevel.contact_every_days,
        )
        .join(IntensityLevel, IntensityLevel.id == Measure.intensity_level_id)
        .where(Measure.household_id == HOUSEHOLD_ID, Measure.status == MeasureStatus.EN_COURS)
    )


def support_events(household, viewer, rows) -> list[TimelineEvent]:
    """Each measure (open ones first, then the newest) with its renewals, intensity changes,
    exit and checks; then the reviews, newest first."""
    if not can_read(viewer, Measure.start_on):
        return []
    measures = sorted(rows.get("support.measure", ()), key=lambda m: -m.id)
    measures.sort(key=lambda m: (m.status, -m.start_on.toordinal()))
    remember(
        open_measure_facts_key(household, viewer),
        [m for m in measures if m.status == MeasureStatus.EN_COURS],
    )

    def of(kind, measure_id_field="measure_id"):
        found: dict[int, list] = {}
        for row in rows.get(kind, ()):
            found.setdefault(getattr(row, measure_id_field), []).append(row)
        return found

    renewals = of("support.renewal")
    changes = of("support.intensity_change")
    exits = {e.measure_id: e for e in rows.get("support.exit", ())}
    checks = of("support.check", "exit_id")
    events: list[TimelineEvent] = []
    for measure in measures:
        label = measure_type_label(measure.type, measure.type_detail)
        events.append(_measure_opened(measure, label))
        for renewal in sorted(renewals.get(measure.id, ()), key=lambda r: (r.renewed_on, r.id)):
            events.append(_renewal(label, renewal))
        for change in sorted(changes.get(measure.id, ()), key=lambda c: (c.changed_on, c.id)):
            events.append(_intensity_change(label, change))
        exit_ = exits.get(measure.id)
        if exit_ is not None:
            events.append(_exit(label, exit_))
            for check in sorted(checks.get(exit_.id, ()), key=lambda c: c.months):
                events.append(_check(check))
    reviews = sorted(rows.get("support.review", ()), key=lambda r: (r.held_on, r.id), reverse=True)
    events.extend(_review(review) for review in reviews)
    return events


def _measure_opened(measure, label: str) -> TimelineEvent:
    return TimelineEvent(
        on=measure.start_on,
        kind="path",
        title=f"Mesure ouverte : {label}",
        summary=f"Intensité {measure.first_level.lower()}" if measure.first_level else "",
        author=measure.author,
        at=measure.created_at,
        icon="play",
    )


def _renewal(label: str, renewal) -> TimelineEvent:
    return TimelineEvent(
        on=renewal.renewed_on,
        kind="path",
        title=f"Mesure renouvelée jusqu'au {format_date(renewal.new_end_on)}",
        summary=label,
        detail=renewal.justification,
        author=renewal.author,
        at=renewal.at,
        icon="refresh",
    )


def _intensity_change(label: str, change) -> TimelineEvent:
    return TimelineEvent(
        on=change.changed_on,
        kind="social",
        title=f"Intensité : {change.from_name} → {change.to_name}",
        summary=label,
        detail=change.reason,
        author=change.author,
        at=change.at,
        icon="updown",
    )


def _exit(label: str, exit_) -> TimelineEvent:
    lines = [f"Situation de logement : {HousingAtExit(exit_.housing_situation).label}"]
    lines.append("Bail glissé au nom du ménage" if exit_.is_lease_glissed else "Bail non glissé")
    if exit_.handover:
        lines.append(f"Relais : {exit_.handover}")
    return TimelineEvent(
        on=exit_.exit_on,
        kind="path",
        title=f"Sortie de la mesure {label}",
        summary=ExitReason(exit_.reason).label,
        detail="\n".join(lines),
        author=exit_.author,
        at=exit_.at,
        icon="stop",
    )


def _check(check) -> TimelineEvent:
    housed = "toujours logé" if check.is_still_housed else "plus logé"
    rent = {True: "loyer à jour", False: "loyer non à jour", None: "loyer : ne sait pas"}
    return TimelineEvent(
        on=check.done_on,
        kind="review",
        title=check_label(check.months),
        summary=f"Ménage {housed}, {rent[check.is_rent_up_to_date]}",
        detail=check.comment,
        at=check.updated_at,
        icon="check",
    )


def _review(review) -> TimelineEvent:
    return TimelineEvent(
        on=review.held_on,
        kind="review",
        title=ReviewKind(review.kind).label,
        summary=f"{review.examined} objectif(s) examiné(s)",
        detail=review.summary,
        author=review.author,
        at=review.at,
        icon="target",
    )
