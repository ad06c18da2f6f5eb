"""The upload benchmark (benchmarks/bench_documents.py) still runs: a tiny run — three
uploads of 100 KB through a real gunicorn — stores every file and prints its figures (no
timing is asserted); and like the other scripts that fill a database, it refuses one that
is not named for benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks import guard

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_documents", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip


def test_a_tiny_run_stores_every_upload(new_database):
    url = new_database("bench")
    run = bench("--database-url", url, "--uploads", "3", "--size-kb", "100", "--baseline", "3",
                "--workers", "2", "--threads", "2")  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "3 done, 0 failed" in run.stdout
    assert "stored afterwards: 3 document rows, 3 files" in run.stdout
    for figure in ("household file alone", "during the uploads", "load average"):
        assert figure in run.stdout


def test_it_refuses_a_database_not_named_for_benchmarks(new_database):
    url = new_database("production")
    run = bench("--database-url", url, "--uploads", "1", "--size-kb", "1")
    assert run.returncode == 2, run.stdout[-1000:] + run.stderr[-1000:]
    assert "does not contain 'bench', 'national' or 'load'" in run.stderr
    assert guard.EMPTIED_FLAG in run.stderr
    assert guard.table_names(url) == []
