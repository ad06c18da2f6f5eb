"""Pilotage: caseloads per référent, stalled files, reassignment, programme indicators with
charts, exports; and the printable household synthesis.

Pilotage pages are for holders of VIEW_CASELOADS / VIEW_INDICATORS (coordinators) and show
only the households of the coordinator's projects (``visible_households``). The synthesis
follows the household's own visibility (``get_household_or_404``) and field rules."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from app import bounds
from app.audience import Audience, can_read
from app.audit.services import record
from app.auth.views import reauth_required
from app.db import commit_keeping_loaded, db
from app.errors import DomainError
from app.formatting import format_date, format_money, to_paris, today_paris
from app.forms import apply_domain_error
from app.households.models import HouseholdStage, StageTransition
from app.households.queries import get_household_or_404
from app.households.services import record_file_read
from app.http import id_list, int_arg
from app.permissions import (
    Permission,
    has_permission,
    permission_required,
)
from app.reports import cache, queries, services
from app.reports.forms import PeriodForm, ReassignForm

bp = Blueprint("reports", __name__)

CASELOADS = Permission.VIEW_CASELOADS
FORMATS = "<any(csv, xlsx):fmt>"
MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DEFAULT_SMALL_COUNT = 5


# --- shared helpers -----------------------------------------------------------------------


def _projects():
    """The coordinator's projects, and the ids the page covers (one, or all of them)."""
    projects = queries.coordinator_projects(current_user)
    chosen = int_arg("projet", request.values)
    ids = [p.id for p in projects]
    return projects, ([chosen] if chosen in ids else ids), (chosen if chosen in ids else None)


def _referent_arg(value: str | None):
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


def _number(value: Decimal | int, decimals: int = 1) -> str:
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
        return f"{_number(value)}\u00a0%"
    return _number(value)


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
    projects, ids, chosen = _projects()
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
    projects, ids, chosen = _projects()
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
            },
        )
    form.new_referent_id.choices = [(0, "Choisir…"), *queries.referent_candidates(ids)]
    context["form"] = form
    context["can_reassign"] = has_permission(current_user, Permission.REASSIGN_HOUSEHOLDS)
    if source == "stalled":
        days = _no_contact_days(args.get("jours"))
        context["stalled"] = queries.stalled_files(current_user, ids, today, days)
        context["days"] = days
        return context
    kind = args.get("indicateur") if args.get("indicateur") in queries.DRILL_DOWNS else "menages"
    referent = _referent_arg(args.get("referent"))
    lines = queries.caseload_households(current_user, ids, today, kind=kind, referent=referent)
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
    try:
        changed = services.reassign_households(
            current_user,
            households,
            new_referent_id=form.new_referent_id.data,
            reason=form.reason.data,
            now=None,
        )
    except DomainError as error:
        db.session.rollback()
        if error.field == "household_ids":
            flash(error.message, "error")
        else:
            apply_domain_error(form, error)
        return render_template(template, **_list_context(source, form.data, form), ticked=submitted)
    db.session.commit()
    if changed:
        name = changed[0].referent.full_name
        count = len(changed)
        flash(
            f"{count} ménage{'s' if count > 1 else ''} confié{'s' if count > 1 else ''} à "
            f"{name}, qui a un rappel pour prendre contact.",
            "success",
        )
    else:
        flash("Ces ménages étaient déjà suivis par cette personne : rien n'a changé.", "info")
    return redirect(_back_to_list(form))


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
        **args,
    )


# --- indicators ---------------------------------------------------------------------------


def _period_form(projects) -> PeriodForm:
    today = today_paris()
    args = request.args.copy()
    args.setdefault("debut", date(today.year, 1, 1).isoformat())
    args.setdefault("fin", today.isoformat())
    form = PeriodForm(formdata=args)
    form.projet.choices = [("", "Tous mes projets")] + [(str(p.id), p.name) for p in projects]
    return form


REFRESH_ARG = "recalculer"


def _cached_or_none(
    ids, form, *, refresh: bool = False, commit: bool = True
) -> cache.CachedIndicators | None:
    """The indicators of the form's period, from the shared cache when fresh (see
    ``app.reports.cache``). ``commit``: commit a newly computed entry here, keeping what the
    session holds loaded (nothing else is pending on the page's GET)."""
    if not form.validate():
        return None
    period = queries.Period(form.debut.data, form.fin.data)
    result = cache.cached_indicators(current_user, ids, period, refresh=refresh)
    if result.computed_now and commit:
        commit_keeping_loaded()
    return result


def computed_at_text(computed_at, now=None) -> str:
    """``Chiffres calculés à 21 h 14`` (Paris time), with the date when not today."""
    moment = to_paris(computed_at)
    clock = f"{moment.hour} h {moment.minute:02d}"
    if moment.date() == today_paris(now):
        return f"Chiffres calculés à {clock}"
    return f"Chiffres calculés le {format_date(moment)} à {clock}"


def _period_args() -> dict:
    return {k: v for k, v in request.args.items() if k in ("projet", "debut", "fin") and v}


@bp.route("/pilotage/indicateurs")
@permission_required(Permission.VIEW_INDICATORS)
def indicators():
    """The indicators, from the shared cache when fresh; ``?recalculer=1`` recomputes them,
    replaces the cached entry and comes back to the same page (same project and period)."""
    projects, ids, chosen = _projects()
    form = _period_form(projects)
    refresh = bool(request.args.get(REFRESH_ARG))
    result = _cached_or_none(ids, form, refresh=refresh)
    if refresh and result is not None:
        return redirect(url_for("reports.indicators", **_period_args()))
    data = result.data if result else None
    minutes = cache.cache_seconds() // 60
    return render_template(
        "reports/indicators.html",
        form=form,
        projects=projects,
        data=data,
        charts=_charts(data) if data else None,
        computed_at=computed_at_text(result.computed_at) if result else None,
        cache_minutes=minutes,
        chosen=chosen,
        threshold=small_count_threshold(),
        export_args=_period_args(),
        refresh_args={**_period_args(), REFRESH_ARG: "1"},
    ), (200 if data or not form.errors else 400)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


MONTH_WIDTH = 48  # SVG units per month: room for "sept." at 12 px
AXIS_WIDTH = 56


def _svg_columns(series: queries.ChartSeries, top_label, height: int = 160) -> dict:
    """Geometry of a monthly column chart (one group per month, one column per series) drawn
    with SVG attributes only (the CSP forbids style attributes). ``top_label(value)`` writes
    the top of the scale."""
    per_group = len(series.columns)
    column_w = (MONTH_WIDTH - 12) / per_group
    top = max((v for _label, values in series.rows for v in values), default=0)
    scale = top or 1
    bars, labels = [], []
    classes = ("chart__bar", "chart__bar chart__bar--warning")
    for i, (key, values) in enumerate(series.rows):
        x0 = AXIS_WIDTH + i * MONTH_WIDTH
        for j, value in enumerate(values):
            h = round(value * height / scale, 1)
            bars.append(
                Bar(
                    round(x0 + 6 + j * column_w, 1),
                    round(10 + height - h, 1),
                    round(column_w - 2, 1),
                    h,
                    classes[j % 2],
                    f"{month_key_label(key)} · {series.columns[j]} : {top_label(value)}",
                )
            )
        month, year = _short_month(key)
        labels.append((x0 + MONTH_WIDTH / 2, month, year if i == 0 or key.endswith("-01") else ""))
    return {
        "width": max(AXIS_WIDTH + len(series.rows) * MONTH_WIDTH + 8, 320),
        "height": height + 48,
        "base": height + 10,
        "bars": bars,
        "labels": labels,
        "top": top_label(top),
    }


MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)


def _short_month(key: str) -> tuple[str, str]:
    year, month = key.split("-")
    return MONTHS[int(month) - 1], year


@bp.app_template_filter("month_key_label")
def month_key_label(key: str) -> str:
    year, month = key.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def _charts(data: queries.Indicators) -> dict:
    flows = data.charts["flux"]
    trend = data.charts["impayes"]
    debt_only = queries.ChartSeries(
        trend.key, trend.title, ("Dette totale",), [(k, (v[1],)) for k, v in trend.rows]
    )
    return {
        "flux": _svg_columns(flows, str),
        "impayes": _svg_columns(debt_only, _euros),
        "intensite": _css_bars(data.charts["intensite"]),
        "sorties": _css_bars(data.charts["sorties"]),
    }


def _euros(cents: int) -> str:
    return f"{_number(Decimal(cents) / 100, 0)}\u00a0€"


def _css_bars(series: queries.ChartSeries) -> list[tuple[str, int, str]]:
    top = max((values[0] for _label, values in series.rows), default=0)
    return [
        (label, values[0], queries.width_class(values[0], top)) for label, values in series.rows
    ]


# --- exports ------------------------------------------------------------------------------


def _download(content: bytes, fmt: str, name: str) -> Response:
    return Response(
        content,
        mimetype=MIME[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(…) leaking data,
# DDE commands): text typed by users is prefixed with an apostrophe so it stays text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows([_as_text(value) for value in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx(sheets: list[tuple[str, list[list]]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append([_as_text(value) for value in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 40
        sheet.column_dimensions["B"].width = 60
        sheet.column_dimensions["C"].width = 18
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(figure, threshold: int, fmt: str):
    hidden = masked_text(figure, threshold)
    if hidden is not None:
        return hidden
    if fmt == "csv" or figure.value is None:
        return figure_text(figure)
    if figure.kind == "cents":
        return float(Decimal(figure.value) / 100)
    if figure.kind == "count":
        return int(figure.value)
    return float(figure.value)


UNITS = {
    "count": "ménages",
    "days": "jours",
    "months": "mois",
    "ratio": "contacts",
    "percent": "%",
    "cents": "€",
}


def indicator_rows(data: queries.Indicators, threshold: int, fmt: str) -> list[list]:
    """The indicators as rows — section, indicator, value, unit — with the small counts
    masked. No household reference, name or free text: aggregates only."""
    projects = ", ".join(p.name for p in data.projects)
    rows = [
        ["Rubrique", "Indicateur", "Valeur", "Unité"],
        ["Périmètre", "Projets", projects, ""],
        ["Périmètre", "Du", data.period.start.isoformat(), ""],
        ["Périmètre", "Au", data.period.end.isoformat(), ""],
        ["Périmètre", "Petits effectifs masqués en dessous de", threshold, "ménages"],
    ]
    for section in data.sections:
        for figure in section.figures:
            unit = UNITS[figure.kind]
            if figure.key == "contacts" or figure.key == "household_months":
                unit = "contacts" if figure.key == "contacts" else "mois"
            rows.append([section.title, figure.label, _cell(figure, threshold, fmt), unit])
    return rows


def monthly_rows(data: queries.Indicators, threshold: int, fmt: str) -> list[list]:
    flows, trend = data.charts["flux"], dict(data.charts["impayes"].rows)
    rows = [["Mois", "Entrées", "Sorties", "Ménages en impayé", "Dette totale (€)"]]
    for key, (entries, exits) in flows.rows:
        households, cents = trend.get(key, (0, 0))
        count_cell = f"< {threshold}" if 0 < households < threshold else households
        money = f"< {threshold} ménages" if 0 < households < threshold else cents / 100
        if fmt == "csv" and not isinstance(money, str):
            money = _number(Decimal(cents) / 100, 2)
        rows.append([key, entries, exits, count_cell, money])
    return rows


@bp.route(f"/pilotage/indicateurs/export.{FORMATS}")
@permission_required(Permission.VIEW_INDICATORS, Permission.EXPORT_DATA)
@reauth_required()
def export_indicators(fmt: str):
    """The indicators as CSV or XLSX, small counts masked. The figures come from the same
    shared cache as the page (``app.reports.cache``): while the page's figures are fresh, the
    export holds exactly what the page shows; otherwise they are computed (and cached) now."""
    projects, ids, _chosen = _projects()
    form = _period_form(projects)
    result = _cached_or_none(ids, form, commit=False)  # committed with the audit entry
    data = result.data if result else None
    if data is None:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("reports.indicators", **request.args))
    threshold = small_count_threshold()
    rows = indicator_rows(data, threshold, fmt)
    months = monthly_rows(data, threshold, fmt)
    if fmt == "csv":
        content = _csv([*rows, [], *months])
    else:
        content = _xlsx([("Indicateurs", rows), ("Par mois", months)])
    record(
        current_user,
        "reports.export",
        details={"kind": "indicators", "format": fmt, "rows": len(rows) - 1 + len(months) - 1},
    )
    db.session.commit()
    name = f"indicateurs-{data.period.start.isoformat()}-{data.period.end.isoformat()}"
    return _download(content, fmt, name)


CASELOAD_COLUMNS = [
    "Référence",
    "Projet",
    "Référent·e",
    "Étape",
    "Poids",
    "Dernier contact",
    "Jours depuis le contact",
    "Rythme de contact dépassé",
    "Prochain bilan",
    "Fin prévue de la mesure",
    "Rappels en retard",
    "Impayé en hausse",
]


def caseload_rows(lines, fmt: str) -> list[list]:
    """The households of a caseload list: references and référents, no social content."""

    def day(value):
        if value is None:
            return ""
        return value.strftime("%d/%m/%Y") if fmt == "csv" else value

    def yes(value: bool) -> str:
        return "oui" if value else "non"

    rows = [CASELOAD_COLUMNS]
    for line in lines:
        rows.append(
            [
                line.reference,
                line.project_name,
                line.referent_name or "Sans référent·e",
                line.stage_label,
                _number(line.weight) if fmt == "csv" else float(line.weight),
                day(line.last_contact_on),
                "" if line.days_since_contact is None else line.days_since_contact,
                yes(line.is_contact_overdue),
                day(line.next_review_on),
                day(line.planned_end_on),
                line.overdue_reminders,
                yes(line.is_arrears_rising),
            ]
        )
    return rows


@bp.route(f"/pilotage/menages/export.{FORMATS}")
@permission_required(CASELOADS, Permission.EXPORT_DATA)
@reauth_required()
def export_caseload(fmt: str):
    _projects_list, ids, _chosen = _projects()
    kind = request.args.get("indicateur")
    kind = kind if kind in queries.DRILL_DOWNS else "menages"
    lines = queries.caseload_households(
        current_user,
        ids,
        today_paris(),
        kind=kind,
        referent=_referent_arg(request.args.get("referent")),
    )
    rows = caseload_rows(lines, fmt)
    content = _csv(rows) if fmt == "csv" else _xlsx([("Ménages", rows)])
    record(
        current_user,
        "reports.export",
        details={"kind": "caseload", "format": fmt, "rows": len(lines), "filter": kind},
    )
    db.session.commit()
    return _download(content, fmt, f"portefeuilles-{today_paris().isoformat()}")


# --- the printable household synthesis ----------------------------------------------------


@bp.route("/menages/<int:household_id>/synthese")
@permission_required(Permission.VIEW_HOUSEHOLDS)
def household_synthesis(household_id: int):
    household = get_household_or_404(current_user, household_id)
    today = today_paris()
    # Members' details, measures, objectives, reviews and notes: the social audience.
    social = can_read(current_user, Audience.SOCIAL)
    context = _synthesis_context(household, today, social)
    record_file_read(current_user, household, page=request.endpoint, export="print")
    db.session.commit()
    return render_template(
        "reports/synthesis.html", household=household, today=today, social=social, **context
    )


def _synthesis_context(household, today: date, social: bool) -> dict:
    """What the synthesis shows. Landlord staff (no READ_SOCIAL_CONTENT) get the tenancy
    class only: no members' details, measures, objectives, reviews or notes — the shared
    summaries the household agreed to share instead."""
    from app.housing.queries import tenancy_detail
    from app.interventions.queries import household_interventions, shared_summaries
    from app.partners.queries import household_meetings
    from app.reminders.models import OPEN_STATUSES, Reminder
    from app.reminders.queries import household_reminders
    from app.support.queries import household_measures, household_objectives, household_reviews

    transitions = list(
        db.session.scalars(
            select(StageTransition)
            .where(StageTransition.household_id == household.id)
            .order_by(StageTransition.on, StageTransition.id)
        )
    )
    meetings = household_meetings(household)
    upcoming = sorted(
        {m.held_on for m in meetings if m.held_on >= today}
        | {m.next_meeting_on for m in meetings if m.next_meeting_on and m.next_meeting_on >= today}
    )
    reminders = list(
        db.session.scalars(
            household_reminders(current_user, household)
            .where(Reminder.status.in_(OPEN_STATUSES))
            .order_by(Reminder.due_on)
            .limit(10)
        )
    )
    context = {
        "stage_labels": {stage.value: stage.label for stage in HouseholdStage},
        "transitions": transitions,
        "tenancy": tenancy_detail(household, current_user, today=today),
        "last_meeting": meetings[0] if meetings else None,
        "upcoming_meetings": upcoming,
        "reminders": reminders,
    }
    if social:
        measures = household_measures(household)
        reviews = household_reviews(household)
        context.update(
            measures=measures,
            objectives=household_objectives(household),
            last_review=reviews[0] if reviews else None,
            contacts=household_interventions(household, limit=8),
        )
    else:
        context.update(contacts=shared_summaries(household)[:8])
    return context
