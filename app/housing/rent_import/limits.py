"""The limits of a rent-account import and the refusal they raise.

Files are hostile until read (a 2 MB workbook unzipping to millions of rows, one 200 MB
cell, a CSV field longer than the csv module accepts). Every limit of ``ImportLimits`` is
checked before the work it protects and again while streaming; the first one exceeded stops
the reading with a French message that names the limit, the line and the column, never the
content. Values quoted back in a row's problem are cut to ``SHOWN_CHARS`` characters."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from app.uploads import megabytes

# Row problems kept for the report (the others are counted), and how many bad rows stop the
# reading: past that, the file is most likely not the extract, and reading on only costs.
MAX_REPORTED_PROBLEMS = 50
MAX_BAD_ROWS = 1000
# A value quoted back in a message is cut to this many characters.
SHOWN_CHARS = 40


# ImportLimits field → configuration key; the defaults live in app.config.DefaultConfig.
LIMIT_SETTINGS = {
    "max_bytes": "RENT_IMPORT_MAX_BYTES",
    "max_rows": "RENT_IMPORT_MAX_ROWS",
    "max_columns": "RENT_IMPORT_MAX_COLUMNS",
    "max_cell_chars": "RENT_IMPORT_MAX_CELL_CHARS",
    "max_seconds": "RENT_IMPORT_MAX_SECONDS",
    "max_unzipped_bytes": "RENT_IMPORT_MAX_UNZIPPED_BYTES",
}
# An .xlsx is a zip: parts read by chunks of this size, at most this many parts.
_ZIP_CHUNK = 1024 * 1024
_MAX_ZIP_PARTS = 1000
# openpyxl loads an .xlsx's shared strings whole, even in read-only mode: a part of that size
# of short unique strings is ~100 MB of Python objects. A 250,000-row extract's (references
# and names) weighs ~15 MB.
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """What one import may cost. ``clock`` is injectable so that tests never wait."""

    max_bytes: int
    max_rows: int
    max_columns: int
    max_cell_chars: int
    max_seconds: float
    max_unzipped_bytes: int
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_config(cls, config=None) -> ImportLimits:
        config = current_app.config if config is None else config
        return cls(**{name: config[key] for name, key in LIMIT_SETTINGS.items()})


class FileRefused(Exception):
    """The file cannot be read, or a limit was exceeded: reading stops at once."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


NOT_READABLE = "Le fichier n'est ni un CSV ni un classeur Excel (.xlsx) lisible."


def _number(value: float) -> str:
    return f"{value:,}".replace(",", "\u00a0").replace(".", ",")


class _Budget:
    """The time allowed for reading, checked as rows (and zip chunks) are read."""

    def __init__(self, limits: ImportLimits):
        self.limits = limits
        self.deadline = limits.clock() + limits.max_seconds

    def check(self) -> None:
        if self.limits.clock() > self.deadline:
            raise FileRefused(
                f"La lecture du fichier a dépassé {_number(self.limits.max_seconds)} secondes : "
                "découpez l'extrait en plusieurs fichiers, ou enregistrez-le en CSV (plus "
                "rapide à lire)."
            )


def _refuse_rows(limits: ImportLimits) -> FileRefused:
    return FileRefused(
        f"Le fichier dépasse {_number(limits.max_rows)} lignes : découpez l'extrait en "
        "plusieurs fichiers."
    )


def _refuse_columns(limits: ImportLimits, line: int) -> FileRefused:
    return FileRefused(
        f"Ligne {_number(line)} : plus de {limits.max_columns} colonnes. Gardez seulement les "
        "colonnes de l'extrait."
    )


def _refuse_cell(limits: ImportLimits, line: int, column: int | None = None) -> FileRefused:
    where = f"Ligne {_number(line)}, colonne {column}" if column else f"Ligne {_number(line)}"
    return FileRefused(
        f"{where} : une cellule dépasse {limits.max_cell_chars} caractères, ce qui n'est "
        "pas attendu dans un extrait de comptes."
    )


def check_size(size: int, limits: ImportLimits) -> None:
    if size > limits.max_bytes:
        raise FileRefused(
            f"Le fichier dépasse {megabytes(limits.max_bytes)} : découpez l'extrait en "
            "plusieurs fichiers."
        )


def shown(value: object) -> str:
    """A cell quoted back to the user: never more than ``SHOWN_CHARS`` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
