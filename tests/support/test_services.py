"""Rules of measures, intensity, objectives, reviews and exits (service level)."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEntry
from app.db import db
from app.errors import DomainError
from app.permissions import Role
from app.support import services
from app.support.models import (
    IntensityChange,
    IntensityLevel,
    Measure,
    MeasureRenewal,
    ObjectiveUpdate,
    PostExitCheck,
)
from tests.factories import (
    make_household,
    make_intensity_levels,
    make_measure,
    make_objective,
    make_project,
    make_user,
)

TODAY = date(2026, 3, 12)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def worker(app):
    return make_user()


@pytest.fixture
def household(worker):
    return make_household(referent=worker)


def test_default_intensity_levels_are_created_once(app):
    project = make_project()
    levels = services.ensure_default_intensity_levels(project)
    services.ensure_default_intensity_levels(project)
    assert [(lv.name, lv.contact_every_days) for lv in levels] == [
        ("Renforcée", 7),
        ("Soutenue", 14),
        ("Modérée", 30),
    ]
    assert count(IntensityLevel) == 3


def test_intensity_level_rhythm_out_of_range_is_refused(app, worker):
    with pytest.raises(DomainError, match="entre 1 et 365 jours"):
        services.create_intensity_level(
            make_user(Role.COORDINATEUR, projects=[project := make_project()]),
            project_id=project.id,
            name="Très légère",
            contact_every_days=0,
            caseload_weight=Decimal("0.5"),
        )
    assert count(IntensityLevel) == 0


def test_opening_a_measure_records_referent_intensity_and_first_review(household, worker):
    levels = make_intensity_levels(household.project)
    measure = services.open_measure(
        worker,
        household,
        type="avdl",
        intensity_level_id=levels[0].id,
        start_on=date(2025, 11, 30),
        planned_end_on=date(2026, 11, 30),
    )
    db.session.flush()
    assert measure.referent_id == worker.id
    assert measure.next_review_on == date(2026, 2, 28)  # clamped to the month's end
    assert [c.to_level_id for c in measure.intensity_changes] == [levels[0].id]
    [entry] = audited("measure.opened")
    assert entry.household_id == household.id and entry.target_id == measure.id


def test_only_one_open_measure_of_a_type_per_household(household, worker):
    make_measure(household, type="avdl")
    with pytest.raises(DomainError, match="déjà en cours pour ce ménage") as refused:
        make_measure(household, type="avdl")
    assert refused.value.field == "type"
    assert count(Measure) == 1
    make_measure(household, type="asll")  # another type is fine
    assert count(Measure) == 2


def test_the_database_also_refuses_a_second_open_measure_of_a_type(household, worker):
    first = make_measure(household, type="iml")
    second = Measure(
        household_id=household.id,
        type="iml",
        intensity_level_id=first.intensity_level_id,
        start_on=date(2025, 5, 1),
        planned_end_on=date(2026, 5, 1),
        status="en_cours",
    )
    db.session.add(second)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_closed_measure_lets_a_new_one_of_the_same_type_open(household, worker):
    measure = make_measure(household, type="avdl")
    services.close_measure(
        worker,
        measure,
        version=measure.version,
        exit_on=date(2025, 12, 1),
        reason="reorientation",
        housing_situation="maintenu",
        is_lease_glissed=False,
        handover=None,
        today=TODAY,
    )
    make_measure(household, type="avdl", start_on=date(2026, 1, 5))
    assert count(Measure, Measure.status == "en_cours") == 1


def test_planned_end_before_start_is_refused_and_nothing_is_created(household):
    with pytest.raises(DomainError, match="postérieure à la date de début") as refused:
        make_measure(household, start_on=date(2025, 6, 1), planned_end_on=date(2025, 5, 1))
    assert refused.value.field == "planned_end_on"
    assert count(Measure) == 0 and count(IntensityChange) == 0


def test_a_household_without_referent_cannot_open_a_measure(app, worker):
    household = make_household()
    with pytest.raises(DomainError, match="pas encore de référent"):
        make_measure(household, actor=worker)
    assert count(Measure) == 0


def test_renewal_needs_a_justification_and_a_later_end(household, worker):
    measure = make_measure(household)
    for justification, new_end, message in (
        ("  ", date(2027, 3, 1), "doit être justifié"),
        ("Dette FSL en cours", date(2026, 8, 1), "postérieure à la fin actuelle"),
    ):
        with pytest.raises(DomainError, match=message):
            services.renew_measure(
                worker,
                measure,
                version=measure.version,
                new_end_on=new_end,
                justification=justification,
            )
    assert count(MeasureRenewal) == 0 and measure.planned_end_on == date(2026, 9, 1)

    services.renew_measure(
        worker,
        measure,
        version=measure.version,
        new_end_on=date(2027, 3, 1),
        justification="Plan d'apurement à consolider",
        renewed_on=date(2026, 8, 1),
    )
    db.session.flush()
    assert measure.planned_end_on == date(2027, 3, 1)
    [renewal] = measure.renewals
    assert (renewal.previous_end_on, renewal.justification) == (
        date(2026, 9, 1),
        "Plan d'apurement à consolider",
    )
    assert len(audited("measure.renewed")) == 1


def test_renewal_from_a_stale_form_is_refused(household, worker):
    measure = make_measure(household)
    with pytest.raises(DomainError, match="a été modifiée"):
        services.renew_measure(
            worker,
            measure,
            version=measure.version - 1,
            new_end_on=date(2027, 1, 1),
            justification="x",
        )


def test_intensity_changes_keep_their_history(household, worker):
    levels = make_intensity_levels(household.project)
    measure = make_measure(household, intensity_level_id=levels[2].id)
    services.change_intensity(
        worker,
        measure,
        version=measure.version,
        intensity_level_id=levels[0].id,
        changed_on=date(2025, 9, 1),
        reason="Impayés en hausse",
        today=TODAY,
    )
    db.session.flush()
    db.session.expire(measure)
    history = [(c.from_level_id, c.to_level_id, c.changed_on) for c in measure.intensity_changes]
    assert history == [
        (None, levels[2].id, date(2025, 3, 1)),
        (levels[2].id, levels[0].id, date(2025, 9, 1)),
    ]
    assert measure.intensity.name == "Renforcée"
    assert len(audited("measure.intensity_changed")) == 1


def test_objective_updates_are_dated_and_audited(household, worker):
    objective = services.add_objective(
        worker,
        household,
        domain="sante",
        title="Reprendre un suivi au CMP",
        status="a_engager",
        set_on=date(2025, 4, 1),
    )
    services.update_objective(
        worker,
        objective,
        version=objective.version,
        status="en_cours",
        comment="Premier rendez-vous pris",
        on=date(2025, 5, 2),
        today=TODAY,
    )
    db.session.flush()
    db.session.expire(objective)
    assert objective.status == "en_cours"
    assert [(u.on, u.status) for u in objective.updates] == [
        (date(2025, 5, 2), "en_cours"),
        (date(2025, 4, 1), "a_engager"),
    ]
    assert len(audited("objective.created")) == 1 and len(audited("objective.updated")) == 1


def test_a_review_records_progress_per_objective_and_sets_the_next_one(household, worker):
    measure = make_measure(household)
    budget = make_objective(household, domain="budget_dettes")
    health = make_objective(household, domain="sante")
    review = services.record_review(
        worker,
        measure,
        kind="trimestriel",
        held_on=date(2025, 6, 2),
        summary="Bonne dynamique",
        progress={budget.id: ("atteint", "Dossier FSL accordé"), health.id: ("en_pause", None)},
        today=TODAY,
    )
    db.session.flush()
    assert measure.next_review_on == date(2025, 9, 2)
    assert {(u.objective_id, u.status) for u in review.progress} == {
        (budget.id, "atteint"),
        (health.id, "en_pause"),
    }
    assert budget.status == "atteint"
    assert len(audited("review.recorded")) == 1

    services.record_review(
        worker,
        measure,
        kind="final",
        held_on=date(2026, 2, 1),
        summary=None,
        progress={},
        today=TODAY,
    )
    assert measure.next_review_on is None


def test_a_review_cannot_carry_another_households_objective(household, worker):
    measure = make_measure(household)
    stranger = make_objective(make_household())
    with pytest.raises(DomainError, match="n'appartient pas"):
        services.record_review(
            worker,
            measure,
            kind="trimestriel",
            held_on=date(2025, 6, 2),
            summary=None,
            progress={stranger.id: ("atteint", None)},
            today=TODAY,
        )
    assert count(ObjectiveUpdate) == 0


def test_closing_a_measure_creates_the_two_post_exit_checks_once(household, worker):
    measure = make_measure(household, type="bail_glissant")
    exit_ = services.close_measure(
        worker,
        measure,
        version=measure.version,
        exit_on=date(2026, 1, 31),
        reason="objectifs_atteints",
        housing_situation="maintenu",
        is_lease_glissed=True,
        handover="Relais CCAS pour l'épicerie sociale",
        today=TODAY,
    )
    services.ensure_post_exit_checks(exit_)
    services.ensure_post_exit_checks(exit_)
    db.session.flush()
    checks = db.session.scalars(select(PostExitCheck).order_by(PostExitCheck.months)).all()
    assert [(c.months, c.due_on) for c in checks] == [
        (6, date(2026, 7, 31)),
        (12, date(2027, 1, 31)),
    ]
    assert measure.status == "cloturee" and measure.closed_on == date(2026, 1, 31)
    assert exit_.is_lease_glissed
    assert len(audited("measure.closed")) == 1
    with pytest.raises(DomainError, match="clôturée"):
        services.close_measure(
            worker,
            measure,
            version=measure.version,
            exit_on=date(2026, 2, 1),
            reason="autre",
            housing_situation="inconnu",
            is_lease_glissed=False,
            handover=None,
            today=TODAY,
        )
    assert count(PostExitCheck) == 2


def test_exit_in_the_future_is_refused(household, worker):
    measure = make_measure(household)
    with pytest.raises(DomainError, match="dans le futur"):
        services.close_measure(
            worker,
            measure,
            version=measure.version,
            exit_on=date(2026, 4, 1),
            reason="autre",
            housing_situation="inconnu",
            is_lease_glissed=False,
            handover=None,
            today=TODAY,
        )
    assert measure.status == "en_cours" and count(PostExitCheck) == 0


def test_a_post_exit_check_is_filled_in_later(household, worker):
    measure = make_measure(household)
    exit_ = services.close_measure(
        worker,
        measure,
        version=measure.version,
        exit_on=date(2025, 6, 30),
        reason="fin_de_mesure",
        housing_situation="maintenu",
        is_lease_glissed=False,
        handover=None,
        today=TODAY,
    )
    check = exit_.checks[0]
    services.record_post_exit_check(
        worker,
        check,
        version=check.version,
        done_on=date(2026, 1, 5),
        is_still_housed=True,
        is_rent_up_to_date=False,
        comment="Retard de deux mois",
        today=TODAY,
    )
    assert (check.is_still_housed, check.is_rent_up_to_date) == (True, False)
    [entry] = audited("post_exit_check.recorded")
    assert entry.details == {"months": 6}
