"""Free-text search: typed terms kept on the server, and a LIKE that takes them literally.

Typed terms never travel in a URL, nor in the cookie. A name typed in a list's search box
is personal data: in a GET form it would sit in the address bar, the browser history, the
proxy and access logs; in Flask's session cookie it would sit readable (the cookie is
signed, not encrypted) on the device and in anything that logs cookies. The list forms post
instead (with their CSRF token); the view stores the term in the ``search_term`` table
under a short random token and redirects to the list with ``recherche=<token>`` beside the
other filters (ids and codes, not personal data). Sort and page links repeat the token, the
back button and a reload work.

A token finds its term only for the user *and the browser session* that typed it: the
session cookie holds a random ``search_session`` key (no term), and the row must carry the
same key and user. A token from another session or user, an old bookmark, or one older than
``SESSION_ABSOLUTE_TIMEOUT`` simply finds nothing and shows the whole list. Expired rows are
deleted whenever a term is stored; logging out deletes every term of the user.

``contains(column, term)`` is the one way to write ``column LIKE '%term%'`` from typed text:
``%``, ``_`` and the escape character match themselves, so a search cannot be turned into a
pattern (``_`` growing a hidden name letter by letter). The pattern is one bound parameter
with ``ESCAPE '/'``, which PostgreSQL's trigram (``pg_trgm``) indexes still serve.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

from flask import current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UtcDateTime, db, utcnow

SESSION_KEY = "search_session"
SEARCH_ARG = "recherche"
KEPT = 20  # recent searches per session: enough for the back button
MAX_LENGTH = 100
LIKE_ESCAPE = "/"


class SearchTerm(db.Model):
    """A term typed in a list's search box, behind the token its result URL carries."""

    __tablename__ = "search_term"

    token: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # The random key kept in the browser session that typed the term (not the term itself).
    session_key: Mapped[str] = mapped_column(String(32))
    term: Mapped[str] = mapped_column(String(MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


# --- LIKE with typed text ----------------------------------------------------------------------


def escape_like(text: str) -> str:
    """``text`` with the LIKE wildcards (``%``, ``_``) and the escape character escaped."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def contains(column, term: str) -> ColumnElement[bool]:
    """``column LIKE '%term%' ESCAPE '/'`` where every character of ``term`` is literal."""
    return column.like(f"%{escape_like(term)}%", escape=LIKE_ESCAPE)


# --- terms kept server-side --------------------------------------------------------------------


def _lifetime():
    return current_app.config["SESSION_ABSOLUTE_TIMEOUT"]


def remember_search(term: str, *, now: datetime | None = None) -> str | None:
    """Store ``term`` for the current user and session; return its token (None for an empty
    term). Deletes expired terms of everyone on the way. The caller commits."""
    term = (term or "").strip()[:MAX_LENGTH]
    if not term or not current_user.is_authenticated:
        return None
    now = now or utcnow()
    key = session.get(SESSION_KEY)
    if not isinstance(key, str) or not key:
        key = session[SESSION_KEY] = secrets.token_urlsafe(16)
    db.session.execute(delete(SearchTerm).where(SearchTerm.created_at < now - _lifetime()))
    mine = (SearchTerm.user_id == current_user.id) & (SearchTerm.session_key == key)
    db.session.execute(delete(SearchTerm).where(mine, SearchTerm.term == term))
    older = (
        select(SearchTerm.token).where(mine).order_by(SearchTerm.created_at.desc()).offset(KEPT - 1)
    )
    stale = list(db.session.scalars(older))
    if stale:
        db.session.execute(delete(SearchTerm).where(SearchTerm.token.in_(stale)))
    token = secrets.token_urlsafe(9)
    db.session.add(
        SearchTerm(token=token, user_id=current_user.id, session_key=key, term=term, created_at=now)
    )
    return token


def recalled_search(*, now: datetime | None = None) -> str:
    """The term behind the request's ``recherche`` token, or "" if there is none (no token,
    another user's or session's, or expired)."""
    token = request.args.get(SEARCH_ARG) or ""
    key = session.get(SESSION_KEY)
    if not token or len(token) > 16 or not isinstance(key, str) or not key:
        return ""
    if not current_user.is_authenticated:
        return ""
    now = now or utcnow()
    return (
        db.session.scalar(
            select(SearchTerm.term).where(
                SearchTerm.token == token,
                SearchTerm.user_id == current_user.id,
                SearchTerm.session_key == key,
                SearchTerm.created_at >= now - _lifetime(),
            )
        )
        or ""
    )


def forget_searches(user) -> None:
    """Delete every term ``user`` typed (at logout). The caller commits."""
    db.session.execute(delete(SearchTerm).where(SearchTerm.user_id == user.id))


def redirect_to_results(endpoint: str, form: Mapping[str, str], fields: tuple[str, ...]):
    """Answer a posted list form: its ``fields`` (filters that are ids or codes) go in the
    URL, the free text ``q`` only as a token (stored and committed here)."""
    args = {name: form.get(name) for name in fields if form.get(name)}
    token = remember_search(form.get("q", ""))
    if token:
        db.session.commit()
        args[SEARCH_ARG] = token
    return redirect(url_for(endpoint, **args))
