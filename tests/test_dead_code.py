"""The dead-code check of ``make lint`` (scripts/dead_code.py, vulture): app/ has no function
nothing calls, a new one would be reported, and the whitelist names only code that exists."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dead_code():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import dead_code
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return dead_code


def test_app_has_no_code_that_nothing_calls(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert [item.get_report() for item in _dead_code().unused()] == []


def test_a_function_nothing_calls_is_reported_but_not_a_view(tmp_path):
    module = tmp_path / "domain.py"
    module.write_text(
        "from flask import Blueprint\n"
        "bp = Blueprint('domain', __name__)\n\n"
        "def forgotten_helper():\n    return 1\n\n"
        "def used_helper():\n    return 2\n\n"
        "@bp.route('/')\n"
        "def index():\n    return str(used_helper())\n"
    )
    names = {item.name for item in _dead_code().unused([str(module)])}
    assert names == {"forgotten_helper"}


def test_every_whitelist_entry_exists(app):
    whitelist = _load("vulture_whitelist")
    assert whitelist.CALLED_BY_NAME and whitelist.CALLED_BY_A_FRAMEWORK
