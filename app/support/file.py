"""Support's part of the household file (registered by create_app)."""

from app.permissions import Permission
from app.support import queries


def register(registry) -> None:
    registry.add_tab(20, "support.household", "Accompagnement", Permission.READ_SOCIAL_CONTENT)
    registry.add_badge(30, "support", queries.header_alerts)
    registry.add_timeline_source(30, "support", queries.timeline_events)
    registry.provide("intensity_choices", queries.intensity_choices)
