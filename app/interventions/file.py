"""Interventions' part of the household file (registered by create_app)."""

from app.interventions import queries


def register(registry) -> None:
    registry.add_timeline_source(40, "interventions", queries.timeline_events)
