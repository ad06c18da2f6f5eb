"""Interventions' part of the household file (registered by create_app)."""

from app.interventions import timeline


def register(registry) -> None:
    registry.add_timeline_branches(
        40, "interventions", timeline.intervention_branches, timeline.intervention_events
    )
