"""A project's budget lines and places, a household's financial aid: what each person may
reach, what is refused and with which message, and concurrent edits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import db
from app.errors import DomainError
from app.evaluation import money
from app.evaluation.models import HouseholdAid, ProjectBudgetLine, ProjectPlaces
from app.formatting import today_paris
from app.permissions import Role
from tests.conftest import page
from tests.factories import make_user
from tests.world import build_world


@pytest.fixture
def w(app):
    w = build_world()
    w.other_coordinator = make_user(
        Role.COORDINATEUR, organisation=w.other_association, projects=[w.other_project]
    )
    w.aid.note = "MARQUEURAIDE relance du FSL"
    db.session.commit()
    return w


def _client(make_client, user):
    client = make_client()
    client.login(user)
    return client


def _line_form(**values):
    return {"funder": "etat", "label": "", "granted": "", "received": "", "note": "", **values}


# --- budget lines ------------------------------------------------------------------------------


def test_coordinator_adds_a_line_and_sees_the_totals(w, make_client):
    client = _client(make_client, w.users["coordinateur"])
    year = today_paris().year
    url = f"/financement/projets/{w.project.id}?annee={year}"
    response = client.post(url, data=_line_form(funder="caf", granted="12 000,50", received="0"))
    assert response.status_code == 302
    shown = page(client.get(url))
    # the world's État line (30 000 / 10 000) and the CAF one: 42 000,50 granted, 10 000 received
    assert "42\u202f000,50\xa0€" in shown and "10\u202f000,00\xa0€" in shown
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "funding.line_created")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.details["funder"] == "caf"


def test_last_years_figures_are_shown_beside(w, make_client):
    year = today_paris().year
    money.create_budget_line(
        w.users["coordinateur"],
        w.project,
        year=year - 1,
        today=today_paris(),
        funder="commune",
        label=None,
        granted=Decimal("4321"),
        received=Decimal("4321"),
        note=None,
    )
    client = _client(make_client, w.users["coordinateur"])
    shown = page(client.get(f"/financement/projets/{w.project.id}?annee={year}"))
    assert f"Accordé {year - 1}" in shown and "4\u202f321,00\xa0€" in shown


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"granted": "-5"}, "Un montant ne peut pas être négatif."),
        ({"granted": "100", "received": "150"}, "Le montant reçu ne peut pas dépasser"),
        ({"granted": "abc"}, "Indiquez un montant en euros"),
        ({"granted": ""}, "Indiquez un montant."),
        ({"funder": "autre", "granted": "10"}, "Indiquez le nom de cet autre financeur."),
        ({"funder": "inconnu", "granted": "10"}, "N'est pas un choix valide."),
        ({"granted": "99999999999"}, "Indiquez un montant entre 0 et 10 000 000 €."),
    ],
)
def test_bad_lines_are_refused_with_a_message(w, make_client, values, message):
    client = _client(make_client, w.users["coordinateur"])
    before = db.session.scalar(select(db.func.count(ProjectBudgetLine.id)))
    response = client.post(f"/financement/projets/{w.project.id}", data=_line_form(**values))
    assert response.status_code == 200
    assert message in page(response)
    assert db.session.scalar(select(db.func.count(ProjectBudgetLine.id))) == before


def test_the_service_refuses_a_year_out_of_range(w):
    today = today_paris()
    for year in (1999, today.year + 2):
        with pytest.raises(DomainError, match="Choisissez une année entre 2000"):
            money.create_budget_line(
                w.users["coordinateur"],
                w.project,
                year=year,
                today=today,
                funder="etat",
                label=None,
                granted=Decimal(1),
                received=None,
                note=None,
            )


def test_a_year_out_of_range_or_an_unknown_project_is_not_found(w, make_client):
    client = _client(make_client, w.users["coordinateur"])
    next_year = today_paris().year + 1
    assert client.get(f"/financement/projets/{w.project.id}?annee=1999").status_code == 404
    assert (
        client.get(f"/financement/projets/{w.project.id}?annee={next_year + 1}").status_code == 404
    )
    assert client.get(f"/financement/projets/{w.project.id}?annee={next_year}").status_code == 200
    assert client.get("/financement/projets/999999").status_code == 404


def test_a_coordinator_of_another_project_gets_404(w, make_client):
    client = _client(make_client, w.other_coordinator)
    line = w.budget_line
    assert client.get(f"/financement/projets/{w.project.id}").status_code == 404
    assert client.get(f"/financement/lignes/{line.id}").status_code == 404
    response = client.post(f"/financement/lignes/{line.id}", data=_line_form(granted="1"))
    assert response.status_code == 404
    assert client.post(f"/financement/lignes/{line.id}/supprimer").status_code == 404
    assert client.post(f"/financement/projets/{w.project.id}/places", data={}).status_code == 404
    assert w.project.name not in page(client.get("/financement/"))
    db.session.refresh(line)
    assert line.granted_cents == 3_000_000


def test_a_line_edited_meanwhile_is_not_overwritten(w, make_client):
    first = _client(make_client, w.users["coordinateur"])
    second = _client(make_client, w.users["coordinateur"])
    url = f"/financement/lignes/{w.budget_line.id}"
    version = w.budget_line.version
    assert first.get(url).status_code == 200
    data = _line_form(granted="31000", received="10000", expected_version=version)
    assert first.post(url, data=data).status_code == 302
    stale = second.post(url, data={**data, "granted": "99000"})
    assert stale.status_code == 200
    assert "Cette fiche a été modifiée" in page(stale)
    db.session.refresh(w.budget_line)
    assert w.budget_line.granted_cents == 3_100_000
    # deleting with the old version is refused too
    gone = second.post(f"{url}/supprimer", data={"expected_version": version})
    assert gone.status_code == 302
    assert db.session.get(ProjectBudgetLine, w.budget_line.id) is not None


def test_delete_a_line(w, make_client):
    client = _client(make_client, w.users["coordinateur"])
    line_id = w.budget_line.id
    response = client.post(
        f"/financement/lignes/{line_id}/supprimer", data={"expected_version": w.budget_line.version}
    )
    assert response.status_code == 302
    assert db.session.get(ProjectBudgetLine, line_id) is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "funding.line_deleted"))


def test_places_are_set_then_changed_and_a_stale_form_is_refused(w, make_client):
    client = _client(make_client, w.users["coordinateur"])
    year = today_paris().year
    url = f"/financement/projets/{w.project.id}/places?annee={year}"
    assert (
        client.post(url, data={"places-places": "12", "places-expected_version": "0"}).status_code
        == 302
    )
    row = db.session.scalar(select(ProjectPlaces).where(ProjectPlaces.project_id == w.project.id))
    assert (row.year, row.places) == (year, 12)
    assert (
        client.post(url, data={"places-places": "15", "places-expected_version": "1"}).status_code
        == 302
    )
    stale = client.post(url, data={"places-places": "20", "places-expected_version": "1"})
    assert "Cette fiche a été modifiée" in page(stale)
    refused = client.post(url, data={"places-places": "-3", "places-expected_version": "2"})
    assert "Indiquez un nombre entre 0 et 100 000." in page(refused)
    db.session.refresh(row)
    assert row.places == 15


# --- households' financial aid ---------------------------------------------------------------


def _aid_form(**values):
    return {
        "kind": "fsl_acces",
        "label": "",
        "status": "demandee",
        "requested_on": today_paris().isoformat(),
        "requested": "",
        "decided_on": "",
        "granted": "",
        "note": "",
        **values,
    }


def test_social_worker_records_an_aid_on_the_household_file(w, make_client):
    client = _client(make_client, w.users["travailleur_social"])
    url = f"/menages/{w.household.id}/aides/nouvelle"
    yesterday = (today_paris() - timedelta(days=1)).isoformat()
    data = _aid_form(
        status="accordee", requested="1 200", granted="1000", decided_on=today_paris().isoformat()
    )
    data["requested_on"] = yesterday
    assert client.post(url, data=data).status_code == 302
    tab = page(client.get(f"/menages/{w.household.id}/aides"))
    assert "FSL accès" in tab and "1\u202f000,00\xa0€" in tab and "MARQUEURAIDE" in tab
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "financial_aid.recorded")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.household_id == w.household.id
    assert entry.details == {"kind": "fsl_acces", "status": "accordee"}  # never the amounts


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"status": "accordee", "decided_on": "TODAY"}, "Indiquez un montant en euros."),
        ({"status": "refusee"}, "Indiquez la date de la décision."),
        ({"decided_on": "TODAY"}, "Une demande en attente n'a pas de date de décision"),
        ({"granted": "10"}, "Le montant accordé se saisit avec la décision."),
        ({"requested": "-40"}, "Un montant ne peut pas être négatif."),
        ({"kind": "autre"}, "Indiquez de quelle aide il s'agit."),
        ({"requested_on": "TOMORROW"}, "La date de la demande ne peut pas être dans le futur."),
        (
            {"status": "refusee", "decided_on": "YESTERDAY"},
            "La décision ne peut pas précéder la demande.",
        ),
        (
            {"status": "refusee", "decided_on": "TODAY", "granted": "5"},
            "Une aide refusée n'a pas de montant accordé.",
        ),
        ({"requested_on": "1850-01-01"}, "Indiquez une date entre 1900 et 2100."),
    ],
)
def test_bad_aids_are_refused_with_a_message(w, make_client, values, message):
    today = today_paris()
    days = {
        "TODAY": today,
        "TOMORROW": today + timedelta(days=1),
        "YESTERDAY": today - timedelta(days=1),
    }
    values = {k: days[v].isoformat() if v in days else v for k, v in values.items()}
    client = _client(make_client, w.users["travailleur_social"])
    before = db.session.scalar(select(db.func.count(HouseholdAid.id)))
    response = client.post(f"/menages/{w.household.id}/aides/nouvelle", data=_aid_form(**values))
    assert response.status_code == 200
    assert message in page(response)
    assert db.session.scalar(select(db.func.count(HouseholdAid.id))) == before


def test_landlord_staff_never_see_the_aid(w, make_client):
    client = _client(make_client, w.users["bailleur"])
    base = f"/menages/{w.household.id}"
    assert client.get(f"{base}/aides").status_code == 403
    assert client.get(f"{base}/aides/{w.aid.id}").status_code == 403
    for path in ("", "/partenaires", "/documents", "/logement"):
        response = client.get(base + path)
        if response.status_code != 200:
            continue
        shown = page(response)
        assert "Aides financières" not in shown and "MARQUEURAIDE" not in shown
        assert "/aides" not in shown
    # the support team sees the tab
    worker = _client(make_client, w.users["travailleur_social"])
    assert "Aides financières" in page(worker.get(base))


def test_the_aid_of_another_household_is_not_found(w, make_client):
    client = _client(make_client, w.users["autre_travailleur_social"])
    assert client.get(f"/menages/{w.household.id}/aides").status_code == 404
    own = _client(make_client, w.users["travailleur_social"])
    # an aid id reached through a household it does not belong to
    mine = money.record_aid(
        w.users["autre_travailleur_social"],
        w.other_household,
        today=today_paris(),
        **{k: v for k, v in _aid_values().items()},
    )
    db.session.commit()
    assert own.get(f"/menages/{w.household.id}/aides/{mine.id}").status_code == 404


def _aid_values():
    return {
        "kind": "caf",
        "label": None,
        "status": "demandee",
        "requested": Decimal(100),
        "granted": None,
        "requested_on": today_paris(),
        "decided_on": None,
        "note": None,
    }


def test_an_aid_edited_meanwhile_is_not_overwritten(w, make_client):
    first = _client(make_client, w.users["travailleur_social"])
    second = _client(make_client, w.users["coordinateur"])
    url = f"/menages/{w.household.id}/aides/{w.aid.id}"
    today = today_paris().isoformat()
    data = _aid_form(
        kind="fsl_maintien",
        requested_on=w.aid.requested_on.isoformat(),
        requested="850",
        expected_version=w.aid.version,
    )
    decided = {**data, "status": "accordee", "decided_on": today, "granted": "850"}
    assert first.post(url, data=decided).status_code == 302
    stale = second.post(url, data={**data, "status": "refusee", "decided_on": today})
    assert "Cette fiche a été modifiée" in page(stale)
    db.session.refresh(w.aid)
    assert (w.aid.status, w.aid.granted_cents) == ("accordee", 85_000)
