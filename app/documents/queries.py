"""Scoped reads of documents: a document is reached through its household (the viewer's
``visible_households``) and only in a category the viewer reads; anything else is a 404."""

from __future__ import annotations

from datetime import date

from flask import abort
from sqlalchemy import Select, and_, func, or_, select

from app.db import db
from app.documents.models import Document, DocumentCategory, readable_categories
from app.formatting import today_paris
from app.users.queries import users_by_name

PER_PAGE = 20


def visible_documents(viewer, household) -> Select:
    """The household's documents (every version, deleted ones excluded) of the categories
    ``viewer`` reads; ``household`` was loaded through the viewer's scope. The uploader
    comes with the row (their name is shown), without their roles and projects."""
    return (
        select(Document)
        .options(*users_by_name(Document))
        .where(
            Document.household_id == household.id,
            Document.category.in_([c.value for c in readable_categories(viewer)]),
            Document.deleted_at.is_(None),
            Document.sha256.is_not(None),
        )
    )


def current_documents(viewer, household) -> Select:
    """The latest version of each visible document, newest first."""
    return (
        visible_documents(viewer, household)
        .where(Document.replaced_at.is_(None))
        .order_by(Document.uploaded_at.desc(), Document.id.desc())
    )


def earlier_versions(viewer, household, documents) -> dict[int, list[Document]]:
    """The replaced versions of the listed documents, by lineage, newest first (one query)."""
    lineages = {d.lineage_id for d in documents if d.version_number > 1}
    if not lineages:
        return {}
    rows = db.session.scalars(
        visible_documents(viewer, household)
        .where(Document.lineage_id.in_(lineages), Document.replaced_at.is_not(None))
        .order_by(Document.version_number.desc())
    )
    versions: dict[int, list[Document]] = {}
    for row in rows:
        versions.setdefault(row.lineage_id, []).append(row)
    return versions


def get_document_or_404(viewer, household, document_id: int) -> Document:
    document = db.session.scalar(
        visible_documents(viewer, household).where(Document.id == document_id)
    )
    if document is None:
        abort(404)
    return document


def linked_documents(viewer, household, records) -> dict[tuple[str, int], list[Document]]:
    """The current documents ``viewer`` sees linked to ``records`` (``(kind, id)`` pairs of
    the household's timeline), by record, in one query for the whole page."""
    kinds: dict[str, set[int]] = {}
    for kind, record_id in records:
        kinds.setdefault(kind, set()).add(record_id)
    if not kinds:
        return {}
    rows = db.session.scalars(
        visible_documents(viewer, household)
        .where(
            Document.replaced_at.is_(None),
            or_(
                *(
                    and_(Document.link_kind == kind, Document.link_id.in_(sorted(ids)))
                    for kind, ids in kinds.items()
                )
            ),
        )
        .order_by(Document.uploaded_at, Document.id)
    )
    linked: dict[tuple[str, int], list[Document]] = {}
    for row in rows:
        linked.setdefault((row.link_kind, row.link_id), []).append(row)
    return linked


def current_insurance(viewer, household_ids) -> dict[int, date]:
    """``{household_id: latest validity end}`` of the households (already in the viewer's
    scope: the landlord dashboard's rows) holding a current insurance certificate (an
    "attestation d'assurance" valid until today or later), in one query for the page."""
    if not household_ids or DocumentCategory.ASSURANCE not in readable_categories(viewer):
        return {}
    rows = db.session.execute(
        select(Document.household_id, func.max(Document.valid_until))
        .where(
            Document.household_id.in_(sorted(set(household_ids))),
            Document.category == DocumentCategory.ASSURANCE.value,
            Document.valid_until >= today_paris(),
            Document.replaced_at.is_(None),
            Document.deleted_at.is_(None),
            Document.sha256.is_not(None),
        )
        .group_by(Document.household_id)
    )
    return {household_id: until for household_id, until in rows}
