"""Partners' part of the household file (registered by create_app)."""

from app.partners import timeline


def register(registry) -> None:
    registry.add_tab(40, "partners.household", "Partenaires")
    registry.add_timeline_branches(
        50, "partners", timeline.partner_branches, timeline.partner_events
    )
