"""What the API and the client pages read: the clients an account manages, and the tenancy
status of a landlord's followed leases — the landlord dashboard's rows
(``app.housing.dashboard``: ``tenancy_scope``, ``tenancy_rows``) read as the client's
organisation would read them, through the column audiences (``app.audience.project``)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from types import SimpleNamespace

from flask import abort
from sqlalchemy import Select, false, func, select

from app.api.models import ApiClient
from app.audience import project
from app.db import db
from app.housing.dashboard import tenancy_rows, tenancy_scope
from app.housing.models import Occupancy, RentAccountSnapshot
from app.organisations.models import Organisation, OrganisationKind
from app.permissions import Permission, Role, has_permission


class ClientViewer:
    """An API client seen by the scoped queries and the column audiences as a member of its
    organisation's staff holding only the landlord's reading permissions: the same scope
    (``tenancy_scope``: the organisation's dwellings) and the same columns (``tenancy``) as
    the landlord dashboard, nothing more."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, client: ApiClient):
        self.id = None
        self.organisation_id = client.organisation_id
        self.roles = frozenset({Role.PERSONNEL_BAILLEUR})
        self.permissions = frozenset({Permission.VIEW_HOUSEHOLDS, Permission.VIEW_TENANCIES})
        self.project_ids: set[int] = set()


# --- the client pages ---------------------------------------------------------------------


def visible_clients(user) -> Select:
    """Administrators see every organisation's clients; landlord staff their own."""
    query = select(ApiClient).order_by(ApiClient.revoked_at.is_not(None), ApiClient.name)
    if Role.ADMIN in user.roles:
        return query
    if not has_permission(user, Permission.MANAGE_API_CLIENTS):
        return query.where(false())
    return query.where(ApiClient.organisation_id == user.organisation_id)


def get_client_or_404(user, client_id: int) -> ApiClient:
    client = db.session.scalar(visible_clients(user).where(ApiClient.id == client_id))
    if client is None:
        abort(404)
    return client


def client_organisations(user) -> list[Organisation]:
    """The landlords an account may create a client for."""
    query = select(Organisation).where(
        Organisation.kind == OrganisationKind.BAILLEUR, Organisation.is_active.is_(True)
    )
    if Role.ADMIN not in user.roles:
        query = query.where(Organisation.id == user.organisation_id)
    return list(db.session.scalars(query.order_by(Organisation.name)))


# --- tenancy status -----------------------------------------------------------------------


class BadCursor(ValueError):
    pass


def encode_cursor(occupancy_id: int) -> str:
    return base64.urlsafe_b64encode(f"o{occupancy_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor(cursor) from error
    if not text.startswith("o") or not text[1:].isdigit() or len(text) > 12:
        raise BadCursor(cursor)
    return int(text[1:])


@dataclass
class TenancyStatusPage:
    items: list[dict]
    next_cursor: str | None


def tenancy_status_page(
    viewer, *, after: int | None, limit: int, lease_reference: str | None = None
) -> TenancyStatusPage:
    """A page of the viewer's followed leases (current leases of the dashboard's scope), in
    lease order after the cursor."""
    query = tenancy_scope(viewer).order_by(Occupancy.id).limit(limit + 1)
    if after is not None:
        query = query.where(Occupancy.id > after)
    if lease_reference:
        query = query.where(func.lower(Occupancy.lease_reference) == lease_reference.lower())
    ids = list(db.session.scalars(query))
    more = len(ids) > limit
    ids = ids[:limit]
    rows = tenancy_rows(ids)
    previous = _previous_balances(ids)
    items = [tenancy_status(viewer, row, previous.get(row.occupancy.id)) for row in rows]
    return TenancyStatusPage(items=items, next_cursor=encode_cursor(ids[-1]) if more else None)


def _previous_balances(ids: list[int]) -> dict[int, int]:
    """The balance of each lease's second most recent rent account (the trend's base)."""
    ranked = (
        select(
            RentAccountSnapshot.occupancy_id,
            RentAccountSnapshot.balance_cents,
            func.row_number()
            .over(
                partition_by=RentAccountSnapshot.occupancy_id,
                order_by=RentAccountSnapshot.month.desc(),
            )
            .label("position"),
        )
        .where(RentAccountSnapshot.occupancy_id.in_(ids or [-1]))
        .subquery()
    )
    rows = db.session.execute(
        select(ranked.c.occupancy_id, ranked.c.balance_cents).where(ranked.c.position == 2)
    )
    return dict(rows.all())


def _trend(balance: int | None, previous: int | None) -> str:
    if balance is None or previous is None:
        return "inconnue"
    if balance > previous:
        return "hausse"
    if balance < previous:
        return "baisse"
    return "stable"


def tenancy_status(viewer, row, previous_balance: int | None) -> dict:
    """One lease as the API gives it: the dashboard's columns, each read through the
    viewer's column audiences."""
    from app.interventions.queries import shared_summaries

    occupancy = project(viewer, row.occupancy)
    snapshot = project(viewer, row.snapshot) if row.snapshot else None
    plan = project(viewer, row.plan) if row.plan else None
    stage = project(viewer, row.stage) if row.stage else None
    deadline = row.deadline if row.stage else None
    referent = row.referent
    visits = shared_summaries(SimpleNamespace(id=row.household_id))
    return {
        "lease_reference": occupancy.lease_reference,
        "lease_type": row.occupancy.lease_type_label,
        "lease_start_on": occupancy.start_on,
        "household_reference": row.household_reference,
        "head_of_household": row.head_name,
        "dwelling": {
            "address": row.dwelling.address,
            "postal_code": row.dwelling.postal_code,
            "city": row.dwelling.city,
            "typology": row.dwelling.typology,
            "landlord_reference": row.dwelling.landlord_reference,
        },
        "status": row.status,
        "status_label": row.status_label,
        "supported": row.is_supported,
        "rent_account": None
        if snapshot is None
        else {
            "month": snapshot.month.strftime("%Y-%m"),
            "balance_cents": snapshot.balance_cents,
            "amount_due_cents": snapshot.amount_due_cents,
            "months_of_arrears": float(row.months_of_arrears),
            "last_payment_on": snapshot.last_payment_on,
            "previous_balance_cents": previous_balance,
            "trend": _trend(snapshot.balance_cents, previous_balance),
        },
        "procedure": None
        if stage is None
        else {
            "stage": stage.stage,
            "stage_label": row.stage.stage_label,
            "occurred_on": stage.occurred_on,
            "hearing_on": stage.hearing_on,
            "next_deadline": None
            if deadline is None
            else {"on": deadline.on, "label": deadline.label},
        },
        "repayment_plan": None
        if plan is None
        else {
            "start_on": plan.start_on,
            "monthly_cents": plan.monthly_cents,
            "debt_cents": plan.debt_cents,
            "status": plan.status,
        },
        "referent": None
        if referent is None
        else {"name": referent.full_name, "phone": referent.phone, "email": referent.email},
        "next_tripartite_meeting_on": row.next_meeting_on,
        "shared_visit_summaries": [_shared_visit(viewer, visit) for visit in visits],
    }


def _shared_visit(viewer, visit) -> dict:
    shown = project(viewer, visit)
    return {
        "occurred_on": shown.occurred_on,
        "mode": shown.mode,
        "summary": shown.shared_summary,
    }
