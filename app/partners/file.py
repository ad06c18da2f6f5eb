"""Partners' part of the household file (registered by create_app)."""

from app.partners import queries


def register(registry) -> None:
    registry.add_tab(40, "partners.household", "Partenaires")
    registry.add_timeline_source(50, "partners", queries.timeline_events)
