"""Reminder pages: the inbox, a household's reminders, postponing, the thresholds page, the
calendar address and the calendar feed itself; plus ``flask --app wsgi reminders sweep`` and
``flask --app wsgi reminders digest``."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import (
    Blueprint,
    g,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from app import clock
from app.db import db
from app.errors import DomainError
from app.formatting import today_paris
from app.forms import press, submit
from app.households.file import open_household_file
from app.permissions import Permission, has_permission, permission_required
from app.reminders import services, triage
from app.reminders.forms import (
    BulkDoneForm,
    DoneForm,
    EmptyForm,
    ManualReminderForm,
    PostponeForm,
    settings_form,
)
from app.reminders.models import SETTINGS, CalendarFeed, Reminder
from app.reminders.next_actions import next_action_texts
from app.reminders.queries import (
    count_due,
    current_settings,
    get_my_reminder_or_404,
    group_by_date,
    household_reminders,
    my_reminders,
)
from app.reminders.rules import RULES, rule_title
from app.users.queries import user_by_name

bp = Blueprint("reminders", __name__, cli_group="reminders")
bp.cli.help = "Rappels : passage manuel de la détection des échéances."

VIEW = Permission.VIEW_REMINDERS


@bp.app_context_processor
def _reminder_globals():
    return {"reminder_count": _reminder_count, "rule_title": rule_title}


def _reminder_count() -> int:
    """The navigation count: one COUNT query, at most once per request."""
    if "reminder_count" not in g:
        g.reminder_count = (
            count_due(current_user, today_paris()) if has_permission(current_user, VIEW) else 0
        )
    return g.reminder_count


# --- inbox -----------------------------------------------------------------------------


@bp.route("/rappels/")
@permission_required(VIEW)
def inbox():
    """The inbox: by period (or by household), filtered by kind and household, a page of
    ``triage.PAGE_SIZE`` at a time; several reminders can be marked done at once."""
    today = today_paris()
    filters = triage.parse_filters(current_user, request.args)
    page = triage.inbox_page(current_user, filters, today)
    if filters.by_household:
        groups = triage.group_by_household(page.reminders)
    else:
        groups = [
            (anchor, label, items)
            for anchor, label, items, _tone in group_by_date(page.reminders, today).groups()
            if items
        ]
    kinds, households = triage.filter_choices(current_user)
    return render_template(
        "reminders/inbox.html",
        page=page,
        groups=groups,
        filters=filters,
        kinds=kinds,
        households=households,
        texts=next_action_texts(current_user, page.reminders),
        today=today,
        done_form=DoneForm(),
        bulk_form=BulkDoneForm(),
    )


def _bulk_ids(values: list[str]) -> list[int] | None:
    """The ticked ids, or None when one is not an id."""
    ids = []
    for value in values:
        value = value.strip()
        if not value.isdigit() or len(value) > 9:
            return None
        ids.append(int(value))
    return sorted(set(ids))


@bp.route("/rappels/fait", methods=["POST"])
@permission_required(VIEW)
def bulk_done():
    """Mark the ticked reminders done, with one note: all of them or none."""
    form = BulkDoneForm()
    ids = _bulk_ids(request.form.getlist("ids"))
    back = url_for(".inbox", **triage.parse_filters(current_user, request.form).args(page=None))

    def action():
        if ids is None:
            raise DomainError("La sélection est invalide : rien n'a été modifié.")
        found = db.session.scalars(my_reminders(current_user).where(Reminder.id.in_(ids))).all()
        return services.mark_many_done(current_user, list(found), len(ids), note=form.note.data)

    return press(
        form,
        action,
        lambda n: f"{n} rappel{'s' if n > 1 else ''} marqué{'s' if n > 1 else ''} comme fait.",
        back,
        invalid=lambda form: " ".join(e for errors in form.errors.values() for e in errors),
    )


def _back(reminder: Reminder, back: str | None) -> str:
    if back == "menage" and reminder.household_id is not None:
        return url_for(".household", household_id=reminder.household_id)
    return url_for(".inbox")


@bp.route("/rappels/<int:reminder_id>/fait", methods=["POST"])
@permission_required(VIEW)
def done(reminder_id: int):
    reminder = get_my_reminder_or_404(current_user, reminder_id)
    form = DoneForm()
    return press(
        form,
        lambda: services.mark_done(current_user, reminder, note=form.note.data),
        lambda _result: f"Rappel « {reminder.title} » marqué comme fait.",
        _back(reminder, form.back.data),
        invalid=lambda form: " ".join(e for errors in form.errors.values() for e in errors),
    )


@bp.route("/rappels/<int:reminder_id>/reporter", methods=["GET", "POST"])
@permission_required(VIEW)
def postpone(reminder_id: int):
    reminder = get_my_reminder_or_404(current_user, reminder_id)
    form = PostponeForm()
    if not form.is_submitted():
        form.back.data = request.args.get("depuis")
    done = submit(
        form,
        lambda: services.postpone(
            current_user, reminder, new_date=form.new_date.data, reason=form.reason.data
        ),
        lambda _result: f"Rappel « {reminder.title} » reporté au {form.new_date.data:%d/%m/%Y}.",
        lambda _result: _back(reminder, form.back.data),
    )
    return done or render_template("reminders/postpone.html", reminder=reminder, form=form)


# --- a household's reminders -------------------------------------------------------------


@bp.route("/menages/<int:household_id>/rappels", methods=["GET", "POST"])
@permission_required(VIEW)
def household(household_id: int):
    household = open_household_file(household_id)
    form = ManualReminderForm()
    done = submit(
        form,
        lambda: services.create_manual_reminder(
            current_user, household, title=form.title.data, due_on=form.due_on.data
        ),
        "Rappel ajouté : il apparaîtra dans vos rappels à la date choisie.",
        url_for(".household", household_id=household.id),
    )
    if done:
        return done
    reminders = db.session.scalars(
        household_reminders(current_user, household)
        .order_by(Reminder.status != "a_faire", Reminder.due_on.desc())
        .options(
            # Only what the tab shows: the household is the page's (already loaded), the
            # people by name (not their roles and projects), in the reminders' one query.
            lazyload(Reminder.household),
            *user_by_name(joinedload(Reminder.recipient_user)),
            *user_by_name(joinedload(Reminder.closed_by)),
            joinedload(Reminder.recipient_organisation),
        )
    ).all()
    open_reminders = [r for r in reminders if r.is_open]
    closed_reminders = [r for r in reminders if not r.is_open][:20]
    return render_template(
        "reminders/household.html",
        household=household,
        open_reminders=sorted(open_reminders, key=lambda r: r.shown_on),
        closed_reminders=closed_reminders,
        form=form,
        done_form=DoneForm(),
        today=today_paris(),
        my_ids=_my_reminder_ids(open_reminders),
        texts=next_action_texts(current_user, open_reminders),
    )


def _my_reminder_ids(reminders) -> set[int]:
    """Which of these reminders the viewer may act on (those addressed to them)."""
    ids = [r.id for r in reminders]
    if not ids:
        return set()
    query = my_reminders(current_user).where(Reminder.id.in_(ids))
    return set(db.session.scalars(query.with_only_columns(Reminder.id)))


# --- thresholds (administration) ---------------------------------------------------------


@bp.route("/admin/rappels", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_SETTINGS)
def settings():
    form = settings_form(current_settings())
    done = submit(
        form,
        lambda: services.update_settings(
            current_user, {spec.key: getattr(form, spec.key).data for spec in SETTINGS}
        ),
        lambda changed: (
            f"{len(changed)} réglage(s) enregistré(s) : ils s'appliquent au prochain passage."
            if changed
            else "Aucun réglage modifié."
        ),
        url_for(".settings"),
    )
    return done or render_template(
        "reminders/settings.html", form=form, specs=SETTINGS, rules=RULES
    )


# --- calendar ------------------------------------------------------------------------------


@bp.route("/rappels/calendrier", methods=["GET", "POST"])
@permission_required(VIEW)
def calendar():
    """The user's calendar address: POST creates a new one (shown once)."""
    form = EmptyForm()
    done = submit(
        form,
        lambda: services.create_calendar_feed(current_user),
        None,
        None,
        # The new address is shown once, in the response to the POST.
        page=lambda token: _calendar_page(
            form, url_for("agenda.feed", token=token, _external=True)
        ),
    )
    return done or _calendar_page(form, None)


def _calendar_page(form, new_url: str | None):
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == current_user.id))
    return render_template("reminders/calendar.html", feed=feed, form=form, new_url=new_url)


@bp.route("/rappels/calendrier/revoquer", methods=["POST"])
@permission_required(VIEW)
def revoke_calendar():
    return press(
        EmptyForm(),
        lambda: services.revoke_calendar_feed(current_user),
        lambda revoked: (
            "L'adresse de votre calendrier est révoquée : elle ne fonctionne plus."
            if revoked
            else None
        ),
        url_for(".calendar"),
        invalid=None,
    )


# --- command line ----------------------------------------------------------------------------


@bp.cli.command(
    "sweep", help="Lancer un passage des rappels à la main (sans effet s'il a déjà eu lieu)."
)
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Date (AAAA-MM-JJ) ou date-heure ISO du passage ; par défaut maintenant.",
)
def sweep_command(now_text: str | None) -> None:
    """Run one reminder sweep by hand (idempotent: a second run creates nothing)."""
    from app.reminders.jobs import sweep

    now = _parse_now(now_text)
    summary = sweep(now)
    db.session.commit()
    click.echo(
        f"Passage du {summary['today']} : {summary['created']} rappel(s) créé(s), "
        f"{summary['closed']} clos automatiquement."
    )


@bp.cli.command(
    "digest",
    help=(
        "Envoyer à la main le résumé quotidien des rappels par e-mail. Sans danger à "
        "relancer : un utilisateur déjà servi ce jour-là est laissé de côté, un envoi en "
        "échec est retenté ; code de sortie 1 si un envoi a échoué."
    ),
)
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Jour du résumé (AAAA-MM-JJ) ; par défaut aujourd'hui (heure de Paris).",
)
def digest_command(day: datetime | None) -> None:
    """Send the daily digest by hand: users already served that day (or with nothing to
    receive) are skipped, failed sends are retried; exit status 1 if a send failed."""
    from app.formatting import format_date
    from app.reminders.jobs import send_digests

    summary = send_digests(clock.now(), day=day.date() if day else None)
    db.session.commit()
    shown = format_date(datetime.fromisoformat(summary["today"]).date())
    sent = summary["sent"]
    click.echo(
        f"Résumé du {shown} : {sent} envoyé{'s' if sent > 1 else ''}, "
        f"{summary['failed']} en échec, {summary['skipped']} sans rappel"
    )
    if summary["earlier"]:
        click.echo(f"Déjà traités plus tôt ce jour-là (non renvoyés) : {summary['earlier']}")
    if summary["failed"]:
        raise SystemExit(1)


def _parse_now(text: str | None) -> datetime:
    if not text:
        return clock.now()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("format attendu : AAAA-MM-JJ ou AAAA-MM-JJTHH:MM") from None
    if value.tzinfo is None:
        from app.formatting import PARIS

        value = (
            value.replace(tzinfo=PARIS) if len(text) > 10 else value.replace(hour=12, tzinfo=PARIS)
        )
    return value.astimezone(UTC)
