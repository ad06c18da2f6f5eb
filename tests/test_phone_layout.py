"""Phone layout and installable web app (issue #16, item 9): no emoji in the templates or in
the timeline icons (an emoji depends on the fonts installed and may show as an empty box),
every icon name is an inline SVG, the compact header and the web app manifest.

The browser checks (no sideways scrolling from 320 to 1280 px, tap targets) are in
tests/e2e/test_phone_layout.py."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from urllib.parse import urljoin

from flask import render_template_string

from app.interventions.models import MODE_ICONS
from tests.conftest import page
from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"

# Pictographs (U+1F000–U+1FAFF), miscellaneous symbols and dingbats (U+2600–U+27BF, ⚓ ☎ ✍
# ✗…), miscellaneous technical (U+2300–U+23FF, ⌚ ⏰…), U+2B00–U+2BFF (⭐ ⬅…) and the emoji
# presentation selector U+FE0F.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\ufe0f]")


def test_no_template_holds_an_emoji():
    found = []
    for path in sorted(TEMPLATES.rglob("*")):
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for char in EMOJI.findall(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: U+{ord(char):04X} {char}")
    assert not found, "Use icon('…') of templates/_macros/ui.html instead:\n" + "\n".join(found)


def test_the_pattern_finds_the_emoji_we_replaced():
    for char in "⚓🏠🏢☎🚶🤝✗✍⚠✉":
        assert EMOJI.search(char), char


def _timeline_icon_names() -> set[str]:
    """Every ``icon="…"`` given to a timeline event in the application code."""
    names = set(MODE_ICONS.values())
    for path in (ROOT / "app").rglob("*.py"):
        names |= set(re.findall(r'\bicon="([^"]*)"', path.read_text(encoding="utf-8")))
    return names


def test_every_timeline_icon_is_an_inline_svg(app):
    names = _timeline_icon_names()
    assert {"home", "phone", "walk", "check"} <= names  # the scan sees the domains' icons
    template = '{% from "_macros/ui.html" import icon %}{{ icon(name) }}'
    for name in sorted(names):
        html = render_template_string(template, name=name)
        assert html.startswith('<svg class="icon"'), f"{name!r} is not an icon of ui.html"
        assert 'aria-hidden="true"' in html


def test_an_unknown_icon_shows_as_plain_text(app):
    html = render_template_string('{% from "_macros/ui.html" import icon %}{{ icon("§") }}')
    assert html == '<span class="icon" aria-hidden="true">§</span>'


def test_every_page_links_the_manifest_and_the_theme_colour(client):
    body = page(client.get("/connexion"))
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in body
    assert '<meta name="theme-color" content="#0b5563">' in body
    assert '<script src="/static/js/layout.js"></script>' in body


def test_the_site_menu_folds_behind_a_button(client):
    client.login(make_user())
    body = page(client.get("/mon-compte/"))
    menu = body[body.index('<details class="topmenu"') :]
    assert re.search(r'<summary class="topmenu__toggle">.*Menu', menu)
    assert menu.index("Navigation principale") < menu.index("</details>")
    assert menu.index("Se déconnecter") < menu.index("</details>")


def test_the_manifest_is_served_with_its_type_and_parses(client):
    response = client.get("/static/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"].startswith("Ancrage") and manifest["short_name"] == "Ancrage"
    assert manifest["lang"] == "fr" and manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0b5563"
    manifest_url = "http://localhost/static/manifest.webmanifest"
    assert urljoin(manifest_url, manifest["start_url"]) == "http://localhost/"
    sizes = {}
    for icon in manifest["icons"]:
        url = urljoin(manifest_url, icon["src"]).removeprefix("http://localhost")
        served = client.get(url)
        assert served.status_code == 200, url
        assert served.mimetype == icon["type"], url
        if icon["type"] == "image/png":
            data = served.get_data()
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
            assert icon["sizes"] == f"{width}x{height}"
            sizes[width] = icon
    assert {192, 512} <= set(sizes)
    assert any(icon["type"] == "image/svg+xml" for icon in manifest["icons"])
