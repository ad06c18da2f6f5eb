"""Migrations build the whole schema from nothing, on this run's database engine, and the
models and the migrations agree (autogenerate finds nothing to add)."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.db import db, include_migration_object, render_migration_item
from tests.conftest import BASE_CONFIG, IS_POSTGRES, TEST_DATABASE_URL, _normalise


@pytest.fixture
def empty_database_url(tmp_path):
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    base = _normalise(TEST_DATABASE_URL)
    name = f"ancrage_migr_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_to_head_matches_the_models(empty_database_url):
    app = create_app({**BASE_CONFIG, "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_item": render_migration_item,
                    "include_object": include_migration_object,
                },
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations differ: {differences}"
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "user",
            "organisation",
            "project",
            "audit_entry",
            "household",
            "occupancy",
            "support_measure",
            "intervention",
            "reminder",
            "job_run",
        } <= tables
        # The migrated journal is append-only, as the models' create_all makes it.
        with db.engine.connect() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_entry (at, action, outcome) "
                    "VALUES (CURRENT_TIMESTAMP, 'test.insert', 'success')"
                )
            )
            conn.commit()
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text("UPDATE audit_entry SET action = 'changed'"))
            conn.rollback()
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text("DELETE FROM audit_entry"))
            conn.rollback()
        if IS_POSTGRES:  # the searches' LIKE '%term%' use trigram indexes there
            trigram = {
                index["name"]
                for table in ("household", "household_member", "dwelling")
                for index in inspect(db.engine).get_indexes(table)
                if index["name"].startswith("ix_trgm_")
            }
            assert trigram == {
                "ix_trgm_household_member_search_name",
                "ix_trgm_household_search_address",
                "ix_trgm_household_reference",
                "ix_trgm_dwelling_search_address",
            }
        db.engine.dispose()


def test_every_migration_downgrades_to_empty(empty_database_url):
    app = create_app({**BASE_CONFIG, "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def _insert(conn, table_name: str, /, **values) -> int:
    """A row of ``table_name`` as the database stands now (reflected): required columns not given
    get a plain value of their type."""
    from datetime import date, datetime
    from decimal import Decimal

    from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, Numeric, Table

    table = Table(table_name, MetaData(), autoload_with=conn)
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        kind = column.type
        values[column.name] = (
            False
            if isinstance(kind, Boolean)
            else datetime(2026, 1, 5, 9, 0)
            if isinstance(kind, DateTime)
            else date(2026, 1, 5)
            if isinstance(kind, Date)
            else Decimal("1")
            if isinstance(kind, Numeric) and not isinstance(kind, Integer)
            else 1
            if isinstance(kind, Integer)
            else f"{column.name}-{len(values)}"[: getattr(kind, "length", None)]
        )
    return conn.execute(table.insert().values(**values)).inserted_primary_key[0]


def test_setting_owners_migration_keeps_measures_and_finds_partner_owners(empty_database_url):
    """d4a8e2f6b1c3 on data: each project gets every level, measures and intensity changes
    point to their own project's copy (same rhythm), partner entries get their creator's
    organisation (else their last editor's); downgrading gives back global levels."""
    from datetime import date

    app = create_app({**BASE_CONFIG, "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade(revision="c7e9a1b3d5f2")
        with db.engine.begin() as conn:
            landlord = _insert(conn, "organisation", name="Bailleur", kind="bailleur")
            first_org = _insert(conn, "organisation", name="Trait d'Union", kind="association")
            second_org = _insert(conn, "organisation", name="Passerelle", kind="association")
            creator = _insert(conn, "user", email="a@x.fr", organisation_id=first_org)
            editor = _insert(conn, "user", email="b@x.fr", organisation_id=second_org)
            projects = [
                _insert(conn, "project", name=name, lead_landlord_id=landlord)
                for name in ("Projet A", "Projet B", "Projet C")
            ]
            strong = _insert(
                conn, "intensity_level", name="Renforcée", contact_every_days=7, is_active=True
            )
            light = _insert(
                conn, "intensity_level", name="Modérée", contact_every_days=30, is_active=True
            )
            measures = {}
            for project, level in ((projects[0], strong), (projects[1], light)):
                household = _insert(conn, "household", reference=f"M-{project}", project_id=project)
                measures[project] = _insert(
                    conn,
                    "support_measure",
                    household_id=household,
                    type="asll",
                    status="en_cours",
                    intensity_level_id=level,
                    start_on=date(2025, 1, 1),
                    planned_end_on=date(2026, 1, 1),
                )
            _insert(
                conn,
                "support_intensity_change",
                measure_id=measures[projects[1]],
                from_level_id=strong,
                to_level_id=light,
            )
            created = _insert(conn, "partner", name="CMP", domain="sante", updated_by_id=editor)
            _insert(
                conn,
                "audit_entry",
                action="partner.created",
                outcome="success",
                actor_id=creator,
                target_type="partner",
                target_id=created,
            )
            edited = _insert(conn, "partner", name="CCAS", domain="droits", updated_by_id=editor)
            unknown = _insert(conn, "partner", name="SIAE", domain="emploi")
        upgrade()
        with db.engine.connect() as conn:
            levels = {
                (project, name): (id_, days)
                for id_, project, name, days in conn.execute(
                    text("SELECT id, project_id, name, contact_every_days FROM intensity_level")
                )
            }
            assert set(levels) == {(p, n) for p in projects for n in ("Renforcée", "Modérée")}
            assert levels[(projects[0], "Renforcée")] == (strong, 7)  # the original, kept
            measure_levels = dict(
                conn.execute(text("SELECT id, intensity_level_id FROM support_measure")).all()
            )
            assert measure_levels == {
                measures[projects[0]]: strong,
                measures[projects[1]]: levels[(projects[1], "Modérée")][0],
            }
            assert conn.execute(
                text("SELECT from_level_id, to_level_id FROM support_intensity_change")
            ).one() == (
                levels[(projects[1], "Renforcée")][0],
                levels[(projects[1], "Modérée")][0],
            )
            owners = dict(conn.execute(text("SELECT id, owner_organisation_id FROM partner")).all())
            assert owners == {created: first_org, edited: second_org, unknown: None}
        downgrade(revision="c7e9a1b3d5f2")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT support_measure.id, intensity_level.name FROM support_measure JOIN "
                    "intensity_level ON intensity_level.id = support_measure.intensity_level_id"
                )
            ).all()
            assert dict(rows) == {
                measures[projects[0]]: "Renforcée",
                measures[projects[1]]: "Modérée",
            }
            assert conn.execute(text("SELECT COUNT(*) FROM intensity_level")).scalar() == 2
        db.engine.dispose()
