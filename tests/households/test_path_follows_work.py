"""The path follows the work: a diagnostic, a signed adhésion, an opened measure, a lease and
the last measure closed move the household's stage by themselves, dated by the event — never
back — and any move may be backdated for a file typed in after the fact, who and when kept."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db
from app.errors import DomainError
from app.formatting import format_date
from app.households import services
from app.households.models import HouseholdStage, StageTransition
from app.households.path_timeline import path_branches, path_events
from app.households.timeline import timeline_rows
from app.housing import services as housing
from app.support import services as support
from tests.factories import make_dwelling, make_household, make_intensity_levels, make_measure
from tests.households.conftest import TODAY, last_audit

S = HouseholdStage


@pytest.fixture
def worker(w):
    return w.users["travailleur_social"]


@pytest.fixture
def fresh(w, worker):
    """A household of the project just entered, at orientation, followed by the worker."""
    household = make_household(
        w.project, referent=worker, stage="orientation", stage_since_on=date(2026, 1, 5)
    )
    db.session.commit()
    return household


def _transitions(household) -> list[StageTransition]:
    return list(
        db.session.scalars(
            select(StageTransition)
            .where(StageTransition.household_id == household.id)
            .order_by(StageTransition.id)
        )
    )


def _orient(household, actor, kind):
    services.record_orientation(
        actor,
        household,
        prescriber="siao",
        prescriber_detail=None,
        oriented_on=date(2026, 1, 2),
        kind=kind,
        reason=None,
        today=TODAY,
    )


def _adhesion(household, actor, signed_on=date(2026, 2, 3)):
    return services.record_adhesion(
        actor, household, signed_on=signed_on, objectives="Accéder à un logement", today=TODAY
    )


def test_a_signed_adhesion_moves_the_stage_dated_by_its_signature(fresh, worker):
    _adhesion(fresh, worker)
    assert (fresh.stage, fresh.stage_since_on) == (S.ADHESION, date(2026, 2, 3))
    move = _transitions(fresh)[-1]
    assert (move.from_stage, move.to_stage, move.on) == (
        "orientation",
        "adhesion",
        date(2026, 2, 3),
    )
    assert move.cause == "adhesion" and move.by_id == worker.id and move.reason is None
    entry = last_audit("household.stage_moved")
    assert entry.details == {
        "from": "orientation",
        "to": "adhesion",
        "backward": False,
        "cause": "adhesion",
    }


def test_a_diagnostic_moves_an_oriented_household_to_diagnostic(fresh, worker):
    services.record_diagnostic(
        worker,
        fresh,
        carried_out_on=date(2026, 1, 20),
        levels=dict.fromkeys(
            ("pouvoir_louer", "savoir_louer", "savoir_habiter", "environnement"), "partiel"
        ),
        comments={},
        needs=[],
        recommended_intensity=None,
        today=TODAY,
    )
    assert (fresh.stage, fresh.stage_since_on) == (S.DIAGNOSTIC, date(2026, 1, 20))


def test_an_opened_measure_moves_towards_housing_or_to_maintien(w, fresh, worker):
    _adhesion(fresh, worker)
    make_measure(fresh, worker, start_on=date(2026, 2, 10))
    assert (fresh.stage, fresh.stage_since_on) == (S.ACCES, date(2026, 2, 10))
    assert _transitions(fresh)[-1].cause == "measure_opened"
    # A household oriented for maintien is kept in its home: straight to maintien.
    housed = make_household(w.project, referent=worker, stage="orientation")
    _orient(housed, worker, "maintien")
    make_measure(housed, worker, start_on=date(2026, 2, 12))
    assert (housed.stage, housed.stage_since_on) == (S.MAINTIEN, date(2026, 2, 12))


def test_a_started_lease_moves_to_installation_on_its_first_day(w, fresh, worker):
    make_measure(fresh, worker, start_on=date(2026, 2, 10))
    lease = housing.start_occupancy(
        worker,
        fresh,
        dwelling_id=make_dwelling(w.landlord).id,
        lease_type="bail_direct",
        start_on=date(2026, 3, 2),
    )
    assert lease.start_on == date(2026, 3, 2)
    assert (fresh.stage, fresh.stage_since_on) == (S.INSTALLATION, date(2026, 3, 2))
    assert _transitions(fresh)[-1].cause == "lease_started"


def test_a_lease_starting_later_does_not_move_the_stage_yet(w, fresh, worker):
    housing.start_occupancy(
        worker,
        fresh,
        dwelling_id=make_dwelling(w.landlord).id,
        lease_type="bail_direct",
        start_on=date.today() + timedelta(days=20),
    )
    assert fresh.stage == S.ORIENTATION and _transitions(fresh) == []


def _close(measure, actor, exit_on):
    return support.close_measure(
        actor,
        measure,
        version=measure.version,
        exit_on=exit_on,
        reason="objectifs_atteints",
        housing_situation="maintenu",
        is_lease_glissed=False,
        handover=None,
    )


def test_closing_the_last_open_measure_moves_to_sortie(w, worker):
    household = make_household(
        w.project, referent=worker, stage="maintien", stage_since_on=date(2025, 4, 1)
    )
    levels = make_intensity_levels(w.project)
    first = make_measure(household, worker, start_on=date(2025, 4, 1))
    second = make_measure(
        household, worker, type="asll", start_on=date(2025, 5, 1), intensity_level_id=levels[2].id
    )
    _close(first, worker, date(2026, 2, 1))
    assert household.stage == S.MAINTIEN  # the ASLL measure goes on
    _close(second, worker, date(2026, 2, 20))
    assert (household.stage, household.stage_since_on) == (S.SORTIE, date(2026, 2, 20))
    assert _transitions(household)[-1].cause == "measure_closed"


def test_an_event_never_moves_the_stage_back(w, worker):
    household = w.household  # at maintien, with a current lease
    before = _transitions(household)
    _adhesion(household, worker, signed_on=date(2026, 3, 1))
    make_measure(household, worker, type="asll", start_on=date(2026, 3, 1))
    assert household.stage == S.MAINTIEN and _transitions(household) == before


def test_an_event_dated_before_the_last_move_keeps_the_path_in_order(fresh, worker):
    services.move_stage(
        worker,
        fresh,
        to_stage="diagnostic",
        on=date(2026, 2, 15),
        reason=None,
        expected_version=fresh.version,
        today=TODAY,
    )
    _adhesion(fresh, worker, signed_on=date(2026, 2, 1))
    assert (fresh.stage, fresh.stage_since_on) == (S.ADHESION, date(2026, 2, 15))


# --- backdating ------------------------------------------------------------------------------


def test_a_file_entered_after_the_fact_backdates_its_path_before_its_creation(w, worker):
    household = services.create_household(
        worker,
        w.project,
        head_first_name="Nadia",
        head_last_name="Belkacem",
        head_birth_on=None,
        today=TODAY,
    )
    db.session.commit()
    assert household.stage_since_on == TODAY
    move = services.move_stage(
        worker,
        household,
        to_stage="diagnostic",
        on=date(2019, 5, 2),
        reason=None,
        expected_version=household.version,
        today=TODAY,
    )
    assert (household.stage, household.stage_since_on) == (S.DIAGNOSTIC, date(2019, 5, 2))
    # Who entered it and when stay on the record, and the path says it was entered later.
    assert move.by_id == worker.id
    assert move.at.date() > move.on
    event = next(e for e in path_timeline_events(household, worker) if e.on == move.on)
    assert event.author == worker.full_name
    # (the day in Paris: between 23:00 and midnight UTC it is already tomorrow there)
    assert f"saisi le {format_date(move.at)}" in event.summary
    # The adhésion signed back then follows, at its own date.
    _adhesion(household, worker, signed_on=date(2019, 6, 10))
    assert (household.stage, household.stage_since_on) == (S.ADHESION, date(2019, 6, 10))


@pytest.mark.parametrize(
    ("previous", "on", "message"),
    [
        (None, date(1999, 12, 31), "ne peut pas être antérieure au 1 janvier 2000"),
        (None, TODAY + timedelta(days=1), "ne peut pas être dans le futur"),
        (date(2026, 2, 1), date(2026, 1, 31), "ne peut pas être antérieure au 1 février 2026"),
    ],
)
def test_bad_stage_dates_are_refused_in_french(fresh, worker, previous, on, message):
    to_stage = "diagnostic"
    if previous is not None:
        services.move_stage(
            worker,
            fresh,
            to_stage="diagnostic",
            on=previous,
            reason=None,
            expected_version=fresh.version,
            today=TODAY,
        )
        db.session.commit()
        to_stage = "adhesion"
    count = db.session.scalar(select(func.count()).select_from(StageTransition))
    with pytest.raises(DomainError) as error:
        services.move_stage(
            worker,
            fresh,
            to_stage=to_stage,
            on=on,
            reason=None,
            expected_version=fresh.version,
            today=TODAY,
        )
    db.session.rollback()
    assert error.value.field == "on"
    assert error.value.message.startswith("Date du changement : ")
    assert message in error.value.message
    assert db.session.scalar(select(func.count()).select_from(StageTransition)) == count


def test_the_stage_page_accepts_a_date_before_the_files_creation(w, make_client, fresh, worker):
    from tests.conftest import page

    client = make_client()
    client.login(worker)
    url = f"/menages/{fresh.id}/etape"
    form = page(client.get(url))
    assert "ni avant le 1 janvier 2000" in form
    response = client.post(
        url,
        data={"to_stage": "diagnostic", "on": "2018-09-03", "expected_version": fresh.version},
    )
    assert response.status_code == 302
    body = page(client.get(f"/menages/{fresh.id}"))
    assert "Diagnostic depuis le 3 septembre 2018" in body
    version = re.search(
        r'name="expected_version" type="hidden" value="(\d+)"', page(client.get(url))
    )
    refused = client.post(
        url, data={"to_stage": "adhesion", "on": "2018-09-01", "expected_version": version[1]}
    )
    assert refused.status_code == 200
    assert "la date ne peut pas être antérieure au 3 septembre 2018" in page(refused)


def test_automatic_moves_show_their_cause_on_the_path(fresh, worker, make_client):
    from tests.conftest import page

    _adhesion(fresh, worker)
    db.session.commit()
    client = make_client()
    client.login(worker)
    body = page(client.get(f"/menages/{fresh.id}"))
    assert "Étape Adhésion" in body and "suite à : adhésion signée" in body
    assert "Adhésion depuis le 3 février 2026" in body


def path_timeline_events(household, viewer):
    """The household domain's own events alone, read as the file reads them."""
    return path_events(household, viewer, timeline_rows(path_branches(household, viewer)))
