"""What an uploaded file is, read from its bytes (never from its name or the browser's
claim), and the checks every file passes before anything is stored.

``prepare_files`` measures each file against its limit, detects its type from its first
bytes against the allow-list, downscales large photos (Pillow: orientation applied, metadata
dropped) and returns what to store: the upload's own stream, rewound (Werkzeug has already
spooled the part to a temporary file; the store reads it once, hashing as it writes), or the
re-encoded photo. The first refusal names the file in a French ``DomainError``.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from app.errors import DomainError
from app.uploads import megabytes

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
HEIC = "image/heic"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

ALLOWED = (PDF, JPEG, PNG, WEBP, HEIC, DOCX, XLSX, ODT, ODS)
# What the file input proposes (a hint for the phone's picker; the server decides).
ACCEPT = "image/*,application/pdf,.pdf,.docx,.xlsx,.odt,.ods"
EXTENSIONS = {
    PDF: "pdf",
    JPEG: "jpg",
    PNG: "png",
    WEBP: "webp",
    HEIC: "heic",
    DOCX: "docx",
    XLSX: "xlsx",
    ODT: "odt",
    ODS: "ods",
}
# Photos larger than this (pixels on the longer side) are downscaled.
MAX_IMAGE_SIDE = 2000
# Beyond this many pixels an image is refused unread (a decompression bomb).
MAX_IMAGE_PIXELS = 60_000_000
_OFFICE_ZIP_ENTRIES = 2000


@dataclass(frozen=True)
class PreparedFile:
    name: str  # sanitised, for display only
    content_type: str
    source: BinaryIO  # at its start: what to store
    size: int


def sniff(data: bytes | BinaryIO) -> str | None:
    """The content type of ``data`` (bytes, or a seekable stream at its start, left there) if
    it is of an allowed kind, else None."""
    if isinstance(data, bytes | bytearray):
        data = io.BytesIO(data)
    head = data.read(64)
    data.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"heif"):
        return HEIC
    if head.startswith(b"PK\x03\x04"):
        return _office_type(data)
    return None


def _office_type(stream: BinaryIO) -> str | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
            if len(names) > _OFFICE_ZIP_ENTRIES:
                return None
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return declared if declared in (ODT, ODS) else None
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return DOCX
                if any(n.startswith("xl/") for n in names):
                    return XLSX
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, KeyError):
        return None
    finally:
        stream.seek(0)
    return None


def display_name(raw: str | None, content_type: str) -> str:
    """The file's name for display only (never a path): its last part, control characters
    and quotes removed, bounded; the detected type's extension when it has none."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in "\"'<>")
    name = name.strip(" .")[:150]
    stem, dot, _extension = name.rpartition(".")
    if not name or not dot or not stem:
        name = (name or "document") + "." + EXTENSIONS[content_type]
    return name


def read_limited(stream, limit: int, name: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(name, limit)
    return data


def _too_large(name: str, limit: int) -> DomainError:
    return DomainError(
        f"« {name} » dépasse la taille autorisée ({megabytes(limit)} au plus par fichier). "
        "Rien n'a été enregistré.",
        field="files",
    )


def measured(stream, limit: int, name: str) -> tuple[BinaryIO, int]:
    """The upload as a seekable stream at its start, and its size, refused past ``limit``
    without being read when it can be measured (Werkzeug's spooled file); read into memory,
    up to the limit, when it cannot."""
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        size = stream.seek(0, io.SEEK_END)
        if size > limit:
            raise _too_large(name, limit)
        stream.seek(0)
        return stream, size
    data = read_limited(stream, limit, name)
    return io.BytesIO(data), len(data)


def prepare_files(uploads, *, max_bytes: int, max_files: int) -> list[PreparedFile]:
    """Check every upload (``(filename, stream)`` pairs) and return what to store; refuse the
    whole upload on the first file that fails, before anything is stored."""
    if not uploads:
        raise DomainError("Choisissez au moins un fichier.", field="files")
    if len(uploads) > max_files:
        raise DomainError(
            f"Envoyez au plus {max_files} fichiers à la fois (vous en avez choisi "
            f"{len(uploads)}). Rien n'a été enregistré.",
            field="files",
        )
    prepared = []
    for raw_name, stream in uploads:
        shown = display_name(raw_name, PDF) if raw_name else "fichier"
        source, size = measured(stream, max_bytes, shown)
        if not size:
            raise DomainError(f"« {shown} » est vide. Rien n'a été enregistré.", field="files")
        head = source.read(4)
        source.seek(0)
        content_type = sniff(source)
        if head[:2] == b"MZ" or head[:4] == b"\x7fELF":
            raise DomainError(
                f"« {shown} » est un programme, pas un document : il est refusé. "
                "Rien n'a été enregistré.",
                field="files",
            )
        if content_type is None:
            raise DomainError(
                f"« {shown} » n'est pas d'un type accepté (PDF, photo JPEG, PNG, WebP ou HEIC, "
                "document Word, Excel ou OpenDocument) : son contenu ne correspond à aucun de "
                "ces formats. Rien n'a été enregistré.",
                field="files",
            )
        if content_type in (JPEG, PNG, WEBP):
            data, content_type = _downscaled(source.read(), content_type, shown)
            source, size = io.BytesIO(data), len(data)
        name = display_name(raw_name, content_type)
        prepared.append(PreparedFile(name, content_type, source, size))
    return prepared


def _downscaled(data: bytes, content_type: str, shown: str) -> tuple[bytes, str]:
    """A photo with its orientation applied, its metadata (EXIF: place, device) dropped and
    its longer side at most ``MAX_IMAGE_SIDE`` pixels."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            # Between one and two times the bound Pillow only warns: refuse there too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                # Read from the header, before any pixel is decoded (Pillow's own global
                # bound stays as it is for the rest of the application).
                if opened.width * opened.height > MAX_IMAGE_PIXELS:
                    raise Image.DecompressionBombError(opened.size)
                image = ImageOps.exif_transpose(opened)
        if max(image.size) > MAX_IMAGE_SIDE:
            image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
        out = io.BytesIO()
        if content_type == JPEG or image.mode not in ("RGB", "RGBA", "L", "P", "LA"):
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            return out.getvalue(), JPEG
        image.save(out, "PNG" if content_type == PNG else "WEBP", optimize=True)
        return out.getvalue(), content_type
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DomainError(
            f"« {shown} » est une image beaucoup trop grande pour être lue sans risque. "
            "Rien n'a été enregistré : envoyez une photo de taille normale.",
            field="files",
        ) from None
    except (OSError, ValueError, SyntaxError):
        raise DomainError(
            f"« {shown} » est une image abîmée ou illisible. Rien n'a été enregistré.",
            field="files",
        ) from None
