"""The path (parcours): the transition table, dated and audited moves, and the timeline each
viewer gets."""

from datetime import date, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from app.db import db
from app.errors import DomainError, StaleEditError
from app.households import services
from app.households.models import HouseholdStage, StageTransition
from app.households.path_timeline import path_branches, path_events
from app.households.queries import household_timeline
from app.households.timeline import timeline_rows
from tests.factories import make_household
from tests.households.conftest import TODAY, last_audit

S = HouseholdStage


def _move(w, household, to_stage, on=TODAY, reason=None, actor=None):
    return services.move_stage(
        actor or w.users["travailleur_social"],
        household,
        to_stage=to_stage,
        on=on,
        reason=reason,
        expected_version=household.version,
        today=TODAY,
    )


def test_the_table_covers_every_stage_and_only_moves_forward():
    assert set(services.FORWARD_MOVES) == set(S)
    for stage, nexts in services.FORWARD_MOVES.items():
        assert all(services.is_forward(stage, n) for n in nexts)
    # The path in order, one step at a time, with one shortcut for households already housed.
    chain = [S(s) for s in services.STAGE_ORDER]
    for current, following in pairwise(chain):
        assert following in services.FORWARD_MOVES[current]
    skips = {
        (stage, n)
        for stage, nexts in services.FORWARD_MOVES.items()
        for n in nexts
        if chain.index(n) - chain.index(stage) > 1
    }
    assert skips == services.SHORTCUTS_FOR_HOUSED == {(S.ADHESION, S.MAINTIEN)}


def test_a_full_path_is_dated_audited_and_recorded(w):
    household = make_household(w.project, stage="orientation", stage_since_on=date(2025, 9, 1))
    steps = [
        ("diagnostic", date(2025, 10, 1)),
        ("adhesion", date(2025, 11, 1)),
        ("acces", date(2025, 12, 1)),
        ("installation", date(2026, 1, 5)),
        ("maintien", date(2026, 2, 1)),
        ("sortie", date(2026, 3, 1)),
        ("suivi_post_sortie", date(2026, 3, 10)),
    ]
    for stage, on in steps:
        transition = _move(w, household, stage, on=on)
        entry = last_audit("household.stage_moved")
        assert entry.target_id == transition.id and entry.details["to"] == stage
        assert (household.stage, household.stage_since_on) == (stage, on)
    rows = db.session.scalars(
        select(StageTransition)
        .where(StageTransition.household_id == household.id)
        .order_by(StageTransition.id)
    ).all()
    assert [(r.to_stage, r.on) for r in rows] == steps


def test_skipping_stages_is_refused_with_the_next_step_named(w):
    household = make_household(w.project, stage="orientation", stage_since_on=date(2026, 1, 1))
    with pytest.raises(DomainError) as error:
        _move(w, household, "maintien")
    assert error.value.field == "to_stage"
    assert "ne peut pas passer directement à « Maintien »" in error.value.message
    assert "« Diagnostic »" in error.value.message
    db.session.rollback()


def test_maintien_shortcut_only_for_households_already_housed(w):
    unhoused = make_household(w.project, stage="adhesion", stage_since_on=date(2026, 1, 1))
    assert S.MAINTIEN not in services.allowed_moves(unhoused)
    with pytest.raises(DomainError):
        _move(w, unhoused, "maintien")
    db.session.rollback()
    # w.household holds a current lease: adhésion → maintien directly.
    w.household.stage, w.household.stage_since_on = "adhesion", date(2026, 1, 1)
    db.session.commit()
    _move(w, w.household, "maintien")
    # Or a household oriented for maintien.
    oriented = make_household(w.project, stage="adhesion", stage_since_on=date(2026, 1, 1))
    services.record_orientation(
        w.users["coordinateur"],
        oriented,
        prescriber="ccapex",
        prescriber_detail=None,
        oriented_on=date(2025, 12, 1),
        kind="maintien",
        reason=None,
        today=TODAY,
    )
    assert S.MAINTIEN in services.allowed_moves(oriented)


def test_going_back_needs_a_reason(w):
    household = make_household(w.project, stage="maintien", stage_since_on=date(2026, 1, 1))
    db.session.commit()
    with pytest.raises(DomainError) as error:
        _move(w, household, "acces")
    assert error.value.field == "reason" and "expliqué" in error.value.message
    db.session.rollback()
    transition = _move(w, household, "acces", reason="Logement perdu après un incendie")
    assert transition.reason == "Logement perdu après un incendie"
    assert last_audit("household.stage_moved").details["backward"] is True


@pytest.mark.parametrize(
    ("on", "message"),
    [
        (TODAY + timedelta(days=1), "dans le futur"),
        (date(2025, 12, 31), "antérieure au 1 janvier 2026"),
        (None, "indiquez une date"),
    ],
)
def test_the_date_is_neither_future_nor_before_the_last_move(w, on, message):
    household = make_household(w.project, stage="orientation", stage_since_on=date(2025, 6, 1))
    _move(w, household, "diagnostic", on=date(2026, 1, 1))
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(StageTransition))
    with pytest.raises(DomainError) as error:
        _move(w, household, "adhesion", on=on)
    db.session.rollback()
    assert error.value.field == "on" and message in error.value.message
    assert db.session.scalar(select(func.count()).select_from(StageTransition)) == before


def test_moving_to_the_same_stage_or_from_a_stale_form_is_refused(w):
    household = w.household
    with pytest.raises(DomainError, match="déjà à l'étape"):
        _move(w, household, household.stage)
    stale = household.version
    _move(w, household, "sortie", on=TODAY)
    db.session.commit()
    with pytest.raises(StaleEditError):
        services.move_stage(
            w.users["coordinateur"],
            household,
            to_stage="suivi_post_sortie",
            on=TODAY,
            reason=None,
            expected_version=stale,
            today=TODAY,
        )


# --- timeline filtering ----------------------------------------------------------------------


@pytest.fixture
def full_path(w):
    """w.household with an orientation, a diagnostic, an adhésion, a consent withdrawn, a
    member added and a move back."""
    actor = w.users["travailleur_social"]
    household = w.household
    services.record_orientation(
        actor,
        household,
        prescriber="dalo",
        prescriber_detail=None,
        oriented_on=date(2025, 1, 10),
        kind="acces",
        reason="Hébergée chez un tiers, violences conjugales",
        today=TODAY,
    )
    services.record_diagnostic(
        actor,
        household,
        carried_out_on=date(2025, 2, 1),
        levels=dict.fromkeys(("pouvoir_louer", "savoir_louer"), "a_travailler")
        | dict.fromkeys(("savoir_habiter", "environnement"), "acquis"),
        comments={"pouvoir_louer": "Dette de 2 400 € au Trésor public"},
        needs=["budget_dettes"],
        recommended_intensity="renforcee",
        today=TODAY,
    )
    services.record_adhesion(
        actor,
        household,
        signed_on=date(2025, 2, 15),
        objectives="Solder la dette EDF",
        today=TODAY,
    )
    services.withdraw_consent(actor, household, w.consent, withdrawn_on=date(2026, 1, 2))
    services.add_member(
        actor,
        household,
        first_name="Noé",
        last_name="Martin",
        birth_on=date(2025, 12, 1),
        relation="enfant",
        today=TODAY,
    )
    household.stage_since_on = date(2026, 1, 1)
    _move(w, household, "acces", on=date(2026, 2, 1), reason="Hospitalisation psychiatrique")
    db.session.commit()
    return household


def _titles(events) -> list[str]:
    return [e.title for e in events]


def test_the_support_team_sees_the_whole_path_newest_first(w, full_path):
    events = household_timeline(full_path, w.users["travailleur_social"])
    titles = _titles(events)
    for expected in (
        "Orientation par Commission de médiation DALO",
        "Diagnostic social",
        "Adhésion signée",
        "Consentement donné",
        "Consentement retiré",
        "Personne ajoutée : Noé Martin",
        "Retour à l'étape Accès au logement",
    ):
        assert expected in titles
    assert [e.on for e in events] == sorted((e.on for e in events), reverse=True)
    diagnostic = next(e for e in events if e.title == "Diagnostic social")
    assert "Dette de 2 400 €" in diagnostic.detail and "Renforcée" in diagnostic.detail
    back = next(e for e in events if e.title.startswith("Retour"))
    assert back.detail == "Hospitalisation psychiatrique"
    assert _titles(household_timeline(full_path, w.users["coordinateur"])) == titles


def test_landlord_staff_see_the_dated_stages_only(w, full_path):
    own = path_timeline_events(full_path, w.users["bailleur"])
    assert own and all(e.title.startswith(("Étape", "Retour", "Entrée")) for e in own)
    assert all(e.detail is None for e in own)  # not even the reason of a move back
    # Whatever other domains add, nothing social reaches the landlord's timeline.
    events = household_timeline(full_path, w.users["bailleur"])
    flattened = " ".join(f"{e.title} {e.summary} {e.detail}" for e in events)
    for secret in ("DALO", "Dette", "EDF", "Consentement", "violences", "Hospitalisation", "Noé"):
        assert secret not in flattened


def path_timeline_events(household, viewer):
    """The household domain's own events alone, read as the file reads them."""
    return path_events(household, viewer, timeline_rows(path_branches(household, viewer)))
