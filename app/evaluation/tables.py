"""The one shape of every evaluation figure, and the registry of the modules computing them.

A provider is ``provider(session, scope) -> list[FigureTable]``: it reads the projects of
``scope`` (already restricted to what the viewer may see) for the calendar year
``scope.year``, as of ``scope.as_of``. Providers register at import time with ``provider``;
readers call ``collect``. A table's ``key`` is stable across versions (the national export's
column names come from it); its ``definition`` is the anchor of its definition in
docs/indicators.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

# The version of the definitions of every table (docs/indicators.md, part « Évaluation »,
# states the same: "Version des définitions : …", kept equal by a test — an installed wheel
# has no docs/). The bilan's documents and the national export carry it: change it with a
# definition.
DEFINITIONS_VERSION = "2026.1"

# The modules computing figures: importing them registers their providers. create_app imports
# them with the models (app/__init__.py), so the registry is whole before any request.
PROVIDER_MODULES = ("app.evaluation.money", "app.evaluation.outcomes", "app.evaluation.axes")


class Kind(StrEnum):
    COUNT = "count"  # a number of households (or people): masked when small
    NUMBER = "number"  # a number of events (visits, meetings…): not masked
    AMOUNT = "amount"  # euros, Decimal
    RATIO = "ratio"  # a share in [0, 1] or a rate per household-year…
    DAYS = "days"  # a duration in days (median, mean…)
    TEXT = "text"


Value = int | Decimal | float | str | None


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # French, shown as is
    kind: Kind


@dataclass(frozen=True)
class Row:
    key: str
    label: str  # French
    values: tuple[Value, ...]  # one per column, in order; None = not computable
    # Query arguments of the drill-down to the households this row counts, or None when the
    # row counts no household (money, events) or the drill-down is not offered.
    drilldown: dict[str, str] | None = None


@dataclass(frozen=True)
class FigureTable:
    key: str  # stable, e.g. "outcomes.status_by_cohort"
    axis: str  # one of AXES
    title: str  # French
    definition: str  # anchor in docs/indicators.md, e.g. "evaluation-outcomes-status"
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    # The last row is the total of the rows above it (and the last column the total of the
    # columns before it) when set: the national export's complementary suppression protects
    # those margins.
    row_total: bool = False
    column_total: bool = False
    notes: tuple[str, ...] = field(default=())


AXES = {
    "outcomes": "Devenir des ménages",
    "partnership": "Partenariat",
    "publics": "Adéquation aux publics visés",
    "support": "Modalités d'accompagnement",
    "cofinancing": "Cofinancements et coûts",
    "adhesion": "Adhésion des ménages",
}


@dataclass(frozen=True)
class EvaluationScope:
    project_ids: tuple[int, ...]
    year: int
    as_of: date

    @property
    def start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        return date(self.year, 12, 31)

    def previous_year(self) -> EvaluationScope:
        return EvaluationScope(self.project_ids, self.year - 1, self.as_of)


Provider = Callable[[object, EvaluationScope], list[FigureTable]]
_PROVIDERS: list[Provider] = []


def provider(func: Provider) -> Provider:
    """Register ``func`` as a provider of figure tables (decorator)."""
    if func not in _PROVIDERS:
        _PROVIDERS.append(func)
    return func


def collect(session, scope: EvaluationScope) -> list[FigureTable]:
    """Every registered provider's tables for ``scope``, ordered by axis then key."""
    order = list(AXES)
    tables = [table for func in _PROVIDERS for table in func(session, scope)]
    return sorted(tables, key=lambda t: (order.index(t.axis), t.key))
