"""The household file's Accompagnement pages send at most 15 SQL queries (issue #19), and the
same number whatever the file holds: the tab (measures with their renewals, intensity history,
exit and checks; objectives with their updates; reviews with their progress; recent visits),
the measure forms (review, intensity, renewal, exit), the objective forms, the post-exit
check form. Counted on a file with one record of each kind, then with seven.

On SQLite, the tab sends 14: BEGIN, the viewer, their projects, the household, the audit
entry of the read, BEGIN, the measures, the objectives, the reviews, the recent visits, the
leases and their reviews (header), the header's one UNION ALL (which gives the tab its last
contact too), the navigation's reminder count. PostgreSQL sends no BEGIN."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.db import db
from app.permissions import Role
from app.support import services
from app.support.models import Objective, PostExitCheck
from tests.factories import (
    make_household,
    make_intensity_levels,
    make_intervention,
    make_landlord,
    make_measure,
    make_objective,
    make_project,
    make_user,
)
from tests.performance.test_key_pages_queries import (
    MAX_QUERIES,
    add_file_records,
    extra_statements,
    household_open_measures,
    statements_of,
)


@pytest.fixture
def world(app):
    landlord = make_landlord()
    project = make_project(lead_landlord=landlord)
    return {
        "landlord": landlord,
        "project": project,
        "coordinator": make_user(Role.COORDINATEUR, projects=[project]),
        "workers": [make_user(projects=[project]) for _ in range(3)],
        "staff": make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord),
        "levels": make_intensity_levels(project),
    }


def add_support_records(w, household, n: int) -> None:
    """``add_file_records`` (a full file: leases, visits, closed measures with a review and
    an exit, a new open measure…), then more of what the Accompagnement tab lists: ``n``
    objectives with two updates each, and two renewals and two intensity changes on each of
    ``n`` closed measures of another type and on the open measure, and ``n`` visits."""
    worker = w["workers"][0]
    today = date.today()
    add_file_records(w, household, n)
    soutenue = w["levels"][1]

    def history(measure):
        """Two renewals, then another level and back (with its opening level: three)."""
        current = measure.intensity_level_id
        other = next(level.id for level in w["levels"] if level.id != current)
        for months in (1, 2):
            services.renew_measure(
                worker,
                measure,
                version=measure.version,
                new_end_on=measure.planned_end_on + timedelta(days=90),
                justification=f"Prolongation {months}",
                renewed_on=date(2025, 3 + months, 1),
            )
            db.session.flush()
        for level_id, day in ((other, date(2025, 6, 1)), (current, date(2025, 7, 1))):
            services.change_intensity(
                worker,
                measure,
                version=measure.version,
                intensity_level_id=level_id,
                changed_on=day,
                reason="Situation qui évolue",
                today=today,
            )
            db.session.flush()

    for i in range(n):
        objective = make_objective(household, title=f"Objectif suivi {i}")
        for day in (date(2025, 4, 1), date(2025, 5, 1)):
            services.update_objective(
                worker,
                objective,
                version=objective.version,
                status="en_cours",
                comment=f"Avancée du {day}",
                on=day,
                today=today,
            )
            db.session.flush()
        measure = make_measure(household, type="avdl", intensity_level_id=soutenue.id)
        history(measure)
        services.close_measure(
            worker,
            measure,
            version=measure.version,
            exit_on=date(2025, 8, 1),
            reason="objectifs_atteints",
            housing_situation="maintenu",
            is_lease_glissed=False,
            handover="Relais CCAS",
            today=today,
        )
        make_intervention(household, author=worker, occurred_on=today - timedelta(days=i))
    (open_measure,) = household_open_measures(household)
    history(open_measure)
    db.session.flush()


def pages(household) -> dict[str, str]:
    """The Accompagnement pages of the household (its open measure's forms)."""
    (measure,) = household_open_measures(household)
    objective = db.session.scalars(
        select(Objective).where(Objective.household_id == household.id)
    ).first()
    check = db.session.scalars(
        select(PostExitCheck).where(PostExitCheck.household_id == household.id)
    ).first()
    tab = f"/menages/{household.id}/accompagnement"
    return {
        "tab": tab,
        "review": f"{tab}/mesures/{measure.id}/bilan",
        "intensity": f"{tab}/mesures/{measure.id}/intensite",
        "renewal": f"{tab}/mesures/{measure.id}/renouveler",
        "exit": f"{tab}/mesures/{measure.id}/sortie",
        "new measure": f"{tab}/mesures/nouvelle",
        "new objective": f"{tab}/objectifs/nouveau",
        "objective": f"{tab}/objectifs/{objective.id}",
        "check": f"{tab}/verifications/{check.id}",
    }


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("workers", "tab"),
        ("coordinator", "tab"),
        *(
            ("workers", page)
            for page in (
                "review",
                "intensity",
                "renewal",
                "exit",
                "new measure",
                "new objective",
                "objective",
                "check",
            )
        ),
    ],
)
def test_support_page_queries_are_few_and_do_not_grow(world, make_client, who, page):
    user = world["workers"][0] if who == "workers" else world[who]
    household = make_household(world["project"], referent=world["workers"][0])
    add_support_records(world, household, 1)
    client = make_client()
    client.login(user)
    client.get(pages(household)[page])  # warm-up: first-request work is not the page's
    few = statements_of(client, pages(household)[page])
    add_support_records(world, household, 6)
    many = statements_of(client, pages(household)[page])
    assert len(few) == len(many), extra_statements(few, many)
    assert len(many) <= MAX_QUERIES, "\n".join(s[:120] for s in many)


def test_the_tab_shows_every_record_it_loaded_in_few_queries(world, make_client):
    """What the joined loads bring back, each once and in order: every measure (15: seven
    closed with the file, seven of another type, the open one), their renewals and intensity
    history, the exits' checks, every review with its progress."""
    household = make_household(world["project"], referent=world["workers"][0])
    add_support_records(world, household, 7)
    client = make_client()
    client.login(world["workers"][0])
    body = client.get(pages(household)["tab"]).get_data(as_text=True)
    measures = re.findall(r'<h4 class="card__title">', body)
    assert len(measures) == 15
    # The open measure's and each AVDL measure's two renewals, oldest first.
    assert body.count("<summary>Renouvellements (2)</summary>") == 8
    assert body.count("Prolongation 1</li>") == 8
    assert body.index("Prolongation 1</li>") < body.index("Prolongation 2</li>")
    # Opening level, then the two changes.
    assert body.count("<summary>Historique de l'intensité (3)</summary>") == 8
    # Two checks (6 and 12 months, in that order) under each of the 14 exits.
    assert len(re.findall(r"Vérification à 6 mois[^<]*<a", body)) == 14
    assert len(re.findall(r"Vérification à 12 mois[^<]*<a", body)) == 14
    assert body.index("Vérification à 6 mois") < body.index("Vérification à 12 mois")
    # One review per closed measure of the file, each with its one objective's progress.
    assert body.count('<details class="card">') == 7
