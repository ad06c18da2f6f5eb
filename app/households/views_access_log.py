"""The household file's access log: who consulted the file (coordinators, in scope). A page
of the file, so it lives with the file; the entries come from the audit domain below."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user

from app.audit.queries import household_entries, household_readers
from app.audit.services import record
from app.db import db
from app.households.file import open_household_file
from app.households.views import bp
from app.http import int_arg
from app.permissions import Permission, permission_required


@bp.route("/<int:household_id>/consultations")
@permission_required(Permission.VIEW_FILE_ACCESS_LOG)
def access_log(household_id: int):
    # Reading the trace is itself traced, on the same file (committed with the file's read).
    household = open_household_file(
        household_id,
        along=lambda household: record(
            current_user,
            "household.access_log_read",
            household_id=household.id,
            target=household,
        ),
    )
    page = db.paginate(
        household_entries(household.id),
        page=int_arg("page") or 1,
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "audit/household_log.html",
        household=household,
        readers=household_readers(household.id),
        page=page,
    )
