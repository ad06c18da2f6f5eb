"""Retention's part of the household file (registered by create_app)."""

from app.permissions import Permission


def register(registry) -> None:
    registry.add_tab(
        110, "retention.subject_access", "Droit d'accès", Permission.EXPORT_SUBJECT_ACCESS
    )
