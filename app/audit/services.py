"""``record()``: the one way to write an audit entry, in the caller's transaction."""

from __future__ import annotations

from flask import g, has_request_context, request

from app.audit.models import AuditEntry, AuditOutcome
from app.db import act_as, db, utcnow


def record(
    actor,
    action: str,
    *,
    household_id: int | None = None,
    target=None,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    details: dict | None = None,
    now=None,
) -> AuditEntry:
    """Add an audit entry to the session (the caller commits).

    ``target`` is a model instance (its table name and id are kept) or None. ``details`` must
    never contain the sensitive values themselves: only field names, counts, identifiers.

    ``actor`` is also the author of the transaction's changes: every versioned record it adds
    or changes is stamped ``updated_by_id`` with the actor's id (``app.db.act_as``), in a
    request, a CLI command or a job alike.
    """
    client_id = None
    if getattr(actor, "is_api_client", False):
        # An API client acts: named in the entry, and no user is stamped as the editor.
        client_id, actor = actor.id, None
    act_as(actor)
    if target is not None and getattr(target, "id", None) is None:
        db.session.flush()
    entry = AuditEntry(
        at=now or utcnow(),
        actor_id=getattr(actor, "id", None),
        action=action,
        household_id=household_id,
        target_type=target.__tablename__ if target is not None else None,
        target_id=getattr(target, "id", None) if target is not None else None,
        outcome=outcome,
        details=details,
        api_client_id=client_id,
    )
    if has_request_context():
        entry.request_id = g.get("request_id")
        entry.ip = request.remote_addr
    db.session.add(entry)
    return entry
