"""The yearly bilan: its page per project and per association (the coordinator's projects
together), the four text sections the coordinators write, and its DOCX and PDF — blueprint
``bilan``.

Only the coordinators of a project (VIEW_EVALUATION, the project among theirs) see its bilan;
any other project is a 404. The figures come from ``app.evaluation.bilan`` (cached like the
indicators); the documents from ``app.evaluation.documents``.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import Length

from app.audit.services import record
from app.db import commit_keeping_loaded, db
from app.evaluation import bilan as service
from app.evaluation import charts as chart_module
from app.evaluation import documents, national
from app.evaluation.models_bilan import BilanSection
from app.evaluation.national import FIRST_YEAR
from app.evaluation.tables import DEFINITIONS_VERSION
from app.formatting import today_paris
from app.forms import VersionedForm, submit
from app.permissions import Permission, permission_required
from app.reports.queries import coordinator_projects
from app.reports.views_indicators import computed_at_text

bp = Blueprint("bilan", __name__, url_prefix="/evaluation")

REFRESH_ARG = "recalculer"
FORMATS = "<any(docx, pdf):fmt>"


class BilanTextForm(VersionedForm):
    text = TextAreaField(
        "Texte",
        validators=[
            Length(
                max=service.TEXT_MAX,
                message=f"{service.TEXT_MAX} caractères au plus.",
            )
        ],
    )


# --- scope and year -----------------------------------------------------------------------


def _project(project_id: int):
    """One of the coordinator's projects, else 404 (whether it exists or not)."""
    for project in coordinator_projects(current_user):
        if project.id == project_id:
            return project
    abort(404)


def _year_or_404(year: int) -> int:
    if not FIRST_YEAR <= year <= today_paris().year:
        abort(404)
    return year


def _chosen_year() -> tuple[int | None, str | None]:
    """The ``annee`` of the selector (this year when absent), or an error message; read by
    the national export's rule (``national.parse_year``)."""
    raw = request.args.get("annee", "")
    today = today_paris()
    if not raw.strip():
        return today.year, None
    try:
        return national.parse_year(raw, today), None
    except national.YearError:
        return None, f"Choisissez une année entre {FIRST_YEAR} et {today.year}."


def _years(chosen: int | None = None) -> list[int]:
    """The selector's years: this one and the five before (and the chosen one, if older)."""
    this_year = today_paris().year
    years = set(range(this_year - 5, this_year + 1)) | ({chosen} if chosen else set())
    return sorted(years, reverse=True)


# --- pages --------------------------------------------------------------------------------


@bp.route("/")
@permission_required(Permission.VIEW_EVALUATION)
def index():
    return render_template(
        "evaluation/bilan/index.html",
        projects=coordinator_projects(current_user),
        year=today_paris().year,
    )


def _text_forms(project_id: int, year: int, saved, posted=None) -> dict:
    forms = {}
    for section in BilanSection:
        if posted is not None and posted[0] == section:
            forms[section] = posted[1]
            continue
        text = saved.get(project_id, {}).get(section)
        form = BilanTextForm(formdata=None)
        form.text.data = text.text if text else ""
        form.expected_version.data = str(text.version if text else 0)
        forms[section] = form
    for section, form in forms.items():
        # Four forms on one page: ids of their own (the label's ``for``, the errors).
        form.text.id = f"texte-{section.value}"
        form.text.label.text = section.label
    return forms


def _bilan(project_ids, year: int, *, refresh: bool = False):
    result = service.build_bilan(project_ids, year, today_paris(), refresh=refresh)
    if result.computed_now:
        commit_keeping_loaded()
    return result


def _recomputed(projects, year: int | None, back: str):
    """``?recalculer=1``: replace the cached entry, then come back to the same page without
    the argument (a reload does not recompute again). None when nothing is to recompute."""
    if not request.args.get(REFRESH_ARG) or year is None or not projects:
        return None
    _bilan([p.id for p in projects], year, refresh=True)
    return redirect(back)


def _page(template: str, *, year, error, projects, project=None, posted=None, status=200):
    ids = [p.id for p in projects]
    result = _bilan(ids, year) if year is not None and ids else None
    saved = service.texts(ids, year) if year is not None else {}
    forms = _text_forms(project.id, year, saved, posted) if project and year else None
    found = chart_module.charts(result.tables, year) if result else {}
    return render_template(
        template,
        project=project,
        projects=projects,
        year=year,
        years=_years(year),
        year_error=error,
        bilan=result,
        charts=found,
        images={key: documents.data_uri(chart) for key, chart in found.items()},
        computed_at=computed_at_text(result.computed_at) if result else None,
        saved=saved,
        forms=forms,
        sections=list(BilanSection),
        definitions_version=DEFINITIONS_VERSION,
        refresh_url=_refresh_url(project, year),
    ), (400 if error else status)


def _refresh_url(project, year) -> str:
    if project is None:
        return url_for(".association", annee=year, **{REFRESH_ARG: "1"})
    return url_for(".project", project_id=project.id, annee=year, **{REFRESH_ARG: "1"})


@bp.route("/bilan/projet/<int:project_id>")
@permission_required(Permission.VIEW_EVALUATION)
def project(project_id: int):
    chosen = _project(project_id)
    year, error = _chosen_year()
    back = url_for(".project", project_id=chosen.id, annee=year)
    return _recomputed([chosen], year, back) or _page(
        "evaluation/bilan/project.html", year=year, error=error, projects=[chosen], project=chosen
    )


@bp.route("/bilan/association")
@permission_required(Permission.VIEW_EVALUATION)
def association():
    year, error = _chosen_year()
    projects = coordinator_projects(current_user)
    back = url_for(".association", annee=year)
    return _recomputed(projects, year, back) or _page(
        "evaluation/bilan/association.html", year=year, error=error, projects=projects
    )


@bp.route("/bilan/projet/<int:project_id>/<int:year>/<section>", methods=["POST"])
@permission_required(Permission.WRITE_BILAN)
def save_text(project_id: int, year: int, section: str):
    chosen = _project(project_id)
    _year_or_404(year)
    try:
        part = BilanSection(section)
    except ValueError:
        abort(404)
    form = BilanTextForm()

    def save():
        return service.save_text(
            current_user,
            chosen.id,
            year,
            part,
            form.text.data,
            version=form.expected_version.data,
        )

    done = submit(
        form,
        save,
        f"Section « {part.label} » enregistrée.",
        url_for(".project", project_id=chosen.id, annee=year, _anchor=f"section-{part.value}"),
    )
    return done or _page(
        "evaluation/bilan/project.html",
        year=year,
        error=None,
        projects=[chosen],
        project=chosen,
        posted=(part, form),
    )


# --- documents ----------------------------------------------------------------------------


def _document(projects, year: int, *, subject: str, file_stem: str, per_project: bool):
    ids = [p.id for p in projects]
    result = service.build_bilan(ids, year, today_paris())
    saved = service.texts(ids, year)
    blocks = []
    for p in projects:
        sections = tuple(
            (s.label, t.text if (t := saved.get(p.id, {}).get(s)) else "") for s in BilanSection
        )
        blocks.append(documents.TextBlock(p.name if per_project else None, sections))
    return documents.BilanDocument(
        subject=subject,
        detail=("Projets : " if len(projects) > 1 else "Projet : ")
        + ", ".join(p.name for p in projects),
        bilan=result,
        texts=tuple(blocks),
        charts=chart_module.charts(result.tables, year),
        definitions_version=DEFINITIONS_VERSION,
        written_on=today_paris(),
        file_stem=file_stem,
    )


def _download(doc: documents.BilanDocument, fmt: str) -> Response:
    """Write the file, then record the download and commit it (with any new cache entry)
    before the file is sent."""
    content = documents.docx_bytes(doc) if fmt == "docx" else documents.pdf_bytes(doc)
    record(
        current_user,
        "bilan.downloaded",
        details={"format": fmt, "year": doc.bilan.year, "projects": list(doc.bilan.project_ids)},
    )
    db.session.commit()
    return Response(
        content,
        mimetype=documents.DOCX_MIME if fmt == "docx" else documents.PDF_MIME,
        headers={
            "Content-Disposition": f'attachment; filename="{doc.file_stem}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route(f"/bilan/projet/<int:project_id>/<int:year>/bilan.{FORMATS}")
@permission_required(Permission.VIEW_EVALUATION)
def project_document(project_id: int, year: int, fmt: str):
    chosen = _project(project_id)
    _year_or_404(year)
    doc = _document(
        [chosen],
        year,
        subject=chosen.name,
        file_stem=f"bilan-projet-{chosen.id}-{year}",
        per_project=False,
    )
    return _download(doc, fmt)


@bp.route(f"/bilan/association/<int:year>/bilan.{FORMATS}")
@permission_required(Permission.VIEW_EVALUATION)
def association_document(year: int, fmt: str):
    _year_or_404(year)
    projects = coordinator_projects(current_user)
    if not projects:
        abort(404)
    organisation = current_user.organisation
    doc = _document(
        projects,
        year,
        subject=organisation.name,
        file_stem=f"bilan-association-{organisation.id}-{year}",
        per_project=True,
    )
    return _download(doc, fmt)
