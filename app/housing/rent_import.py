"""Reading a landlord's monthly rent-account extract (CSV or XLSX): limits, header mapping,
row validation and the report. (Past 600 lines on purpose for now: one reader in one place
until the landlord-exchange work (issue #15) cuts it into mapping, rows and summary.)
Nothing here writes: ``services.import_rent_accounts`` writes in bulk once the whole file
has been read and validated.

Files are hostile until read (a 2 MB workbook unzipping to millions of rows, one 200 MB
cell, a CSV field longer than the csv module accepts). Every limit of ``ImportLimits`` is
checked before the work it protects and again while streaming; the first one exceeded stops
the reading with a French message that names the limit, the line and the column, never the
content. Values quoted back in a row's problem are cut to ``SHOWN_CHARS`` characters."""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import select

from app import bounds
from app.db import db, utcnow
from app.errors import DomainError
from app.formatting import format_date, today_paris
from app.households.models import search_key
from app.housing.models import AplStatus, Dwelling, Occupancy
from app.uploads import megabytes

# --- columns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportColumn:
    key: str
    header: str  # the header of the template
    required: bool
    aliases: tuple[str, ...] = ()
    hint: str = ""


IMPORT_COLUMNS = (
    ImportColumn(
        "reference",
        "Référence du bail",
        True,
        ("reference bail", "ref bail", "reference", "n bail", "numero de bail", "num bail"),
        "la référence du bail dans votre logiciel, telle que saisie dans Ancrage",
    ),
    ImportColumn(
        "month",
        "Mois",
        False,
        ("mois du compte", "periode"),
        "AAAA-MM ou MM/AAAA ; facultatif si le mois est choisi à l'import",
    ),
    ImportColumn(
        "balance",
        "Solde",
        True,
        ("solde du compte", "solde locataire", "dette"),
        "montant dû par le ménage en fin de mois (négatif s'il est créditeur), ex. 1 234,56",
    ),
    ImportColumn(
        "amount_due",
        "Loyer et charges du mois",
        True,
        ("loyer et charges", "loyer charges comprises", "quittancement", "montant quittance"),
        "loyer + charges appelés pour le mois, ex. 412,80",
    ),
    ImportColumn(
        "last_payment_on",
        "Date du dernier paiement",
        False,
        ("dernier paiement", "date dernier paiement"),
        "JJ/MM/AAAA, vide s'il n'y a eu aucun paiement",
    ),
    ImportColumn(
        "apl_status", "APL", False, ("statut apl", "apl maintenue"), "maintenue, suspendue ou sans"
    ),
    ImportColumn(
        "caf_reported_on",
        "Date de signalement CAF",
        False,
        ("signalement caf", "date signalement caf"),
        "JJ/MM/AAAA, vide si pas de signalement",
    ),
)
TEMPLATE_HEADER = ";".join(c.header for c in IMPORT_COLUMNS)

# Row problems kept for the report (the others are counted), and how many bad rows stop the
# reading: past that, the file is most likely not the extract, and reading on only costs.
MAX_REPORTED_PROBLEMS = 50
MAX_BAD_ROWS = 1000
# A value quoted back in a message is cut to this many characters.
SHOWN_CHARS = 40


# --- limits --------------------------------------------------------------------------------

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


NOT_READABLE = (
    "Le fichier n'est ni un CSV (séparateur point-virgule) ni un classeur Excel (.xlsx) lisible."
)


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


# --- reading CSV ---------------------------------------------------------------------------


def _encoding(content: bytes) -> str:
    """UTF-8 (with or without BOM), otherwise Windows-1252 (Excel's French CSV); checked by
    chunks, without decoding the whole file into memory."""
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(content)
    try:
        for start in range(0, len(view), _ZIP_CHUNK):
            decoder.decode(view[start : start + _ZIP_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _csv_rows(content: bytes, limits: ImportLimits, _budget: _Budget) -> Iterator[tuple]:
    """Rows of a ``;``-separated CSV, decoded line by line. A physical line longer than a
    full row of maximal cells (quotes doubled) is refused before the csv module sees it."""
    stream = io.TextIOWrapper(
        io.BytesIO(content), encoding=_encoding(content), errors="replace", newline=""
    )
    max_line = limits.max_columns * (2 * limits.max_cell_chars + 3) + 2
    physical = 0

    def lines() -> Iterator[str]:
        nonlocal physical
        while line := stream.readline(max_line + 1):
            physical += 1
            if len(line) > max_line:
                raise _refuse_cell(limits, physical)
            yield line

    reader = csv.reader(lines(), delimiter=";")
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as error:  # e.g. a quote never closed: the field outgrows the csv limit
        raise FileRefused(
            f"Ligne {_number(physical)} : le CSV est mal formé (guillemet jamais refermé ou "
            "cellule trop longue)."
        ) from error


# --- reading XLSX --------------------------------------------------------------------------

_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?=[\s/>])")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c(?=[\s/>])")
_SMALLEST_CELL = len(b"<c/>")
# Excel never writes these; a DOCTYPE can declare entities (billion laughs) and CDATA can
# hide a huge text from the run-length check below.
_FORBIDDEN_XML = re.compile(rb"<!(?:DOCTYPE|ENTITY|\[CDATA\[)")


def _check_archive(content: bytes, limits: ImportLimits, budget: _Budget) -> None:
    """Refuse a workbook whose parts would unzip past the limit (their declared sizes bound
    what ``zipfile`` will ever inflate), then scan each XML part by chunks — rows, cells per
    row, longest text — before openpyxl parses anything (even in read-only mode it loads
    the shared strings whole, and builds each row whole)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as error:
        raise FileRefused(NOT_READABLE) from error
    with archive:
        parts = archive.infolist()
        if len(parts) > _MAX_ZIP_PARTS or (
            sum(p.file_size for p in parts) > limits.max_unzipped_bytes
        ):
            raise FileRefused(
                "Le classeur, une fois décompressé, dépasserait "
                f"{megabytes(limits.max_unzipped_bytes)} : enregistrez l'extrait en CSV ou "
                "découpez-le."
            )
        for part in parts:
            if part.filename.endswith((".xml", ".rels")):
                _scan_xml(archive, part, limits, budget)


def _scan_xml(archive: zipfile.ZipFile, part, limits: ImportLimits, budget: _Budget) -> None:
    # Between two "<" lies one tag or one text: no legitimate one is this long (a cell's
    # text is at most max_cell_chars characters, at most ~10 bytes each once escaped). The
    # pattern starts only after a "<" (or at the start), so the search stays linear.
    longest = max(4096, 10 * limits.max_cell_chars)
    too_long = re.compile(rb"(?<![^<])[^<]{%d}" % (longest + 1))
    rows = cells = 0
    tail = b""
    with archive.open(part) as stream:
        while True:
            budget.check()
            chunk = stream.read(_ZIP_CHUNK)
            data = tail + chunk
            if too_long.search(data):
                raise _refuse_cell(limits, max(rows, 1))
            if _FORBIDDEN_XML.search(data):
                raise FileRefused(NOT_READABLE)
            # The last tag may be cut by the chunk: it is scanned with the next one.
            end = data.rfind(b"<") if chunk else -1
            end = len(data) if end == -1 else end
            rows, cells = _count_rows(data[:end], rows, cells, limits)
            tail = data[end:]
            if not chunk:
                return


def _count_rows(data: bytes, rows: int, cells: int, limits: ImportLimits) -> tuple[int, int]:
    """Rows so far, and cells of the current row, after ``data`` (split on row tags, in C;
    cells counted only in a piece long enough to hold too many)."""
    pieces = _ROW.split(data)
    rows += len(pieces) - 1
    if rows > limits.max_rows:
        raise _refuse_rows(limits)
    for index, piece in enumerate(pieces):
        cells = cells if index == 0 else 0
        if (cells + len(piece) // _SMALLEST_CELL) > limits.max_columns:
            cells += len(_CELL.findall(piece))
            if cells > limits.max_columns:
                raise _refuse_columns(limits, rows - len(pieces) + 1 + index)
    return rows, cells


def _xlsx_rows(content: bytes, limits: ImportLimits, budget: _Budget) -> Iterator[tuple]:
    """Rows of the first sheet, streamed by openpyxl in read-only mode. Asking for one
    column more than allowed is enough to tell a row that is too wide."""
    _check_archive(content, limits, budget)
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(max_col=limits.max_columns + 1, values_only=True)
        yield from enumerate(rows, start=1)
    finally:
        workbook.close()


# --- reading either, within the limits -----------------------------------------------------


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _width(row) -> int:
    """Columns up to the last non-blank cell."""
    for index in range(len(row) - 1, -1, -1):
        if not _is_blank(row[index]):
            return index + 1
    return 0


def _guarded(rows: Iterator[tuple]) -> Iterator[tuple]:
    """Any failure of the reader becomes a French refusal (never a 500 or a traceback)."""
    line = 0
    try:
        for line, row in rows:
            yield line, row
    except FileRefused:
        raise
    except Exception as error:
        if line == 0:
            raise FileRefused(NOT_READABLE) from error
        raise FileRefused(
            f"Le fichier est illisible après la ligne {_number(line)} : enregistrez-le de "
            "nouveau depuis votre tableur."
        ) from error


def _bounded(rows: Iterable[tuple], limits: ImportLimits, budget: _Budget) -> Iterator[tuple]:
    """Check every row against the limits as it is read; the first one exceeded stops."""
    for line, row in rows:
        budget.check()
        if line > limits.max_rows:
            raise _refuse_rows(limits)
        width = _width(row)
        if width > limits.max_columns:
            raise _refuse_columns(limits, line)
        for column, value in enumerate(row[:width], start=1):
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                raise _refuse_cell(limits, line, column)
        yield line, row[:width]


def file_format(content: bytes) -> str:
    return "xlsx" if content[:4] == b"PK\x03\x04" else "csv"


def read_rows(content: bytes, limits: ImportLimits) -> Iterator[tuple[int, tuple]]:
    """``(line, cells)`` of the file, within the limits; raises ``FileRefused``."""
    check_size(len(content), limits)
    budget = _Budget(limits)
    reader = _xlsx_rows if file_format(content) == "xlsx" else _csv_rows
    return _bounded(_guarded(reader(content, limits, budget)), limits, budget)


# --- header --------------------------------------------------------------------------------


def _normalise_header(text: object) -> str:
    key = search_key(str(text or "")).replace("°", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", key).split())


_HEADER_KEYS = {
    name: column.key
    for column in IMPORT_COLUMNS
    for name in (_normalise_header(column.header), *column.aliases)
}


def map_header(header) -> dict[str, int]:
    """Column key → position, for the columns recognised in the header row."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _HEADER_KEYS.get(_normalise_header(name))
        if key and key not in positions:
            positions[key] = index
    return positions


def header_problem(positions: dict, header, fmt: str, month: date | None) -> str | None:
    missing = [c.header for c in IMPORT_COLUMNS if c.required and c.key not in positions]
    if missing:
        hint = ""
        if fmt == "csv" and len(header) == 1 and ("," in header[0] or "\t" in header[0]):
            hint = " Le séparateur attendu est le point-virgule (;)."
        return "Colonnes obligatoires absentes : " + ", ".join(missing) + "." + hint
    if month is None and "month" not in positions:
        return (
            "Le mois du compte n'est indiqué nulle part : choisissez-le ou ajoutez une "
            "colonne « Mois »."
        )
    return None


# --- values --------------------------------------------------------------------------------

_AMOUNT = re.compile(r"^[+-]?\d+(\.\d{1,2})?$")


def parse_amount(value) -> int:
    """Cents from ``1 234,56``, ``-12,5``, ``412.80``, ``1.234,56 €`` or a spreadsheet number;
    ValueError beyond the plausible balance (``bounds.BALANCE``)."""
    cents = _parse_cents(value)
    if not bounds.BALANCE.contains(cents):
        raise ValueError
    return cents


def _parse_cents(value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float | Decimal):
        try:
            return int((Decimal(str(value)) * 100).quantize(Decimal(1)))
        except InvalidOperation as error:
            raise ValueError from error
    text = str(value).strip().replace("€", "")
    for space in (" ", "\u00a0", "\u202f"):
        text = text.replace(space, "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    if not _AMOUNT.match(text):
        raise ValueError
    return int((Decimal(text) * 100).quantize(Decimal(1)))


_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%y")


def parse_day(value) -> date:
    """A date from a cell; ValueError when unreadable or outside 1900–2100."""
    day = _read_day(value)
    if not bounds.date_in_window(day):
        raise ValueError
    return day


def _read_day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError


_MONTH_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})$"), 1, 2),
    (re.compile(r"^(\d{1,2})/(\d{4})$"), 2, 1),
)


def parse_month(value) -> date:
    """First day of the month from ``2026-03``, ``03/2026``, a date or a spreadsheet date."""
    if isinstance(value, date):
        return (value if not isinstance(value, datetime) else value.date()).replace(day=1)
    text = str(value).strip()
    for pattern, year_group, month_group in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            return date(int(match.group(year_group)), int(match.group(month_group)), 1)
    return parse_day(text).replace(day=1)


_APL_VALUES = {
    "maintenue": AplStatus.MAINTENUE,
    "maintenu": AplStatus.MAINTENUE,
    "oui": AplStatus.MAINTENUE,
    "suspendue": AplStatus.SUSPENDUE,
    "suspendu": AplStatus.SUSPENDUE,
    "sans": AplStatus.SANS_APL,
    "sans apl": AplStatus.SANS_APL,
    "non": AplStatus.SANS_APL,
    "aucune": AplStatus.SANS_APL,
}


def _month_label(month: date) -> str:
    return format_date(month).split(" ", 1)[1]


# --- rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lease:
    occupancy_id: int
    start_on: date
    end_on: date | None


def _lease_index(organisation_id: int) -> dict[str, _Lease]:
    """Every lease reference of the organisation, in one query. When a reference was reused
    (a glissement keeps it), the current lease wins, then the most recent one."""
    rows = db.session.execute(
        select(Occupancy.lease_reference, Occupancy.id, Occupancy.start_on, Occupancy.end_on)
        .join(Dwelling, Dwelling.id == Occupancy.dwelling_id)
        .where(Dwelling.landlord_id == organisation_id, Occupancy.lease_reference.is_not(None))
        .order_by(Occupancy.end_on.is_(None), Occupancy.start_on, Occupancy.id)
    )
    return {ref: _Lease(oid, start, end) for ref, oid, start, end in rows}


@dataclass(frozen=True)
class RowContext:
    """What every row is checked against."""

    leases: dict[str, _Lease]
    month: date | None  # chosen at import
    today: date

    @property
    def current_month(self) -> date:
        return self.today.replace(day=1)


def _check_reference(value, context: RowContext, reasons: list) -> tuple[str, _Lease | None]:
    reference = "" if _is_blank(value) else str(value).strip()
    if isinstance(value, float) and value.is_integer():
        reference = str(int(value))
    lease = context.leases.get(reference)
    if not reference:
        reasons.append("référence du bail manquante")
    elif lease is None:
        reasons.append(
            f"référence de bail inconnue pour votre organisation (« {shown(reference)} »)"
        )
    return reference, lease


def _row_month(cell: dict, context: RowContext, reasons: list) -> date | None:
    month = context.month
    if "month" in cell and not _is_blank(cell["month"]):
        try:
            row_month = parse_month(cell["month"])
        except ValueError:
            reasons.append(f"mois illisible (« {shown(cell['month'])} », attendu AAAA-MM)")
            return None
        if month is not None and row_month != month:
            reasons.append(
                f"le mois de la ligne ({_month_label(row_month)}) n'est pas le mois "
                f"choisi ({_month_label(month)})"
            )
        return row_month
    if month is None:
        reasons.append("mois manquant")
    return month


def _check_month_in_lease(row_month: date, lease, context: RowContext, reasons: list) -> None:
    if row_month > context.current_month:
        reasons.append(f"mois dans le futur ({_month_label(row_month)})")
    elif lease is not None and row_month < lease.start_on.replace(day=1):
        reasons.append(f"le bail commence le {format_date(lease.start_on)}, après ce mois")
    elif lease is not None and lease.end_on and row_month > lease.end_on.replace(day=1):
        reasons.append(f"le bail est terminé depuis le {format_date(lease.end_on)}")


def _amounts(cell: dict, reasons: list) -> dict[str, int]:
    amounts = {}
    for key, label in (("balance", "solde"), ("amount_due", "loyer et charges du mois")):
        if _is_blank(cell[key]):
            reasons.append(f"{label} manquant")
            continue
        try:
            amounts[key] = parse_amount(cell[key])
        except ValueError:
            reasons.append(f"{label} illisible (« {shown(cell[key])} », attendu par ex. 1 234,56)")
    if amounts.get("amount_due", 0) < 0:
        reasons.append("le loyer et les charges du mois ne peuvent pas être négatifs")
    return amounts


def _days(cell: dict, today: date, reasons: list) -> dict[str, date | None]:
    days: dict[str, date | None] = {}
    for key, label in (
        ("last_payment_on", "date du dernier paiement"),
        ("caf_reported_on", "date de signalement CAF"),
    ):
        raw = cell.get(key)
        days[key] = None
        if _is_blank(raw):
            continue
        try:
            days[key] = parse_day(raw)
        except ValueError:
            reasons.append(
                f"{label} illisible ou impossible (« {shown(raw)} », attendu JJ/MM/AAAA)"
            )
            continue
        if days[key] > today:
            reasons.append(f"{label} dans le futur")
    return days


def _apl(value, reasons: list) -> str | None:
    if _is_blank(value):
        return None
    apl = _APL_VALUES.get(_normalise_header(value))
    if apl is None:
        reasons.append(f"APL illisible (« {shown(value)} », attendu maintenue, suspendue ou sans)")
    return apl


@dataclass
class CheckedRow:
    reference: str
    reasons: list[str]
    key: tuple[int, date] | None  # (occupancy, month) when both are known
    values: dict


def check_row(cell: dict, context: RowContext) -> CheckedRow:
    """Validate one row's cells (column key → raw value); ``values`` is the snapshot to
    write when ``reasons`` stays empty."""
    reasons: list[str] = []
    reference, lease = _check_reference(cell["reference"], context, reasons)
    row_month = _row_month(cell, context, reasons)
    if row_month is not None:
        _check_month_in_lease(row_month, lease, context, reasons)
    amounts = _amounts(cell, reasons)
    days = _days(cell, context.today, reasons)
    apl = _apl(cell.get("apl_status"), reasons)
    key = (lease.occupancy_id, row_month) if lease and row_month else None
    values = {
        "occupancy_id": lease.occupancy_id if lease else None,
        "month": row_month,
        "balance_cents": amounts.get("balance"),
        "amount_due_cents": amounts.get("amount_due"),
        "last_payment_on": days["last_payment_on"],
        "apl_status": apl,
        "caf_reported_on": days["caf_reported_on"],
    }
    return CheckedRow(reference, reasons, key, values)


# --- report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    line: int
    reference: str
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return " ; ".join(self.reasons)


@dataclass
class ImportReport:
    """What the import found: file-level problems, the first bad rows (all are counted),
    and what was written."""

    file_format: str = ""
    rows: int = 0
    file_problems: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    bad_rows: int = 0
    created: int = 0
    updated: int = 0
    months: tuple[date, ...] = ()

    @property
    def is_valid(self) -> bool:
        return not self.file_problems and not self.bad_rows

    @property
    def shown_problems(self) -> list[RowProblem]:
        return self.problems

    @property
    def hidden_problems(self) -> int:
        return self.bad_rows - len(self.problems)

    def add_problem(self, problem: RowProblem) -> None:
        self.bad_rows += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)
        if self.bad_rows > MAX_BAD_ROWS:
            raise FileRefused(
                f"Plus de {_number(MAX_BAD_ROWS)} lignes à corriger : la lecture s'est arrêtée "
                f"à la ligne {_number(problem.line)}. Vérifiez qu'il s'agit bien de l'extrait "
                "des comptes du mois."
            )


class ImportRejected(DomainError):
    """The file has problems: nothing was imported; ``report`` lists them."""

    def __init__(self, report: ImportReport):
        count = report.bad_rows
        if report.file_problems:
            message = "Le fichier a été refusé : rien n'a été importé."
        else:
            message = (
                f"{count} ligne{'s' if count > 1 else ''} à corriger : rien n'a été importé. "
                "Corrigez le fichier puis importez-le de nouveau."
            )
        super().__init__(message, field="file")
        self.report = report


# --- the whole file ------------------------------------------------------------------------


def report_progress(iterable: Iterable, progress: Callable | None, **kwargs) -> Iterable:
    return progress(iterable, **kwargs) if progress else iterable


def _first_filled(rows: Iterator[tuple]):
    return next((row for _line, row in rows if _width(row)), None)


def _check_rows(rows, positions, context, report: ImportReport, progress) -> list[dict]:
    seen: dict[tuple[int, date], int] = {}
    values: list[dict] = []
    imported_at = utcnow()
    for line, raw in report_progress(rows, progress, desc="Lecture", unit=" lignes"):
        if not raw:
            continue
        report.rows += 1
        cell = {key: raw[index] if index < len(raw) else None for key, index in positions.items()}
        row = check_row(cell, context)
        if row.key is not None:
            first_line = seen.setdefault(row.key, line)
            if first_line != line:
                row.reasons.append(
                    f"ligne en double : ce bail et ce mois figurent déjà ligne {first_line}"
                )
        if row.reasons:
            report.add_problem(RowProblem(line, shown(row.reference), tuple(row.reasons)))
        elif not report.bad_rows:
            values.append({**row.values, "imported_at": imported_at})
    return values


def _summarise(report: ImportReport, values: list[dict]) -> list[dict]:
    if not report.file_problems and report.rows == 0:
        report.file_problems.append("Le fichier ne contient aucune ligne de compte.")
    report.months = tuple(sorted({v["month"] for v in values}))
    return values if report.is_valid else []


def read_rent_accounts(
    organisation_id: int,
    content: bytes,
    *,
    month: date | None = None,
    today: date | None = None,
    progress: Callable | None = None,
    limits: ImportLimits | None = None,
) -> tuple[ImportReport, list[dict]]:
    """Read and validate a landlord's extract, within ``limits``, without writing anything.

    Returns the report and, when it is valid, the rows to write (one dict per snapshot)."""
    limits = limits or ImportLimits.from_config()
    report = ImportReport(file_format=file_format(content))
    values: list[dict] = []
    try:
        rows = read_rows(content, limits)
        header = _first_filled(rows)
        if header is None:
            report.file_problems.append("Le fichier est vide.")
            return report, []
        positions = map_header(header)
        problem = header_problem(positions, header, report.file_format, month)
        if problem:
            report.file_problems.append(problem)
            return report, []
        context = RowContext(_lease_index(organisation_id), month, today or today_paris())
        values = _check_rows(rows, positions, context, report, progress)
    except FileRefused as refused:
        report.file_problems.append(refused.message)
    return report, _summarise(report, values)
