"""A shared cache of the programme indicators (``queries.indicators``), in the database.

The indicators take six queries (tens of milliseconds for a project of 2,000
households); coordinators read them far more often than the figures change. A result is kept
in ``indicator_cache`` — one row per *key*, shared by every worker — and reused while it is
younger than ``INDICATOR_CACHE_SECONDS`` (10 minutes by default). ``refresh=True`` (the
page's "Recalculer maintenant") recomputes and replaces it.

- **Key.** A SHA-256 of everything the figures depend on: the sorted ids of the projects
  actually counted, the period, the payload format and the *viewer's scope*. A coordinator
  sees every household of their projects, so two coordinators of the same projects share an
  entry; any other case (a scope that ``visible_households`` narrows to the viewer) is keyed
  by the user too. One scope's figures can therefore never be served to another.
- **Payload.** JSON only (never pickle): decimals as strings, dates in ISO form, projects as
  ids reloaded in one query. The figures are stored unmasked; small counts are masked when
  the page or the export is written, with the threshold of that moment.
- **Writes.** One upsert (``INSERT … ON CONFLICT (key) DO UPDATE``, on SQLite and PostgreSQL
  alike), after deleting the expired rows, inside a SAVEPOINT: two workers computing the same
  key at once both succeed, and a failed write only loses the caching (logged), never the page
  or the caller's pending work. Like every service, this never commits: the caller does.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from app.db import db, utcnow
from app.projects.models import Project
from app.reports import queries
from app.reports.models import IndicatorCache
from app.reports.scope import covers_whole_projects
from app.sql import upsert

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 600
# Bump when the shape of ``Indicators`` (or of its encoding) changes: older rows are ignored.
PAYLOAD_FORMAT = 1


@dataclass(frozen=True)
class CachedIndicators:
    data: queries.Indicators
    computed_at: datetime
    computed_now: bool  # False: read from the cache


def cache_seconds() -> int:
    return int(current_app.config.get("INDICATOR_CACHE_SECONDS", DEFAULT_SECONDS))


def _viewer_scope(user, project_ids: list[int]) -> str:
    """What of the viewer changes the households counted. A coordinator of every chosen
    project counts all their households, whoever they are; otherwise ``visible_households``
    depends on the user (their files, their organisation's leases): key by the user."""
    if covers_whole_projects(user, project_ids):
        return "coordinator"
    roles = ",".join(sorted(user.roles))
    return f"user:{user.id}:{roles}"


def cache_key(user, project_ids, period: queries.Period) -> str:
    ids = sorted(set(project_ids))
    parts = {
        "format": PAYLOAD_FORMAT,
        "projects": ids,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "anonymised": True,  # queries.indicators counts anonymised files
        "viewer": _viewer_scope(user, ids),
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- JSON encoding of ``queries.Indicators`` -------------------------------------------------


def _value(value):
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__} indicator value")


def _unvalue(value):
    if isinstance(value, dict):
        return Decimal(value["decimal"])
    return value


def encode(data: queries.Indicators) -> dict:
    return {
        "format": PAYLOAD_FORMAT,
        "period": [data.period.start.isoformat(), data.period.end.isoformat()],
        "project_ids": [project.id for project in data.projects],
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "note": section.note,
                "figures": [
                    {
                        "key": f.key,
                        "label": f.label,
                        "value": _value(f.value),
                        "kind": f.kind,
                        "is_breakdown": f.is_breakdown,
                        "base": f.base,
                    }
                    for f in section.figures
                ],
            }
            for section in data.sections
        ],
        "charts": {
            name: {
                "key": chart.key,
                "title": chart.title,
                "columns": list(chart.columns),
                "rows": [[label, [_value(v) for v in values]] for label, values in chart.rows],
                "kinds": list(chart.kinds),
            }
            for name, chart in data.charts.items()
        },
    }


def decode(payload: dict) -> queries.Indicators:
    """The ``Indicators`` of ``payload``, projects reloaded (one query, by name as
    ``queries.indicators`` orders them)."""
    ids = payload["project_ids"]
    projects = list(
        db.session.scalars(
            select(Project).where(Project.id.in_(ids or [-1])).order_by(Project.name)
        )
    )
    sections = [
        queries.Section(
            key=s["key"],
            title=s["title"],
            note=s["note"],
            figures=[
                queries.Figure(
                    key=f["key"],
                    label=f["label"],
                    value=_unvalue(f["value"]),
                    kind=f["kind"],
                    is_breakdown=f["is_breakdown"],
                    base=f["base"],
                )
                for f in s["figures"]
            ],
        )
        for s in payload["sections"]
    ]
    charts = {
        name: queries.ChartSeries(
            key=c["key"],
            title=c["title"],
            columns=tuple(c["columns"]),
            rows=[(label, tuple(_unvalue(v) for v in values)) for label, values in c["rows"]],
            kinds=tuple(c["kinds"]),
        )
        for name, c in payload["charts"].items()
    }
    start, end = (date.fromisoformat(day) for day in payload["period"])
    return queries.Indicators(queries.Period(start, end), projects, sections, charts)


# --- the cache ----------------------------------------------------------------------------


def fresh_payload(
    key: str, now: datetime, payload_format: int = PAYLOAD_FORMAT
) -> tuple[dict, datetime] | None:
    """The payload of ``key`` and when it was computed, if younger than the cache's time and
    written in ``payload_format``. Also read by the yearly bilan (``app.evaluation.bilan``),
    whose entries share this table."""
    seconds = cache_seconds()
    if seconds <= 0:
        return None
    row = db.session.execute(
        select(IndicatorCache.payload, IndicatorCache.computed_at).where(
            IndicatorCache.key == key,
            IndicatorCache.computed_at > now - timedelta(seconds=seconds),
        )
    ).first()
    if row is None or row.payload.get("format") != payload_format:
        return None
    return row.payload, row.computed_at


def store_payload(key: str, payload: dict, now: datetime) -> None:
    """Replace the entry of ``key`` and drop the expired ones, in a SAVEPOINT: a failure
    (lock timeout, deadlock with another worker's clean-up) undoes only this write."""
    table = IndicatorCache.__table__
    statement = upsert(
        table,
        keys=("key",),
        updated=("computed_at", "payload"),
        values={"key": key, "computed_at": now, "payload": payload},
    )
    try:
        with db.session.begin_nested():
            db.session.execute(
                delete(table).where(
                    table.c.computed_at <= now - timedelta(seconds=cache_seconds()),
                    table.c.key != key,
                )
            )
            db.session.execute(statement)
    except SQLAlchemyError:
        log.warning("indicator cache: could not store %s", key[:12], exc_info=True)


def cached_indicators(
    user, project_ids, period: queries.Period, *, refresh: bool = False, now=None
) -> CachedIndicators:
    """``queries.indicators(user, project_ids, period)``, from the cache when an entry for the
    same scope and period is younger than ``INDICATOR_CACHE_SECONDS``; otherwise (or with
    ``refresh``) computed now and stored. A new entry is pending in the session: the caller
    commits it."""
    project_ids = list(project_ids)
    now = now or utcnow()
    key = cache_key(user, project_ids, period)
    if not refresh:
        found = fresh_payload(key, now)
        if found is not None:
            payload, computed_at = found
            return CachedIndicators(decode(payload), computed_at, computed_now=False)
    data = queries.indicators(user, project_ids, period)
    if cache_seconds() > 0:  # 0: the cache is off, nothing to keep
        store_payload(key, encode(data), now)
    return CachedIndicators(data, now, computed_now=True)
