"""Application factory. Reads top to bottom like a table of contents; it never writes to the
database, never migrates and never starts the scheduler."""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path

from flask import Flask

from app.config import check_config, load_config
from app.evaluation import tables as evaluation_tables
from app.logs import configure_logging

# Every domain's models, imported up front so that the metadata (create_all, Alembic
# autogenerate) always knows every table, whichever views are registered.
MODELS = (
    "app.agenda.models",
    "app.audit.models",
    "app.auth.models",
    "app.documents.models",
    "app.evaluation.models",
    "app.households.models",
    "app.housing.models",
    "app.housing.rent_import.history",  # RentImport, RentImportProfile
    "app.interventions.models",
    "app.organisations.models",
    "app.partners.models",
    "app.projects.models",
    "app.reminders.models",
    "app.reports.models",
    "app.scheduler",  # JobRun: the scheduler's run ledger
    "app.search",  # SearchTerm: typed search terms, kept server-side
    "app.submissions",  # FormSubmission: create forms' one-time keys
    "app.support.models",
    "app.users.models",
    "app.api.models",
    "app.evaluation.models_bilan",
)

BLUEPRINTS = (
    "app.agenda.views",
    "app.audit.views",
    "app.auth.views",
    "app.documents.views",
    "app.evaluation.views_drilldown",
    "app.health.views",
    "app.home.views",
    "app.households.views",
    "app.housing.views",
    "app.interventions.views",
    "app.organisations.views",
    "app.partners.views",
    "app.projects.views",
    "app.reminders.views",
    "app.reports.views",
    "app.retention.views",
    "app.support.views",
    "app.users.views",
    "app.api.views",
    "app.evaluation.views_money",
    "app.evaluation.views_national",
    "app.evaluation.views_bilan",
)

# The domains' contributions to the household file (tabs, header badges and values, timeline
# events): each module's ``register(registry)`` is called once per application, after the
# blueprints. See app/households/file_registry.py.
FILE_CONTRIBUTIONS = (
    "app.households.file",
    "app.housing.file",
    "app.support.file",
    "app.interventions.file",
    "app.partners.file",
    "app.documents.file",
    "app.reminders.file",
    "app.reports.file",
    "app.retention.file",
    "app.agenda.file",
    "app.evaluation.file",
)

PACKAGE_DIR = Path(__file__).resolve().parent
# An installed wheel carries templates/ and migrations/ here (setup.py's build step); a
# checkout has them beside app/.
BUNDLED_DIR = PACKAGE_DIR / "_bundled"
IS_INSTALLED = BUNDLED_DIR.is_dir()


def project_folder(name: str) -> str:
    """``templates`` or ``migrations``: from the installed package, else from the checkout."""
    return str((BUNDLED_DIR if IS_INSTALLED else PACKAGE_DIR.parent) / name)


def create_app(overrides: dict | None = None, *, instance_path: str | None = None) -> Flask:
    """Build the application. ``instance_path`` (or ``ANCRAGE_INSTANCE_PATH``) points at the
    folder holding ``config.py`` and the SQLite file; by default ``instance/`` beside ``app/``
    in a checkout, and Flask's ``<prefix>/var/app-instance`` for an installed wheel."""
    instance_path = instance_path or os.environ.get("ANCRAGE_INSTANCE_PATH")
    if not instance_path and not IS_INSTALLED:
        instance_path = str(PACKAGE_DIR.parent / "instance")
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=project_folder("templates"),
        instance_path=instance_path,
    )
    load_config(app, overrides)
    check_config(app)
    configure_logging(app)

    _import_models()
    _init_extensions(app)
    _register_url_converters(app)
    _register_blueprints(app)
    _register_file_contributions(app)

    from app.cli import register_cli
    from app.errors import register_error_handlers
    from app.formatting import register_template_filters
    from app.http import register_request_hooks
    from app.metrics import register_metrics
    from app.submissions import register_submission_hooks

    register_request_hooks(app)
    register_metrics(app)
    register_submission_hooks(app)
    register_template_filters(app)
    register_error_handlers(app)
    register_cli(app)
    _init_api(app)
    return app


def _init_api(app: Flask) -> None:
    """The JSON API (/api/v1/, app/api): after the error handlers, which it wraps for its
    own paths (problem+json)."""
    from app.api.rest import init_api

    init_api(app)


def _init_extensions(app: Flask) -> None:
    from app.auth.services import load_user_from_cookie
    from app.db import db, include_migration_object, render_migration_item
    from app.extensions import babel, csrf, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=project_folder("migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
        include_object=include_migration_object,
    )
    csrf.init_app(app)
    # French only (BABEL_DEFAULT_LOCALE): no catalogue, _() marks return the text as written.
    babel.init_app(app, timezone_selector=lambda: "Europe/Paris")
    login_manager.init_app(app)
    login_manager.user_loader(load_user_from_cookie)
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)


def _import_models() -> None:
    for module_name in MODELS:
        import_module(module_name)
    # The evaluation's figures: each module registers its provider when imported.
    for module_name in evaluation_tables.PROVIDER_MODULES:
        import_module(module_name)


def _register_url_converters(app: Flask) -> None:
    from app.http import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added


def _register_blueprints(app: Flask) -> None:
    for module_name in BLUEPRINTS:
        app.register_blueprint(import_module(module_name).bp)


def _register_file_contributions(app: Flask) -> None:
    from app.households.file_registry import EXTENSION, FileRegistry

    registry = FileRegistry()
    for module_name in FILE_CONTRIBUTIONS:
        import_module(module_name).register(registry)
    app.extensions[EXTENSION] = registry
