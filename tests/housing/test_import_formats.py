"""Each number, date, negative and reference format an ERP writes, one by one; the
separator and encoding detection; and the entry point for lines already parsed
(``rent_import.import_rent_lines``, which the API calls), all or nothing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.db import db
from app.housing import rent_import
from app.housing.models import RentAccountSnapshot
from app.housing.rent_import import reference_key
from app.permissions import Role
from tests.factories import (
    make_dwelling,
    make_household,
    make_landlord,
    make_occupancy,
    make_project,
    make_user,
)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1234,56", 123_456),
        ("1 234,56", 123_456),
        ("1\u00a0234,56", 123_456),  # no-break space
        ("1\u202f234,56", 123_456),  # narrow no-break space (Excel, LibreOffice)
        ("1\u2009234,56", 123_456),  # thin space
        ("1.234,56", 123_456),
        ("1,234.56", 123_456),
        ("1234.56", 123_456),
        ("1 234,56 €", 123_456),
        ("-123,45", -12_345),
        ("123,45-", -12_345),
        ("(123,45)", -12_345),
        ("( 1 234,50 )", -123_450),
        ("+12", 1_200),
        ("0,5", 50),
        (412.8, 41_280),
        (-7, -700),
    ],
)
def test_amount_formats(text, cents):
    assert rent_import.parse_amount(text) == cents


@pytest.mark.parametrize("text", ["douze", "--1", "(1)-", "1,2,3", "1.2.3", "1,234", "", "€"])
def test_unreadable_amounts_are_refused(text):
    with pytest.raises(ValueError):
        rent_import.parse_amount(text)


@pytest.mark.parametrize(
    "value",
    [
        "03/10/2026",
        "03.10.2026",
        "03-10-2026",
        "03/10/26",
        "03/10/2026 00:00:00",
        "03.10.2026 14:30",
        "2026-10-03",
        "2026-10-03T00:00:00",
        "2026-10-03 08:15:00",
        "46298",  # Excel serial as text
        46298,  # Excel serial as a number
        46298.5,
        datetime(2026, 10, 3, 0, 0),
        date(2026, 10, 3),
    ],
)
def test_date_formats(value):
    assert rent_import.parse_day(value) == date(2026, 10, 3)


@pytest.mark.parametrize(
    "value", ["2026-10", "10/2026", "10.2026", "202610", 202610, "01/10/2026 00:00:00", 46296]
)
def test_month_formats(value):
    assert rent_import.parse_month(value) == date(2026, 10, 1)


@pytest.mark.parametrize("value", ["31/02/2026", "3 octobre", "99999999", 1.0, True])
def test_unreadable_dates_are_refused(value):
    with pytest.raises(ValueError):
        rent_import.parse_day(value)


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("b-001", "B-001"),
        (" B-001 ", "B-001"),
        ("B-\u00a0001", "B-001"),
        ("B-0001", "B-001"),
        ("b - 1", "B-001"),
        ("001234", "1234"),
        (1234.0, "1234"),
    ],
)
def test_reference_normalisation(written, stored):
    assert reference_key(written) == reference_key(stored)


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("rh-0001234", "RH-1234"),
        ("RH-000", "RH-0"),
        ("A0B-007", "A0B-7"),  # zeros inside a word stay
        ("L-07-0012", "L-7-12"),  # every run of digits
        ("12.0", "12.0"),
        ("0", "0"),
        ("RH-\t0012", "RH-12"),
        ("RH-\u202f0012\u200b", "RH-12"),
        ("X-\u0663007", "X-\u0663007"),  # after another digit, zeros are not leading
        (12.0, "12"),
        (None, ""),
    ],
)
def test_reference_keys(written, key):
    """The key itself, for the fast path of plain references and the general one alike."""
    assert reference_key(written) == key


def test_different_references_stay_different():
    assert reference_key("B-10") != reference_key("B-1")
    assert reference_key("B-1") != reference_key("B1-")


@pytest.mark.parametrize(
    ("content", "encoding", "separator"),
    [
        ("Référence;Solde\r\n".encode(), "utf-8", ";"),
        (b"\xef\xbb\xbf" + "Référence\tSolde\n".encode(), "utf-8-sig", "\t"),
        ("Référence,Solde\r\n".encode("cp1252"), "cp1252", ","),
        ('"N° contrat";"Solde, fin de mois"\r\n'.encode("cp1252"), "cp1252", ";"),
        (b"Reference\r\n", "utf-8", ";"),
    ],
)
def test_separator_and_encoding_are_detected(content, encoding, separator):
    assert rent_import.csv_dialect(content) == (encoding, separator)


@pytest.mark.parametrize(
    "header",
    [
        ["N° contrat", "Période", "Solde débiteur", "Quittancement"],
        ["Référence bail", "Mois", "Solde", "Montant quittancé"],
        ["N° de contrat", "Période", "Solde", "Loyer et charges"],
    ],
)
def test_erp_headers_are_recognised(header):
    positions = rent_import.map_header(header)
    assert positions == {"reference": 0, "month": 1, "balance": 2, "amount_due": 3}


def test_a_saved_profile_wins_over_the_synonyms():
    header = ["Contrat", "Solde", "Reste dû", "Quittancement"]
    saved = {"balance": "reste du"}
    assert rent_import.map_header(header, saved)["balance"] == 2


# --- lines already parsed (the API's entry point) --------------------------------------------


@pytest.fixture
def leases(app):
    landlord = make_landlord(name="Bailleur des lignes")
    project = make_project(lead_landlord=landlord)
    staff = make_user(Role.PERSONNEL_BAILLEUR, organisation=landlord, projects=[project])
    for reference in ("L-1", "L-2"):
        make_occupancy(make_household(project), make_dwelling(landlord), lease_reference=reference)
    other = make_landlord(name="Autre")
    make_occupancy(
        make_household(make_project(lead_landlord=other)),
        make_dwelling(other),
        lease_reference="Z-9",
    )
    return {"landlord": landlord, "staff": staff}


def test_lines_are_checked_and_written_like_a_file(leases):
    report = rent_import.import_rent_lines(
        leases["staff"],
        leases["landlord"],
        [
            {"reference": "l-01", "month": "2026-10", "balance": "(12,50)", "amount_due": 400},
            {"reference": "L-2", "month": date(2026, 10, 1), "balance": 80, "amount_due": "400"},
            {"reference": "PAS-SUIVI", "month": "2026-10", "balance": "x", "amount_due": "y"},
        ],
        today=date(2026, 11, 27),
    )
    assert (report.created, report.out_of_programme) == (2, 1)
    balances = sorted(db.session.scalars(select(RentAccountSnapshot.balance_cents)))
    assert balances == [-1_250, 8_000]
    history = db.session.scalars(select(rent_import.RentImport)).one()
    assert (history.via, history.file_hash, history.created) == ("api", None, 2)


def test_another_landlords_reference_is_set_aside_like_any_unknown_lease(leases):
    """Refusing it would confirm to this landlord that another landlord's tenant with that
    reference is supported in Ancrage: it is counted out of the programme, never written."""
    report = rent_import.import_rent_lines(
        leases["staff"],
        leases["landlord"],
        [
            {"reference": "L-1", "month": "2026-10", "balance": 0, "amount_due": 400},
            {"reference": "Z-9", "month": "2026-10", "balance": 0, "amount_due": 400},
        ],
        today=date(2026, 11, 27),
    )
    assert report.out_of_programme == 1
    assert not any("autre bailleur" in problem.reason for problem in report.problems)
    assert len(db.session.scalars(select(RentAccountSnapshot)).all()) == 1


def test_a_batch_finds_a_lease_by_its_reference_as_last_changed(leases):
    """A batch looks up only its own references, by the key stored with the lease: the key
    follows the reference when it is changed."""
    from app.housing.models import Occupancy

    lease = db.session.scalars(select(Occupancy).where(Occupancy.lease_reference == "L-2")).one()
    lease.lease_reference = "rh 00420"
    db.session.flush()
    assert lease.lease_reference_key == "RH420"
    report = rent_import.import_rent_lines(
        leases["staff"],
        leases["landlord"],
        [
            {"reference": "RH-0420 ", "month": "2026-10", "balance": 1, "amount_due": 400},
            {"reference": "Rh420", "month": "2026-09", "balance": 2, "amount_due": 400},
            {"reference": "L-2", "month": "2026-10", "balance": 3, "amount_due": 400},
        ],
        today=date(2026, 11, 27),
    )
    assert (report.created, report.out_of_programme) == (1, 2)  # "RH-0420" is not "RH420"
    written = db.session.scalars(select(RentAccountSnapshot)).one()
    assert (written.occupancy_id, written.balance_cents) == (lease.id, 200)


def test_a_batch_and_a_whole_file_see_the_same_lease_for_a_reused_reference(leases):
    """After a glissement both leases carry the reference: the current one is written to,
    whether the landlord's whole index is read (a file) or only the batch's keys (the API)."""
    from app.housing import services
    from app.housing.models import LeaseType, Occupancy
    from app.housing.rent_import.rows import _lease_index

    old = db.session.scalars(select(Occupancy).where(Occupancy.lease_reference == "L-1")).one()
    old.lease_type = LeaseType.BAIL_GLISSANT
    db.session.flush()
    direct = services.record_glissement(
        leases["staff"], old, version=old.version, glissed_on=date(2026, 6, 1)
    )
    organisation_id = leases["landlord"].id
    whole = _lease_index(organisation_id)
    keyed = _lease_index(organisation_id, {reference_key("l-01"), "INCONNU"})
    assert set(keyed) == {"L-1"}
    assert keyed["L-1"] == whole["L-1"] and keyed["L-1"].occupancy_id == direct.id
