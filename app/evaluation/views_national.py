"""The national comparison without personal data (blueprint ``evaluation_national``): the
aggregate export of a project-year (its coordinators, administrators for any project), the
administrators' export of every project, and their page comparing the projects side by side
— suppressed aggregates only, never a household (``app.evaluation.national``)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.audit.services import record
from app.auth.views import reauth_required
from app.db import commit_keeping_loaded, db
from app.errors import render_error
from app.evaluation import national
from app.formatting import today_paris
from app.http import int_arg
from app.paging import window
from app.permissions import Permission, has_permission, permission_required
from app.projects.models import Project
from app.reports.cache import cache_seconds
from app.reports.views import small_count_threshold

bp = Blueprint("evaluation_national", __name__)

EXPORT = Permission.EXPORT_NATIONAL_EVALUATION
COMPARE = Permission.COMPARE_PROJECTS
PROJECTS_PER_PAGE = 6


def exportable_projects(user):
    """The projects whose export ``user`` may download: every project for those who compare
    the projects (administrators), else the projects they work on (coordinators)."""
    statement = select(Project).order_by(Project.id)
    if has_permission(user, COMPARE):
        return statement
    return statement.where(Project.id.in_(sorted(user.project_ids) or [-1]))


def _download(filename: str, content: bytes) -> Response:
    return Response(
        content,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _log_download(project_id: int | None, year: int, projects: int) -> None:
    """The download is journaled (and committed) before the file is sent."""
    record(
        current_user,
        "evaluation.national_export",
        details={"project_id": project_id, "year": year, "projects": projects},
    )
    db.session.commit()


def _year_or_error():
    """The year asked (``annee``), last year when none is asked; a French 400 page for a
    year that cannot be read."""
    today = today_paris()
    if "annee" not in request.args:
        return today.year - 1, None
    try:
        return national.parse_year(request.args.get("annee"), today), None
    except national.YearError as error:
        return None, render_error(400, str(error))


@bp.route("/evaluation/nationale/projets/<int:project_id>/export.zip")
@permission_required(EXPORT)
@reauth_required()
def export_project(project_id: int):
    project = db.session.scalar(exportable_projects(current_user).where(Project.id == project_id))
    if project is None:
        abort(404)  # outside the user's projects: as if it did not exist
    year, error = _year_or_error()
    if error:
        return error
    threshold = small_count_threshold()
    figures = national.project_figures(db.session, project, year, today_paris(), threshold)
    filename, content = national.export_zip([figures], year, threshold, project.id)
    _log_download(project.id, year, 1)
    return _download(filename, content)


@bp.route("/evaluation/nationale/export.zip")
@permission_required(EXPORT, COMPARE)
@reauth_required()
def export_all():
    year, error = _year_or_error()
    if error:
        return error
    threshold, as_of = small_count_threshold(), today_paris()
    figures = [
        national.project_figures(db.session, project, year, as_of, threshold)
        for project in national.all_projects(db.session)
    ]
    filename, content = national.export_zip(figures, year, threshold, None)
    _log_download(None, year, len(figures))
    return _download(filename, content)


def _compare_year(today) -> tuple[int, str | None]:
    """The year of the comparison: the asked one, else last year (with a message when the
    asked one cannot be read)."""
    if "annee" not in request.args:
        return today.year - 1, None
    try:
        return national.parse_year(request.args.get("annee"), today), None
    except national.YearError as error:
        return today.year - 1, str(error)


@bp.route("/evaluation/comparaison")
@permission_required(COMPARE)
def compare():
    """Every project side by side for one year and one table, a few projects per page."""
    today = today_paris()
    year, year_error = _compare_year(today)
    page = window(
        exportable_projects(current_user), page=int_arg("page") or 1, per_page=PROJECTS_PER_PAGE
    )
    threshold = small_count_threshold()
    figures = national.compared_figures(db.session, page.items, year, today, threshold)
    commit_keeping_loaded()  # the figures computed now go to the cache for the next view
    comparison = national.comparison(figures, request.args.get("tableau"))
    return render_template(
        "evaluation/national/compare.html",
        year=year,
        year_error=year_error,
        years=list(range(today.year, national.FIRST_YEAR - 1, -1))[:10],
        page=page,
        comparison=comparison,
        threshold=threshold,
        cache_minutes=cache_seconds() // 60,
        export_url=url_for(".export_all", annee=year),
        page_args={"annee": year, "tableau": comparison.key} if comparison else {"annee": year},
    )
