"""The page benchmark (benchmarks/bench_pages.py) runs end to end on a tiny national dataset:
every key page answers, is timed and counted, the import and the sweep are measured — and
the dataset is left exactly as it was (both run in a transaction rolled back)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    "Dossier ménage (typique)",
    "Dossier ménage (long)",
    "Liste des ménages + recherche nom (TS)",
    "Liste des ménages + recherche nom (coord.)",
    "Pilotage : charges (caseloads)",
    "Tableau de bord bailleur",
    "Rappels (boîte)",
    "Indicateurs (année en cours, chiffres en cache)",
    "Indicateurs : recalcul (« Recalculer maintenant »)",
)


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        result = {
            table: conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
            for table in ("rent_account_snapshot", "reminder", "tenancy_figures", "intervention")
        }
    engine.dispose()
    return result


def test_the_benchmark_measures_every_key_page_and_leaves_the_data_alone(dataset_files, tmp_path):
    url, _manifest, manifest_path = dataset_files
    before = counts(url)
    output = tmp_path / "results.md"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_pages", "--database-url", url,
         "--manifest", str(manifest_path), "--repeat", "2", "--warmup", "1",
         "--import-rows", "500", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    table = output.read_text()
    for name in PAGES:
        row = next((line for line in table.splitlines() if line.startswith(f"| {name} |")), None)
        assert row, f"{name} missing from the results:\n{table}"
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        p50, p95, queries = float(cells[3]), float(cells[4]), int(cells[5])
        assert 0 < p50 <= p95 and 0 < queries < 60, row
    assert re.search(r"Arrears import: [\d,]+ rows", table), table
    assert re.search(r"Reminder sweep: [\d.]+ s", table), table
    assert counts(url) == before
