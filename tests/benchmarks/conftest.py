"""Datasets of the national generator at a tiny scale, shared by the benchmark tests.

On PostgreSQL each dataset gets its own database, created and dropped here."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks import national
from tests.conftest import BASE_CONFIG, IS_POSTGRES, TEST_DATABASE_URL, _normalise

SCALE = 0.002
# Hash the shared password cheaply in tests (argon2id still; the hash carries its cost).
FAST_HASH = {k: BASE_CONFIG[k] for k in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST",
                                         "ARGON2_PARALLELISM")}  # fmt: skip


@pytest.fixture(scope="module")
def new_database(tmp_path_factory):
    """A factory of empty databases (SQLite files, or PostgreSQL databases dropped at the end),
    named ``national`` unless told otherwise."""
    created: list[str] = []
    admin = None
    if IS_POSTGRES:
        base = _normalise(TEST_DATABASE_URL)
        admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")

    def make(kind: str = "national") -> str:
        """``kind`` is in the name (benchmarks/guard.py wants bench, national or load)."""
        if not IS_POSTGRES:
            return f"sqlite:///{tmp_path_factory.mktemp(kind) / f'{kind}.sqlite3'}"
        name = f"ancrage_{kind}_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(base).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def generate(url: str, tmp_path_factory, seed: int = 2026, manifest=None) -> dict:
    manifest = manifest or tmp_path_factory.mktemp("manifest") / "manifest.json"
    return national.run(
        url, scale=SCALE, seed=seed, manifest=manifest, quiet=True, app_config=FAST_HASH
    )


@pytest.fixture(scope="module")
def dataset_files(new_database, tmp_path_factory):
    """(database URL, manifest, manifest file) of a freshly generated tiny dataset."""
    url = new_database()
    path = tmp_path_factory.mktemp("manifest") / "manifest.json"
    return url, generate(url, tmp_path_factory, manifest=path), path


@pytest.fixture(scope="module")
def dataset(dataset_files):
    url, manifest, _path = dataset_files
    return url, manifest
