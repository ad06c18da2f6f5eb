"""Pilotage: caseloads per référent, stalled files, reassignment and the printable household
synthesis (here); programme indicators with charts (``views_indicators``) and exports
(``views_exports``) — one blueprint, ``reports``.

Pilotage pages are for holders of VIEW_CASELOADS / VIEW_INDICATORS (coordinators) and show
only the households of the coordinator's projects (``visible_households``). The synthesis
follows the household's own visibility (``open_household_file``) and field rules."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, flash, render_template, request, url_for
from flask_login import current_user

from app import bounds
from app.audience import Audience, can_read
from app.formatting import format_money, today_paris
from app.forms import commit_service
from app.households.file import open_household_file
from app.http import id_list, int_arg
from app.paging import Window
from app.permissions import Permission, has_permission, permission_required
from app.reports import queries, services
from app.reports.forms import ReassignForm
from app.reports.synthesis import synthesis_context

bp = Blueprint("reports", __name__)

CASELOADS = Permission.VIEW_CASELOADS
FORMATS = "<any(csv, xlsx):fmt>"
MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DEFAULT_SMALL_COUNT = 5


# --- shared helpers -----------------------------------------------------------------------


def chosen_projects():
    """The coordinator's projects, and the ids the page covers (one, or all of them)."""
    projects = queries.coordinator_projects(current_user)
    chosen = int_arg("projet", request.values)
    ids = [p.id for p in projects]
    return projects, ([chosen] if chosen in ids else ids), (chosen if chosen in ids else None)


def referent_arg(value: str | None):
    if value == queries.NO_REFERENT:
        return queries.NO_REFERENT
    return bounds.id_or_none(value) if value else None


def _no_contact_days(value) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        return queries.DEFAULT_NO_CONTACT_DAYS
    return min(max(days, 1), 365)


def small_count_threshold() -> int:
    return int(current_app.config.get("INDICATORS_SMALL_COUNT", DEFAULT_SMALL_COUNT))


def number_text(value: Decimal | int, decimals: int = 1) -> str:
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return text


@bp.app_template_global()
def figure_text(figure) -> str:
    """A figure as the pages (and exports) write it, the French way."""
    value = figure.value
    if value is None:
        return "—"
    if figure.kind == "count":
        return str(int(value))
    if figure.kind == "cents":
        return format_money(int(value))
    if figure.kind == "percent":
        return f"{number_text(value)}\u00a0%"
    return number_text(value)


def masked_text(figure, threshold: int) -> str | None:
    """What an export shows instead of a figure that could single out a household: counts
    of 1 to threshold−1 in a category, and means, shares or amounts computed on fewer than
    ``threshold`` households. None when the figure is shown as it is."""
    if figure.value is None:
        return None
    if figure.is_breakdown and 0 < int(figure.value) < threshold:
        return f"< {threshold}"
    if figure.base is not None and 0 < figure.base < threshold:
        return f"masqué (moins de {threshold} ménages)"
    return None


# --- caseloads ----------------------------------------------------------------------------


@bp.route("/pilotage/")
@permission_required(CASELOADS)
def caseloads():
    projects, ids, chosen = chosen_projects()
    today = today_paris()
    loads = queries.caseloads(current_user, ids, today)
    return render_template(
        "reports/caseloads.html",
        projects=projects,
        chosen=chosen,
        loads=loads,
        totals=loads.totals,
        today=today,
    )


def _list_context(source: str, args, form: ReassignForm | None = None) -> dict:
    """What the drill-down list or the stalled-files page needs (GET, or a refused POST)."""
    projects, ids, chosen = chosen_projects()
    today = today_paris()
    context = {"projects": projects, "chosen": chosen, "today": today}
    if form is None:
        form = ReassignForm(
            formdata=None,
            data={
                "source": source,
                "projet": chosen or "",
                "indicateur": args.get("indicateur", ""),
                "referent": args.get("referent", ""),
                "jours": args.get("jours", ""),
                "page": args.get("page", ""),
            },
        )
    form.new_referent_id.choices = [("", "Choisir…"), *queries.referent_candidates(ids)]
    context["form"] = form
    context["can_reassign"] = has_permission(current_user, Permission.REASSIGN_HOUSEHOLDS)
    if source == "stalled":
        days = _no_contact_days(args.get("jours"))
        context["stalled"] = queries.stalled_files(current_user, ids, today, days)
        context["days"] = days
        return context
    kind = args.get("indicateur") if args.get("indicateur") in queries.DRILL_DOWNS else "menages"
    referent = referent_arg(args.get("referent"))
    # A window of the list: the project's whole caseload would grow with the country.
    page_number = bounds.id_or_none(args.get("page") or "") or 1
    per_page = current_app.config["PAGE_SIZE"]
    rows = queries.caseload_households(
        current_user,
        ids,
        today,
        kind=kind,
        referent=referent,
        limit=per_page + 1,
        offset=(page_number - 1) * per_page,
    )
    lines = rows[:per_page]
    referent_name = None
    if referent == queries.NO_REFERENT:
        referent_name = "sans référent·e"
    elif referent is not None:
        referent_name = next(
            (name for uid, name in form.new_referent_id.choices if uid == referent), None
        ) or next((line.referent_name for line in lines if line.referent_id == referent), None)
    context.update(
        kind=kind,
        kind_label=queries.DRILL_DOWNS[kind][0],
        referent=referent,
        referent_name=referent_name,
        lines=lines,
        window=Window(lines, page_number, per_page, len(rows) > per_page),
        export_args={
            k: v
            for k, v in (
                ("projet", chosen),
                ("indicateur", kind),
                ("referent", args.get("referent")),
            )
            if v
        },
    )
    return context


@bp.route("/pilotage/menages")
@permission_required(CASELOADS)
def caseload_list():
    return render_template("reports/caseload_list.html", **_list_context("list", request.args))


@bp.route("/pilotage/dossiers-en-souffrance")
@permission_required(CASELOADS)
def stalled():
    return render_template("reports/stalled.html", **_list_context("stalled", request.args))


@bp.route("/pilotage/reaffecter", methods=["POST"])
@permission_required(CASELOADS, Permission.REASSIGN_HOUSEHOLDS)
def reassign():
    form = ReassignForm()
    source = "stalled" if form.source.data == "stalled" else "list"
    template = "reports/stalled.html" if source == "stalled" else "reports/caseload_list.html"
    submitted = id_list("household_ids")
    if not form.validate_on_submit():
        if not form.csrf_token.errors:
            _require_households(form, submitted)
        return render_template(template, **_list_context(source, form.data, form), ticked=submitted)
    households = queries.scoped_households(current_user, submitted)
    if len(households) != len(set(submitted)):
        # A forged or stale id (outside the coordinator's scope): change nothing at all.
        flash(
            "Un ou plusieurs ménages cochés ne font pas partie de vos projets : "
            "aucun ménage n'a été réaffecté.",
            "error",
        )
        return render_template(template, **_list_context(source, form.data, form), ticked=submitted)
    done = commit_service(  # a refusal naming household_ids (no such field) is flashed
        lambda: services.reassign_households(
            current_user,
            households,
            new_referent_id=form.new_referent_id.data,
            reason=form.reason.data,
            now=None,
        ),
        _reassigned_message,
        _back_to_list(form),
        form=form,
    )
    return done or render_template(
        template, **_list_context(source, form.data, form), ticked=submitted
    )


def _reassigned_message(changed) -> tuple[str, str]:
    if not changed:
        return "Ces ménages étaient déjà suivis par cette personne : rien n'a changé.", "info"
    name = changed[0].referent.full_name
    count = len(changed)
    return (
        f"{count} ménage{'s' if count > 1 else ''} confié{'s' if count > 1 else ''} à "
        f"{name}, qui a un rappel pour prendre contact.",
        "success",
    )


def _require_households(form, submitted) -> None:
    if not submitted:
        flash("Cochez au moins un ménage à réaffecter.", "error")


def _back_to_list(form) -> str:
    args = {"projet": form.projet.data or None}
    if form.source.data == "stalled":
        return url_for("reports.stalled", jours=form.jours.data or None, **args)
    return url_for(
        "reports.caseload_list",
        indicateur=form.indicateur.data or None,
        referent=form.referent.data or None,
        page=bounds.id_or_none(form.page.data or "") or None,
        **args,
    )


# --- the printable household synthesis ----------------------------------------------------


@bp.route("/menages/<int:household_id>/synthese")
@permission_required(Permission.VIEW_HOUSEHOLDS)
def household_synthesis(household_id: int):
    household = open_household_file(household_id, export="print")
    today = today_paris()
    # Members' details, measures, objectives, reviews and notes: the social audience.
    social = can_read(current_user, Audience.SOCIAL)
    context = synthesis_context(household, current_user, today, social)
    return render_template(
        "reports/synthesis.html", household=household, today=today, social=social, **context
    )


# The indicators and the exports are routes of this same blueprint, in sibling modules.
# Landlord staff's export of their followed tenancies.
from app.reports import (  # noqa: E402, F401
    views_exports,
    views_indicators,
    views_tenancies,
)
