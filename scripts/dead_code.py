"""Dead-code check run by ``make lint``: vulture over ``app/`` and ``vulture_whitelist.py``
(settings in pyproject.toml, ``[tool.vulture]``); fails on any unused function, method,
class, property or import, and on unreachable code.

Unused *variables and attributes* are left out: here they are model columns, form fields and
the fields of the small dataclasses handed to templates, which SQLAlchemy and Jinja read by
name where vulture (it reads Python only) cannot see them; listing them would make the
whitelist as long as the models. ``vulture`` alone, with the same settings, still shows them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from vulture.config import make_config
from vulture.core import Vulture

ROOT = Path(__file__).resolve().parent.parent
REPORTED = {"function", "method", "class", "property", "import", "unreachable_code"}


def unused(paths: list[str] | None = None) -> list:
    """vulture's findings of the reported kinds, for ``paths`` (default: pyproject's)."""
    with (ROOT / "pyproject.toml").open("rb") as settings:
        config = make_config([], tomlfile=settings)
    vulture = Vulture(
        ignore_names=config["ignore_names"], ignore_decorators=config["ignore_decorators"]
    )
    vulture.scavenge(paths or config["paths"], exclude=config["exclude"])
    return [
        item
        for item in vulture.get_unused_code(min_confidence=config["min_confidence"])
        if item.typ in REPORTED
    ]


def main() -> int:
    os.chdir(ROOT)
    found = unused()
    for item in found:
        print(item.get_report())
    if found:
        print(
            f"{len(found)} définition(s) inutilisée(s) : supprimez-les, ou, si elles sont "
            "appelées dynamiquement, ajoutez-les à vulture_whitelist.py avec la raison.",
            file=sys.stderr,
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
