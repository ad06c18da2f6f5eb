"""Caseloads per référent and stalled files on the ``caseload`` dataset (10 March 2026)."""

from __future__ import annotations

import re
from decimal import Decimal

from app.reports.caseloads import caseload_households, caseloads, stalled_files
from tests.conftest import page
from tests.reports.conftest import CASELOAD_TODAY


def _by_name(loads):
    return {row.referent_name: row for row in loads.rows}


def test_caseload_per_referent(caseload):
    loads = caseloads(caseload.coordinator, [caseload.project.id], CASELOAD_TODAY)
    rows = _by_name(loads)
    wassim, zoe, nobody = rows["Wassim Un"], rows["Zoé Deux"], rows[None]
    # Wassim: K1 (Renforcée, 2) + K2 (Modérée, 1); K6 has left; Projet B's is not counted.
    assert (wassim.households, wassim.weight) == (2, Decimal("3.0"))
    assert wassim.overdue_reminders == 1  # K2's reminder of 1 March
    assert wassim.contact_overdue == 2  # K1 (9 days > 7), K2 (59 days > 30)
    assert wassim.reviews_due == 2  # K1 on 1 April, K2 overdue since September
    assert wassim.arrears_rising == 0
    # Zoé: K3 (Soutenue 1.5) + K4 (no measure, 1) + K7 K8 K9 (Modérée, 1 each).
    assert (zoe.households, zoe.weight) == (5, Decimal("5.5"))
    assert zoe.overdue_reminders == 0
    assert zoe.contact_overdue == 1  # K3: no contact in 37 days > 14
    assert zoe.reviews_due == 0
    assert zoe.arrears_rising == 2  # K7 (200 → 300 €), K9 (1 → 2 months); K8 falls
    assert (nobody.households, nobody.weight) == (1, Decimal("1.0"))  # K5
    # Heaviest first, households without référent last; bars relative to the heaviest.
    assert [r.referent_name for r in loads.rows] == ["Zoé Deux", "Wassim Un", None]
    assert loads.most_loaded.referent_name == "Zoé Deux"
    assert [r.bar_class for r in loads.rows] == ["w-100", "w-55", "w-20"]
    assert loads.totals.households == 8


def test_drill_down_lists_the_households_behind_each_number(caseload):
    def refs(**kwargs):
        lines = caseload_households(
            caseload.coordinator, [caseload.project.id], CASELOAD_TODAY, **kwargs
        )
        return [line.reference for line in lines]

    w1, w2 = caseload.w1.id, caseload.w2.id
    assert refs(referent=w1) == ["C-K1", "C-K2"]
    assert refs(kind="rappels", referent=w1) == ["C-K2"]
    assert refs(kind="rythme") == ["C-K1", "C-K2", "C-K3"]
    assert refs(kind="bilans", referent=w1) == ["C-K1", "C-K2"]
    assert refs(kind="impayes", referent=w2) == ["C-K7", "C-K9"]
    assert refs(referent="aucun") == ["C-K5"]


def test_stalled_files(caseload):
    found = stalled_files(caseload.coordinator, [caseload.project.id], CASELOAD_TODAY, 45)
    assert [line.reference for line in found.no_contact] == ["C-K2"]  # 59 days
    assert [line.reference for line in found.review_overdue] == ["C-K2"]
    assert [line.reference for line in found.ending] == ["C-K3"]  # ends 31 March
    assert [line.reference for line in found.no_referent] == ["C-K5"]
    shorter = stalled_files(caseload.coordinator, [caseload.project.id], CASELOAD_TODAY, 10)
    # Most silent first: K2 (59 days), K3 (37 days since its start, no contact yet).
    assert [line.reference for line in shorter.no_contact] == ["C-K2", "C-K3"]


def test_caseload_page(client, caseload):
    client.login(caseload.coordinator)
    response = client.get("/pilotage/")
    assert response.status_code == 200
    text = page(response)
    assert "Portefeuille le plus chargé : <strong>Zoé Deux</strong>, 5 ménages" in text
    assert 'class="bar__fill w-100"' in text
    assert "style=" not in text
    drill = page(client.get(f"/pilotage/menages?indicateur=impayes&referent={caseload.w2.id}"))
    assert "C-K7" in drill and "C-K9" in drill and "C-K8" not in drill
    assert "Ménages dont l'impayé augmente · Zoé Deux" in drill


def test_stalled_page_takes_the_number_of_days(client, caseload):
    client.login(caseload.coordinator)
    text = page(client.get("/pilotage/dossiers-en-souffrance"))
    assert "Sans contact depuis plus de 45 jours" in text
    text = page(client.get("/pilotage/dossiers-en-souffrance?jours=abc"))
    assert "Sans contact depuis plus de 45 jours" in text  # a wrong value falls back
    text = page(client.get("/pilotage/dossiers-en-souffrance?jours=10"))
    assert "Sans contact depuis plus de 10 jours" in text


def test_a_coordinator_sees_only_their_projects(client, caseload, app):
    from app.permissions import Role
    from tests.factories import make_user

    other = make_user(Role.COORDINATEUR, projects=[caseload.other_project])
    client.login(other)
    text = page(client.get("/pilotage/"))
    assert "Wassim Un" in text  # référent of C-B1 in the other project
    assert "Zoé Deux" not in text
    text = page(client.get("/pilotage/menages"))
    assert "C-B1" in text and "C-K1" not in text


def test_stalled_groups_list_their_first_households_and_count_them_all(caseload):
    found = stalled_files(caseload.coordinator, [caseload.project.id], CASELOAD_TODAY, 10, shown=1)
    everything = stalled_files(caseload.coordinator, [caseload.project.id], CASELOAD_TODAY, 10)
    assert found.totals == {
        name: len(getattr(everything, name))
        for name in ("no_contact", "review_overdue", "ending", "no_referent")
    }
    assert found.household_count == everything.household_count
    assert [line.reference for line in found.no_contact] == ["C-K2"]  # the longest first
    assert found.totals["no_contact"] == 2
    for _anchor, _label, lines, total in found.groups():
        assert len(lines) == min(total, 1)


def test_the_stalled_page_says_when_a_group_lists_only_its_first_households(
    client, caseload, monkeypatch
):
    monkeypatch.setattr("app.reports.caseloads.STALLED_SHOWN", 1)
    client.login(caseload.coordinator)
    text = page(client.get("/pilotage/dossiers-en-souffrance?jours=10"))
    group = text.split('id="sans-contact"')[1].split("</section>")[0]
    total = int(re.search(r"(\d+) ménages : seul le premier est listé ici.", group).group(1))
    assert total > 1
    assert len(re.findall(r'href="/menages/\d+"', group)) == 1
