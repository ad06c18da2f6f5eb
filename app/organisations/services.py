from __future__ import annotations

from sqlalchemy import func, select

from app.audit.services import record
from app.db import db
from app.errors import DomainError, check_version
from app.organisations.models import Organisation, OrganisationKind

ORGANISATION_FIELDS = ("name", "kind", "city", "email", "phone")


def _check_unique_name(name: str, *, exclude_id: int | None = None) -> None:
    query = select(Organisation.id).where(func.lower(Organisation.name) == name.strip().lower())
    if exclude_id is not None:
        query = query.where(Organisation.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise DomainError("Une organisation porte déjà ce nom.", field="name")


def create_organisation(actor, *, name: str, kind: str, city=None, email=None, phone=None):
    _check_unique_name(name)
    organisation = Organisation(
        name=name.strip(), kind=OrganisationKind(kind), city=city, email=email, phone=phone
    )
    db.session.add(organisation)
    record(actor, "organisation.created", target=organisation)
    return organisation


def update_organisation(actor, organisation: Organisation, *, version, **values):
    check_version(organisation, version)
    _check_unique_name(values["name"], exclude_id=organisation.id)
    changed = [k for k in ORGANISATION_FIELDS if getattr(organisation, k) != values[k]]
    for key in changed:
        setattr(organisation, key, values[key].strip() if key == "name" else values[key])
    record(actor, "organisation.updated", target=organisation, details={"fields": changed})
    return organisation


def set_organisation_active(actor, organisation: Organisation, *, is_active: bool, version):
    check_version(organisation, version)
    organisation.is_active = is_active
    record(
        actor,
        "organisation.activated" if is_active else "organisation.deactivated",
        target=organisation,
    )
