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
