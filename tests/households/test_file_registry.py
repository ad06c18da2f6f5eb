"""The household file's registry: what each domain registers shows in a fixed order."""

import pytest

from app.households.file_registry import FileRegistry, TimelineEvent


def _branches(household, viewer):
    return []


def _events(name):
    return lambda household, viewer, rows: [TimelineEvent(on=None, kind="path", title=name)]


def test_order_numbers_decide_whatever_the_registration_order():
    forward, backward = FileRegistry(), FileRegistry()
    entries = [(30, "housing.household", "Logement"), (10, "households.show", "Parcours")]
    entries += [(20, "support.household", "Accompagnement"), (20, "a.household", "Égalité")]
    for order, endpoint, label in entries:
        forward.add_tab(order, endpoint, label)
        forward.add_timeline_branches(order, endpoint, _branches, _events(label))
    for order, endpoint, label in reversed(entries):
        backward.add_tab(order, endpoint, label)
        backward.add_timeline_branches(order, endpoint, _branches, _events(label))

    labels = ["Parcours", "Égalité", "Accompagnement", "Logement"]  # ties: by endpoint name
    assert [t.label for t in forward.tabs] == [t.label for t in backward.tabs] == labels
    assert [entry[1] for entry in forward.timeline_branches] == [
        entry[1] for entry in backward.timeline_branches
    ]


def test_a_header_value_or_service_has_one_provider():
    registry = FileRegistry()
    registry.add_header_value("occupancy", lambda household, viewer: None)
    with pytest.raises(ValueError):
        registry.add_header_value("occupancy", lambda household, viewer: None)
    registry.provide("intensity_choices", list)
    with pytest.raises(ValueError):
        registry.provide("intensity_choices", list)


def test_the_application_registers_every_domain(app):
    registry = app.extensions["household_file"]
    assert [t.label for t in registry.tabs] == [
        "Parcours",
        "Accompagnement",
        "Logement",
        "Partenaires",
        "Rendez-vous",
        "Documents",
        "Aides financières",
        "Rappels",
        "Composition",
        "Consentements",
        "Équipe",
        "Synthèse imprimable",
        "Consultations",
        "Droit d'accès",
    ]
    assert [entry[1] for entry in registry.timeline_branches] == [
        "households",
        "housing",
        "support",
        "interventions",
        "partners",
    ]
    assert [name for _, name, _ in registry.badges] == ["households", "housing", "support"]
    assert set(registry.header_values) == {"occupancy"}
    assert set(registry.services) == {
        "intensity_choices",
        "intensity_name_branch",
        "due_for_anonymisation",
        "resolve_contact_reminders",
        "intervention_saved",
        "appointment_held",
        "appointment_visit_prefill",
        "resolve_insurance_reminders",
        "timeline_documents",
        "visit_documents",
        "insurance_on_file",
    }
