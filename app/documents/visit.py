"""Papers photographed from the visit form (``app.interventions.views.create``): the social
worker takes a photo of a CAF letter during the visit and it is recorded with the visit,
linked to it (``link_kind="intervention"``).

The interventions domain sits below documents: it calls ``provided("visit_documents")``
(``app.documents.file``) and never imports this module. The order is the upload's: every
file is read and checked (``check``) with the form, written to the store (``store``) before
the transaction, and its rows are added (``attach``) in the visit's own transaction.
"""

from __future__ import annotations

from flask import current_app, request

from app.db import db
from app.documents import services
from app.documents.content import ACCEPT, prepare_files
from app.documents.models import readable_categories
from app.errors import DomainError
from app.permissions import Permission, has_permission
from app.uploads import megabytes

PHOTOS = "document_photos"
FILES = "document_files"
CATEGORY = "document_category"
LINK_KIND = "intervention"


class VisitPapers:
    """The visit form's "Documents" part: its choices, what was posted, its refusal."""

    accept = ACCEPT
    photos_name, files_name, category_name = PHOTOS, FILES, CATEGORY

    def __init__(self, household, viewer):
        self.household = household
        self.viewer = viewer
        self.categories = readable_categories(viewer)
        posted = request.method == "POST"
        self.category = (request.form.get(CATEGORY) or "") if posted else ""
        self.error: str | None = None
        self.category_error: str | None = None
        self._prepared = []
        self._stored = []
        config = current_app.config
        self.max_size = megabytes(config["DOCUMENTS_MAX_BYTES"])
        self.max_files = config["DOCUMENTS_MAX_FILES"]

    @staticmethod
    def _uploads() -> list:
        files = request.files.getlist(PHOTOS) + request.files.getlist(FILES)
        return [(f.filename, f.stream) for f in files if f and f.filename]

    def check(self) -> bool:
        """Read and check the posted files (nothing stored); False with a French message on
        the file field (or the category's) when they are refused. No file: nothing to do."""
        uploads = self._uploads()
        if not uploads:
            return True
        if self.category not in {c.value for c in self.categories}:
            self.category_error = "Choisissez la catégorie des documents photographiés."
            return False
        config = current_app.config
        try:
            self._prepared = prepare_files(
                uploads,
                max_bytes=config["DOCUMENTS_MAX_BYTES"],
                max_files=config["DOCUMENTS_MAX_FILES"],
            )
        except DomainError as error:
            self.error = f"{error.message} Choisissez de nouveau le ou les fichiers."
            return False
        return True

    def store(self) -> None:
        """Write the checked files to the store: before, and outside, the visit's transaction."""
        self._stored = services.store_prepared(self._prepared)

    def attach(self, intervention) -> int:
        """In the visit's transaction: one document per stored file, linked to the visit (its
        date as the document's date). Returns how many."""
        if not self._stored:
            return 0
        if intervention.id is None:
            db.session.flush()
        documents = services.add_documents(
            self.viewer,
            self.household,
            category=self.category,
            title=None,
            document_on=None,
            valid_until=None,
            link=(LINK_KIND, intervention.id),
            files=self._stored,
        )
        return len(documents)


def visit_papers(household, viewer) -> VisitPapers | None:
    """The visit form's documents part, for a viewer who may upload documents."""
    if not has_permission(viewer, Permission.UPLOAD_DOCUMENTS):
        return None
    return VisitPapers(household, viewer)
