"""The household file: the one way a page of it loads its household, and the household
domain's own tabs, badge and timeline events.

Every GET page under ``/menages/<id>/`` — whichever domain renders it — loads the household
through ``open_household_file``: scoped (404 outside the viewer's households) and recorded
as one ``household.read`` entry (``tests/households/test_file_reads.py`` walks the url_map).
Other domains add their tabs, badges and events in their own ``file.py`` (see
``app.households.file_registry``).
"""

from __future__ import annotations

from flask import request
from flask_login import current_user

from app.db import commit_keeping_loaded
from app.households import path_timeline, queries
from app.households.file_registry import FileRegistry
from app.households.services import record_file_read
from app.permissions import Permission


def open_household_file(household_id: int, *, along=None, **details):
    """Load the household for the viewer (404 outside their scope); a GET shows a page of the
    file, so it is recorded as a read — committed before the page is built, so a read is
    recorded even if the page then fails, without reloading the viewer and the household.
    ``details`` go into the entry (e.g. ``export="print"`` for the printable synthesis);
    ``along(household)`` records what the page adds to the read, in the same transaction
    (the access log's own entry)."""
    household = queries.get_household_or_404(current_user, household_id)
    if request.method == "GET":
        record_file_read(current_user, household, page=request.endpoint, **details)
        if along is not None:
            along(household)
        commit_keeping_loaded()
    return household


def register(registry: FileRegistry) -> None:
    """The household domain's own contributions (the orders leave room between them for the
    other domains' tabs: support 20, housing 30, partners 40, reminders 50, reports 90,
    audit 100, retention 110)."""
    registry.add_tab(10, "households.show", "Parcours")
    registry.add_tab(60, "households.members", "Composition")
    registry.add_tab(70, "households.consents", "Consentements", Permission.READ_SOCIAL_CONTENT)
    registry.add_tab(80, "households.team", "Équipe")
    registry.add_tab(100, "households.access_log", "Consultations", Permission.VIEW_FILE_ACCESS_LOG)
    registry.add_badge(10, "households", queries.path_header_alerts)
    registry.add_timeline_branches(
        10, "households", path_timeline.path_branches, path_timeline.path_events
    )
