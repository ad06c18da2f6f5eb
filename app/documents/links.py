"""What a document may prove: a record of the same household the uploader sees. A link is a
kind of ``LINK_KINDS`` and an id, offered as ``"kind:id"`` choices built for the viewer and
checked again by the service."""

from __future__ import annotations

from app.audience import can_read
from app.formatting import format_date
from app.housing.queries import file_occupancies
from app.interventions.models import Intervention
from app.interventions.queries import household_interventions

LINK_KINDS = {"intervention": "Visite ou contact", "occupancy": "Bail"}
LINK_CHOICES_LIMIT = 30


def link_choices(household, viewer) -> list[tuple[str, str]]:
    """``("kind:id", label)`` of the records this viewer may link a document of this
    household to (the latest ones)."""
    choices = []
    if can_read(viewer, Intervention.note):
        for intervention in household_interventions(household, limit=LINK_CHOICES_LIMIT):
            label = f"{LINK_KINDS['intervention']} du {format_date(intervention.occurred_on)}"
            choices.append((f"intervention:{intervention.id}", label))
    for occupancy in file_occupancies(household, viewer)[:LINK_CHOICES_LIMIT]:
        label = f"{LINK_KINDS['occupancy']} du {format_date(occupancy.start_on)}"
        choices.append((f"occupancy:{occupancy.id}", label))
    return choices


def parse_link(value: str | None, household, viewer) -> tuple[str | None, int | None]:
    """``(kind, id)`` of a submitted link, ``(None, None)`` for none; a link that is not one
    of the viewer's choices for this household is refused (ValueError)."""
    if not value:
        return None, None
    if value not in dict(link_choices(household, viewer)):
        raise ValueError(value)
    kind, _, raw_id = value.partition(":")
    return kind, int(raw_id)
