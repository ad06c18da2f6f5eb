"""The top bar: one entry per area, shown to the roles whose permission it names and only once
the area's blueprint is registered (so an area appears when its domain lands)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.permissions import Permission, has_permission


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object  # a lazy translated string
    permission: Permission
    prefix: str  # the URL prefix that marks the entry as current


NAVIGATION = (
    NavEntry("agenda.week", _l("Ma semaine"), Permission.VIEW_REMINDERS, "/agenda"),
    NavEntry("households.index", _l("Ménages"), Permission.VIEW_HOUSEHOLDS, "/menages"),
    NavEntry("reminders.inbox", _l("Rappels"), Permission.VIEW_REMINDERS, "/rappels"),
    NavEntry("housing.dashboard", _l("Logements"), Permission.VIEW_TENANCIES, "/logements"),
    NavEntry("partners.index", _l("Partenaires"), Permission.VIEW_PARTNERS, "/partenaires"),
    NavEntry("reports.caseloads", _l("Pilotage"), Permission.VIEW_CASELOADS, "/pilotage"),
    NavEntry("bilan.index", _l("Évaluation"), Permission.VIEW_EVALUATION, "/evaluation"),
    # Administrators: every project side by side (aggregates only, never a household).
    NavEntry(
        "evaluation_national.compare", _l("Évaluation"), Permission.COMPARE_PROJECTS, "/evaluation"
    ),
    NavEntry(
        "support.intensity_levels_page",
        _l("Intensités"),
        Permission.MANAGE_INTENSITY_LEVELS,
        "/accompagnement/intensites",
    ),
    NavEntry("users.index", _l("Administration"), Permission.MANAGE_USERS, "/admin"),
)


def navigation_for_current_user() -> list[NavEntry]:
    return [
        entry
        for entry in NAVIGATION
        if entry.endpoint in current_app.view_functions
        and has_permission(current_user, entry.permission)
    ]
