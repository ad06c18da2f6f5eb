"""API clients: creation (the secret shown once), revocation, authentication of a bearer
token, and the idempotency keys of their POSTs. Services take ``(actor, target, *, values)``
and never commit (app/forms.py's one view pattern, or the API view, commits)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from app.api.models import ApiClient, IdempotencyKey, Scope
from app.audit.services import record
from app.db import db
from app.errors import DomainError

TOKEN_PREFIX = "anc"  # noqa: S105 (the tokens' visible marker, not a secret)
MAX_VALIDITY_DAYS = 366 * 2
# The last use is noted at most this often (one UPDATE per call would serialise them).
LAST_USE_EVERY = timedelta(minutes=1)


def hash_secret(token: str) -> str:
    """The stored form of a token: its SHA-256 (the token carries 256 random bits, so a
    slow hash adds nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedClient:
    client: ApiClient
    token: str  # shown once, never stored


def create_client(
    actor, organisation, *, name: str, scopes: list[str], expires_on: date, today: date
) -> CreatedClient:
    name = (name or "").strip()
    if not name:
        raise DomainError("Donnez un nom au client.", field="name")
    if not organisation.is_landlord:
        raise DomainError("Un client d'API appartient à un bailleur.", field="organisation_id")
    chosen = sorted({Scope(s).value for s in scopes if s in Scope._value2member_map_})
    if not chosen:
        raise DomainError("Choisissez au moins un droit.", field="scopes")
    if expires_on <= today:
        raise DomainError("L'expiration doit être dans le futur.", field="expires_on")
    if expires_on > today + timedelta(days=MAX_VALIDITY_DAYS):
        raise DomainError("Un client expire au plus tard dans deux ans.", field="expires_on")
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    client = ApiClient(
        organisation_id=organisation.id,
        name=name[:80],
        prefix=prefix,
        secret_hash=hash_secret(token),
        scopes=" ".join(chosen),
        expires_on=expires_on,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(client)
    db.session.flush()
    record(
        actor,
        "api.client_created",
        target=client,
        details={"prefix": prefix, "scopes": chosen, "organisation_id": organisation.id},
    )
    return CreatedClient(client=client, token=token)


def revoke_client(actor, client: ApiClient, *, now: datetime) -> None:
    if client.revoked_at is not None:
        raise DomainError("Ce client est déjà révoqué.")
    client.revoked_at = now
    client.revoked_by_id = getattr(actor, "id", None)
    record(actor, "api.client_revoked", target=client, details={"prefix": client.prefix})


class AuthenticationFailed(Exception):
    """No usable token: ``reason`` is said to the caller in French (401)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def authenticate(header: str | None, *, today: date) -> ApiClient:
    """The client of an ``Authorization: Bearer anc_<prefix>_<secret>`` header, or
    ``AuthenticationFailed``. Revoked and expired clients are refused like unknown ones,
    with their own message."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed("Jeton manquant : en-tête « Authorization: Bearer … ».")
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) > 16:
        raise AuthenticationFailed("Jeton inconnu.")
    client = db.session.scalar(select(ApiClient).where(ApiClient.prefix == parts[1]))
    if client is None or not hmac.compare_digest(client.secret_hash, hash_secret(token)):
        raise AuthenticationFailed("Jeton inconnu.")
    if client.revoked_at is not None:
        raise AuthenticationFailed("Ce client a été révoqué.")
    if today > client.expires_on:
        raise AuthenticationFailed("Ce client a expiré.")
    return client


def note_use(client: ApiClient, *, now: datetime) -> None:
    """Note the client's last use (at most once per ``LAST_USE_EVERY``), in the caller's
    transaction."""
    if client.last_used_at is None or now - client.last_used_at >= LAST_USE_EVERY:
        db.session.execute(
            update(ApiClient).where(ApiClient.id == client.id).values(last_used_at=now)
        )


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def stored_answer(client: ApiClient, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.client_id == client.id, IdempotencyKey.key == key
        )
    )


def store_answer(client: ApiClient, key: str, digest: str, status: int, body: dict) -> None:
    db.session.add(
        IdempotencyKey(
            client_id=client.id, key=key, request_hash=digest, status=status, response=body
        )
    )
