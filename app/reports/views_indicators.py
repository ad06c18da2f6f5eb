"""Pilotage: the programme indicators page, its cached figures and its charts.

Routes of the ``reports`` blueprint (``app.reports.views``), split off by seam."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.db import commit_keeping_loaded
from app.formatting import format_date, to_paris, today_paris
from app.permissions import Permission, permission_required
from app.reports import cache, queries
from app.reports.forms import PeriodForm
from app.reports.views import bp, chosen_projects, number_text, small_count_threshold

# --- indicators ---------------------------------------------------------------------------


def period_form(projects) -> PeriodForm:
    today = today_paris()
    args = request.args.copy()
    args.setdefault("debut", date(today.year, 1, 1).isoformat())
    args.setdefault("fin", today.isoformat())
    form = PeriodForm(formdata=args)
    form.projet.choices = [("", "Tous mes projets")] + [(str(p.id), p.name) for p in projects]
    return form


REFRESH_ARG = "recalculer"


def cached_or_none(
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
    projects, ids, chosen = chosen_projects()
    form = period_form(projects)
    refresh = bool(request.args.get(REFRESH_ARG))
    result = cached_or_none(ids, form, refresh=refresh)
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
    return f"{number_text(Decimal(cents) / 100, 0)}\u00a0€"


def _css_bars(series: queries.ChartSeries) -> list[tuple[str, int, str]]:
    top = max((values[0] for _label, values in series.rows), default=0)
    return [
        (label, values[0], queries.width_class(values[0], top)) for label, values in series.rows
    ]
