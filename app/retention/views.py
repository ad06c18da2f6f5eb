"""Right of access: the complete file of one household, printable and as JSON."""

from __future__ import annotations

import json
from datetime import datetime

import click
from flask import Blueprint, Response, render_template, send_file
from flask_login import current_user
from sqlalchemy import select

from app import clock
from app.audit.services import record
from app.auth.views import reauth_required
from app.db import db, utcnow
from app.formatting import today_paris
from app.households.file import open_household_file
from app.permissions import Permission, permission_required
from app.retention import export
from app.retention.export import held_documents
from app.retention.queries import subject_access_file

bp = Blueprint("retention", __name__, cli_group="retention")
bp.cli.help = "Conservation des données : anonymisation des dossiers clos."


def _audit(household, fmt: str, sections, **extra) -> None:
    record(
        current_user,
        "household.subject_access_export",
        household_id=household.id,
        target=household,
        details={"format": fmt, "records": sum(len(s["rows"]) for s in sections), **extra},
    )
    db.session.commit()


@bp.route("/menages/<int:household_id>/droit-d-acces")
@permission_required(Permission.EXPORT_SUBJECT_ACCESS)
@reauth_required()
def subject_access(household_id: int):
    household = open_household_file(household_id)
    sections = subject_access_file(household, current_user)
    _audit(household, "html", sections)
    return render_template(
        "retention/subject_access.html",
        household=household,
        sections=sections,
        today=today_paris(),
    )


def _json_body(household, sections) -> dict:
    return {
        "household_id": household.id,
        "reference": household.reference,
        "generated_at": utcnow().isoformat(),
        "sections": sections,
    }


@bp.route("/menages/<int:household_id>/droit-d-acces.json")
@permission_required(Permission.EXPORT_SUBJECT_ACCESS)
@reauth_required()
def subject_access_json(household_id: int):
    household = open_household_file(household_id)
    sections = subject_access_file(household, current_user)
    _audit(household, "json", sections)
    content = json.dumps(_json_body(household, sections), ensure_ascii=False, indent=2)
    return Response(
        content,
        mimetype="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="droit-d-acces-{household.reference}.json"'
            )
        },
    )


@bp.route("/menages/<int:household_id>/droit-d-acces.zip")
@permission_required(Permission.EXPORT_SUBJECT_ACCESS)
@reauth_required()
def subject_access_zip(household_id: int):
    """The JSON file and the bytes of every document the file holds, in one ZIP."""
    household = open_household_file(household_id)
    sections = subject_access_file(household, current_user)
    documents = held_documents(household.id, current_user)
    _audit(household, "zip", sections, documents=len(documents))
    archive = export.subject_access_zip(
        _json_body(household, sections), documents, household.reference
    )
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"droit-d-acces-{household.reference}.zip",
        max_age=0,
    )


@bp.cli.command(
    "run",
    help="Anonymiser les dossiers clos dont la durée de conservation est passée (une fois par "
    "jour).",
)
@click.option(
    "--now", "now_text", default=None, help="Date-heure ISO du passage ; par défaut maintenant."
)
def run_command(now_text: str | None) -> None:
    """Anonymise the closed files past their retention period (once per Paris day)."""
    from app.formatting import PARIS
    from app.scheduler import JobRun, job_by_id, run_job

    now = datetime.fromisoformat(now_text) if now_text else clock.now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=PARIS)
    job = job_by_id("retention.anonymise")
    if not run_job(job, now):
        click.echo("Déjà exécuté pour ce jour.")
        return
    summary = db.session.scalar(
        select(JobRun.summary).where(JobRun.job_id == job.id, JobRun.slot == job.slot(now))
    )
    count = (summary or {}).get("anonymised", 0)
    click.echo(f"Terminé : {count} dossier(s) clos anonymisé(s).")
