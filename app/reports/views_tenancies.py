"""Landlord staff's export of their followed tenancies (the landlord dashboard's columns and
filters) as CSV (French Excel) or XLSX, streamed, audited before it is sent, read through the
column audiences (``app.audience.project``): nothing a landlord may not see.

Routes of the ``reports`` blueprint (``app.reports.views``), split off by seam; the typed
cells are the pilotage exports' (``views_exports``: ``Typed``, ``Month``)."""

from __future__ import annotations

from decimal import Decimal
from itertools import chain

from flask import request
from flask_login import current_user

from app.audience import project
from app.audit.services import record
from app.auth.views import reauth_required
from app.db import db
from app.formatting import today_paris
from app.households.models import search_key
from app.housing.dashboard import tenancy_ids, tenancy_page, tenancy_rows
from app.http import int_arg
from app.permissions import Permission, permission_required
from app.reports.views import FORMATS, bp
from app.reports.views_exports import Month, Typed, _csv, _download, _xlsx, streamed_viewer
from app.search import recalled_search

TENANCY_COLUMNS = [
    "Ménage",
    "Référence du ménage",
    "Statut",
    "Impayé",
    "Mois d'impayé",
    "Mois du dernier compte",
    "Procédure",
    "Prochaine échéance légale",
    "Échéance",
    "Logement",
    "Commune",
    "Type de bail",
    "Référence du bail",
    "Accompagnement",
    "Référent·e",
    "Téléphone",
    "E-mail",
    "Prochaine réunion tripartite",
]
BATCH = 500


def _filters() -> dict:
    return {
        "status": request.args.get("statut") or "",
        "supported": request.args.get("accompagne") or "",
        "landlord_id": int_arg("bailleur"),
        "text": search_key(recalled_search()),
    }


def tenancy_export_row(viewer, row) -> list:
    """One lease as the dashboard shows it, read through the viewer's column audiences."""
    occupancy = project(viewer, row.occupancy)
    snapshot = project(viewer, row.snapshot) if row.snapshot else None
    stage = project(viewer, row.stage) if row.stage else None
    deadline = row.deadline if stage is not None else None
    referent = row.referent
    return [
        row.head_name,
        row.household_reference,
        row.status_label,
        Typed(float(Decimal(snapshot.balance_cents) / 100), "euros") if snapshot else "",
        Typed(float(row.months_of_arrears), "decimal") if snapshot else "",
        Month(snapshot.month.year, snapshot.month.month, 1) if snapshot else "",
        row.stage.stage_label if stage is not None else "",
        deadline.on if deadline else "",
        deadline.label if deadline else "",
        f"{row.dwelling.typology} · {row.dwelling.address}",
        row.dwelling.city,
        row.occupancy.lease_type_label,
        occupancy.lease_reference or "",
        "Accompagné" if row.is_supported else "Non accompagné",
        referent.full_name if referent else "",
        (referent.phone or "") if referent else "",
        referent.email if referent else "",
        row.next_meeting_on or "",
    ]


def _rows(user_id: int, filters: dict):
    """The filtered tenancies, most at risk first, ``BATCH`` leases at a time, while the file
    is sent (so for the viewer loaded again: ``streamed_viewer``)."""
    viewer = streamed_viewer(user_id)
    ids = tenancy_ids(viewer, **filters)  # the order once, then the leases BATCH at a time
    for start in range(0, len(ids), BATCH):
        for row in tenancy_rows(ids[start : start + BATCH]):
            yield tenancy_export_row(viewer, row)


@bp.route(f"/logements/export.{FORMATS}")
@permission_required(Permission.VIEW_TENANCIES, Permission.EXPORT_TENANCIES)
@reauth_required()
def export_tenancies(fmt: str):
    filters = _filters()
    total = tenancy_page(current_user, page=1, per_page=1, **filters).total
    record(
        current_user,
        "housing.tenancies_export",
        target=current_user.organisation,
        details={"format": fmt, "rows": total, "filtered": any(filters.values())},
    )
    db.session.commit()
    # Read in batches of BATCH leases while the file is sent (CSV row by row, XLSX in
    # write-only mode): the export's memory does not grow with the landlord's stock.
    rows = chain([TENANCY_COLUMNS], _rows(current_user.id, filters))
    content = _csv(rows) if fmt == "csv" else _xlsx([("Baux suivis", rows)])
    return _download(content, fmt, f"baux-suivis-{today_paris().isoformat()}")
