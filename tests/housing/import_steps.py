"""The import's steps as landlord staff go through them with a test client: upload (the
preview answers), change the mapping (a GET of the preview), confirm ("Importer")."""

from __future__ import annotations

import html
import io
import re

from tests.conftest import page

_CONFIRM = re.compile(
    r'<form method="post" action="(/logements/import/[0-9a-f]{64})">(.*?)</form>', re.S
)
_HIDDEN = re.compile(r'<input id="(\w+)" name="\w+" type="hidden" value="([^"]*)">')


def upload(client, content: bytes, name: str = "extrait.csv", month: str | None = None):
    data = {"file": (io.BytesIO(content), name)}
    if month:
        data["month"] = month
    return client.post("/logements/import", data=data, content_type="multipart/form-data")


def preview_url(response) -> str:
    match = re.search(r'action="(/logements/import/[0-9a-f]{64})"', response.get_data(as_text=True))
    assert match, "no preview"
    return match.group(1)


def confirm(client, response):
    """Press "Importer" on a preview."""
    match = _CONFIRM.search(response.get_data(as_text=True))
    assert match, "no Importer button on the preview:\n" + page(response)[-3000:]
    fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(match.group(2))}
    fields.pop("csrf_token", None)
    return client.post(match.group(1), data=fields, follow_redirects=True)


def figures(response) -> dict[str, str]:
    """The preview's counts: label → value."""
    text = response.get_data(as_text=True)
    found = re.findall(
        r'keyfigure__value">([^<]*)</span>\s*<span class="keyfigure__label">([^<]*)<', text
    )
    return {html.unescape(label): html.unescape(value) for value, label in found}
