"""Reading the rows of an extract, CSV or XLSX, within the limits (``limits.py``)."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator

from app.housing.rent_import.limits import (
    _MAX_ZIP_PARTS,
    _ZIP_CHUNK,
    MAX_SHARED_STRINGS_BYTES,
    NOT_READABLE,
    FileRefused,
    ImportLimits,
    _Budget,
    _number,
    _refuse_cell,
    _refuse_columns,
    _refuse_rows,
    check_size,
)
from app.uploads import megabytes


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


SEPARATORS = {";": "point-virgule", "\t": "tabulation", ",": "virgule"}
ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 avec BOM", "cp1252": "Windows-1252"}


def _separator(content: bytes, encoding: str) -> str:
    """The separator of the first non-blank line: the most frequent of ``;``, tab and ``,``
    outside quotes (``;`` on a tie, the French Excel default)."""
    head = content[:65536].decode(encoding, errors="replace").lstrip("\ufeff")
    line = next((text for text in head.splitlines() if text.strip()), "")
    line = re.sub(r'"[^"]*"', "", line)
    counts = {separator: line.count(separator) for separator in SEPARATORS}
    best = max(counts.values())
    return next((s for s in SEPARATORS if counts[s] == best), ";") if best else ";"


def csv_dialect(content: bytes) -> tuple[str, str]:
    """``(encoding, separator)`` of a CSV extract."""
    encoding = _encoding(content)
    return encoding, _separator(content, encoding)


def _csv_rows(content: bytes, limits: ImportLimits, _budget: _Budget) -> Iterator[tuple]:
    """Rows of a CSV (separator and encoding detected), decoded line by line. A physical
    line longer than a full row of maximal cells (quotes doubled) is refused before the csv
    module sees it."""
    encoding, separator = csv_dialect(content)
    stream = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, errors="replace", newline="")
    max_line = limits.max_columns * (2 * limits.max_cell_chars + 3) + 2
    physical = 0

    def lines() -> Iterator[str]:
        nonlocal physical
        while line := stream.readline(max_line + 1):
            physical += 1
            if len(line) > max_line:
                raise _refuse_cell(limits, physical)
            yield line

    reader = csv.reader(lines(), delimiter=separator)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as error:  # e.g. a quote never closed: the field outgrows the csv limit
        raise FileRefused(
            f"Ligne {_number(physical)} : le CSV est mal formé (guillemet jamais refermé ou "
            "cellule trop longue)."
        ) from error


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
        _check_shared_strings(archive, parts)
        for part in parts:
            if part.filename.endswith((".xml", ".rels")):
                _scan_xml(archive, part, limits, budget)


_OVERRIDE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Override\b[^>]*>")
_PART_NAME = re.compile(rb'PartName\s*=\s*["\']/?([^"\']+)["\']')
_SHARED_STRINGS_TYPE = re.compile(rb'ContentType\s*=\s*["\'][^"\']*sharedStrings\+xml["\']')
_MAX_CONTENT_TYPES = 1024 * 1024


def _check_shared_strings(archive: zipfile.ZipFile, parts: list) -> None:
    """The shared strings part (whatever its name: openpyxl finds it by its content type
    in ``[Content_Types].xml``) may not exceed ``MAX_SHARED_STRINGS_BYTES`` once unzipped:
    openpyxl would hold it whole in memory."""
    manifest = next((p for p in parts if p.filename == "[Content_Types].xml"), None)
    if manifest is None:
        return  # openpyxl refuses it: not readable
    if manifest.file_size > _MAX_CONTENT_TYPES:
        raise FileRefused(NOT_READABLE)
    names = set()
    for override in _OVERRIDE.findall(archive.read(manifest)):
        name = _PART_NAME.search(override)
        if name and _SHARED_STRINGS_TYPE.search(override):
            names.add(name.group(1).decode("utf-8", "replace"))
    if any(p.filename in names and p.file_size > MAX_SHARED_STRINGS_BYTES for p in parts):
        raise FileRefused(
            f"Le classeur contient plus de {megabytes(MAX_SHARED_STRINGS_BYTES)} de textes : "
            "enregistrez l'extrait en CSV ou découpez-le."
        )


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
    """Check every row against the limits as it is read; the first one exceeded stops.
    (Run for every row of a whole-portfolio extract: the limits are read once, and a row
    whose last cell is filled text — most CSV rows — has its width without a loop.)"""
    clock, deadline = limits.clock, budget.deadline
    max_rows, max_columns, max_cell = limits.max_rows, limits.max_columns, limits.max_cell_chars
    for line, row in rows:
        if clock() > deadline:
            budget.check()
        if line > max_rows:
            raise _refuse_rows(limits)
        last = row[-1] if row else None
        if last.__class__ is str and last and not last.isspace():
            width, cells = len(row), row
        else:
            width = _width(row)
            cells = row[:width]
        if width > max_columns:
            raise _refuse_columns(limits, line)
        try:  # a CSV row is all text: its longest cell in one C call
            too_long = bool(cells) and max(map(len, cells)) > max_cell
        except TypeError:  # a workbook row holds numbers and dates too
            too_long = True
        if too_long:
            for column, value in enumerate(cells, start=1):
                if isinstance(value, str) and len(value) > max_cell:
                    raise _refuse_cell(limits, line, column)
        yield line, cells


def file_format(content: bytes) -> str:
    return "xlsx" if content[:4] == b"PK\x03\x04" else "csv"


def read_rows(content: bytes, limits: ImportLimits) -> Iterator[tuple[int, tuple]]:
    """``(line, cells)`` of the file, within the limits; raises ``FileRefused``."""
    check_size(len(content), limits)
    budget = _Budget(limits)
    reader = _xlsx_rows if file_format(content) == "xlsx" else _csv_rows
    return _bounded(_guarded(reader(content, limits, budget)), limits, budget)
