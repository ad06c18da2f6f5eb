"""Reports' part of the household file (registered by create_app)."""


def register(registry) -> None:
    registry.add_tab(90, "reports.household_synthesis", "Synthèse imprimable")
