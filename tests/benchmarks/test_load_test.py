"""The load test (benchmarks/load_test.py): the role mix adds up and picks real accounts of
each role (reused evenly, and said so, when the dataset has too few), two logins of one TOTP
account never send the same step's code, the verdict names what the measures say limits
throughput, and a tiny run through the real server ends with the per-page table and a
verdict. Also benchmarks/machine.py, which the load test prints."""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import create_engine, text

from benchmarks import load_test, machine
from benchmarks.load_test import Limits, parse_mix, role_counts, verdict

ROOT = Path(__file__).resolve().parents[2]


# --- the mix ------------------------------------------------------------------------------------


def test_the_mix_splits_the_users_and_the_counts_add_up():
    mix = parse_mix("70:20:10")
    assert role_counts(200, mix) == {"worker": 140, "landlord": 40, "coordinator": 20}
    assert role_counts(50, mix) == {"worker": 35, "landlord": 10, "coordinator": 5}
    for users in (1, 7, 13, 199):
        assert sum(role_counts(users, mix).values()) == users
    assert role_counts(7, mix) == {"worker": 5, "landlord": 1, "coordinator": 1}
    assert role_counts(10, parse_mix("80:20:0"))["coordinator"] == 0


@pytest.mark.parametrize("bad", ["70:30", "70:20:x", "0:0:0", "-1:1:1"])
def test_a_mix_that_is_not_three_weights_is_refused(bad):
    with pytest.raises(argparse.ArgumentTypeError, match=r"three whole numbers|at least one"):
        parse_mix(bad)


def roles_of(url: str) -> tuple[dict[str, set[str]], dict[str, set[int]]]:
    """Each active user's roles, and each référent's households (by e-mail)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                'SELECT u.email, r.role FROM "user" u JOIN user_role r ON r.user_id = u.id '
                "WHERE u.is_active"
            )
        ).all()
        referents = _group(
            conn.execute(
                text(
                    'SELECT u.email, h.id FROM household h JOIN "user" u ON u.id = '
                    "h.referent_id WHERE h.anonymised_at IS NULL"
                )
            ).all()
        )
    engine.dispose()
    return _group(rows), referents


def _group(rows) -> dict:
    grouped: dict = {}
    for key, value in rows:
        grouped.setdefault(key, set()).add(value)
    return grouped


def test_accounts_are_real_users_of_their_role_reused_evenly_when_too_few(dataset):
    url, _manifest = dataset
    roles, referents = roles_of(url)
    available = Counter(role for email_roles in roles.values() for role in email_roles)
    wanted = {"worker": 60, "landlord": 20, "coordinator": 10}
    assert available["personnel_bailleur"] < 20  # the tiny dataset has too few: reuse

    accounts, distinct = load_test.pick_accounts(url, wanted)

    assert Counter(a.role for a in accounts) == Counter(wanted)
    for account in accounts:
        assert load_test.DB_ROLES[account.role] in roles[account.email]
        if account.role == "worker":  # their own households, to open and to search
            assert account.households and set(account.households) <= referents[account.email]
    for role, n in wanted.items():
        uses = Counter(a.email for a in accounts if a.role == role)
        assert len(uses) == distinct[role] == min(n, _usable(role, roles, referents))
        assert max(uses.values()) - min(uses.values()) <= 1  # as evenly as possible
    notes = load_test.reuse_notes(wanted, distinct)
    assert any(
        n.startswith(
            f"landlord staff: 20 simulated users on the dataset's {distinct['landlord']} accounts"
        )
        for n in notes
    )
    assert all(str(wanted[r]) in " ".join(notes) for r in wanted if wanted[r] > distinct[r])

    enough, distinct = load_test.pick_accounts(url, {"worker": 2, "landlord": 1, "coordinator": 1})
    assert len({a.email for a in enough}) == 4  # each a different account
    assert load_test.reuse_notes({"worker": 2, "landlord": 1, "coordinator": 1}, distinct) == []


def _usable(role, roles, referents) -> int:
    db_role = load_test.DB_ROLES[role]
    return sum(
        1
        for email, email_roles in roles.items()
        if db_role in email_roles and (role != "worker" or email in referents)
    )


def test_two_logins_of_one_totp_account_use_successive_steps():
    secret = pyotp.random_base32()
    codes = load_test.TotpCodes(secret)
    totp = pyotp.TOTP(secret)
    now = time.time()
    if now % 30 > 27:  # the steps must not change between the two calls
        time.sleep(30 - now % 30 + 0.1)
    first = codes.next_code("coordination@example.fr")
    second = codes.next_code("coordination@example.fr")
    other = codes.next_code("autre@example.fr")
    current = totp.timecode(load_test.datetime.now(load_test.UTC))
    assert first == totp.generate_otp(current) == other
    assert second == totp.generate_otp(current + 1) != first  # accepted one step early


# --- the verdict --------------------------------------------------------------------------------


def limits(**changes) -> Limits:
    figures = dict(backend="postgresql", cpus=2, workers=2, threads=4, samples=60,
                   cpu_busy=40.0, cpu_gunicorn=25.0, cpu_postgres=10.0, cpu_client=4.0,
                   worker_core=25.0, in_flight=2.0, pg_waits={"CPU": 1.0},
                   pg_connections_max=8, pg_max_connections=100, requests=5000)  # fmt: skip
    return Limits(**{**figures, **changes})


def test_the_verdict_names_what_the_measures_show():
    assert verdict(limits()).startswith("aucune saturation (CPU 40 % en moyenne")
    assert "temps de réflexion" in verdict(limits())

    cpu = verdict(limits(cpu_busy=97.6, cpu_gunicorn=70.0, cpu_postgres=20.0, cpu_client=6.0))
    assert cpu.startswith("CPU saturée (98 % en moyenne des 2 cœurs, dont serveur 90 %")
    assert cpu.endswith("le débit est limité par le processeur")
    assert "client de test 6 %, autres 2 %" in cpu

    locks = verdict(limits(cpu_busy=97.0, pg_waits={"Lock": 1.5, "CPU": 2.0}))
    assert locks.startswith("attentes de verrous PostgreSQL : 1.5 connexions")

    sqlite = limits(backend="sqlite", cpu_postgres=None, workers=1, busy_503=25, requests=1000)
    assert verdict(sqlite).startswith("verrou d'écriture SQLite : 25 réponses 503")
    assert "2.5 % des requêtes" in verdict(sqlite)

    one_core = verdict(limits(backend="sqlite", workers=1, worker_core=96.0, cpu_busy=55.0))
    assert one_core.startswith("workers gunicorn saturés : le worker utilise 96 % d'un cœur")

    threads = verdict(limits(in_flight=9.5))
    assert threads.startswith("fils gunicorn tous occupés : 9.5 requêtes en cours")
    assert "8 fils (2 × 4)" in threads

    busy_machine = verdict(limits(cpu_busy=90.0))  # 51 % taken by processes outside the test
    assert busy_machine.startswith("CPU saturée (90 % en moyenne")
    assert busy_machine.endswith(
        "(mesure perturbée : d'autres processus ont pris 51 % de la machine)"
    )
    assert "perturbée" not in verdict(limits())

    connections = verdict(limits(pg_connections_max=95))
    assert connections.startswith("connexions PostgreSQL : 95 ouvertes sur 100")


def test_cpu_figures_come_from_proc():
    busy, total = load_test.read_cpu_ticks("cpu  100 5 50 800 20 3 2 10 0 0\ncpu0 1 2 3 4\n")
    assert (busy, total) == (170, 990)  # idle 800 and iowait 20 are not busy

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in load_test.descendants(os.getpid())
        assert load_test.descendants(child.pid) == [child.pid]
    finally:
        child.kill()
        child.wait()
    assert load_test.process_ticks(child.pid) is None  # gone
    before = load_test.process_ticks(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert load_test.process_ticks(os.getpid()) > before


# --- a tiny run through the real server ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_tiny_run_measures_every_page_and_gives_a_verdict(dataset_files):
    url, _manifest, manifest_path = dataset_files
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.load_test", "--database-url", url,
         "--manifest", str(manifest_path), "--users", "10", "--warm-up", "1",
         "--duration", "4", "--login-interval", "0", "--think", "0:0.3",
         "--port", str(free_port()), "--workers", "1", "--threads", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, out[-3000:] + run.stderr[-3000:]
    assert "10 logged in of 10 (7 social workers" in out
    assert re.search(r"errors: 0\n", out), out
    row = re.search(r"\| \*\*all pages\*\* \| ([\d,]+) \| 0 \| (\d+) \| (\d+) \| (\d+) \|", out)
    assert row and int(row[1].replace(",", "")) > 10, out
    assert "| `GET /menages/<n>` |" in out and "| `POST /menages/` |" in out
    assert re.search(r"load average [\d.]+ [\d.]+ [\d.]+, \d+ CPU, calibration \d+ ms", out)
    assert re.search(r"CPU, % of the machine's \d+ cores: busy \d+ % mean", out)
    assert "- **verdict: " in out
    if url.startswith("sqlite"):
        assert "503 « très sollicité » answers" in out
    else:
        assert "PostgreSQL, the app's connections (mean by state)" in out


# --- benchmarks/machine.py ----------------------------------------------------------------------


def test_the_calibration_workload_never_changes():
    # Runs are compared by this figure across days: the work timed must stay the same.
    assert machine.calibration_workload() == (
        "fd8d9bb43cba8cbef3d8b0d7ccdfaad2d7056418bbd83e20d24dac035ad0ed20"
    )


def test_the_machine_is_described_in_one_line():
    assert re.fullmatch(r"\d+\.\d\d \d+\.\d\d \d+\.\d\d", machine.load_average_text())
    line = machine.describe_machine()
    assert re.fullmatch(
        rf"load average \d+\.\d\d \d+\.\d\d \d+\.\d\d, {os.cpu_count()} CPU, calibration \d+ ms",
        line,
    ), line
    assert 1 < machine.cpu_calibration_ms(runs=3) < 60_000
