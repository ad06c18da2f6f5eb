"""Helpers for the attack tests: read a page's forms like a browser, snapshot the database."""

from __future__ import annotations

from html.parser import HTMLParser

from sqlalchemy import func, select

from app.db import db

# Tables a refused request may still write to (the audit trail of the refusal, throttling).
LOG_TABLES = {"audit_entry", "login_attempt"}


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": (a.get("method") or "get").lower(),
                "fields": [],  # (name, kind, value, checked)
                "options": {},  # select name -> option values
            }
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            self._form["fields"].append((name, kind, a.get("value", ""), "checked" in a))
        elif tag == "textarea" and name:
            self._textarea = name
            self._form["fields"].append((name, "textarea", "", False))
        elif tag == "select" and name:
            self._select = name
            self._form["fields"].append((name, "select", None, False))
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._form["options"].setdefault(self._select, []).append(value)
            fields = self._form["fields"]
            for i, (n, kind, current, _) in enumerate(fields):
                if n == self._select and kind == "select":
                    if current is None or "selected" in a:
                        fields[i] = (n, kind, value, "selected" in a)
                    break

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            fields = self._form["fields"]
            for i, (n, kind, current, c) in enumerate(fields):
                if n == self._textarea and kind == "textarea":
                    fields[i] = (n, kind, current + data, c)


def parse(body: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(body)
    return parser


TEXT_KINDS = {"text", "textarea", "search", "tel", "email"}


def post_forms(body: str) -> list[dict]:
    return [f for f in parse(body).forms if f["method"] == "post"]


def main_form(body: str) -> dict:
    """The page's largest POST form (the one with the most fields, not the logout button)."""
    return max(post_forms(body), key=lambda f: len(f["fields"]))


def form_data(
    form: dict, overrides: dict | None = None, *, choose: bool = False
) -> dict[str, list[str]]:
    """What a browser would submit: hidden and filled values, checked boxes and radios (the
    first radio of a group when none is checked), the selected option of each select (with
    ``choose``, a select left on its empty placeholder gets its first real option)."""
    data: dict[str, list[str]] = {}
    radios: dict[str, str] = {}
    for name, kind, value, checked in form["fields"]:
        if kind in ("submit", "button", "file", "reset"):
            continue
        if kind == "radio":
            if checked:
                radios[name] = value
            else:
                radios.setdefault(name, value)
            continue
        if kind == "checkbox":
            if checked:
                data.setdefault(name, []).append(value or "y")
            continue
        if kind == "select" and choose and not value:
            value = next((v for v in form["options"].get(name, []) if v), "")
        data.setdefault(name, []).append(value or "")
    for name, value in radios.items():
        data[name] = [value]
    for name, value in (overrides or {}).items():
        data[name] = value if isinstance(value, list) else [value]
    return data


def row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in db.metadata.sorted_tables
        if t.name not in LOG_TABLES
    }


def snapshot() -> dict[str, list[str]]:
    """Every row of every table but the logs, as sorted strings: any change shows."""
    db.session.expire_all()
    result = {}
    for t in db.metadata.sorted_tables:
        if t.name in LOG_TABLES:
            continue
        rows = db.session.execute(select(t)).all()
        result[t.name] = sorted(repr(tuple(r)) for r in rows)
    db.session.commit()
    return result
