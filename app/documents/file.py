"""Documents' part of the household file (registered by create_app)."""


def register(registry) -> None:
    registry.add_tab(45, "documents.household", "Documents")
