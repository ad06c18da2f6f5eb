"""Plausible bounds (app/bounds.py): the values seen breaking pages are refused in French by
the forms, by the services (for the CLI and other callers) and by the database itself; ids
that cannot exist are 404 or ignored; pages and the calendar feed survive a stored oddity."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app import bounds
from app.db import db
from app.errors import DomainError
from app.formatting import today_paris
from app.housing.models import Dwelling
from app.interventions.models import Intervention
from app.interventions.services import record_visit
from app.reminders.models import Reminder
from app.reminders.services import create_manual_reminder
from app.support.models import IntensityLevel
from tests.conftest import page
from tests.factories import make_consent, make_intervention
from tests.world import build_world

H = "/menages/{}"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- the declarations -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), float("nan"), 10**20])
def test_nothing_odd_is_ever_within_bounds(value):
    for kind in (bounds.MONEY, bounds.BALANCE, bounds.WEIGHT, bounds.SURFACE):
        assert not kind.contains(value)
        with pytest.raises(DomainError):
            kind.check(value, field="x")


def test_ids_are_positive_32_bit_numbers():
    assert bounds.id_or_none("12") == 12
    for odd in ("9" * 24, str(2**31), "0", "-1", "1e3", "", None, "x" * 5000):
        assert bounds.id_or_none(odd) is None


# --- forms ------------------------------------------------------------------------------------


DWELLING = {
    "address": "1 rue Test",
    "postal_code": "69008",
    "city": "Lyon",
    "typology": "T2",
    "funding": "PLAI",
    "rent": "400",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rent", "1e309", "Indiquez un montant entre 0 et 10 000 000 €."),
        ("rent", "1e20", "Indiquez un montant entre 0 et 10 000 000 €."),
        ("rent", "21474837", "Indiquez un montant entre 0 et 10 000 000 €."),
        ("rent", "NaN", "Indiquez un montant en euros"),
        ("surface_m2", "1e309", "Indiquez une surface entre 5 et 1 000 m²."),
        ("surface_m2", "10000", "Indiquez une surface entre 5 et 1 000 m²."),
        ("surface_m2", "2", "Indiquez une surface entre 5 et 1 000 m²."),
    ],
)
def test_an_implausible_dwelling_is_refused_in_french(field, value, message, app, client):
    w = build_world()
    client.login(w.users["coordinateur"])
    before = _count(Dwelling)
    data = {**DWELLING, "landlord_id": w.landlord.id, field: value}
    response = client.post("/logements/parc/nouveau", data=data)
    assert response.status_code == 200
    assert message in page(response)
    assert _count(Dwelling) == before


def test_a_nan_caseload_weight_is_refused(app, client):
    w = build_world()
    client.login(w.users["coordinateur"])
    for weight in ("NaN", "Infinity", "1e309", "11"):
        response = client.post(
            "/accompagnement/intensites/nouveau",
            data={"name": "Étrange", "contact_every_days": "10", "caseload_weight": weight},
        )
        assert response.status_code == 200, weight
        assert "entre 0,1 et 10" in page(response)
    assert db.session.scalar(select(IntensityLevel).where(IntensityLevel.name == "Étrange")) is None


def test_visits_are_neither_ancient_nor_future_nor_planned_too_far(app, client):
    w = build_world()
    make_consent(w.household, "sante", "sante")
    client.login(w.users["travailleur_social"])
    url = H.format(w.household.id) + "/visites/nouvelle"
    today = today_paris()
    base = {"occurred_on": today.isoformat(), "mode": "visite_domicile"}
    before = _count(Intervention)
    cases = [
        ({"occurred_on": "0001-01-01"}, "Indiquez une date entre 1900 et 2100."),
        ({"occurred_on": "9999-12-31"}, "Indiquez une date entre 1900 et 2100."),
        ({"occurred_on": (today + timedelta(days=3)).isoformat()}, "dans le futur"),
        (
            {
                "next_action": "Rappeler",
                "next_action_on": (today + timedelta(days=800)).isoformat(),
            },
            "Choisissez une date dans les deux ans à venir.",
        ),
        ({"duration_minutes": "9" * 24}, "entre 1 et 480 minutes"),
    ]
    for override, message in cases:
        response = client.post(url, data={**base, **override})
        assert response.status_code == 200, override
        assert message in page(response), override
    assert _count(Intervention) == before


def test_services_refuse_implausible_dates_for_every_caller(app):
    w = build_world()
    worker = w.users["travailleur_social"]
    today = date(2026, 6, 1)
    with pytest.raises(DomainError, match="entre 1900 et 2100"):
        record_visit(worker, w.household, occurred_on=date(1, 1, 1), mode="bureau", today=today)
    with pytest.raises(DomainError, match="deux ans"):
        record_visit(
            worker,
            w.household,
            occurred_on=today,
            mode="bureau",
            next_action="Rappeler",
            next_action_on=date(2030, 1, 1),
            today=today,
        )
    with pytest.raises(DomainError, match="entre 1900 et 2100"):
        create_manual_reminder(worker, w.household, title="Plus tard", due_on=date(9999, 12, 31))
    later = today_paris() + timedelta(days=800)
    with pytest.raises(DomainError, match="deux ans"):
        create_manual_reminder(worker, w.household, title="Plus tard", due_on=later)


def test_the_database_refuses_what_the_code_would_refuse(app):
    w = build_world()
    db.session.commit()
    for column, value in (
        (Dwelling.rent_cents, bounds.MONEY.high + 1),
        (Dwelling.surface_m2, Decimal(1001)),
        (Dwelling.charges_cents, -1),
    ):
        with pytest.raises(IntegrityError):
            db.session.execute(
                update(Dwelling).where(Dwelling.id == w.dwelling.id).values({column: value})
            )
            db.session.flush()
        db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(update(IntensityLevel).values(caseload_weight=Decimal("50")))
        db.session.flush()
    db.session.rollback()


# --- ids in URLs ------------------------------------------------------------------------------


def test_ids_that_cannot_exist_are_404_or_an_ignored_filter(app, client):
    w = build_world()
    client.login(w.users["coordinateur"])
    for path in ("/menages/" + "9" * 24, f"/menages/{2**63}/logement", "/menages/0"):
        assert client.get(path).status_code == 404, path
    for path in (
        "/menages/?page=" + "9" * 24,
        "/menages/?projet=" + "9" * 24,
        "/logements/?bailleur=-" + "9" * 20 + "&page=" + "9" * 24,
        "/pilotage/menages?referent=" + "9" * 24 + "&projet=" + "9" * 24,
        "/partenaires/?page=" + "9" * 24,
        "/admin/journal?page=1e309",
    ):
        assert client.get(path).status_code in (200, 403), path


def test_a_forged_hidden_referent_on_reassignment_changes_nothing(app, client):
    w = build_world()
    client.login(w.users["coordinateur"])
    for forged in ("9" * 24, "-" + "9" * 20):
        response = client.post(
            "/pilotage/reaffecter",
            data={
                "household_ids": [str(w.household.id), forged],
                "new_referent_id": forged,
                "referent": forged,
                "projet": forged,
                "reason": "Rééquilibrage",
            },
        )
        assert response.status_code == 200
    # The households are real, only the new référent is forged.
    response = client.post(
        "/pilotage/reaffecter",
        data={
            "household_ids": [str(w.household.id)],
            "new_referent_id": "-" + "9" * 20,
            "reason": "Rééquilibrage",
        },
    )
    assert response.status_code == 200
    db.session.refresh(w.household)
    assert w.household.referent_id == w.users["travailleur_social"].id


# --- stored oddities ----------------------------------------------------------------------------


def test_the_calendar_feed_survives_a_date_stored_before_the_bounds(app, client):
    w = build_world()
    worker = w.users["travailleur_social"]
    make_intervention(
        w.household, worker, next_action="Rappeler", next_action_on=date(9999, 12, 31)
    )
    db.session.execute(
        update(Reminder).where(Reminder.id == w.reminder.id).values(due_on=date(9999, 12, 31))
    )
    response = client.get(f"/calendrier/{w.calendar_token}.ics")
    assert response.status_code == 200
    assert "DTSTART;VALUE=DATE:99991231" in response.get_data(as_text=True)


def test_every_form_takes_its_date_and_number_fields_from_app_forms():
    """The bounded fields of app/forms.py, not WTForms' own: a new form cannot forget them."""
    import re
    from pathlib import Path

    import app as package

    root = Path(package.__file__).parent
    unbounded = re.compile(r"\b(DateField|IntegerField|DateTimeField|FloatField)\b")
    offenders = []
    for path in root.glob("*/forms.py"):
        source = path.read_text()
        for block in re.findall(r"from wtforms import (\([^)]*\)|[^\n]*)", source):
            if unbounded.search(block):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
