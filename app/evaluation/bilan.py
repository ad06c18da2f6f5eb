"""The yearly bilan of a project (or of an association across its projects): every evaluation
table of the year with the previous year beside it, small counts masked, and the four text
sections the coordinators write.

- **Pairing.** ``collect`` runs for the year and for the previous year; tables are paired by
  ``key``, rows by ``key``, columns by ``key``. A table, row or column missing in the
  previous year shows "—" there (a new indicator, a row that did not exist).
- **Masking.** A ``Kind.COUNT`` cell of 1 to threshold−1 households (``INDICATORS_SMALL_COUNT``,
  the threshold of the indicator exports, ``app.reports.views``) is written "< 5" on the page,
  in both documents and in the charts (no bar is drawn for it). Other kinds are not masked
  here: a provider that computes a mean or a share on few households sets it to None.
- **Cache.** Both years' tables are kept, unmasked, as JSON in the indicators' cache table
  (``indicator_cache``, ``app.reports.cache``) under a key of their own: a SHA-256 of
  ``"bilan"``, the payload format, the sorted project ids, the year and the ``as_of`` day.
  The providers read every household of the projects (no viewer-dependent narrowing: only the
  projects' coordinators may open a bilan), so the key holds no user. An entry is reused while
  younger than ``INDICATOR_CACHE_SECONDS`` (10 minutes, like the indicators), and
  "Recalculer maintenant" replaces it. Time-bounded rather than invalidated: the figures come
  from every domain, and a save in any of them would otherwise have to know about the bilan.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.db import db, utcnow
from app.errors import DomainError, StaleEditError, check_version, stale_edit_message
from app.evaluation.models_bilan import BilanSection, BilanText
from app.evaluation.suppression import suppress
from app.evaluation.tables import (
    AXES,
    DEFINITIONS_VERSION,
    Column,
    EvaluationScope,
    FigureTable,
    Kind,
    Row,
    Value,
    collect,
)
from app.reports.cache import cache_seconds, fresh_payload, store_payload
from app.reports.views import number_text, small_count_threshold

PAYLOAD_FORMAT = 1
TEXT_MAX = 20_000
MISSING = "—"


# --- the paired tables --------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str  # the year's value as written (masked: "< 5")
    previous: str  # the previous year's
    value: Value  # raw values, for the charts; None when masked or missing
    previous_value: Value
    kind: Kind


@dataclass(frozen=True)
class PairedRow:
    key: str
    label: str
    cells: tuple[Cell, ...]
    is_total: bool = False
    # The query arguments of the list of households this row counts (the year's row), or None.
    drilldown: dict[str, str] | None = None


@dataclass(frozen=True)
class PairedTable:
    key: str
    axis: str
    title: str
    definition: str
    columns: tuple[Column, ...]
    rows: tuple[PairedRow, ...]
    notes: tuple[str, ...]
    has_previous: bool

    @property
    def axis_label(self) -> str:
        return AXES.get(self.axis, self.axis)


@dataclass(frozen=True)
class Bilan:
    project_ids: tuple[int, ...]
    year: int
    tables: tuple[PairedTable, ...]
    threshold: int
    computed_at: datetime
    computed_now: bool

    @property
    def previous_year(self) -> int:
        return self.year - 1

    def by_axis(self) -> list[tuple[str, list[PairedTable]]]:
        groups: dict[str, list[PairedTable]] = {}
        for table in self.tables:
            groups.setdefault(table.axis, []).append(table)
        return [(AXES[axis], groups[axis]) for axis in AXES if axis in groups]


def is_masked(value: Value, kind: Kind, threshold: int) -> bool:
    return kind == Kind.COUNT and isinstance(value, int | Decimal) and 0 < value < threshold


def value_text(value: Value, kind: Kind, threshold: int) -> str:
    """A value the French way, as the page and both documents write it."""
    if value is None:
        return MISSING
    if is_masked(value, kind, threshold):
        return f"< {threshold}"
    if kind == Kind.TEXT or isinstance(value, str):
        return str(value)
    if kind == Kind.COUNT:
        return number_text(Decimal(value), 0)
    if kind == Kind.AMOUNT:
        decimals = 0 if Decimal(value) == Decimal(value).to_integral_value() else 2
        return f"{number_text(Decimal(value), decimals)}\u00a0€"
    if kind == Kind.DAYS:
        return f"{number_text(Decimal(str(value)), 0)}\u00a0j"
    if kind == Kind.RATIO:
        return number_text(Decimal(str(value)), 2)
    decimals = 0 if Decimal(str(value)) == Decimal(str(value)).to_integral_value() else 1
    return number_text(Decimal(str(value)), decimals)


# A figure masked although not small: a count that would give a masked one back by
# subtraction from the totals, or an amount, a rate or a duration over a masked group of
# households (``app.evaluation.suppression``, as in the national file).
GROUP_MASKED = "masqué"


def _text(value: Value, kind: Kind, threshold: int, suppressed: bool) -> str:
    if suppressed and value is not None and not is_masked(value, kind, threshold):
        return GROUP_MASKED
    return value_text(value, kind, threshold)


def _shown(value: Value, kind: Kind, threshold: int, suppressed: bool) -> Value:
    return None if suppressed or is_masked(value, kind, threshold) else value


def _cell(value: Value, previous: Value, kind: Kind, threshold: int, suppressed=(False, False)):
    """A cell: the year's value and the previous year's; ``suppressed`` says, for each,
    whether the small-cell suppression of its table masks it."""
    return Cell(
        text=_text(value, kind, threshold, suppressed[0]),
        previous=_text(previous, kind, threshold, suppressed[1]),
        value=_shown(value, kind, threshold, suppressed[0]),
        previous_value=_shown(previous, kind, threshold, suppressed[1]),
        kind=kind,
    )


def pair(table: FigureTable, previous: FigureTable | None, threshold: int) -> PairedTable:
    """``table`` with, in each cell, the same row and column of ``previous`` beside it."""
    old_rows = {row.key: k for k, row in enumerate(previous.rows)} if previous else {}
    old_columns = {c.key: i for i, c in enumerate(previous.columns)} if previous else {}
    # The funders receive the documents: a masked count must not come back by subtraction
    # from a table's totals, in the year or the previous one.
    masks = suppress(table, threshold)
    old_masks = suppress(previous, threshold) if previous else None
    rows = []
    for index, row in enumerate(table.rows):
        k = old_rows.get(row.key)
        cells = []
        for i, column in enumerate(table.columns):
            j = old_columns.get(column.key)
            found = k is not None and j is not None
            before = previous.rows[k].values[j] if found else None
            hidden = (masks.is_masked(index, i), found and old_masks.is_masked(k, j))
            cells.append(_cell(row.values[i], before, column.kind, threshold, hidden))
        is_total = table.row_total and index == len(table.rows) - 1
        rows.append(PairedRow(row.key, row.label, tuple(cells), is_total, row.drilldown))
    return PairedTable(
        key=table.key,
        axis=table.axis,
        title=table.title,
        definition=table.definition,
        columns=table.columns,
        rows=tuple(rows),
        notes=table.notes,
        has_previous=previous is not None,
    )


def paired_tables(
    current: list[FigureTable], previous: list[FigureTable], threshold: int
) -> tuple[PairedTable, ...]:
    before = {table.key: table for table in previous}
    return tuple(pair(table, before.get(table.key), threshold) for table in current)


# --- the cache ----------------------------------------------------------------------------


def cache_key(project_ids, year: int, as_of: date, kind: str = "bilan") -> str:
    parts = {
        "kind": kind,
        "format": PAYLOAD_FORMAT,
        # Figures computed under earlier definitions are never served after an upgrade.
        "definitions": DEFINITIONS_VERSION,
        "projects": sorted(set(project_ids)),
        "year": year,
        "as_of": as_of.isoformat(),
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _value(value: Value):
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value


def _unvalue(value) -> Value:
    return Decimal(value["decimal"]) if isinstance(value, dict) else value


def encode_table(table: FigureTable) -> dict:
    return {
        "key": table.key,
        "axis": table.axis,
        "title": table.title,
        "definition": table.definition,
        "columns": [[c.key, c.label, str(c.kind)] for c in table.columns],
        "rows": [[r.key, r.label, [_value(v) for v in r.values], r.drilldown] for r in table.rows],
        "row_total": table.row_total,
        "column_total": table.column_total,
        "notes": list(table.notes),
    }


def decode_table(data: dict) -> FigureTable:
    return FigureTable(
        key=data["key"],
        axis=data["axis"],
        title=data["title"],
        definition=data["definition"],
        columns=tuple(Column(k, label, Kind(kind)) for k, label, kind in data["columns"]),
        rows=tuple(
            Row(key, label, tuple(_unvalue(v) for v in values), drilldown)
            for key, label, values, drilldown in data["rows"]
        ),
        row_total=data["row_total"],
        column_total=data["column_total"],
        notes=tuple(data["notes"]),
    )


def _fresh(key: str, now: datetime) -> tuple[dict, datetime] | None:
    found = fresh_payload(key, now, PAYLOAD_FORMAT)
    if found is None or found[0].get("kind") != "bilan":
        return None
    return found


def build_bilan(project_ids, year: int, as_of: date, *, refresh: bool = False, now=None) -> Bilan:
    """The bilan's tables of ``year`` beside ``year - 1``, from the cache when fresh. The
    caller has checked that the viewer coordinates every project of ``project_ids``. A new
    cache entry is pending in the session: the caller commits it."""
    ids = tuple(sorted(set(project_ids)))
    now = now or utcnow()
    key = cache_key(ids, year, as_of)
    found = None if refresh else _fresh(key, now)
    if found is not None:
        payload, computed_at = found
        current = [decode_table(t) for t in payload["current"]]
        previous = [decode_table(t) for t in payload["previous"]]
    else:
        scope = EvaluationScope(ids, year, as_of)
        current = collect(db.session, scope)
        previous = collect(db.session, scope.previous_year())
        computed_at = now
        if cache_seconds() > 0:
            payload = {
                "kind": "bilan",
                "format": PAYLOAD_FORMAT,
                "current": [encode_table(t) for t in current],
                "previous": [encode_table(t) for t in previous],
            }
            store_payload(key, payload, now)
    threshold = small_count_threshold()
    return Bilan(
        project_ids=ids,
        year=year,
        tables=paired_tables(current, previous, threshold),
        threshold=threshold,
        computed_at=computed_at,
        computed_now=found is None,
    )


def year_tables(
    project_id: int, year: int, as_of: date, *, cached: bool, to_store: list | None = None
) -> list[FigureTable]:
    """One project's tables of ``year`` alone (the national comparison and export). With
    ``cached``, from the cache when fresh (a page of the comparison reads six projects, each
    a few dozen aggregate queries), and a new entry goes to ``to_store`` for
    ``store_year_tables`` once every project is computed: writing it at once would hold the
    database's write lock (SQLite) or its rows' locks while the others are computed. Without
    ``cached`` (the exports), computed now and not stored."""
    now = utcnow()
    key = cache_key((project_id,), year, as_of, kind="year")
    found = fresh_payload(key, now, PAYLOAD_FORMAT) if cached else None
    if found is not None and found[0].get("kind") == "year":
        return [decode_table(t) for t in found[0]["tables"]]
    tables = collect(db.session, EvaluationScope((project_id,), year, as_of))
    if cached and to_store is not None and cache_seconds() > 0:
        payload = {
            "kind": "year",
            "format": PAYLOAD_FORMAT,
            "tables": [encode_table(t) for t in tables],
        }
        to_store.append((key, payload, now))
    return tables


def store_year_tables(to_store: list) -> None:
    """Write the entries ``year_tables`` computed (pending in the session: the caller
    commits them)."""
    for key, payload, now in to_store:
        store_payload(key, payload, now)


# --- the text sections --------------------------------------------------------------------


def texts(project_ids, year: int) -> dict[int, dict[BilanSection, BilanText]]:
    """The saved sections of ``year``, per project then section."""
    ids = list(project_ids) or [-1]
    found: dict[int, dict[BilanSection, BilanText]] = {}
    for text in db.session.scalars(
        select(BilanText).where(BilanText.project_id.in_(ids), BilanText.year == year)
    ):
        found.setdefault(text.project_id, {})[BilanSection(text.section)] = text
    return found


# Invisible control characters a paste from a word processor brings (a vertical tab is its
# line break): a Word document cannot hold them.
_LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def plain_text(text: str | None) -> str:
    """A section's text as the documents can hold it: line breaks as ``\\n``, the
    word processors' vertical tab and page break as line breaks, other control characters
    dropped."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_BREAKS)
    return _CONTROLS.sub("", text).strip()


def save_text(
    actor, project_id: int, year: int, section: BilanSection, text: str, *, version
) -> BilanText:
    """Write one section. ``version`` is the one the form was opened on ("0" when the section
    did not exist yet): a section saved since by someone else is refused, the text kept in
    the form."""
    text = plain_text(text)
    if len(text) > TEXT_MAX:
        raise DomainError(f"{TEXT_MAX} caractères au plus.", field="text")
    existing = db.session.scalar(
        select(BilanText).where(
            BilanText.project_id == project_id,
            BilanText.year == year,
            BilanText.section == section.value,
        )
    )
    if existing is None:
        if str(version or "0") != "0":
            raise StaleEditError(stale_edit_message(None, None))
        existing = BilanText(project_id=project_id, year=year, section=section.value, text=text)
        try:
            with db.session.begin_nested():
                db.session.add(existing)
                db.session.flush()
        except IntegrityError as error:  # another coordinator created it a moment ago
            raise StaleEditError(stale_edit_message(None, None)) from error
    else:
        check_version(existing, version)
        existing.text = text
    record(
        actor,
        "bilan.text_saved",
        target=existing,
        details={"project_id": project_id, "year": year, "section": section.value},
    )
    return existing
