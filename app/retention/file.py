"""Retention's part of the household file (registered by create_app)."""

from app.permissions import Permission
from app.retention.queries import due_for_anonymisation


def register(registry) -> None:
    registry.add_tab(
        110, "retention.subject_access", "Droit d'accès", Permission.EXPORT_SUBJECT_ACCESS
    )
    registry.provide("due_for_anonymisation", due_for_anonymisation)
