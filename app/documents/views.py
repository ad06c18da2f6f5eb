"""The household's "Documents" tab: list, upload (several files, from a phone's camera or
its files), replace, delete, and the one route that serves a document's bytes.

An upload reads and checks every file before anything is stored, writes the files to the
store before the database transaction (``takes_write_lock_late``: SQLite's write lock is
taken at the first INSERT, not while files are read and written), then records the rows
in one short transaction.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_login import current_user

from app.db import commit_keeping_loaded, db, takes_write_lock_late
from app.documents import services
from app.documents.content import ACCEPT, prepare_files
from app.documents.forms import DeleteForm, ReplaceForm, UploadForm
from app.documents.links import LINK_KINDS, link_choices, parse_link
from app.documents.models import readable_categories
from app.documents.queries import (
    PER_PAGE,
    current_documents,
    earlier_versions,
    get_document_or_404,
)
from app.documents.services import StoredFile
from app.documents.storage import document_store
from app.errors import DomainError
from app.forms import apply_domain_error, commit_service
from app.households.file import open_household_file
from app.households.queries import file_page_loads
from app.http import int_arg
from app.permissions import Permission, has_permission, permission_required
from app.uploads import megabytes, upload_limit

bp = Blueprint("documents", __name__)

# Sent by app/static/js/documents.js with the uploads it sends itself.
PROGRESS_HEADER = "X-Ancrage-Upload"

VIEW = Permission.VIEW_HOUSEHOLDS
UPLOAD = (Permission.VIEW_HOUSEHOLDS, Permission.UPLOAD_DOCUMENTS)
# The sandbox a served document opens in: no script, no form, no request anywhere.
DOCUMENT_CSP = (
    "sandbox; default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'"
)


def _tab(household) -> str:
    return url_for(".household", household_id=household.id)


def _upload_form(household) -> UploadForm:
    """The upload form; ``?categorie=assurance`` (the landlord dashboard's link) preselects a
    category the viewer may upload (anything else is ignored)."""
    categories = readable_categories(current_user)
    form = UploadForm().setup(categories, link_choices(household, current_user))
    asked = request.args.get("categorie")
    if request.method == "GET" and asked in {c.value for c in categories}:
        form.category.data = asked
    return form


def _page(household, form=None):
    # The upload form's link choices and the file's header share the leases they both read.
    with file_page_loads():
        page = db.paginate(
            current_documents(current_user, household),
            page=int_arg("page") or 1,
            per_page=PER_PAGE,
            error_out=False,
        )
        config = current_app.config
        form = form or _upload_form(household)
        return render_template(
            "documents/household.html",
            household=household,
            page=page,
            versions=earlier_versions(current_user, household, page.items),
            form=form,
            # "Visite ou contact du 12/03/2026": the labels of the records this viewer may link
            # to (the latest ones); an older or hidden record is named by its kind only.
            link_labels=dict(form.link.choices),
            accept=ACCEPT,
            max_size=megabytes(config["DOCUMENTS_MAX_BYTES"]),
            max_files=config["DOCUMENTS_MAX_FILES"],
            link_kinds=LINK_KINDS,
            may_delete=lambda d: services.may_delete(current_user, d),
        )


def _uploads() -> list:
    """The chosen files of both inputs (camera and files); empty inputs left out."""
    files = request.files.getlist("photos") + request.files.getlist("files")
    return [(f.filename, f.stream) for f in files if f and f.filename]


def _store(prepared) -> list[StoredFile]:
    """Write the checked files to the store, before and outside any write transaction."""
    return services.store_prepared(prepared)


def _prepared(max_files: int | None = None):
    config = current_app.config
    return prepare_files(
        _uploads(),
        max_bytes=config["DOCUMENTS_MAX_BYTES"],
        max_files=max_files or config["DOCUMENTS_MAX_FILES"],
    )


@bp.route("/menages/<int:household_id>/documents", methods=["GET", "POST"])
@upload_limit("DOCUMENTS_MAX_REQUEST_BYTES")
@takes_write_lock_late  # files are read, checked and stored before the first write
@permission_required(VIEW)
def household(household_id: int):
    """The tab (GET) and its upload form (POST)."""
    household = open_household_file(household_id)
    if request.method == "GET":
        return _page(household)
    if not has_permission(current_user, Permission.UPLOAD_DOCUMENTS):
        abort(403)
    form = _upload_form(household)
    if not form.validate_on_submit():
        return _page(household, form), 400
    try:
        link = parse_link(form.link.data, household, current_user)
    except ValueError:
        form.link.errors = ["Choisissez un élément proposé."]
        return _page(household, form), 400
    try:
        prepared = _prepared()
    except DomainError as error:
        apply_domain_error(form, error)
        return _page(household, form), 400
    stored = _store(prepared)
    done = commit_service(
        lambda: services.add_documents(
            current_user,
            household,
            category=form.category.data,
            title=form.title.data,
            document_on=form.document_on.data,
            valid_until=form.valid_until.data,
            link=link,
            files=stored,
        ),
        lambda documents: f"{len(documents)} document(s) ajouté(s).",
        _tab(household),
        form=form,
    )
    if done is None:
        return _page(household, form), 400
    return _for_progress_script(done)


def _for_progress_script(response):
    """The upload sent by ``documents.js`` (XMLHttpRequest, which would follow a redirect and
    read the tab — and its "ajouté" message — itself): the redirect becomes a 201 naming the
    same page, which the script then opens, and the message is shown there."""
    if request.headers.get(PROGRESS_HEADER) and response.status_code in (302, 303):
        response.status_code = 201
    return response


@bp.route("/menages/<int:household_id>/documents/<int:document_id>")
@permission_required(VIEW)
def download(household_id: int, document_id: int):
    """The document's bytes, for a viewer who may see it (404 otherwise). Recorded in the
    journal before it is sent."""
    household = open_household_file(household_id, document=document_id)
    document = get_document_or_404(current_user, household, document_id)
    store = document_store()
    if not store.exists(document.sha256):
        abort(404)
    services.record_download(current_user, document)
    commit_keeping_loaded()
    response = send_file(
        store.path(document.sha256),
        mimetype=document.content_type,
        as_attachment=not document.is_inline,
        download_name="document",
        conditional=True,
        max_age=0,
    )
    disposition = "inline" if document.is_inline else "attachment"
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{_ascii_name(document.original_name)}"; '
        f"filename*=UTF-8''{quote(document.original_name, safe='')}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOCUMENT_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _ascii_name(name: str) -> str:
    """The plain-ASCII fallback of a name for old browsers (RFC 6266)."""
    plain = name.encode("ascii", "replace").decode("ascii")
    return "".join("_" if ch in '"\\?' else ch for ch in plain) or "document"


@bp.route(
    "/menages/<int:household_id>/documents/<int:document_id>/remplacer", methods=["GET", "POST"]
)
@upload_limit("DOCUMENTS_MAX_BYTES")
@takes_write_lock_late  # the new file is read, checked and stored before the first write
@permission_required(*UPLOAD)
def replace(household_id: int, document_id: int):
    household = open_household_file(household_id)
    document = get_document_or_404(current_user, household, document_id)
    form = ReplaceForm(obj=document)
    if request.method == "GET":
        form.expected_version.data = document.version
    elif form.validate_on_submit():
        try:
            stored = _store(_prepared(max_files=1))[0]
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            done = commit_service(
                lambda: services.replace_document(
                    current_user,
                    document,
                    version=form.expected_version.data,
                    title=form.title.data,
                    document_on=form.document_on.data,
                    valid_until=form.valid_until.data,
                    stored=stored,
                ),
                "Nouvelle version enregistrée ; la précédente est conservée.",
                _tab(household),
                form=form,
            )
            if done:
                return done
    return render_template(
        "documents/replace.html", household=household, document=document, form=form, accept=ACCEPT
    )


@bp.route(
    "/menages/<int:household_id>/documents/<int:document_id>/supprimer", methods=["GET", "POST"]
)
@permission_required(VIEW)
def delete(household_id: int, document_id: int):
    household = open_household_file(household_id)
    document = get_document_or_404(current_user, household, document_id)
    if not services.may_delete(current_user, document):
        abort(403)
    form = DeleteForm()
    if request.method == "GET":
        form.expected_version.data = document.version
    elif form.validate_on_submit():
        done = commit_service(
            lambda: services.delete_document(
                current_user,
                document,
                version=form.expected_version.data,
                reason=form.reason.data,
            ),
            "Document supprimé.",
            _tab(household),
            form=form,
        )
        if done:
            return done
    return render_template(
        "documents/delete.html", household=household, document=document, form=form
    )
