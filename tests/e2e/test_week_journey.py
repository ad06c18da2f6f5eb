"""Journey (a), at phone width: a social worker plans an appointment from « Ma semaine », on
the day opens it and records the visit with a next action; the appointment is then held, the
next action is in the week and the inbox, and the calendar feed shows the appointment as a
timed event in Europe/Paris and the next action as an all-day one. Plus axe on the agenda's
pages at 375 and 1280 px."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import icalendar
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import db
from app.formatting import today_paris
from app.permissions import Role
from tests.e2e.a11y import assert_accessible
from tests.factories import (
    PASSWORD,
    make_household,
    make_landlord,
    make_measure,
    make_project,
    make_tenancy,
    make_user,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
REF = "M-2026-0077"
NEXT_ACTION = "Rappeler la CAF pour l'APL"


@pytest.fixture
def world(app):
    landlord = make_landlord(name="Rhône Habitat Test")
    project = make_project(lead_landlord=landlord)
    worker = make_user(
        Role.TRAVAILLEUR_SOCIAL,
        projects=[project],
        email="sophie@test.demo",
        full_name="Sophie Martin",
    )
    household = make_household(
        project, referent=worker, reference=REF, first_name="Awa", last_name="Traoré"
    )
    make_tenancy(household, landlord)
    make_measure(household)
    household_id = household.id
    db.session.commit()
    return {"household_id": household_id}


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def no_sideways_scroll(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_plan_hold_and_find_the_next_action_on_a_phone(
    world, live_server, browser, screenshots_dir
):
    started = time.monotonic()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server, "sophie@test.demo")
    # Social workers land on their week.
    expect(page.get_by_role("heading", level=1, name="Ma semaine")).to_be_visible()
    assert no_sideways_scroll(page) <= 0

    # Plan an appointment today at 08:30, at home.
    page.get_by_role("link", name="Planifier un rendez-vous").click()
    household = page.get_by_role("combobox", name=re.compile(r"^Ménage"))
    household.select_option(str(world["household_id"]))
    page.get_by_label(re.compile(r"^Date")).fill(today_paris().isoformat())
    page.get_by_label(re.compile(r"^Heure")).fill("08:30")
    page.get_by_label("Durée (minutes)").fill("45")
    page.get_by_label("Au domicile").check()
    page.get_by_label("Note de l'équipe").fill("Point budget")
    assert no_sideways_scroll(page) <= 0
    page.get_by_role("button", name="Planifier le rendez-vous").click()
    expect(page.get_by_text(re.compile("Rendez-vous planifié le"))).to_be_visible()
    today = page.locator("section", has=page.get_by_role("heading", name=re.compile("Aujourd")))
    card = today.locator("li", has_text=f"Rendez-vous · ménage {REF}")
    expect(card).to_contain_text("08:30")
    expect(card).to_contain_text("Prévu")
    assert no_sideways_scroll(page) <= 0
    page.screenshot(path=str(screenshots_dir / "week-1-planned-phone.png"), full_page=True)

    # On the day: open it, then « Noter la visite » (pre-filled from the appointment).
    card.get_by_role("link", name=re.compile("Ouvrir")).click()
    expect(page.get_by_role("heading", level=1, name="Rendez-vous")).to_be_visible()
    page.get_by_role("link", name=re.compile("Noter la visite")).click()
    expect(page.get_by_label("Durée (minutes)")).to_have_value("45")
    expect(page.get_by_label("Visite à domicile")).to_be_checked()
    page.get_by_label("Note de l'équipe").fill("Budget revu, dossier APL à relancer.")
    page.get_by_label("Prochaine action", exact=True).fill(NEXT_ACTION)
    action_day = today_paris() + timedelta(days=2)
    page.get_by_label("Date de la prochaine action").fill(action_day.isoformat())
    page.get_by_role("button", name="Enregistrer la visite").click()
    expect(page.get_by_text("Visite enregistrée.")).to_be_visible()
    assert time.monotonic() - started < 60, "plan and record in under a minute"

    # The appointment is held.
    page.goto(f"{live_server}/agenda/")
    card = page.locator("li", has_text=f"Rendez-vous · ménage {REF}")
    expect(card).to_contain_text("Tenu")
    expect(card.get_by_role("link", name=re.compile("Noter la visite"))).to_have_count(0)
    page.screenshot(path=str(screenshots_dir / "week-2-held-phone.png"), full_page=True)

    # The calendar feed: a timed event in Europe/Paris.
    page.goto(f"{live_server}/rappels/calendrier")
    page.get_by_role("button", name="Créer mon adresse de calendrier").click()
    address = page.locator("#adresse").input_value()
    calendar = icalendar.Calendar.from_ical(page.request.get(address).body())
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    visit = events[f"Rendez-vous · ménage {REF}"]
    assert visit["DTSTART"].params["TZID"] == "Europe/Paris"
    assert isinstance(visit["DTSTART"].dt, datetime)
    assert (visit["DTSTART"].dt.hour, visit["DTSTART"].dt.minute) == (8, 30)
    assert visit["DTEND"].dt - visit["DTSTART"].dt == timedelta(minutes=45)

    # The next action became a « prochaine_action » reminder: it is in the week, in the
    # inbox and in the feed as an all-day event.
    page.goto(f"{live_server}/agenda/")
    expect(page.locator("main")).to_contain_text(NEXT_ACTION)
    page.goto(f"{live_server}/rappels/")
    expect(page.locator("main")).to_contain_text(NEXT_ACTION)
    calendar = icalendar.Calendar.from_ical(page.request.get(address).body())
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    action = events[f"Action prévue · ménage {REF}"]
    assert action["DTSTART"].params.get("VALUE") == "DATE"
    assert action["DTSTART"].dt == action_day
    context.close()


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 740)], ids=["desktop", "phone"])
def test_agenda_pages_are_accessible(viewport, demo_data, live_server, browser):
    from app.agenda.models import Appointment
    from app.users.models import User

    worker_id = db.session.scalar(
        select(User.id).where(User.email == "sophie.martin@traitdunion.demo")
    )
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.for_user_id == worker_id).order_by(Appointment.id)
    )
    appointment_id, household_id = appointment.id, appointment.household_id
    db.session.commit()
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("sophie.martin@traitdunion.demo")
    page.get_by_label("Mot de passe").fill("ancrage-demo-2026")
    page.get_by_role("button", name="Se connecter").click()
    for path in (
        "/agenda/",
        "/agenda/?debut=pas-une-date",
        "/agenda/rendez-vous/nouveau",
        f"/agenda/rendez-vous/{appointment_id}",
        f"/menages/{household_id}/rendez-vous",
        f"/menages/{household_id}/rendez-vous/nouveau",
    ):
        page.goto(f"{live_server}{path}")
        assert_accessible(page, path)
        assert no_sideways_scroll(page) <= 0, path
    page.goto(f"{live_server}/agenda/rendez-vous/nouveau")
    page.get_by_role("button", name="Planifier le rendez-vous").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "plan with errors")
    context.close()

    landlord = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = landlord.new_page()
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("gestion@rhonehabitat.demo")
    page.get_by_label("Mot de passe").fill("ancrage-demo-2026")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("banner")).to_contain_text("Se déconnecter")
    page.goto(f"{live_server}/agenda/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page, "landlord week")
    assert no_sideways_scroll(page) <= 0
    landlord.close()
