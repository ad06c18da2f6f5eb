"""Reads of measures, objectives, reviews and exits.

Children load through their household (``get_measure_or_404(household, id)``): the household
itself was loaded through ``get_household_or_404``, so a measure of another household is a 404.

Helpers for other domains (reminders, caseloads, indicators) return ``Select``s built on SQL
aggregates; see docs/development.md, "Support reads for other domains".
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, lazyload

from app.audience import can_read
from app.db import db
from app.formatting import format_date, today_paris
from app.households.models import search_key
from app.households.queries import loaded_earlier
from app.interventions.queries import file_last_contact_on
from app.support.models import (
    IntensityChange,
    IntensityLevel,
    Measure,
    MeasureExit,
    MeasureRenewal,
    MeasureStatus,
    Objective,
    ObjectiveUpdate,
    PostExitCheck,
    Review,
)
from app.users.queries import user_by_name

# --- scoped loads -------------------------------------------------------------------------


def _child_or_404(model, household, record_id: int, options=()):
    record = db.session.scalar(
        select(model)
        .where(model.id == record_id, model.household_id == household.id)
        .options(*options)
    )
    if record is None:
        abort(404)
    return record


def get_measure_or_404(household, measure_id: int) -> Measure:
    """The measure with its intensity and referent, without its history (renewals, intensity
    changes, exit: loaded on access; its forms show none of it)."""
    return _child_or_404(Measure, household, measure_id, _measure_alone())


def get_objective_or_404(household, objective_id: int) -> Objective:
    """The objective with its updates (its form shows them), in one query."""
    return _child_or_404(Objective, household, objective_id, _objective_with_updates())


def get_post_exit_check_or_404(household, check_id: int) -> PostExitCheck:
    return _child_or_404(PostExitCheck, household, check_id)


def intensity_levels(project_id: int, *, active_only: bool = True) -> list[IntensityLevel]:
    """One project's levels (a measure takes a level of its household's project)."""
    query = (
        select(IntensityLevel)
        .where(IntensityLevel.project_id == project_id)
        .order_by(IntensityLevel.contact_every_days, IntensityLevel.name)
    )
    if active_only:
        query = query.where(IntensityLevel.is_active.is_(True))
    return list(db.session.scalars(query))


def managed_intensity_levels(user) -> Select:
    """The levels of the projects ``user`` coordinates (the settings page), by project."""
    return (
        select(IntensityLevel)
        .where(IntensityLevel.project_id.in_(user.project_ids or [-1]))
        .order_by(IntensityLevel.project_id, IntensityLevel.contact_every_days, IntensityLevel.name)
    )


def get_managed_intensity_level_or_404(user, level_id: int) -> IntensityLevel:
    """A level of one of ``user``'s projects; another project's level is a 404."""
    level = db.session.scalar(managed_intensity_levels(user).where(IntensityLevel.id == level_id))
    if level is None:
        abort(404)
    return level


# --- the household's support tab ------------------------------------------------------------


# A household has a few measures, objectives and reviews, each with a few children: the
# children are joined to their parents (one query per list, however many records) rather
# than read by one more query per kind of child. Users come with their name only.


def _measure_alone() -> list:
    return [
        *user_by_name(joinedload(Measure.referent)),
        *(lazyload(r) for r in (Measure.renewals, Measure.intensity_changes, Measure.exit)),
    ]


def _measure_with_history() -> list:
    """Renewals, intensity changes, exit and its checks joined to the measure. The three
    lists multiply each other's rows (renewals × changes × checks of one measure, a few
    dozen at most): still one query, where a query each cost more."""
    renewals = joinedload(Measure.renewals)
    changes = joinedload(Measure.intensity_changes)
    exit_ = joinedload(Measure.exit)
    return [
        *user_by_name(joinedload(Measure.referent)),
        *user_by_name(renewals.joinedload(MeasureRenewal.by)),
        *user_by_name(changes.joinedload(IntensityChange.by)),
        *user_by_name(exit_.joinedload(MeasureExit.by)),
        exit_.joinedload(MeasureExit.checks),
    ]


def _objective_with_updates() -> list:
    return user_by_name(joinedload(Objective.updates).joinedload(ObjectiveUpdate.by))


def household_measures(household, *, history: bool = True) -> list[Measure]:
    """Every measure of the household, open ones first then newest, with their intensity and
    referent; with their renewals, intensity history, exit and checks too unless ``history``
    is False (a page that shows no more). One query."""
    return list(
        db.session.scalars(
            select(Measure)
            .where(Measure.household_id == household.id)
            .order_by(Measure.status, Measure.start_on.desc(), Measure.id.desc())
            .options(*(_measure_with_history() if history else _measure_alone()))
        ).unique()
    )


def household_objectives(household, *, updates: bool = True) -> list[Objective]:
    """The household's objectives, by domain (with their updates unless ``updates`` is
    False, for a page that shows only their current status). One query."""
    options = _objective_with_updates() if updates else [lazyload("*")]
    return list(
        db.session.scalars(
            select(Objective)
            .where(Objective.household_id == household.id)
            .order_by(Objective.domain, Objective.set_on, Objective.id)
            .options(*options)
        ).unique()
    )


def household_reviews(household) -> list[Review]:
    """The household's reviews, newest first, with their author and the progress they
    recorded for each objective. One query."""
    progress = joinedload(Review.progress)
    return list(
        db.session.scalars(
            _reviews_newest_first(household).options(
                *user_by_name(joinedload(Review.author)),
                *user_by_name(progress.joinedload(ObjectiveUpdate.by)),
            )
        ).unique()
    )


def last_review(household) -> Review | None:
    """The household's latest review with its author's name (not its progress)."""
    return db.session.scalar(
        _reviews_newest_first(household)
        .options(*user_by_name(joinedload(Review.author)), lazyload(Review.progress))
        .limit(1)
    )


def _reviews_newest_first(household):
    return (
        select(Review)
        .where(Review.household_id == household.id)
        .order_by(Review.held_on.desc(), Review.id.desc())
    )


# --- helpers for other domains (one row per measure or household, SQL aggregates) ---------


def open_measures() -> Select:
    """Open measures with their intensity: ``household_id, measure_id, type, referent_id,
    start_on, planned_end_on, next_review_on, intensity_level_id, intensity_name,
    contact_every_days, caseload_weight``. Filter further with ``.where(...)``."""
    return (
        select(
            Measure.household_id,
            Measure.id.label("measure_id"),
            Measure.type,
            Measure.referent_id,
            Measure.start_on,
            Measure.planned_end_on,
            Measure.next_review_on,
            Measure.intensity_level_id,
            IntensityLevel.name.label("intensity_name"),
            IntensityLevel.contact_every_days,
            IntensityLevel.caseload_weight,
        )
        .join(IntensityLevel, IntensityLevel.id == Measure.intensity_level_id)
        .where(Measure.status == MeasureStatus.EN_COURS)
    )


def household_intensity() -> Select:
    """One row per supported household: ``household_id, contact_every_days`` (the tightest
    rhythm of its open measures), ``caseload_weight`` (the heaviest), ``supported_since``."""
    return (
        select(
            Measure.household_id,
            func.min(IntensityLevel.contact_every_days).label("contact_every_days"),
            func.max(IntensityLevel.caseload_weight).label("caseload_weight"),
            func.min(Measure.start_on).label("supported_since"),
        )
        .join(IntensityLevel, IntensityLevel.id == Measure.intensity_level_id)
        .where(Measure.status == MeasureStatus.EN_COURS)
        .group_by(Measure.household_id)
    )


# --- header badges and choices for the household domain -----------------------------------

END_WARNING_DAYS = 30


def header_alerts(household, viewer, today: date | None = None) -> list[tuple[str, str]]:
    """Badges of the household header (support team and coordinators): review overdue, no
    contact for longer than the intensity's rhythm, measure ending soon. Two queries."""
    if not can_read(viewer, Measure.next_review_on):
        return []
    today = today or today_paris()
    rows = _open_measure_facts(household, viewer)
    if not rows:
        return []
    alerts = []
    if any(r.next_review_on and r.next_review_on < today for r in rows):
        alerts.append(("Bilan en retard", "danger"))
    last = file_last_contact_on(household, viewer)
    since = last or min(r.start_on for r in rows)
    rhythm = min(r.contact_every_days for r in rows)
    days = (today - since).days
    if days > rhythm:
        label = f"Sans contact depuis {days} j" if last else f"Aucun contact depuis {days} j"
        alerts.append((label, "warning"))
    ending = min(r.planned_end_on for r in rows)
    if ending <= today + timedelta(days=END_WARNING_DAYS):
        alerts.append((f"Fin de mesure le {format_date(ending, 'short')}", "warning"))
    return alerts


def _open_measure_facts(household, viewer) -> list:
    """What the header needs of each open measure (``start_on``, ``planned_end_on``,
    ``next_review_on``, ``contact_every_days``): from the timeline's rows when this page read
    them for this viewer, else one query."""
    from app.support.timeline import open_measure_facts_key

    facts = loaded_earlier(open_measure_facts_key(household, viewer))
    if facts is None:
        return db.session.execute(open_measures().where(Measure.household_id == household.id)).all()
    return facts


def intensity_choices() -> list[tuple[str, str]]:
    """The active levels as (key, name) choices for the diagnostic's recommended intensity;
    the key is the accent-free lower-case name (``renforcee``, ``soutenue``, ``moderee``)."""
    rows = db.session.execute(
        select(IntensityLevel.name)
        .where(IntensityLevel.is_active.is_(True))
        .group_by(IntensityLevel.name)
        .order_by(func.min(IntensityLevel.contact_every_days), IntensityLevel.name)
    )
    # Each project has its own levels, mostly under the same names: one choice per name.
    return list(dict((search_key(name).replace(" ", "_"), name) for (name,) in rows).items())
