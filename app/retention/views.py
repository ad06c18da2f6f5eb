"""Right of access: the complete file of one household, printable and as JSON."""

from __future__ import annotations

import json
from datetime import datetime

import click
from flask import Blueprint, Response, render_template
from flask_login import current_user
from sqlalchemy import select

from app import clock
from app.audit.services import record
from app.auth.views import reauth_required
from app.db import db, utcnow
from app.formatting import today_paris
from app.households.file import open_household_file
from app.permissions import Permission, permission_required
from app.retention.queries import subject_access_file

bp = Blueprint("retention", __name__, cli_group="retention")
bp.cli.help = "Conservation des données : anonymisation des dossiers clos."


def _audit(household, fmt: str, sections) -> None:
    record(
        current_user,
        "household.subject_access_export",
        household_id=household.id,
        target=household,
        details={"format": fmt, "records": sum(len(s["rows"]) for s in sections)},
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


@bp.route("/menages/<int:household_id>/droit-d-acces.json")
@permission_required(Permission.EXPORT_SUBJECT_ACCESS)
@reauth_required()
def subject_access_json(household_id: int):
    household = open_household_file(household_id)
    sections = subject_access_file(household, current_user)
    _audit(household, "json", sections)
    body = {
        "household_id": household.id,
        "reference": household.reference,
        "generated_at": utcnow().isoformat(),
        "sections": sections,
    }
    content = json.dumps(body, ensure_ascii=False, indent=2)
    return Response(
        content,
        mimetype="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="droit-d-acces-{household.reference}.json"'
            )
        },
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
