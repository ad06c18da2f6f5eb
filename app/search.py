"""Typed search terms never travel in a URL.

A name typed in a list's search box is personal data: in a GET form it would sit in the
address bar, the browser history, the proxy and access logs. The list forms post instead
(with their CSRF token); the view keeps the term in the user's signed session cookie (on
their own device, never in a URL or a log line) under a short random token and redirects
to the list with ``recherche=<token>`` beside the other filters (ids and codes, not
personal data). Sort and page links repeat the token, the back button and a
reload work, and the term is forgotten with the session. A token from another session, or
from an old bookmark, simply finds nothing and shows the whole list.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from flask import redirect, request, session, url_for

SESSION_KEY = "searches"
SEARCH_ARG = "recherche"
KEPT = 8  # recent searches per session: enough for the back button, small in the cookie
MAX_LENGTH = 100


def remember_search(term: str) -> str | None:
    """Store ``term`` in the session; return its token (None for an empty term)."""
    term = (term or "").strip()[:MAX_LENGTH]
    if not term:
        return None
    kept = {k: v for k, v in (session.get(SESSION_KEY) or {}).items() if v != term}
    token = secrets.token_urlsafe(6)
    kept[token] = term
    session[SESSION_KEY] = dict(list(kept.items())[-KEPT:])
    return token


def recalled_search() -> str:
    """The term behind the request's ``recherche`` token, or "" if there is none."""
    token = request.args.get(SEARCH_ARG) or ""
    return (session.get(SESSION_KEY) or {}).get(token, "")


def redirect_to_results(endpoint: str, form: Mapping[str, str], fields: tuple[str, ...]):
    """Answer a posted list form: its ``fields`` (filters that are ids or codes) go in the
    URL, the free text ``q`` only as a token."""
    args = {name: form.get(name) for name in fields if form.get(name)}
    token = remember_search(form.get("q", ""))
    if token:
        args[SEARCH_ARG] = token
    return redirect(url_for(endpoint, **args))
