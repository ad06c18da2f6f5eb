"""The national benchmark dataset generator (benchmarks/national.py) at a tiny scale: counts
follow the scale, the same seed gives the same rows, a non-empty database is refused, and
the key pages answer 200 for the manifest's users (password, then TOTP with the manifest's
secret for coordinators and administrators).

Datasets come from tests/benchmarks/conftest.py."""

from __future__ import annotations

import hashlib
from datetime import date

import pyotp
import pytest
from sqlalchemy import create_engine, select, text

from app import create_app
from app.db import db
from benchmarks import national
from tests.benchmarks.conftest import SCALE, generate
from tests.conftest import BASE_CONFIG, CsrfClient

CHECKED_TABLES = (
    "household",
    "household_member",
    "intervention",
    "occupancy",
    "rent_account_snapshot",
    "support_measure",
    "reminder",
    "audit_entry",
    "appointment",
    "project_budget_line",
    "household_aid",
)


def checksum(url: str) -> str:
    digest = hashlib.sha256()
    engine = create_engine(url)
    with engine.connect() as conn:
        for table in CHECKED_TABLES:
            for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY id')):
                digest.update(repr(tuple(row)).encode())
    engine.dispose()
    return digest.hexdigest()


def test_row_counts_follow_the_scale(dataset):
    _, manifest = dataset
    counts = manifest["row_counts"]
    expected = national.counts_for(SCALE)
    assert counts["household"] == round(100_000 * SCALE) == expected["households"]
    assert counts["intervention"] == round(2_000_000 * SCALE)
    assert counts["rent_account_snapshot"] == round(1_200_000 * SCALE)
    assert counts["project"] == expected["projects"]
    assert counts["user"] == expected["users"]
    # Every household has its orientation and a head of household; leases: one per dwelling.
    assert counts["orientation"] == counts["household"]
    assert counts["household_member"] >= counts["household"]
    assert counts["occupancy"] == counts["dwelling"]
    assert counts["reminder"] > 0 and counts["audit_entry"] > counts["household"]


def test_full_scale_targets():
    counts = national.counts_for(1.0)
    assert counts["projects"] == 200
    assert counts["users"] == 3_000
    assert counts["households"] == 100_000
    assert counts["interventions"] == 2_000_000
    assert counts["snapshots"] == 1_200_000
    assert 0.75 <= counts["social_workers"] / counts["users"] <= 0.85


def test_same_seed_same_data_and_another_seed_differs(dataset, new_database, tmp_path_factory):
    url, _ = dataset
    again = new_database()
    generate(again, tmp_path_factory)
    assert checksum(again) == checksum(url)
    other = new_database()
    generate(other, tmp_path_factory, seed=7)
    assert checksum(other) != checksum(url)


def test_refuses_a_database_that_is_not_empty(dataset, tmp_path_factory):
    url, _ = dataset
    with pytest.raises(national.NotEmptyError, match="not empty"):
        generate(url, tmp_path_factory)


def test_allocate_is_exact_and_respects_caps():
    shares = national.allocate(100, [1, 2, 3, 0], [10, 100, 100, 5])
    assert sum(shares) == 100
    assert shares[0] <= 10 and shares[3] == 0


def login(client: CsrfClient, email: str, secret: str | None = None) -> None:
    response = client.post("/connexion", data={"email": email, "password": national.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if response.headers["Location"].endswith("/connexion/code"):
        assert secret, f"{email} is asked for a code"
        response = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_key_pages_answer_for_the_manifest_users(dataset):
    url, manifest = dataset
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "SECRET_KEY": manifest["secret_key"]})
    app.test_client_class = CsrfClient
    worker = manifest["social_worker"]
    coordinator = manifest["coordinator"]
    staff = manifest["landlord_staff"]
    admin = manifest["admin"]
    pages = {
        (worker["email"], None): [
            "/accueil",
            "/menages/",
            f"/menages/{worker['typical_household_id']}",
            f"/menages/{worker['long_household_id']}",
            f"/menages/{worker['typical_household_id']}/logement",
            "/rappels/",
        ],
        (coordinator["email"], coordinator["totp_secret"]): [
            "/menages/",
            f"/menages/{worker['typical_household_id']}",
            "/pilotage/",
            "/pilotage/menages",
            "/pilotage/dossiers-en-souffrance",
            "/pilotage/indicateurs",
            "/rappels/",
        ],
        (staff["email"], None): ["/logements/", "/menages/", "/rappels/"],
        (admin["email"], admin["totp_secret"]): ["/admin/utilisateurs/"],
    }
    with app.app_context():
        for (email, secret), urls in pages.items():
            client = app.test_client()
            login(client, email, secret)
            for page_url in urls:
                response = client.get(page_url)
                assert response.status_code == 200, (email, page_url, response.status_code)
            if email == worker["email"]:
                response = client.post(
                    "/menages/", data={"q": worker["search_term"]}, follow_redirects=True
                )
                assert response.status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_agenda_budget_lines_and_aids_are_as_the_services_leave_them(dataset):
    """Appointments are in the agenda of someone who follows the household; a held one names
    that person's visit of that day, a missed one its attempt; the planned ones are to come.
    Every project has a handful of funders' lines for each of the last three years. An aid
    is for a household in support, decided after its request and before the data stops."""
    from app.agenda.models import Appointment
    from app.formatting import to_paris
    from app.interventions.models import Intervention

    url, manifest = dataset
    as_of = date.fromisoformat(manifest["as_of"])
    engine = create_engine(url)
    with engine.connect() as conn:

        def none(sql: str) -> None:
            assert conn.execute(text(f"SELECT count(*) FROM {sql}")).scalar() == 0, sql

        followers = (
            "SELECT referent_id FROM household h WHERE h.id = a.household_id UNION "
            "SELECT user_id FROM household_team_member t WHERE t.household_id = a.household_id"
        )
        none(f"appointment a WHERE for_user_id NOT IN ({followers})")
        none("appointment WHERE is_tripartite <> (with_whom = 'bailleur')")
        appointments = conn.execute(
            select(Appointment.status, Appointment.starts_at, Appointment.for_user_id,
                   Appointment.household_id, Intervention.occurred_on, Intervention.mode,
                   Intervention.author_id, Intervention.household_id)
            .outerjoin(Intervention, Intervention.id == Appointment.intervention_id)
        ).all()  # fmt: skip
        assert {"prevu", "tenu", "non_honore", "annule"} <= {a[0] for a in appointments}
        for status, starts_at, user_id, household_id, *visit in appointments:
            day = to_paris(starts_at).date()
            assert (day > as_of) == (status == "prevu"), (status, day)
            if status in ("tenu", "non_honore"):
                mode = "rdv_non_honore" if status == "non_honore" else visit[1]
                assert visit == [day, mode, user_id, household_id]
            else:
                assert visit == [None] * 4
        lines = conn.execute(
            text("SELECT project_id, year, count(*) FROM project_budget_line GROUP BY 1, 2")
        ).all()
        years = (as_of.year - 2, as_of.year - 1, as_of.year)
        projects = range(1, manifest["row_counts"]["project"] + 1)
        assert sorted((p, y) for p, y, _ in lines) == [(p, y) for p in projects for y in years]
        assert all(2 <= n <= 8 for _, _, n in lines)
        assert manifest["row_counts"]["household_aid"] > 0
        none(
            f"household_aid WHERE requested_on > '{as_of}' OR decided_on > '{as_of}' "
            "OR decided_on < requested_on"
        )
        none(
            "household_aid a JOIN household h ON h.id = a.household_id WHERE "
            "h.anonymised_at IS NOT NULL OR h.id NOT IN (SELECT household_id FROM adhesion)"
        )
    engine.dispose()
