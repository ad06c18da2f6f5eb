"""Support's part of the household file (registered by create_app)."""

from app.permissions import Permission
from app.support import queries, timeline


def register(registry) -> None:
    registry.add_tab(20, "support.household", "Accompagnement", Permission.READ_SOCIAL_CONTENT)
    registry.add_badge(30, "support", queries.header_alerts)
    registry.add_header_branches(
        30, "support", timeline.header_branches, timeline.keep_for_the_header
    )
    registry.add_timeline_branches(
        30, "support", timeline.support_branches, timeline.support_events
    )
    registry.provide("intensity_choices", queries.intensity_choices)
    registry.provide("intensity_name_branch", timeline.intensity_name_branch)
