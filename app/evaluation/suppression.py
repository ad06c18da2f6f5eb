"""Small-cell suppression of a figure table for the national export and the comparison page.

The rule (documented in docs/evaluation.md):

* Primary suppression: a COUNT cell (a number of households) from 1 to ``threshold − 1`` is
  masked — the rule of the pilotage exports (``masked_text``, INDICATORS_SMALL_COUNT,
  default 5). 0 is not masked: "nobody" singles out no one.
* Complementary suppression: when the table has margins (``row_total``: the last row is the
  sum of the rows above; ``column_total``: the last column is the sum of the COUNT columns
  before it), each of these sums is an equation between published cells. Every equation
  (a row, a column, the total row and the total column included) holding exactly one masked
  cell gets a second one masked — the smallest non-zero other cell, an inner cell before a
  margin, the first in reading order on ties — until no equation holds exactly one. Then no
  equation can be solved for a masked cell, and so nothing can be recovered by subtracting
  published cells from a total, nor by iterating such subtractions.
* Derived cells: a RATIO, DAYS or AMOUNT cell may be computed over the households of its
  row (a share, a median delay, an amount per household): it is masked whenever a COUNT cell
  of its row is masked (primary or complementary), or it would give the count back. NUMBER
  cells (events) and TEXT cells are never masked.

Pure functions of the table and the threshold: the same table always gives the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.evaluation.tables import FigureTable, Kind

DERIVED_KINDS = frozenset({Kind.RATIO, Kind.DAYS, Kind.AMOUNT})

Cell = tuple[int, int]  # (row index, column index)


@dataclass(frozen=True)
class SuppressedTable:
    """A table and the cells that must not be published."""

    table: FigureTable
    masked: frozenset[Cell]
    threshold: int

    def is_masked(self, row: int, column: int) -> bool:
        return (row, column) in self.masked


def count_columns(table: FigureTable) -> list[int]:
    return [j for j, column in enumerate(table.columns) if column.kind == Kind.COUNT]


def equations(table: FigureTable) -> list[tuple[Cell, ...]]:
    """The additive relations between the table's COUNT cells that its margins publish: each
    is the tuple of its cells, the margin last (inner cells + … = margin)."""
    counts = count_columns(table)
    n_rows = len(table.rows)
    found: list[tuple[Cell, ...]] = []
    if table.column_total and counts and counts[-1] == len(table.columns) - 1:
        last = counts[-1]
        inner = counts[:-1]
        if inner:
            for i in range(n_rows):
                found.append((*((i, j) for j in inner), (i, last)))
    if table.row_total and n_rows >= 2:
        last = n_rows - 1
        for j in counts:
            found.append((*((i, j) for i in range(last)), (last, j)))
    return found


def count_value(table: FigureTable, cell: Cell) -> int | None:
    value = table.rows[cell[0]].values[cell[1]]
    if value is None or isinstance(value, str):
        return None
    return int(value)


def primary_cells(table: FigureTable, threshold: int) -> set[Cell]:
    masked: set[Cell] = set()
    for i, _row in enumerate(table.rows):
        for j in count_columns(table):
            value = count_value(table, (i, j))
            if value is not None and 0 < value < threshold:
                masked.add((i, j))
    return masked


def _complement(table: FigureTable, line: tuple[Cell, ...], masked: set[Cell]) -> Cell:
    """The cell of ``line`` masked beside its only masked cell: the smallest non-zero one,
    inner cells before the margin, then reading order. When every other cell is zero or not
    computable (which consistent figures never give), the first of them."""
    margin = line[-1]
    others = [cell for cell in line if cell not in masked]

    def rank(cell: Cell):
        value = count_value(table, cell)
        return (value is None or value == 0, cell == margin, value or 0, cell)

    return min(others, key=rank)


def complementary_cells(table: FigureTable, primary: set[Cell]) -> set[Cell]:
    """``primary`` plus the cells masked so that no equation holds exactly one masked cell."""
    masked = set(primary)
    lines = equations(table)
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if cell in masked]
            if len(hidden) == 1 and len(line) > 1:
                masked.add(_complement(table, line, masked))
                changed = True
    return masked


def derived_cells(table: FigureTable, counts_masked: set[Cell]) -> set[Cell]:
    rows = {i for i, _j in counts_masked}
    derived = [j for j, column in enumerate(table.columns) if column.kind in DERIVED_KINDS]
    return {(i, j) for i in rows for j in derived if table.rows[i].values[j] is not None}


def suppress(table: FigureTable, threshold: int) -> SuppressedTable:
    """The table with its small counts, their complements and the figures derived from them
    masked (see the module's docstring)."""
    counts = complementary_cells(table, primary_cells(table, threshold))
    return SuppressedTable(table, frozenset(counts | derived_cells(table, counts)), threshold)
