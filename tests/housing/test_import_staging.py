"""An uploaded extract waits RENT_IMPORT_STAGED_HOURS for its "Importer"; the hourly job
``housing.staged_imports`` then removes it, even if nobody uploads another file, and its
run is kept in ``job_run`` like every job's."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from app.db import db
from app.scheduler import JobRun, job_by_id, run_job
from tests.factories import rent_account_csv
from tests.housing.import_steps import preview_url, upload
from tests.housing.test_import import leases  # noqa: F401 (fixture)


def _age(folder: Path, digest: str, hours: float) -> None:
    (path,) = folder.glob(f"*-{digest}.extrait")
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_the_hourly_job_removes_extracts_left_unimported(app, client, leases):  # noqa: F811
    app.config["RENT_IMPORT_STAGED_HOURS"] = 2
    client.login(leases["staff"])
    forgotten = preview_url(upload(client, rent_account_csv("B-001;2026-10;100;400;;;")))
    recent = preview_url(upload(client, rent_account_csv("B-002;2026-10;100;400;;;")))
    folder = Path(app.config["RENT_IMPORT_STAGING_DIR"])
    _age(folder, forgotten.rsplit("/", 1)[1], hours=3)
    _age(folder, recent.rsplit("/", 1)[1], hours=1)
    (folder / "7-interrupted.1234.part").write_bytes(b"half a file")
    _age_part = time.time() - 5 * 3600
    os.utime(folder / "7-interrupted.1234.part", (_age_part, _age_part))

    job = job_by_id("housing.staged_imports")
    assert run_job(job, datetime.now(UTC)) is True

    assert client.get(forgotten).status_code == 404
    assert client.get(recent).status_code == 200
    assert sorted(path.suffix for path in folder.iterdir()) == [".extrait"]
    run = db.session.scalars(select(JobRun).where(JobRun.job_id == job.id)).one()
    assert run.summary == {"removed": 2, "hours": 2}
    assert run.finished_at is not None


def test_the_job_is_hourly_and_a_slot_runs_once(app):
    job = job_by_id("housing.staged_imports")
    assert job.cron == {"minute": 45} and job.enabled(app.config)
    now = datetime(2026, 3, 10, 8, 45, tzinfo=UTC)
    assert run_job(job, now) is True
    assert run_job(job, now) is False
    assert db.session.scalars(select(JobRun.summary)).one()["removed"] == 0
