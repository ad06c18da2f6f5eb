"""Files and uploads for the documents' tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.db import db
from app.documents.models import Document
from tests.factories import PDF_BYTES

__all__ = ["PDF_BYTES"]


def png(width: int = 40, height: int = 30, color=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif(width: int = 3000, height: int = 1500) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "TelephoneSecret"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def upload(client, household, files, *, category="assurance", **fields):
    """POST the upload form with ``files`` (``(content, name)`` pairs) in the files input."""
    data = {
        "category": category,
        "files": [(io.BytesIO(content), name) for content, name in files],
        **fields,
    }
    return client.post(
        f"/menages/{household.id}/documents", data=data, content_type="multipart/form-data"
    )


def stored_files() -> list[str]:
    folder = Path(current_app.config["DOCUMENTS_FOLDER"])
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def document_count() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count(Document.id)))


def documents() -> list[Document]:
    db.session.commit()
    return list(db.session.scalars(select(Document).order_by(Document.id)))
