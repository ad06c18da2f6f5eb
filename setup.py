"""Build step only; the project's metadata lives in pyproject.toml.

The repository keeps ``templates/`` and ``migrations/`` at its top level (Flask and Alembic
conventions). A wheel must nevertheless carry them for the installed ``ancrage`` command to
run outside the checkout. This ``build_py`` copies both folders into the package as
``app/_bundled/``; ``create_app`` looks there first and falls back to the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("templates", "migrations")


class BuildWithBundledFiles(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout itself
        package = Path(self.build_lib) / "app"
        for name in BUNDLED:
            source = ROOT / name
            if not source.is_dir():
                raise SystemExit(f"{source} is missing: the wheel would not run without it.")
            target = package / "_bundled" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithBundledFiles})
