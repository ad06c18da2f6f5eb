"""Documents' part of the household file (registered by create_app)."""

from flask import url_for

from app.documents.queries import current_insurance, linked_documents
from app.documents.visit import visit_papers


def timeline_documents(household, viewer, records) -> dict:
    """``{record: [(title, url), …]}``: the documents the viewer sees linked to the
    timeline's records (one query for the page)."""
    return {
        record: [
            (
                d.title,
                url_for("documents.download", household_id=household.id, document_id=d.id),
            )
            for d in documents
        ]
        for record, documents in linked_documents(viewer, household, records).items()
    }


def register(registry) -> None:
    registry.add_tab(45, "documents.household", "Documents")
    registry.provide("visit_documents", visit_papers)
    registry.provide("timeline_documents", timeline_documents)
    registry.provide("insurance_on_file", current_insurance)
