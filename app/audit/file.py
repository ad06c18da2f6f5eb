"""The audit log's part of the household file (registered by create_app)."""

from app.permissions import Permission


def register(registry) -> None:
    registry.add_tab(100, "audit.household_log", "Consultations", Permission.VIEW_FILE_ACCESS_LOG)
