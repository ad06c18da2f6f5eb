"""The documents' business rules: add (several files at once), replace (a new version that
keeps the earlier one), soft delete with a reason, record a download, destroy a household's
files at anonymisation. The bytes are already stored (``app.documents.storage``) when these
run: they only write rows, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.audience import may_read_audience
from app.audit.services import record
from app.db import db, utcnow
from app.documents.models import CATEGORY_AUDIENCE, Document, DocumentCategory
from app.documents.storage import document_store
from app.errors import DomainError, NotAllowed, check_version
from app.households.file_registry import provided
from app.permissions import Permission, has_permission

TITLE_MAX = 200
REASON_MAX = 500


@dataclass(frozen=True)
class StoredFile:
    """A file already in the store: what its row records."""

    name: str
    content_type: str
    size_bytes: int
    sha256: str


def store_prepared(prepared) -> list[StoredFile]:
    """Write checked files (``app.documents.content.prepare_files``) to the store, before and
    outside any write transaction (the lock discipline of docs/documents.md)."""
    store = document_store()
    stored = []
    for file in prepared:
        file.source.seek(0)
        digest, size = store.put_stream(file.source)
        stored.append(StoredFile(file.name, file.content_type, size, digest))
    return stored


def _category(actor, category: str | None) -> DocumentCategory:
    try:
        chosen = DocumentCategory(category or "")
    except ValueError:
        raise DomainError("Choisissez une catégorie.", field="category") from None
    if not may_read_audience(actor, CATEGORY_AUDIENCE[chosen]):
        raise DomainError("Choisissez une catégorie proposée.", field="category")
    return chosen


def _title(title: str | None, fallback: str) -> str:
    title = " ".join((title or "").split())
    return (title or fallback)[:TITLE_MAX]


def _dates(document_on: date | None, valid_until: date | None) -> None:
    if document_on and valid_until and valid_until < document_on:
        raise DomainError(
            "La fin de validité ne peut pas précéder la date du document.", field="valid_until"
        )


def add_documents(
    actor,
    household,
    *,
    category: str | None,
    title: str | None,
    document_on: date | None,
    valid_until: date | None,
    link: tuple[str | None, int | None] = (None, None),
    files: list[StoredFile],
) -> list[Document]:
    """One row per stored file, all of one category; the title is the file's name when left
    empty (or numbered when several files share one title)."""
    if not has_permission(actor, Permission.UPLOAD_DOCUMENTS):
        raise NotAllowed("Vous ne pouvez pas ajouter de document à ce dossier.")
    chosen = _category(actor, category)
    _dates(document_on, valid_until)
    if not files:
        raise DomainError("Choisissez au moins un fichier.", field="files")
    documents = []
    for number, stored in enumerate(files, start=1):
        fallback = stored.name.rsplit(".", 1)[0]
        shown = _title(title, fallback)
        if title and len(files) > 1:
            shown = f"{shown[: TITLE_MAX - 8]} ({number}/{len(files)})"
        document = Document(
            household_id=household.id,
            category=chosen.value,
            title=shown,
            document_on=document_on,
            valid_until=valid_until,
            link_kind=link[0],
            link_id=link[1],
            original_name=stored.name,
            content_type=stored.content_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            uploaded_by_id=actor.id,
            uploaded_at=utcnow(),
            updated_by_id=actor.id,
        )
        db.session.add(document)
        documents.append(document)
    db.session.flush()
    for document in documents:
        document.lineage_id = document.id
    _certificate_received(household.id, chosen, valid_until)
    record(
        actor,
        "document.uploaded",
        household_id=household.id,
        target=documents[0],
        details={"documents": [d.id for d in documents], "category": chosen.value},
    )
    return documents


def _certificate_received(household_id: int, category, valid_until: date | None) -> None:
    """An insurance certificate saying until when it is valid settles the yearly reminder
    (app.reminders, when installed: the next one is due from that date)."""
    resolve = provided("resolve_insurance_reminders")
    if category == DocumentCategory.ASSURANCE and valid_until is not None and resolve:
        resolve(household_id)


def replace_document(
    actor,
    document: Document,
    *,
    version,
    title: str | None,
    document_on: date | None,
    valid_until: date | None,
    stored: StoredFile,
) -> Document:
    """A new version of ``document``: the earlier one stays, marked replaced."""
    if not has_permission(actor, Permission.UPLOAD_DOCUMENTS):
        raise NotAllowed("Vous ne pouvez pas remplacer ce document.")
    check_version(document, version)
    if document.replaced_at is not None or document.deleted_at is not None:
        raise DomainError("Ce document a déjà été remplacé ou supprimé.")
    _dates(document_on, valid_until)
    newer = Document(
        household_id=document.household_id,
        category=document.category,
        title=_title(title, document.title),
        document_on=document_on,
        valid_until=valid_until,
        link_kind=document.link_kind,
        link_id=document.link_id,
        original_name=stored.name,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
        previous_id=document.id,
        lineage_id=document.lineage_id or document.id,
        version_number=document.version_number + 1,
        updated_by_id=actor.id,
    )
    document.replaced_at = newer.uploaded_at
    db.session.add(newer)
    db.session.flush()
    _certificate_received(document.household_id, document.category, valid_until)
    record(
        actor,
        "document.replaced",
        household_id=document.household_id,
        target=newer,
        details={"previous": document.id},
    )
    return newer


def may_delete(actor, document: Document) -> bool:
    """The uploader, or a coordinator of the household (who already sees it)."""
    if has_permission(actor, Permission.DELETE_ANY_DOCUMENT):
        return True
    return document.uploaded_by_id == actor.id and has_permission(
        actor, Permission.UPLOAD_DOCUMENTS
    )


def delete_document(actor, document: Document, *, version, reason: str | None) -> None:
    """Soft delete: the row and its file stay (for the journal and the right of access),
    the document leaves every list and download."""
    if not may_delete(actor, document):
        raise NotAllowed(
            "Seule la personne qui a déposé ce document, ou un·e coordinateur·rice, peut le "
            "supprimer."
        )
    check_version(document, version)
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Indiquez la raison de la suppression.", field="reason")
    if document.deleted_at is not None:
        raise DomainError("Ce document a déjà été supprimé.")
    document.deleted_at = utcnow()
    document.deleted_by_id = actor.id
    document.delete_reason = reason[:REASON_MAX]
    record(actor, "document.deleted", household_id=document.household_id, target=document)


def record_download(actor, document: Document) -> None:
    record(actor, "document.downloaded", household_id=document.household_id, target=document)


def destroy_household_files(household_id: int, store) -> int:
    """At anonymisation: delete from the store the files of this household's documents that
    no other household's live document shares (same content, stored once), and forget
    their hashes. Returns the number of files deleted. The rows' texts are cleared by the
    retention's declaration; here every row is marked deleted."""
    documents = list(
        db.session.scalars(select(Document).where(Document.household_id == household_id))
    )
    hashes = {d.sha256 for d in documents if d.sha256}
    shared = set()
    if hashes:
        shared = set(
            db.session.scalars(
                select(Document.sha256)
                .where(
                    Document.sha256.in_(hashes),
                    Document.household_id != household_id,
                    Document.deleted_at.is_(None),
                )
                .group_by(Document.sha256)
            )
        )
    now = utcnow()
    for document in documents:
        document.sha256 = None
        if document.deleted_at is None:
            document.deleted_at = now
    db.session.flush()
    return sum(1 for digest in hashes - shared if store.delete(digest))


def referenced_hashes() -> set[str]:
    """Every hash a row still names (the orphan sweep keeps their files)."""
    return set(
        db.session.scalars(
            select(Document.sha256).where(Document.sha256.is_not(None)).group_by(Document.sha256)
        )
    )
