"""The evaluation's part of the household file: the "Aides financières" tab (support team
and coordinators only; registered by create_app)."""

from app.permissions import Permission


def register(registry) -> None:
    registry.add_tab(47, "funding.household", "Aides financières", Permission.READ_SOCIAL_CONTENT)
