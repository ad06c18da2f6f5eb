"""The rent-account import: the page (``/logements/import``) and the command
``flask --app wsgi housing import-accounts``.

Routes and command of the ``housing`` blueprint (``app.housing.views``), split off by seam."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.db import db, takes_write_lock_late
from app.errors import CommandError, DomainError
from app.forms import apply_domain_error, commit_service
from app.housing import rent_import, services
from app.housing.forms import ConfirmImportForm, ImportForm
from app.housing.rent_import import staging
from app.housing.views import bp, month_label
from app.organisations.models import Organisation
from app.permissions import Permission, permission_required
from app.uploads import megabytes, upload_limit

# --- rent-account import: upload, preview, import, history ------------------------------


def _parse_month_field(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return rent_import.parse_month(value)
    except ValueError as error:
        raise DomainError("Indiquez le mois au format AAAA-MM.", field="month") from error


def _preview_page(report, *, digest: str, name: str, month: date | None):
    """The preview of a staged extract: mapping, first rows, counts, problems."""
    confirm = ConfirmImportForm(
        formdata=None,
        month=month.isoformat()[:7] if month else "",
        name=name,
        mapping=rent_import.mapping_text(report.positions),
    )
    return render_template(
        "housing/import_preview.html",
        report=report,
        digest=digest,
        name=name,
        month=month,
        header=report.header,
        columns=rent_import.IMPORT_COLUMNS,
        confirm=confirm,
        encodings=rent_import.ENCODINGS,
        separators=rent_import.SEPARATORS,
    )


def _upload(form, limits):
    """Read the posted file (before any lock), keep it, and answer with its preview."""
    upload = form.file.data
    # The route's upload limit already bounds the body; one byte more than the import's
    # limit is enough for the reader to tell a file that is too large.
    content = upload.read(limits.max_bytes + 1) if upload else b""
    organisation = current_user.organisation
    if not content:
        raise DomainError("Choisissez le fichier à importer.", field="file")
    month = _parse_month_field(form.month.data)
    rent_import.check_not_imported(organisation.id, staging.digest_of(content))
    name = Path(upload.filename or "extrait").name[:255]
    report = rent_import.preview_rent_accounts(organisation, content, month=month, limits=limits)
    if report.file_problems and not report.header:
        return report, None, name, month  # not readable: nothing kept
    digest = staging.keep(organisation.id, content)
    return report, digest, name, month


@bp.route("/logements/import", methods=["GET", "POST"])
@upload_limit("RENT_IMPORT_MAX_BYTES")
@takes_write_lock_late  # the file is parsed before anything is written
@permission_required(Permission.IMPORT_RENT_ACCOUNTS)
def import_accounts():
    form = ImportForm()
    report = None
    limits = rent_import.ImportLimits.from_config()
    organisation = current_user.organisation
    if form.validate_on_submit():
        try:
            report, digest, name, month = _upload(form, limits)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            if not report.is_valid and not report.needs_mapping:
                services.record_refused_import(current_user, organisation, report)
                db.session.commit()
            if digest:
                return _preview_page(report, digest=digest, name=name, month=month)
    return render_template(
        "housing/import.html",
        form=form,
        report=report,
        columns=rent_import.IMPORT_COLUMNS,
        limits=limits,
        max_size=megabytes(limits.max_bytes),
        history=rent_import.import_history(organisation.id),
    )


def _chosen_mapping(width: int) -> dict[str, int] | None:
    """The mapping chosen in the preview's selects (``col_<key>`` = position), or None when
    the form was not sent (the saved profile and the synonyms apply)."""
    if request.args.get("carte") != "1":
        return None
    parts = []
    for column in rent_import.IMPORT_COLUMNS:
        value = request.args.get(f"col_{column.key}", "")
        if value:
            parts.append(f"{column.key}:{value}")
    positions = rent_import.parse_mapping(",".join(parts), width)
    if positions is None:
        flash("Chaque colonne du fichier ne peut servir qu'une fois : vérifiez le choix.", "error")
    return positions


def _staged(digest: str) -> bytes:
    content = staging.load(current_user.organisation_id, digest)
    if content is None:
        abort(404)
    return content


@bp.route("/logements/import/<digest>")
@permission_required(Permission.IMPORT_RENT_ACCOUNTS)
def import_preview(digest: str):
    content = _staged(digest)
    limits = rent_import.ImportLimits.from_config()
    organisation = current_user.organisation
    try:
        month = _parse_month_field(request.args.get("mois"))
    except DomainError:
        month = None
    name = (request.args.get("nom") or "extrait")[:255]
    header = rent_import.read_header_or_none(content, limits)
    positions = _chosen_mapping(len(header)) if header else None
    report = rent_import.preview_rent_accounts(
        organisation, content, month=month, positions=positions, limits=limits
    )
    return _preview_page(report, digest=digest, name=name, month=month)


@bp.route("/logements/import/<digest>", methods=["POST"])
@takes_write_lock_late  # the staged file is read and checked again before the lock
@permission_required(Permission.IMPORT_RENT_ACCOUNTS)
def confirm_import(digest: str):
    content = _staged(digest)
    form = ConfirmImportForm()
    organisation = current_user.organisation
    back = url_for("housing.import_accounts")
    if not form.validate_on_submit():
        flash("Le formulaire a expiré : envoyez de nouveau le fichier.", "error")
        return redirect(back)
    limits = rent_import.ImportLimits.from_config()
    try:
        month = _parse_month_field(form.month.data)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(back)
    header = rent_import.read_header_or_none(content, limits)
    positions = rent_import.parse_mapping(form.mapping.data, len(header or ()))
    report, values = rent_import.read_rent_accounts(
        organisation.id, content, month=month, limits=limits, positions=positions or {}
    )
    if not report.is_valid:
        return _preview_page(report, digest=digest, name=form.name.data or "", month=month)
    source = rent_import.ImportSource(
        file_name=form.name.data or None,
        file_hash=digest,
        columns=rent_import.mapping_names(report.header, report.positions),
    )
    return commit_service(
        lambda: rent_import.write_rent_accounts(
            current_user, organisation, report, values, via="web", source=source
        ),
        _imported_message,
        back,
        then=lambda _report: staging.discard(organisation.id, digest),
    )


def _imported_message(report) -> str:
    months = ", ".join(month_label(m) for m in report.months)
    text = (
        f"Import terminé ({months}) : {_count(report.created, 'ligne créée', 'lignes créées')}, "
        f"{_count(report.updated, 'mise à jour', 'mises à jour')}, "
        f"{_count(report.unchanged, 'inchangée', 'inchangées')}."
    )
    if report.out_of_programme:
        text += (
            " "
            + _count(
                report.out_of_programme,
                "ligne hors programme, ignorée",
                "lignes hors programme, ignorées",
            )
            + "."
        )
    return text


def _count(number: int, one: str, many: str) -> str:
    figure = f"{number:,}".replace(",", "\u00a0")
    return f"{figure} {one if number <= 1 else many}"


@bp.cli.command(
    "import-accounts",
    help="Importer l'extrait mensuel des comptes locataires d'un bailleur (CSV ou XLSX), "
    "tout ou rien.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--organisation", "organisation_id", type=int, help="Id du bailleur.")
@click.option("--month", help="Mois du compte (AAAA-MM) si le fichier n'a pas de colonne Mois.")
def import_accounts_command(file: Path, organisation_id: int | None, month: str | None) -> None:
    """Import a landlord's monthly rent-account extract (CSV or XLSX), all or nothing."""
    from tqdm import tqdm

    from app.organisations.models import OrganisationKind

    landlords = select(Organisation).where(Organisation.kind == OrganisationKind.BAILLEUR)
    if organisation_id is not None:
        organisation = db.session.scalar(landlords.where(Organisation.id == organisation_id))
        if organisation is None:
            raise CommandError(f"Aucun bailleur n'a l'identifiant {organisation_id}.")
    else:
        found = db.session.scalars(landlords).all()
        if len(found) != 1:
            names = ", ".join(f"{o.id} = {o.name}" for o in found)
            raise CommandError(f"Précisez le bailleur avec --organisation ({names}).")
        organisation = found[0]
    try:
        chosen_month = _parse_month_field(month)
    except DomainError as error:
        raise CommandError(error.message) from error

    def progress(iterable, **kwargs):
        return tqdm(iterable, file=sys.stderr, leave=False, **kwargs)

    limits = rent_import.ImportLimits.from_config()
    with file.open("rb") as stream:  # one byte more than the limit tells a file too large
        content = stream.read(limits.max_bytes + 1)
    try:
        report = services.import_rent_accounts(
            None,
            organisation,
            content=content,
            month=chosen_month,
            progress=progress,
            via="cli",
            limits=limits,
        )
    except services.ImportRejected as rejected:
        db.session.rollback()
        services.record_refused_import(None, organisation, rejected.report, via="cli")
        db.session.commit()
        for problem in rejected.report.file_problems:
            click.echo(problem, err=True)
        for row in rejected.report.problems:
            click.echo(
                f"Ligne {row.line} ({row.reference or 'sans référence'}) : {row.reason}", err=True
            )
        if rejected.report.hidden_problems:
            hidden = rejected.report.hidden_problems
            click.echo(f"… et {hidden} autres lignes à corriger.", err=True)
        raise CommandError(rejected.message) from None
    db.session.commit()
    aside = report.out_of_programme
    click.echo(
        f"{organisation.name} : {report.rows - aside} lignes importées "
        f"({report.created} nouvelles, {report.updated} mises à jour, "
        f"{report.unchanged} inchangées)"
        + (
            " ; "
            + _count(aside, "ligne hors programme, ignorée", "lignes hors programme, ignorées")
            + "."
            if aside
            else "."
        )
    )
