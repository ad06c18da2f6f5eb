"""The retention job: closed files past the period are anonymised once; others untouched."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import db
from app.households.models import Household, Member
from app.permissions import Role
from app.retention.services import (
    DECLARED,
    anonymisation_date,
    cleared_columns,
    household_rows,
    run_retention,
)
from app.scheduler import JOBS, JobRun, job_by_id, run_job
from app.support.models import Measure, MeasureExit
from tests.factories import make_user
from tests.retention.helpers import EXIT_ON, build_file

# The +12-month check of an exit on 2023-06-30 is due 2024-06-30: the end of support; two
# years later is 2026-06-30.
AFTER = datetime(2026, 7, 2, 1, 0, tzinfo=UTC)
BEFORE = datetime(2026, 6, 28, 1, 0, tzinfo=UTC)


def _values(household_id):
    return {
        (d.model.__tablename__, row.id, c.key): getattr(row, c.key)
        for d in DECLARED
        for row in household_rows(d, household_id)
        for c in cleared_columns(d)
    }


def _all_values(household_id):
    return {
        (d.model.__tablename__, row.id, c.key): getattr(row, c.key)
        for d in DECLARED
        for row in household_rows(d, household_id)
        for c in d.model.__table__.columns
    }


def test_the_job_is_registered_daily():
    job = job_by_id("retention.anonymise")
    assert job in JOBS
    assert job.cron == {"hour": 2, "minute": 30}
    assert job.function()  # importable


def test_closed_file_past_the_period_is_anonymised_once(app):
    household, markers = build_file()
    db.session.commit()
    assert anonymisation_date(household) == date(2026, 6, 30)
    before = _values(household.id)
    assert set(before.values()) == set(markers)

    summary = run_retention(AFTER)
    db.session.commit()
    assert summary == {"anonymised": 1, "household_ids": [household.id]}
    db.session.expire_all()
    household = db.session.get(Household, household.id)
    assert household.anonymised_at == AFTER
    after = _values(household.id)
    leftover = [key for key, value in after.items() if value and "MK" in str(value)]
    assert leftover == []
    names = {(m.first_name, m.last_name) for m in household.members}
    assert names == {("Anonyme", "")}
    assert sorted(m.birth_on for m in household.members) == [date(1985, 1, 1), date(2012, 1, 1)]
    # kept: dates, categories, amounts, stages
    assert household.stage == "suivi_post_sortie"
    assert household.monthly_income_cents == 95_000
    assert household.debts_cents == 120_000
    exit_ = db.session.scalars(
        select(MeasureExit).where(MeasureExit.household_id == household.id)
    ).one()
    assert (exit_.exit_on, exit_.reason, exit_.housing_situation) == (
        EXIT_ON,
        "fin_de_mesure",
        "maintenu",
    )
    measure = db.session.scalars(select(Measure).where(Measure.household_id == household.id)).one()
    assert (measure.start_on, measure.closed_on, measure.type) == (
        date(2022, 3, 1),
        EXIT_ON,
        "hlm_accompagnes",
    )
    audits = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.anonymised")
    ).all()
    assert len(audits) == 1
    assert audits[0].details["household_ids"] == [household.id]
    assert not any(marker in str(audits[0].details) for marker in markers)

    # A second run (another day) changes nothing and records nothing.
    snapshot = _all_values(household.id)
    assert run_retention(datetime(2026, 7, 3, 1, 0, tzinfo=UTC)) == {
        "anonymised": 0,
        "household_ids": [],
    }
    db.session.commit()
    db.session.expire_all()
    assert _all_values(household.id) == snapshot
    count = select(func.count()).where(AuditEntry.action == "retention.anonymised")
    assert db.session.scalar(count) == 1


def test_open_and_recently_closed_files_are_untouched(app):
    open_file, _ = build_file(closed=False)
    recent, _ = build_file(exit_on=date(2025, 6, 30))
    db.session.commit()
    before = {h.id: _all_values(h.id) for h in (open_file, recent)}

    assert run_retention(AFTER)["anonymised"] == 0
    # Even far in the future, an open file is never touched.
    assert run_retention(datetime(2040, 1, 1, tzinfo=UTC))["household_ids"] == [recent.id]
    db.session.commit()
    db.session.expire_all()
    assert _all_values(open_file.id) == before[open_file.id]
    assert db.session.get(Household, open_file.id).anonymised_at is None
    assert db.session.get(Household, recent.id).anonymised_at is not None


def test_just_before_the_date_nothing_happens(app):
    household, _ = build_file()
    db.session.commit()
    assert run_retention(BEFORE)["anonymised"] == 0
    db.session.commit()
    assert db.session.get(Household, household.id).anonymised_at is None


def test_retention_years_is_configurable(app):
    household, _ = build_file()
    db.session.commit()
    app.config["RETENTION_YEARS"] = 3
    assert anonymisation_date(household) == date(2027, 6, 30)
    assert run_retention(AFTER)["anonymised"] == 0


def test_the_anonymised_household_keeps_its_records(app):
    """Members, measures, exits and amounts stay (what the indicators count)."""
    household, _ = build_file()
    db.session.commit()
    run_retention(AFTER)
    db.session.commit()
    members = select(func.count(Member.id)).where(Member.household_id == household.id)
    exits = select(func.count(MeasureExit.id)).where(MeasureExit.household_id == household.id)
    assert (db.session.scalar(members), db.session.scalar(exits)) == (2, 1)


def test_indicators_still_count_the_anonymised_household(app):
    from app.reports.indicators import Period, indicators

    household, _ = build_file()
    coordinator = make_user(Role.COORDINATEUR, projects=[household.project])
    db.session.commit()
    period = Period(date(2022, 1, 1), date(2023, 12, 31))
    before = indicators(coordinator, [household.project_id], period).values()
    assert any(before.values())
    run_retention(AFTER)
    db.session.commit()
    assert indicators(coordinator, [household.project_id], period).values() == before


def test_the_job_run_is_recorded_once_per_slot(app):
    household, _ = build_file()
    db.session.commit()
    job = job_by_id("retention.anonymise")
    assert run_job(job, AFTER) is True
    assert run_job(job, AFTER.replace(hour=3)) is False  # same Paris day
    runs = db.session.scalars(select(JobRun).where(JobRun.job_id == job.id)).all()
    assert [(r.slot, r.summary["anonymised"]) for r in runs] == [("2026-07-02", 1)]
    assert db.session.get(Household, household.id).anonymised_at is not None


def test_cli_runs_the_job(app):
    household, _ = build_file()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["retention", "run", "--now", "2026-07-02T03:00:00"])
    assert result.exit_code == 0, result.output
    assert "Terminé : 1 dossier(s) clos anonymisé(s)." in result.output
    again = app.test_cli_runner().invoke(args=["retention", "run", "--now", "2026-07-02T04:00:00"])
    assert "Déjà exécuté" in again.output
    db.session.expire_all()
    assert db.session.get(Household, household.id).anonymised_at is not None


def test_every_text_column_of_household_data_is_declared():
    """A new Text column on a household-linked model must be cleared by the retention job:
    every model with a household_id (or a declared parent) is in DECLARED."""
    declared = {d.model.__table__.name for d in DECLARED}
    linked = {
        table.name
        for table in db.metadata.tables.values()
        if any(
            fk.column.table.name in declared | {"household"}
            for col in table.columns
            for fk in col.foreign_keys
            if col.name != "id"
        )
        # tenancy_figures: the dashboard's amounts and stage code derived from declared
        # tables (rent accounts, procedure stages, plans), no text, rewritten from them.
        and table.name not in {"audit_entry", "household_access", "tenancy_figures"}
    }
    missing = sorted(linked - declared)
    assert missing == [], missing
