"""The quick start finds any Python ≥ 3.11 (python3.13, 3.12, 3.11, then python3), and says
so in French when there is none. Fake interpreters stand for the machine's: each answers the
Makefile's version check (exit 0: recent enough; exit 1: too old)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _machine(tmp_path: Path, **interpreters: bool) -> dict:
    """A PATH holding only the given interpreters (name → recent enough)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, recent in interpreters.items():
        script = bin_dir / name.replace("_", ".")
        script.write_text(f"#!/bin/sh\nexit {0 if recent else 1}\n")
        script.chmod(0o755)
    return {"PATH": str(bin_dir), "HOME": str(tmp_path)}


def _chosen(env: dict) -> str:
    result = subprocess.run(
        [MAKE, "-s", "-f", ROOT / "Makefile", "--eval", "chosen: ; @echo [$(PYTHON)]", "chosen"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("interpreters", "expected"),
    [
        ({"python3": True}, "[python3]"),  # Debian 13 / Ubuntu 24.04: python3 is 3.12 or 3.13
        ({"python3_12": True, "python3": True}, "[python3.12]"),
        ({"python3_13": True, "python3_11": True}, "[python3.13]"),
        ({"python3_11": True, "python3": False}, "[python3.11]"),
        ({"python3": False}, "[]"),  # only an old python3
    ],
)
def test_the_most_recent_suitable_python_is_chosen(tmp_path, interpreters, expected):
    assert _chosen(_machine(tmp_path, **interpreters)) == expected


def test_an_explicit_python_wins(tmp_path):
    env = {**_machine(tmp_path, python3_13=True), "PYTHON": "/opt/python/bin/python3"}
    assert _chosen(env) == "[/opt/python/bin/python3]"


def test_without_a_suitable_python_make_says_so_in_french(tmp_path):
    env = _machine(tmp_path, python3=False)
    result = subprocess.run(
        [MAKE, "-f", ROOT / "Makefile", ".venv/bin/python"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Python 3.11 ou plus récent est requis" in result.stdout
    assert not (tmp_path / ".venv").exists()
