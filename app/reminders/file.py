"""Reminders' part of the household file (registered by create_app)."""

from app.reminders.models import INSURANCE_RULE
from app.reminders.next_actions import intervention_saved
from app.reminders.services import resolve_for_household


def resolve_contact_reminders(household_id: int) -> int:
    """A contact was recorded: close the contact reminders at once rather than at the next
    hourly sweep (only those two rules: a contact changes nothing the other rules read)."""
    return resolve_for_household(household_id, rule_codes={"contact_retard", "sans_contact"})


def resolve_insurance_reminders(household_id: int) -> int:
    """An insurance certificate with its validity end was uploaded: close the household's
    insurance reminder at once (the next one is due from that date)."""
    return resolve_for_household(household_id, rule_codes={INSURANCE_RULE})


def register(registry) -> None:
    registry.add_tab(50, "reminders.household", "Rappels")
    registry.provide("resolve_contact_reminders", resolve_contact_reminders)
    registry.provide("intervention_saved", intervention_saved)
    registry.provide("resolve_insurance_reminders", resolve_insurance_reminders)
