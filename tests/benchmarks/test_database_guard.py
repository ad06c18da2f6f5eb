"""The benchmark scripts refuse a database that could be a real one (benchmarks/guard.py):
the ones that build a dataset (bench_import, national generate) want it empty and named for
benchmarks, the ones that write into a dataset (bench_pages, load_test) want it named for
benchmarks — each refusal says why, exits with status 2 and leaves the database as it was,
unless the explicit flag is given.

Databases come from tests/benchmarks/conftest.py (SQLite files, or PostgreSQL databases)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from benchmarks import guard, national
from tests.benchmarks.conftest import FAST_HASH, SCALE, generate

ROOT = Path(__file__).resolve().parents[2]


def script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip


def with_real_looking_data(url: str) -> str:
    """A table with a row in it, as in someone's real database."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE precious (id INTEGER PRIMARY KEY, label VARCHAR(40))"))
        conn.execute(text("INSERT INTO precious (id, label) VALUES (1, 'à garder')"))
    engine.dispose()
    return url


def precious_rows(url: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        if "precious" not in inspect(conn).get_table_names():
            return []
        rows = [tuple(row) for row in conn.execute(text("SELECT id, label FROM precious"))]
    engine.dispose()
    return rows


def tables(url: str) -> list[str]:
    return guard.table_names(url)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        # The names docs/performance.md and the tests use.
        ("postgresql+psycopg://postgres@127.0.0.1:5432/ancrage_national", True),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/ancrage_load", True),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/ancrage_bench", True),
        ("sqlite:////work/national/national.db", True),
        ("sqlite:////tmp/ancrage-bench-x/bench.sqlite3", True),
        ("sqlite://", True),
        # What a real deployment is called.
        ("postgresql+psycopg://ancrage:secret@db.example.org/ancrage", False),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", False),
        ("sqlite:////srv/ancrage/instance/ancrage.sqlite3", False),
        # The folder does not count, only the database's own name.
        ("sqlite:////tmp/benchmarks/ancrage.sqlite3", False),
    ],
)
def test_benchmark_names(url, named):
    assert guard.is_named_for_benchmarks(url) is named


def test_bench_import_refuses_a_database_with_tables(new_database):
    url = with_real_looking_data(new_database("bench"))
    run = script("benchmarks/bench_import.py", "--rows", "50", "--database-url", url)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "refused" in run.stderr and "not empty" in run.stderr
    assert guard.EMPTIED_FLAG in run.stderr
    assert tables(url) == ["precious"] and precious_rows(url) == [(1, "à garder")]


def test_bench_import_refuses_an_empty_database_not_named_for_benchmarks(new_database):
    url = new_database("production")
    run = script("benchmarks/bench_import.py", "--rows", "50", "--database-url", url)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "does not contain 'bench', 'national' or 'load'" in run.stderr
    assert repr(guard.database_name(url)) in run.stderr
    assert tables(url) == []


def test_bench_import_runs_on_an_empty_benchmark_database(new_database):
    url = new_database("bench")
    run = script("benchmarks/bench_import.py", "--rows", "50", "--database-url", url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "50 créées" in run.stdout and "50 mises à jour" in run.stdout
    # Run again on what it left: no longer empty, so refused.
    again = script("benchmarks/bench_import.py", "--rows", "50", "--database-url", url)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_bench_import_empties_any_database_when_told(new_database):
    url = with_real_looking_data(new_database("production"))
    run = script(
        "benchmarks/bench_import.py", "--rows", "50", "--database-url", url, guard.EMPTIED_FLAG
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "precious" not in tables(url) and "rent_account_snapshot" in tables(url)


def test_national_refuses_a_database_not_named_for_benchmarks(new_database, tmp_path):
    url = new_database("production")
    code = national.main(
        ["generate", "--database-url", url, "--scale", str(SCALE), "--quiet",
         "--manifest", str(tmp_path / "manifest.json")]
    )  # fmt: skip
    assert code == 2
    assert tables(url) == [] and not (tmp_path / "manifest.json").exists()


def test_national_cli_refuses_a_dataset_and_leaves_it_alone(dataset, capsys):
    url, manifest = dataset
    before = tables(url)
    code = national.main(["generate", "--database-url", url, "--scale", str(SCALE), "--quiet"])
    assert code == 2
    error = capsys.readouterr().err
    assert "not empty" in error and guard.EMPTIED_FLAG in error
    assert tables(url) == before
    engine = create_engine(url)
    with engine.connect() as conn:
        households = conn.execute(text("SELECT count(*) FROM household")).scalar()
    engine.dispose()
    assert households == manifest["row_counts"]["household"]


def test_national_empties_any_database_when_told(new_database, tmp_path_factory):
    url = with_real_looking_data(new_database("production"))
    with pytest.raises(national.NotEmptyError, match="does not contain"):
        generate(url, tmp_path_factory)
    assert precious_rows(url) == [(1, "à garder")]
    manifest = national.run(
        url, scale=SCALE, seed=2026, quiet=True, allow_any_database=True,
        manifest=tmp_path_factory.mktemp("manifest") / "manifest.json",
        app_config=FAST_HASH,
    )  # fmt: skip
    assert "precious" not in tables(url)
    assert manifest["row_counts"]["household"] == round(100_000 * SCALE)


def not_named(url_of_backend: str) -> str:
    """A URL on the suite's backend naming a database that is not for benchmarks (it need
    not exist: the scripts refuse it before connecting)."""
    parsed = make_url(url_of_backend)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{Path(parsed.database).parent / 'ancrage.sqlite3'}"
    return parsed.set(database="ancrage").render_as_string(hide_password=False)


@pytest.mark.parametrize(
    ("module", "options"),
    [("benchmarks.bench_pages", ["--demo"]), ("benchmarks.load_test", ["--duration", "1"])],
)
def test_scripts_that_write_refuse_a_database_not_named_for_benchmarks(
    module, options, new_database
):
    url = not_named(new_database("bench"))
    run = script("-m", module, "--database-url", url, *options)
    assert run.returncode == 2, run.stdout[-1000:] + run.stderr[-1000:]
    assert "refused" in run.stderr and "writes into it" in run.stderr
    assert guard.WRITTEN_FLAG in run.stderr
    if url.startswith("sqlite"):
        assert not Path(make_url(url).database).exists()  # not even opened
