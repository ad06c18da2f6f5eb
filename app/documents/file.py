"""Documents' part of the household file (registered by create_app)."""

from app.documents.visit import visit_papers


def register(registry) -> None:
    registry.add_tab(45, "documents.household", "Documents")
    registry.provide("visit_documents", visit_papers)
