"""The password policy: length, a real blocklist (French entries included), no composition
rules."""

import pytest

from app.auth.services import common_passwords, password_problem


def test_the_blocklist_is_a_real_list_with_french_entries(app):
    common = common_passwords()
    assert len(common) > 30_000
    for french in ("azertyuiop", "motdepasse", "marseille", "doudou", "chouchou", "soleil"):
        assert french in common


@pytest.mark.parametrize(
    "password",
    [
        "azertyuiop123",  # listed word + digits
        "Marseille2024!",  # listed word wrapped in digits and a symbol
        "motdepasse123456",
        "AzertyAzertyAzerty",  # listed word repeated
        "123456789012",
        "aaaaaaaaaaaaaaaa",  # too few distinct characters
        "passwordpassword",
    ],
)
def test_common_passwords_are_refused_whatever_the_case(app, password):
    assert "trop courant" in password_problem(password)


@pytest.mark.parametrize(
    "password",
    [
        "cheval bleu sous la pluie",  # a passphrase: no digit, no capital, no symbol needed
        "tous les jours au marché",
        "rhubarbe-velo-lanterne",
    ],
)
def test_long_uncommon_passwords_need_no_composition(app, password):
    assert password_problem(password) is None


def test_length_limits(app):
    assert "au moins 12" in password_problem("court-123")
    assert "dépasser 128" in password_problem("x" * 60 + "y" * 69)


def test_change_password_refuses_a_common_one(client):
    from tests.conftest import page
    from tests.factories import PASSWORD, make_user

    client.login(make_user())
    response = client.post(
        "/mon-compte/mot-de-passe",
        data={
            "current_password": PASSWORD,
            "new_password": "Motdepasse2025!",
            "confirm": "Motdepasse2025!",
        },
    )
    assert "trop courant" in page(response)
