"""Housing's part of the household file (registered by create_app)."""

from app.housing import queries, timeline


def _occupancy(household, viewer):
    # The lease the viewer may see (the same one as before scoping: a household has at most
    # one current lease, and landlord staff see only files housed by them).
    return queries.current_occupancy(queries.file_occupancies(household, viewer))


def register(registry) -> None:
    registry.add_tab(30, "housing.household", "Logement")
    registry.add_header_value("occupancy", _occupancy)
    registry.add_badge(20, "housing", queries.header_alerts)
    registry.add_header_branches(
        20, "housing", timeline.header_branches, timeline.keep_for_the_header
    )
    registry.add_timeline_branches(
        20, "housing", timeline.housing_branches, timeline.housing_events
    )
