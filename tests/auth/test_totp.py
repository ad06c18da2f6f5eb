"""Two-factor login with TOTP: mandatory enrolment, the half-authenticated step, no replay,
recovery codes, throttling, secrets encrypted at rest, re-authentication to manage it."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth import services
from app.auth.models import RecoveryCode, TotpCredential
from app.db import db
from app.permissions import Role
from tests.conftest import page, totp_code
from tests.factories import PASSWORD, make_user


def _password_step(client, user):
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response.headers["Location"]


def _enrolled(user) -> str:
    """Enrol ``user`` directly; returns the secret."""
    secret = services.start_totp_enrolment(user)
    db.session.flush()
    credential = services.totp_credential(user)
    credential.confirmed_at = datetime.now(UTC)
    db.session.commit()
    return secret


def _shown_secret(body: str) -> str:
    return re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', body).group(1).replace(" ", "")


@pytest.mark.parametrize("role", [Role.COORDINATEUR, Role.ADMIN])
def test_mandatory_roles_must_enrol_before_anything_else(client, role):
    user = make_user(role)
    assert _password_step(client, user).endswith("/connexion/double-authentification")
    # Half-authenticated: not logged in yet.
    assert client.get("/accueil").status_code == 302
    body = page(client.get("/connexion/double-authentification"))
    secret = _shown_secret(body)
    assert "otpauth://totp/Ancrage:" in body
    assert 'src="data:image/svg+xml' in body  # the QR code, no external resource
    wrong = client.post("/connexion/double-authentification", data={"code": "000000"})
    assert wrong.status_code == 400
    assert "Ce code n'est pas valide" in page(wrong)
    done = client.post(
        "/connexion/double-authentification", data={"code": pyotp.TOTP(secret).now()}
    )
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", page(done))
    assert len(set(codes)) == 10
    assert "ne seront plus jamais affichés" in page(done)
    assert client.get("/accueil").status_code == 200
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are stored


def test_secret_is_encrypted_at_rest(app):
    user = make_user(Role.COORDINATEUR)
    secret = _enrolled(user)
    stored = services.totp_credential(user).secret_encrypted
    assert secret not in stored
    assert services.decrypt_totp_secret(stored) == secret


def test_optional_for_other_roles(client):
    user = make_user(Role.TRAVAILLEUR_SOCIAL)
    assert _password_step(client, user).endswith("/")
    assert client.get("/accueil").status_code == 200


def test_enrolled_user_needs_the_code_after_the_password(client):
    user = make_user(Role.TRAVAILLEUR_SOCIAL)
    _enrolled(user)
    assert _password_step(client, user).endswith("/connexion/code")
    assert client.get("/accueil").status_code == 302  # not logged in between the two steps
    bad = client.post("/connexion/code", data={"code": "123456"})
    assert bad.status_code == 401
    assert "Ce code n'est pas valide ou a déjà été utilisé." in page(bad)
    ok = client.post("/connexion/code", data={"code": totp_code(user)})
    assert ok.status_code == 302
    assert client.get("/accueil").status_code == 200
    [login] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login"))
    assert login.details == {"second_factor": True}


def test_a_code_cannot_be_replayed(client, make_client):
    user = make_user(Role.TRAVAILLEUR_SOCIAL)
    secret = _enrolled(user)
    code = pyotp.TOTP(secret).now()
    _password_step(client, user)
    assert client.post("/connexion/code", data={"code": code}).status_code == 302
    thief = make_client()
    _password_step(thief, user)
    replay = thief.post("/connexion/code", data={"code": code})
    assert replay.status_code == 401
    assert thief.get("/accueil").status_code == 302


def test_an_older_code_is_refused_after_a_newer_one(app):
    user = make_user(Role.TRAVAILLEUR_SOCIAL)
    secret = _enrolled(user)
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    services.verify_second_factor(user, totp.at(now + timedelta(seconds=30)), ip=None, now=now)
    with pytest.raises(services.SecondFactorRefused):
        services.verify_second_factor(user, totp.at(now), ip=None, now=now)
    # Codes two steps away are not accepted at all.
    with pytest.raises(services.SecondFactorRefused):
        services.verify_second_factor(user, totp.at(now + timedelta(seconds=90)), ip=None, now=now)


def test_recovery_codes_work_once(client, make_client):
    user = make_user(Role.TRAVAILLEUR_SOCIAL)
    _enrolled(user)
    codes = services.regenerate_recovery_codes(user)
    db.session.commit()
    _password_step(client, user)
    assert client.post("/connexion/code", data={"code": codes[0].upper()}).status_code == 302
    again = make_client()
    _password_step(again, user)
    assert again.post("/connexion/code", data={"code": codes[0]}).status_code == 401
    assert services.remaining_recovery_codes(user) == 9


def test_bad_codes_are_throttled_in_the_database(client, app):
    user = make_user(Role.TRAVAILLEUR_SOCIAL)
    _enrolled(user)
    _password_step(client, user)
    for _ in range(app.config["TOTP_MAX_FAILURES"]):
        assert client.post("/connexion/code", data={"code": "000000"}).status_code == 401
    refused = client.post("/connexion/code", data={"code": totp_code(user)})
    assert refused.status_code == 401
    assert "Trop de codes erronés" in page(refused)
    assert client.get("/accueil").status_code == 302
    throttled = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "auth.totp_throttled")
    )
    assert throttled == 1


def test_the_half_authenticated_state_expires(client, app):
    import time_machine

    user = make_user(Role.TRAVAILLEUR_SOCIAL)
    _enrolled(user)
    _password_step(client, user)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=6)):
        response = client.post("/connexion/code", data={"code": totp_code(user)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/connexion")
    assert client.get("/accueil").status_code == 302


def test_second_step_without_password_goes_back_to_login(client):
    response = client.get("/connexion/code")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/connexion")


def test_optional_enrolment_requires_recent_password_and_ends_other_sessions(client, make_client):
    user = make_user(Role.TRAVAILLEUR_SOCIAL)
    other_device = make_client()
    other_device.login(user)
    client.login(user)
    response = client.get("/mon-compte/double-authentification/activer")
    assert response.status_code == 200  # the password was just typed at login
    # 11 minutes later (past REAUTH_MAX_AGE), the password must be confirmed again.
    with client.session_transaction() as session:
        session["auth_fresh_at"] -= 11 * 60
    stale = client.get("/mon-compte/double-authentification/activer")
    assert stale.status_code == 302
    assert "/mon-compte/confirmer" in stale.headers["Location"]
    bad = client.post("/mon-compte/confirmer", data={"password": "pas-le-bon-mdp"})
    assert bad.status_code == 401
    confirmed = client.post(
        "/mon-compte/confirmer",
        data={"password": PASSWORD, "next": "/mon-compte/double-authentification/activer"},
    )
    assert confirmed.headers["Location"] == "/mon-compte/double-authentification/activer"
    secret = _shown_secret(page(client.get("/mon-compte/double-authentification/activer")))
    done = client.post(
        "/mon-compte/double-authentification/activer",
        data={"code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 200
    assert services.has_totp(user)
    assert client.get("/accueil").status_code == 200  # this session goes on
    assert other_device.get("/accueil").status_code == 302  # the other one ended


def test_mandatory_roles_cannot_disable_it_others_can(client, make_client):
    coordinator = make_user(Role.COORDINATEUR)
    client.login(coordinator)
    client.post("/mon-compte/double-authentification/desactiver")
    assert services.has_totp(coordinator)
    worker = make_user(Role.TRAVAILLEUR_SOCIAL)
    _enrolled(worker)
    other = make_client()
    other.login(worker)
    response = other.post("/mon-compte/double-authentification/desactiver")
    assert response.status_code == 302
    assert not services.has_totp(worker)
    assert db.session.scalar(select(func.count(TotpCredential.id))) == 1


def test_regenerating_recovery_codes_replaces_the_old_ones(client):
    user = make_user(Role.COORDINATEUR)
    client.login(user)
    first = set(db.session.scalars(select(RecoveryCode.code_hash)))
    response = client.post("/mon-compte/double-authentification/codes-de-secours")
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", page(response))
    assert len(codes) == 10
    second = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(second) == 10 and not first & second


def test_key_rotation_keeps_secrets_readable(app):
    user = make_user(Role.COORDINATEUR)
    secret = _enrolled(user)
    old_key = app.config["SECRET_KEY"]
    app.config.update(
        SECRET_KEY="a-brand-new-secret-key-of-enough-length", SECRET_KEY_FALLBACKS=[old_key]
    )
    assert services.rotate_totp_keys() == 1
    db.session.commit()
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert services.decrypt_totp_secret(services.totp_credential(user).secret_encrypted) == secret


def test_an_administrator_resets_a_lost_second_factor(client, make_client):
    """Lost phone and recovery codes: the admin resets it (password confirmed, audited); the
    coordinator's sessions end and the next login asks to enrol again."""
    coordinator = make_user(Role.COORDINATEUR, email="perdu@exemple.fr")
    coordinator_device = make_client()
    coordinator_device.login(coordinator)
    admin = make_user(Role.ADMIN)
    client.login(admin)
    edit = f"/admin/utilisateurs/{coordinator.id}/modifier"
    reset = f"/admin/utilisateurs/{coordinator.id}/reinitialiser-double-authentification"
    assert "Réinitialiser la double authentification" in page(client.get(edit))
    # Ten minutes after typing the password, the admin confirms it first.
    with client.session_transaction() as session:
        session["auth_fresh_at"] -= 11 * 60
    stale = client.post(reset)
    assert "/mon-compte/confirmer" in stale.headers["Location"]
    assert services.has_totp(coordinator)
    client.post("/mon-compte/confirmer", data={"password": PASSWORD, "next": edit})
    done = client.post(reset, follow_redirects=True)
    assert "Double authentification de" in page(done)
    assert "Non activée : elle lui sera demandée à sa prochaine connexion" in page(done)
    assert not services.has_totp(coordinator)
    assert coordinator_device.get("/accueil").status_code == 302  # sessions ended
    assert _password_step(make_client(), coordinator).endswith("/connexion/double-authentification")
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "auth.totp_reset" in actions
    # A second reset has nothing to remove and says so.
    again = client.post(reset, follow_redirects=True)
    assert "n'a pas de double authentification" in page(again)
