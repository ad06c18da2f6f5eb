"""Documents of a household's file: the papers (lease, CAF letters, insurance certificate…)
whose bytes live in the document store (``app.documents.storage``), named by their hash.

Who reads a document is said once, by its category: ``CATEGORY_AUDIENCE`` gives each
category an audience of ``app.audience``. The row's content columns are ``social`` content
that turns into tenancy content on the rows of a landlord-audience category
(``is_tenancy_category``, derived from the category by ``Document.category`` being set,
never typed by anyone); the scoped query (``app.documents.queries.visible_documents``)
keeps only the rows of the categories the viewer reads.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.audience import Audience, may_read_audience
from app.db import UtcDateTime, VersionedMixin, db, utcnow
from app.households.models import LabelledEnum


class DocumentCategory(LabelledEnum):
    IDENTITE = "identite"
    RESSOURCES = "ressources"
    BAIL = "bail"
    ASSURANCE = "assurance"
    COURRIER_BAILLEUR = "courrier_bailleur"
    DECOMPTE = "decompte"
    FSL = "fsl"
    CONTRAT = "contrat"
    SANTE = "sante"
    AUTRE = "autre"


DocumentCategory.LABELS = {
    "identite": "Identité",
    "ressources": "Ressources (CAF/APL, avis d'imposition)",
    "bail": "Bail et avenants",
    "assurance": "Attestation d'assurance",
    "courrier_bailleur": "Courrier du bailleur",
    "decompte": "Décompte / plan d'apurement",
    "fsl": "Dossier FSL",
    "contrat": "Contrat d'accompagnement",
    "sante": "Santé (réservé à l'équipe d'accompagnement)",
    "autre": "Autre",
}

# The one declaration of who reads each category (app.audience's vocabulary): tenancy
# categories are seen and uploaded by the landlord's staff too; health follows the health
# audience (the support team only, never shared, never in bulk exports).
C = DocumentCategory
CATEGORY_AUDIENCE: dict[DocumentCategory, Audience] = {
    C.IDENTITE: Audience.SOCIAL,
    C.RESSOURCES: Audience.SOCIAL,
    C.BAIL: Audience.TENANCY,
    C.ASSURANCE: Audience.TENANCY,
    C.COURRIER_BAILLEUR: Audience.TENANCY,
    C.DECOMPTE: Audience.TENANCY,
    C.FSL: Audience.SOCIAL,
    C.CONTRAT: Audience.SOCIAL,
    C.SANTE: Audience.HEALTH,
    C.AUTRE: Audience.SOCIAL,
}


def readable_categories(user) -> list[DocumentCategory]:
    """The categories ``user`` may see and upload, in declaration order."""
    return [c for c, audience in CATEGORY_AUDIENCE.items() if may_read_audience(user, audience)]


class Document(VersionedMixin, db.Model):
    """One version of one paper. Replacing it adds a row (``previous_id``) and marks this
    one ``replaced_at``; deleting it is a soft delete with a reason."""

    __tablename__ = "document"
    __table_args__ = (
        Index("ix_document_household_current", "household_id", "replaced_at", "deleted_at"),
        Index("ix_document_sha256", "sha256"),
        Index("ix_document_lineage", "lineage_id"),
        CheckConstraint("size_bytes >= 0", name="size_positive"),
        CheckConstraint(
            "(link_kind IS NULL) = (link_id IS NULL)", name="link_kind_and_id_together"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), info={"audience": "internal"}
    )
    category: Mapped[str] = mapped_column(String(30), info={"audience": "internal"})
    is_tenancy_category: Mapped[bool] = mapped_column(
        Boolean, default=False, info={"audience": "internal"}
    )
    title: Mapped[str] = mapped_column(
        String(200), info={"audience": "social", "tenancy_when": "is_tenancy_category"}
    )
    document_on: Mapped[date | None] = mapped_column(
        Date, info={"audience": "social", "tenancy_when": "is_tenancy_category"}
    )
    valid_until: Mapped[date | None] = mapped_column(
        Date, info={"audience": "social", "tenancy_when": "is_tenancy_category"}
    )
    # What the paper proves: a kind of ``app.documents.links.LINK_KINDS`` and the id of a
    # record of the same household (checked by the service).
    link_kind: Mapped[str | None] = mapped_column(String(30), info={"audience": "internal"})
    link_id: Mapped[int | None] = mapped_column(Integer, info={"audience": "internal"})
    original_name: Mapped[str] = mapped_column(
        String(200), info={"audience": "social", "tenancy_when": "is_tenancy_category"}
    )
    content_type: Mapped[str] = mapped_column(String(100), info={"audience": "internal"})
    size_bytes: Mapped[int] = mapped_column(BigInteger, info={"audience": "internal"})
    # The stored file's name (None once its bytes were destroyed by retention).
    sha256: Mapped[str | None] = mapped_column(String(64), info={"audience": "internal"})
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    uploaded_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("document.id"), info={"audience": "internal"}
    )
    # The id of the first version: every version of one paper shares it.
    lineage_id: Mapped[int | None] = mapped_column(Integer, info={"audience": "internal"})
    version_number: Mapped[int] = mapped_column(Integer, default=1, info={"audience": "internal"})
    replaced_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info={"audience": "internal"})
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, info={"audience": "internal"})
    deleted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id"), info={"audience": "internal"}
    )
    delete_reason: Mapped[str | None] = mapped_column(Text, info={"audience": "social"})

    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id], lazy="joined")

    @validates("category")
    def _derive_audience(self, _key, category):
        self.is_tenancy_category = CATEGORY_AUDIENCE[DocumentCategory(category)] == Audience.TENANCY
        return category

    @property
    def category_label(self) -> str:
        return DocumentCategory(self.category).label

    @property
    def is_inline(self) -> bool:
        """Images and PDF open in the browser; anything else is downloaded."""
        return self.content_type.startswith("image/") or self.content_type == "application/pdf"
