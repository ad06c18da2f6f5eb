"""The Parcours page loads the records its timeline and its header share once
(``file_page_loads``): the header's badges, worked out from the timeline's records there, are
the ones worked out in SQL on every other page, and each viewer still gets only their scope."""

import re
from datetime import date, timedelta

import pytest

from app.db import db
from app.formatting import today_paris
from app.households.queries import file_header, file_page_loads, household_timeline
from tests.conftest import page
from tests.factories import (
    make_dwelling,
    make_intervention,
    make_occupancy,
    make_procedure_stage,
    make_snapshot,
)


def _badges(body: str) -> list[str]:
    badges = body.split('aria-label="Situation">')[1].split("</ul>")[0]
    return re.findall(r'class="badge badge--\w+">([^<]*)<', badges)


@pytest.fixture
def busy_file(w):
    """w.household with an older lease at another landlord, procedure stages on both leases
    (two on the same day), arrears, and a missed appointment after the last real visit."""
    today = today_paris()
    old = make_occupancy(
        w.household,
        make_dwelling(w.other_landlord),
        start_on=date(2023, 1, 1),
        end_on=date(2025, 1, 31),
    )
    make_procedure_stage(old, "assignation", date(2024, 6, 1))
    make_procedure_stage(w.occupancy, "commandement_payer", date(2025, 3, 1))
    make_procedure_stage(w.occupancy, "assignation", date(2025, 3, 1))
    make_snapshot(w.occupancy, date(2025, 4, 1), 120_000)
    worker = w.users["travailleur_social"]
    make_intervention(w.household, author=worker, occurred_on=today - timedelta(days=80))
    make_intervention(
        w.household, author=worker, occurred_on=today - timedelta(days=2), mode="rdv_non_honore"
    )
    db.session.commit()
    return w.household


@pytest.mark.parametrize("role", ["travailleur_social", "coordinateur", "bailleur"])
def test_the_header_on_the_parcours_page_matches_the_header_elsewhere(
    w, busy_file, make_client, role
):
    viewer = w.users[role]
    client = make_client()
    client.login(viewer)
    on_parcours = _badges(page(client.get(f"/menages/{busy_file.id}")))
    on_team_tab = _badges(page(client.get(f"/menages/{busy_file.id}/equipe")))
    assert on_parcours == on_team_tab
    assert "Procédure : assignation" in on_parcours
    if role != "bailleur":
        # The missed appointment is not a contact: 80 days without one.
        assert "Sans contact depuis 80 j" in on_parcours


def test_shared_loads_last_one_block_and_keep_to_the_viewer(w, busy_file, app):
    worker, staff = w.users["travailleur_social"], w.users["bailleur"]
    with app.test_request_context(), file_page_loads():
        household_timeline(busy_file, worker)
        worker_header = file_header(busy_file, worker)
        staff_titles = [e.title for e in household_timeline(busy_file, staff)]
        staff_header = file_header(busy_file, staff)
    # Landlord staff never get the other landlord's lease, nor any social badge.
    assert "Fin du bail" not in staff_titles
    assert staff_titles.count("Procédure : Assignation") == 1
    assert not any("contact" in label for label, _ in staff_header.alerts)
    assert any("contact" in label for label, _ in worker_header.alerts)
    # Outside the block, every call loads afresh and sees what changed since.
    make_procedure_stage(w.occupancy, "jugement", date(2025, 9, 1))
    db.session.commit()
    with app.test_request_context():
        alerts = file_header(busy_file, worker).alerts
    assert ("Procédure : jugement", "danger") in alerts, alerts
