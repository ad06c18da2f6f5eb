"""What the import remembers per landlord: the column mapping of its extract (the import
profile, reused the next month without asking) and the history of the imports written
(who, when, file name, hash, months, counts) by which a file sent again is recognised."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UtcDateTime, db, utcnow


class RentImportProfile(db.Model):
    """A landlord's extract layout: column key → the normalised header name it was found
    under (``headers.header_names``). One per landlord organisation."""

    __tablename__ = "rent_import_profile"

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"),
        unique=True,
        info={"audience": "internal"},
    )
    columns: Mapped[dict] = mapped_column(JSON, info={"audience": "internal"})
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), info={"audience": "internal"}
    )


class RentImport(db.Model):
    """One import written: counts only, never a row of the file."""

    __tablename__ = "rent_import"
    __table_args__ = (UniqueConstraint("organisation_id", "file_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True, info={"audience": "internal"})
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), info={"audience": "internal"}
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), info={"audience": "internal"}
    )
    imported_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, info={"audience": "internal"}
    )
    via: Mapped[str] = mapped_column(String(10), info={"audience": "internal"})
    # A file's name as sent, and the SHA-256 of its bytes (None for lines sent by the API).
    file_name: Mapped[str | None] = mapped_column(String(255), info={"audience": "internal"})
    file_hash: Mapped[str | None] = mapped_column(String(64), info={"audience": "internal"})
    first_month: Mapped[date | None] = mapped_column(Date, info={"audience": "internal"})
    last_month: Mapped[date | None] = mapped_column(Date, info={"audience": "internal"})
    rows: Mapped[int] = mapped_column(Integer, info={"audience": "internal"})
    created: Mapped[int] = mapped_column(Integer, info={"audience": "internal"})
    updated: Mapped[int] = mapped_column(Integer, info={"audience": "internal"})
    unchanged: Mapped[int] = mapped_column(Integer, info={"audience": "internal"})
    out_of_programme: Mapped[int] = mapped_column(Integer, info={"audience": "internal"})

    user = relationship("User", lazy="joined")


def saved_columns(organisation_id: int) -> dict[str, str] | None:
    profile = db.session.scalar(
        select(RentImportProfile).where(RentImportProfile.organisation_id == organisation_id)
    )
    return dict(profile.columns) if profile else None


def save_profile(actor, organisation_id: int, columns: dict[str, str]) -> None:
    """Keep the mapping of a successful import, when it differs from the saved one."""
    profile = db.session.scalar(
        select(RentImportProfile).where(RentImportProfile.organisation_id == organisation_id)
    )
    if profile is None:
        profile = RentImportProfile(organisation_id=organisation_id, columns={})
        db.session.add(profile)
    if profile.columns != columns:
        profile.columns = dict(columns)
        profile.updated_at = utcnow()
        profile.updated_by_id = getattr(actor, "id", None)


def previous_import(organisation_id: int, file_hash: str) -> RentImport | None:
    """The import of this very file, if it was already written for this landlord."""
    return db.session.scalar(
        select(RentImport).where(
            RentImport.organisation_id == organisation_id, RentImport.file_hash == file_hash
        )
    )


def import_history(organisation_id: int, limit: int = 24) -> list[RentImport]:
    return list(
        db.session.scalars(
            select(RentImport)
            .where(RentImport.organisation_id == organisation_id)
            .order_by(RentImport.imported_at.desc(), RentImport.id.desc())
            .limit(limit)
        )
    )
