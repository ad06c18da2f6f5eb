"""The rent-account import: the page (``/logements/import``) and the command
``flask --app wsgi housing import-accounts``.

Routes and command of the ``housing`` blueprint (``app.housing.views``), split off by seam."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from app.db import db, takes_write_lock_late
from app.errors import CommandError, DomainError
from app.forms import apply_domain_error
from app.housing import rent_import, services
from app.housing.forms import ImportForm
from app.housing.views import bp
from app.organisations.models import Organisation
from app.permissions import Permission, permission_required
from app.uploads import megabytes, upload_limit

# --- rent-account import -------------------------------------------------------------------


def _parse_month_field(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return rent_import.parse_month(value)
    except ValueError as error:
        raise DomainError("Indiquez le mois au format AAAA-MM.", field="month") from error


@bp.route("/logements/import", methods=["GET", "POST"])
@upload_limit("RENT_IMPORT_MAX_BYTES")
@takes_write_lock_late  # the file is parsed before anything is written
@permission_required(Permission.IMPORT_RENT_ACCOUNTS)
def import_accounts():
    form = ImportForm()
    report = None
    limits = rent_import.ImportLimits.from_config()
    if form.validate_on_submit():
        upload = form.file.data
        # The route's upload limit already bounds the body; one byte more than the import's
        # limit is enough for the reader to tell a file that is too large.
        content = upload.read(limits.max_bytes + 1) if upload else b""
        organisation = current_user.organisation
        try:
            if not content:
                raise DomainError("Choisissez le fichier à importer.", field="file")
            month = _parse_month_field(form.month.data)
            report = services.import_rent_accounts(
                current_user, organisation, content=content, month=month, limits=limits
            )
        except services.ImportRejected as rejected:
            db.session.rollback()
            report = rejected.report
            services.record_refused_import(current_user, organisation, report)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
    return render_template(
        "housing/import.html",
        form=form,
        report=report,
        columns=rent_import.IMPORT_COLUMNS,
        limits=limits,
        max_size=megabytes(limits.max_bytes),
    )


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
    click.echo(
        f"{organisation.name} : {report.rows} lignes importées "
        f"({report.created} nouvelles, {report.updated} mises à jour)."
    )
