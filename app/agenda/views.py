"""« Ma semaine » (the social workers' home page), appointments, a household's appointments
tab, and the calendar feed (``/calendrier/<token>.ics``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app import bounds, clock
from app.agenda import queries, services
from app.agenda.feed import feed_events, ics_calendar
from app.agenda.forms import AppointmentButtonForm, AppointmentForm
from app.agenda.week import build_week
from app.db import db
from app.errors import is_database_busy
from app.formatting import today_paris
from app.forms import press, submit
from app.households.file import open_household_file
from app.households.models import Household
from app.households.queries import get_household_or_404, visible_households
from app.http import int_arg
from app.permissions import Permission, Role, permission_required
from app.reminders.models import CalendarFeed
from app.reminders.services import token_hash
from app.users.models import User

bp = Blueprint("agenda", __name__)

VIEW = Permission.VIEW_REMINDERS
PLAN = (Permission.VIEW_HOUSEHOLDS, Permission.READ_SOCIAL_CONTENT, Permission.RECORD_INTERVENTIONS)

BAD_WEEK = (
    "La date demandée n'est pas valide (format attendu : aaaa-mm-jj) : voici la semaine en cours."
)


# --- the week ------------------------------------------------------------------------------


def _start_day(today: date) -> date:
    raw = request.args.get("debut")
    if not raw:
        return today
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not bounds.date_in_window(day):
        flash(BAD_WEEK, "error")
        return today
    return day


def _owner(owners: list[tuple[int, str]]):
    """Whose week: one's own, or for a coordinator a worker of their scope (``owners``; 404
    otherwise)."""
    chosen = int_arg("personne")
    if chosen is None or chosen == current_user.id:
        return current_user
    if Role.COORDINATEUR not in current_user.roles:
        abort(404)
    if chosen not in dict(owners):
        abort(404)
    return queries.agenda_owner(chosen)


@bp.route("/agenda/")
@permission_required(VIEW)
def week():
    today = today_paris()
    is_coordinator = Role.COORDINATEUR in current_user.roles
    owners = queries.agenda_owners(current_user) if is_coordinator else []
    owner = _owner(owners)
    start = _start_day(today)
    return render_template(
        "agenda/week.html",
        week=build_week(current_user, owner, start, today),
        owner=owner,
        owners=owners,
        previous=start - timedelta(days=7),
        following=start + timedelta(days=7),
        button_form=AppointmentButtonForm(),
    )


# --- appointments --------------------------------------------------------------------------


def _household_choices(user) -> list[tuple[int, str]]:
    rows = db.session.scalars(visible_households(user).order_by(Household.reference))
    return [(h.id, f"{h.reference} · {h.display_name}") for h in rows]


def _prepare(form: AppointmentForm, household=None) -> None:
    if household is not None:
        form.household_id.choices = [(household.id, household.reference)]
        form.household_id.data = household.id
    else:
        form.household_id.choices = [("", "— Choisir —"), *_household_choices(current_user)]
        if not form.is_submitted():
            form.household_id.data = int_arg("menage")
    if Role.COORDINATEUR in current_user.roles:
        form.for_user_id.choices = queries.agenda_owners(current_user)
        if not form.is_submitted():
            form.for_user_id.data = current_user.id
    else:
        del form.for_user_id
    if not form.is_submitted():
        form.day.data = form.day.data or today_paris()


def _plan(form: AppointmentForm, household) -> object:
    for_user = None
    if form.for_user_id is not None and form.for_user_id.data:
        for_user = db.session.get(User, form.for_user_id.data)
    return services.plan_appointment(
        current_user,
        household,
        day=form.day.data,
        at=form.at.data,
        duration_minutes=form.duration_minutes.data,
        mode=form.mode.data,
        with_whom=form.with_whom.data,
        place=form.place.data,
        note=form.note.data,
        for_user=for_user,
        today=today_paris(),
    )


def _planned_message(appointment) -> str:
    from app.formatting import format_datetime

    return f"Rendez-vous planifié le {format_datetime(appointment.starts_at)}."


@bp.route("/agenda/rendez-vous/nouveau", methods=["GET", "POST"])
@permission_required(*PLAN)
def plan():
    form = AppointmentForm()
    _prepare(form)
    household = None
    if form.is_submitted() and form.household_id.data:
        household = get_household_or_404(current_user, form.household_id.data)
    done = submit(
        form,
        lambda: _plan(form, household),
        _planned_message,
        lambda a: url_for(".week", debut=services.local_day(a).isoformat()),
    )
    return done or render_template("agenda/plan.html", form=form, household=None)


@bp.route("/menages/<int:household_id>/rendez-vous/nouveau", methods=["GET", "POST"])
@permission_required(*PLAN)
def plan_for_household(household_id: int):
    household = open_household_file(household_id)
    form = AppointmentForm()
    _prepare(form, household)
    done = submit(
        form,
        lambda: _plan(form, household),
        _planned_message,
        url_for(".household", household_id=household.id),
    )
    return done or render_template("agenda/plan.html", form=form, household=household)


@bp.route("/menages/<int:household_id>/rendez-vous")
@permission_required(Permission.VIEW_HOUSEHOLDS)
def household(household_id: int):
    household = open_household_file(household_id)
    return render_template(
        "agenda/household.html",
        household=household,
        appointments=queries.household_appointments(current_user, household),
        today=today_paris(),
        local_day=services.local_day,
        button_form=AppointmentButtonForm(),
    )


@bp.route("/agenda/rendez-vous/<int:appointment_id>")
@permission_required(VIEW)
def appointment(appointment_id: int):
    found = queries.get_appointment_or_404(current_user, appointment_id)
    return render_template(
        "agenda/appointment.html",
        appointment=found,
        today=today_paris(),
        local_day=services.local_day,
        button_form=AppointmentButtonForm(),
    )


def _button(appointment_id: int, action, message: str):
    found = queries.get_appointment_or_404(current_user, appointment_id)
    form = AppointmentButtonForm()
    version = bounds.id_or_none(form.expected_version.data or "")
    back = request.form.get("depuis")
    target = (
        url_for(".week") if back == "semaine" else url_for(".appointment", appointment_id=found.id)
    )
    return press(form, lambda: action(found, version), message, target)


@bp.route("/agenda/rendez-vous/<int:appointment_id>/non-honore", methods=["POST"])
@permission_required(*PLAN)
def missed(appointment_id: int):
    return _button(
        appointment_id,
        lambda found, version: services.mark_missed(
            current_user, found, today=today_paris(), version=version
        ),
        "Rendez-vous non honoré : une tentative de contact est notée.",
    )


@bp.route("/agenda/rendez-vous/<int:appointment_id>/annuler", methods=["POST"])
@permission_required(*PLAN)
def cancel(appointment_id: int):
    return _button(
        appointment_id,
        lambda found, version: services.cancel_appointment(current_user, found, version=version),
        "Rendez-vous annulé.",
    )


# --- calendar feed -------------------------------------------------------------------------


@bp.route("/calendrier/<token>.ics")
def feed(token: str):
    """The secret address itself (no session: calendar applications cannot log in)."""
    found = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token))
    )
    if found is None or not found.user.is_active:
        abort(404)
    now = clock.now()
    body = ics_calendar(feed_events(found.user, today_paris(now)), now)
    _note_feed_use(found, now)
    return body, 200, {"Content-Type": "text/calendar; charset=utf-8"}


FEED_USE_PRECISION = timedelta(hours=1)


def _note_feed_use(found: CalendarFeed, now: datetime) -> None:
    """Record when the address was last used, at most once an hour and best-effort: the feed
    only reads, so it must not fail (503) because another process holds the write lock —
    calendar applications fetch it every few minutes."""
    if found.last_used_at is not None and now - found.last_used_at < FEED_USE_PRECISION:
        db.session.rollback()
        return
    found.last_used_at = now
    try:
        db.session.commit()
    except OperationalError as error:
        db.session.rollback()
        if not is_database_busy(error):
            raise
        current_app.logger.info("calendar feed served without noting its use: database busy")
