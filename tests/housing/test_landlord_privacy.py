"""Privacy proof: landlord staff never receive social content.

A unique marker goes into every restricted field of the households' records — every free-text
(``Text``) column of the social domains' tables, so a new field is covered the day it is
added, plus the short social fields listed below — then every page a landlord user can reach
(``app.url_map`` walked, ids taken from the world), the searches, the calendar feed and the
import report are rendered, and the marker appears nowhere. The référent, who may read it,
does see it: the markers really are on the pages."""

from __future__ import annotations

import io
from importlib import import_module

import pytest
from sqlalchemy import Text, func, select, update

from app.db import db
from app.households.models import (
    Adhesion,
    Diagnostic,
    Orientation,
    StageTransition,
)
from tests.housing.import_steps import confirm, preview_url
from tests.world import build_world

MARK = "QZXMARK"
SOCIAL_MODULES = (
    "app.households.models",
    "app.support.models",
    "app.interventions.models",
    "app.partners.models",
)
# Text written for the landlord on purpose (shared summary only with consent, joint meetings)
# and the partners directory (professional information, not about a household).
SHARED_WITH_LANDLORD = {
    ("intervention", "shared_summary"),
    ("tripartite_meeting", "attendees"),
    ("tripartite_meeting", "decisions"),
    ("partner", "notes"),
}
# Short social fields (String columns) that are free text.
SOCIAL_STRINGS = {
    ("orientation", "prescriber_detail"),
    ("objective", "title"),
    ("intervention", "next_action"),
    ("measure", "type_detail"),
}
# Members other than the head of household are social content too (names, birth dates).
OTHER_MEMBERS = ("household_member", ("first_name", "last_name"))
ALIASES = {
    "check": "post_exit_check",
    "level": "intensity_level",
    "organisation": "landlord",
    "user": "target_user",
    "plan": "repayment_plan",
    "line": "budget_line",
}
# Arguments that name something rather than point at a row: the evaluation drill-down's
# table and row (app/evaluation/outcomes.py), a bilan's year.
NAMED_ARGUMENTS = {"table": "outcomes.status_exit", "row": "total", "year": 2026}


def restricted_columns() -> list[tuple]:
    """(table, column) pairs holding social free text, found from the models."""
    found = []
    for module_name in SOCIAL_MODULES:
        try:
            module = import_module(module_name)
        except ImportError:
            continue
        for mapper in db.Model.registry.mappers:
            cls = mapper.class_
            if cls.__module__ != module.__name__:
                continue
            table = cls.__table__
            for column in table.columns:
                key = (table.name, column.name)
                if key in SHARED_WITH_LANDLORD:
                    continue
                if isinstance(column.type, Text) or key in SOCIAL_STRINGS:
                    found.append((table, column))
    return found


def add_social_records(w) -> None:
    from datetime import date

    household = w.household
    db.session.add_all(
        [
            Orientation(
                household_id=household.id,
                prescriber="siao",
                oriented_on=date(2025, 1, 10),
                kind="acces",
            ),
            Diagnostic(
                household_id=household.id,
                carried_out_on=date(2025, 2, 1),
                pouvoir_louer_level="partiel",
                savoir_louer_level="partiel",
                savoir_habiter_level="acquis",
                environnement_level="a_travailler",
            ),
            Adhesion(household_id=household.id, signed_on=date(2025, 2, 15), objectives="x"),
            StageTransition(
                household_id=household.id,
                from_stage="maintien",
                to_stage="installation",
                on=date(2025, 6, 1),
            ),
        ]
    )
    db.session.flush()


def put_markers() -> dict[str, int]:
    """Write a distinct marker in every restricted column of every row; return rows touched
    per column (a column with no row is not proven)."""
    touched = {}
    for n, (table, column) in enumerate(restricted_columns()):
        result = db.session.execute(update(table).values({column.name: f"{MARK}{n}Z"}))
        touched[f"{table.name}.{column.name}"] = result.rowcount
    members = db.metadata.tables[OTHER_MEMBERS[0]]
    for name in OTHER_MEMBERS[1]:
        result = db.session.execute(
            update(members).where(members.c.is_head.is_(False)).values({name: f"{MARK}m{name}"})
        )
        touched[f"household_member.{name}"] = result.rowcount
    db.session.flush()
    db.session.expire_all()
    return touched


def fill_arguments(rule, w) -> list[dict]:
    """Every way to build the rule's URL from the world: ids from the world's records (or the
    first row of the table), each value of a choice (``<any(csv, xlsx):fmt>``)."""
    combinations = [{}]
    for argument in rule.arguments:
        choices = getattr(rule._converters.get(argument), "items", None)
        if choices:
            combinations = [{**c, argument: v} for c in combinations for v in sorted(choices)]
            continue
        if argument in NAMED_ARGUMENTS:
            combinations = [{**c, argument: NAMED_ARGUMENTS[argument]} for c in combinations]
            continue
        name = argument.removesuffix("_id")
        record = getattr(w, ALIASES.get(name, name), None)
        if record is not None:
            value = record.id
        else:
            table = db.metadata.tables.get(name)
            assert table is not None, f"{rule.endpoint}: no way to fill <{argument}>"
            value = db.session.scalar(select(func.min(table.c.id)))
            assert value is not None, f"{rule.endpoint}: no {name} row in the world"
        combinations = [{**c, argument: value} for c in combinations]
    return combinations


def pages_for(app, w):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        if "token" in rule.arguments:
            continue  # the calendar feed is read with the landlord's own token below
        if "digest" in rule.arguments:
            continue  # the import preview is read below, with an extract uploaded
        for values in fill_arguments(rule, w):
            yield rule.endpoint, rule.build(values, append_unknown=False)[1]


@pytest.fixture
def marked_world(app):
    w = build_world()
    add_social_records(w)
    w.occupancy.lease_reference = "LEASE-W-1"
    if "reminders.postpone" in app.view_functions and not hasattr(w, "reminder"):
        from app.formatting import today_paris
        from app.reminders.services import create_manual_reminder

        w.reminder = create_manual_reminder(
            w.users["bailleur"], w.household, title="Relancer l'assurance", due_on=today_paris()
        )
    touched = put_markers()
    return w, touched


def test_every_restricted_column_was_marked(marked_world):
    _w, touched = marked_world
    household_columns = [
        k
        for k in touched
        if k.split(".")[0]
        in {
            "household",
            "orientation",
            "diagnostic",
            "adhesion",
            "stage_transition",
            "household_member",
        }
    ]
    assert "diagnostic.pouvoir_louer_comment" in touched
    assert "household.difficulties" in touched and "orientation.reason" in touched
    missing = [k for k in household_columns if touched[k] == 0]
    assert not missing, f"restricted household columns without a marked row: {missing}"


def _text(response) -> str:
    """A response as text; a spreadsheet (the landlord's tenancy export) unzipped."""
    import zipfile

    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(archive.read(n).decode() for n in archive.namelist() if ".xml" in n)
    return data.decode("utf-8")


def test_no_page_a_landlord_reaches_shows_social_content(marked_world, app, make_client):
    w, _touched = marked_world
    landlord = make_client()
    landlord.login(w.users["bailleur"])
    reached = set()
    for endpoint, path in pages_for(app, w):
        response = landlord.get(path)
        body = _text(response)
        assert MARK not in body, f"{endpoint} ({path}) shows social content to landlord staff"
        if response.status_code == 200:
            reached.add(endpoint)
    # Searching for a hidden member's name finds nothing more than a search for nonsense.
    hidden_name = f"{MARK}mfirst_name"
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.endpoint == "static":
            continue
        found = landlord.get(f"{rule.rule}?q={hidden_name}").get_data(as_text=True)
        control = landlord.get(f"{rule.rule}?q=zzzrien").get_data(as_text=True)
        assert MARK not in found.replace(hidden_name, ""), rule.endpoint
        assert found.count(w.household.reference) <= control.count(w.household.reference), (
            f"{rule.endpoint}: searching a hidden member's name finds the household"
        )
    # The lists' search boxes post (the typed text stays out of the URL): same check.
    for path in ("/menages/", "/logements/", "/logements/parc"):
        found = landlord.post(path, data={"q": hidden_name}, follow_redirects=True)
        control = landlord.post(path, data={"q": "zzzrien"}, follow_redirects=True)
        found, control = found.get_data(as_text=True), control.get_data(as_text=True)
        assert MARK not in found.replace(hidden_name, ""), path
        assert found.count(w.household.reference) <= control.count(w.household.reference), path
    # The landlord really saw the household's file, its tenancy and the landlord pages.
    assert {"housing.household", "housing.dashboard", "households.show"} <= reached


def test_the_calendar_feed_and_the_import_report_show_no_social_content(
    marked_world, app, make_client
):
    w, _touched = marked_world
    landlord = make_client()
    landlord.login(w.users["bailleur"])
    if "agenda.feed" in app.view_functions:
        from app.reminders.services import create_calendar_feed

        token = create_calendar_feed(w.users["bailleur"])
        response = landlord.get(f"/calendrier/{token}.ics")
        assert response.status_code == 200
        assert MARK not in response.get_data(as_text=True)
    content = (
        "Référence du bail;Mois;Solde;Loyer et charges du mois\r\n"
        "LEASE-W-1;2026-10;880;440\r\n"
        "INCONNUE;2026-10;1;440\r\n"
    ).encode()
    for payload in (content, content.replace(b"INCONNUE;2026-10;1;440\r\n", b"")):
        response = landlord.post(
            "/logements/import",
            data={"file": (io.BytesIO(payload), "extrait.csv")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        assert MARK not in response.get_data(as_text=True)
        preview = landlord.get(preview_url(response))
        assert MARK not in preview.get_data(as_text=True)
    response = confirm(landlord, response)
    assert MARK not in response.get_data(as_text=True)
    assert "Import terminé" in response.get_data(as_text=True)


def test_the_referent_does_see_the_markers(marked_world, app, make_client):
    """Control: the marked fields are rendered to those allowed to read them."""
    w, _touched = marked_world
    worker = make_client()
    worker.login(w.users["travailleur_social"])
    seen = "".join(
        worker.get(path).get_data(as_text=True)
        for endpoint, path in pages_for(app, w)
        if endpoint.startswith("households.")
    )
    assert MARK in seen
