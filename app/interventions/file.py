"""Interventions' part of the household file (registered by create_app)."""

from app.interventions import timeline


def register(registry) -> None:
    registry.add_header_branches(
        40, "interventions", timeline.header_branches, timeline.keep_for_the_header
    )
    registry.add_timeline_branches(
        40, "interventions", timeline.intervention_branches, timeline.intervention_events
    )
