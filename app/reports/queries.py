"""Read-only reports for coordinators, by module: ``scope`` (which households a report
covers), ``caseloads`` (caseloads and stalled files), ``indicators`` with ``figures`` and
``rent_indicators`` (programme indicators), ``sql`` (portable date arithmetic).

Definitions: docs/indicators.md. The views and the indicator cache read the reports through
this one name."""

from app.reports.caseloads import (
    DEFAULT_NO_CONTACT_DAYS,
    DRILL_DOWNS,
    NO_REFERENT,
    caseload_households,
    caseloads,
    count_caseload_households,
    iter_caseload_households,
    referent_candidates,
    stalled_files,
    width_class,
)
from app.reports.figures import ChartSeries, Figure, Indicators, Period, Section
from app.reports.indicators import indicators
from app.reports.scope import coordinator_projects, scope_ids, scoped_households

__all__ = [
    "DEFAULT_NO_CONTACT_DAYS",
    "DRILL_DOWNS",
    "NO_REFERENT",
    "ChartSeries",
    "Figure",
    "Indicators",
    "Period",
    "Section",
    "caseload_households",
    "caseloads",
    "coordinator_projects",
    "count_caseload_households",
    "indicators",
    "iter_caseload_households",
    "referent_candidates",
    "scope_ids",
    "scoped_households",
    "stalled_files",
    "width_class",
]
