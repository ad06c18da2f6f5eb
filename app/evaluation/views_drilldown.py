"""The households an evaluation figure counts: given a table key, a row key, a project and a
year (a row's ``drilldown`` arguments), the paginated list of the households that row counts,
for the coordinators of that project only (404 for anyone else holding VIEW_EVALUATION;
landlord staff never hold it). The list is the row's own query (``DRILLDOWNS``), restricted
to the households the coordinator's reports cover (``scope_ids``), so it lists exactly the
households the count counts."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.evaluation import axes as _axes  # noqa: F401  (registers its drill-downs)
from app.evaluation.outcomes import DRILLDOWNS, TITLES
from app.evaluation.tables import EvaluationScope
from app.formatting import today_paris
from app.households.models import Household
from app.http import int_arg
from app.paging import window
from app.permissions import Permission, permission_required
from app.reports.scope import scope_ids

bp = Blueprint("evaluation_drilldown", __name__)
PER_PAGE = 50


def row_households(user, project_id: int, table: str, row: str, year: int, as_of: date):
    """Ids of the households of ``project_id`` counted by ``row`` of ``table`` (a Select),
    or None when the table or row has no drill-down."""
    build = DRILLDOWNS.get(table)
    if build is None:
        return None
    households = scope_ids(user, [project_id], include_anonymised=True)
    return build(households, EvaluationScope((project_id,), year, as_of), row)


def _as_of(raw: str | None, today: date) -> date:
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        abort(404)
    return min(day, today)


def _year(today: date) -> int:
    year = int_arg("year")
    if year is None or not 2000 <= year <= today.year:
        abort(404)
    return year


@bp.route("/evaluation/menages/<table>/<row>")
@permission_required(Permission.VIEW_EVALUATION)
def households(table: str, row: str):
    project_id = int_arg("projet")
    if project_id is None or project_id not in current_user.project_ids:
        abort(404)
    today = today_paris()
    year = _year(today)
    as_of = _as_of(request.args.get("as_of"), today)
    ids: Select | None = row_households(current_user, project_id, table, row, year, as_of)
    if ids is None:
        abort(404)
    statement = (
        select(Household)
        .where(Household.id.in_(ids))
        .options(selectinload(Household.members))
        .order_by(Household.reference)
    )
    page = window(statement, page=int_arg("page") or 1, per_page=PER_PAGE)
    args = {"projet": project_id, "year": year, "as_of": as_of.isoformat()}
    return render_template(
        "evaluation/drilldown.html",
        window=page,
        table=table,
        title=TITLES.get(table, table),
        row=row,
        year=year,
        as_of=as_of,
        args={"table": table, "row": row, **args},
    )
