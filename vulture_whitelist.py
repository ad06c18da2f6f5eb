"""What the dead-code check (``make lint``, scripts/dead_code.py) must not report: code that is
called, but by name or by a framework, where vulture cannot see the call. Each entry says who
calls it. Code that nothing calls is deleted, not listed here. (This file is read by vulture,
never run; importing it checks that every entry still exists.)"""

from app.backups.jobs import nightly
from app.cli import _AncrageGroup
from app.clock import FixedClock
from app.db import UtcDateTime
from app.errors import CommandError
from app.evaluation.money import cofinancing
from app.evaluation.tables import EvaluationScope
from app.households.queries import path_header_alerts
from app.housing.jobs import remove_staged_imports
from app.housing.queries import TenancyDetail
from app.reminders.services import notify_partner_correction, notify_project_access
from app.reports.forms import PeriodForm
from app.retention.jobs import anonymise_closed_files
from app.users.models import User

CALLED_BY_NAME = (
    # Scheduler jobs: app.scheduler.JOBS names them "module:function".
    nightly,
    anonymise_closed_files,
    remove_staged_imports,
    # The household file's header provider, named "module:function" in
    # app.households.queries.
    path_header_alerts,
    # Listeners named "module:function" in app.users.services and app.partners.services.
    notify_project_access,
    notify_partner_correction,
    # Evaluation providers, registered by @provider and called by app.evaluation.tables.collect.
    cofinancing,
    # The previous year's scope, for the bilan's year-on-year comparison (app/evaluation).
    EvaluationScope.previous_year,
    # Templates: templates/housing/household.html.
    TenancyDetail.bar_width,
)

CALLED_BY_A_FRAMEWORK = (
    UtcDateTime.process_bind_param,  # SQLAlchemy TypeDecorator hooks
    UtcDateTime.process_result_value,
    User.__mapper_args__,  # SQLAlchemy declarative (VersionedMixin)
    User.get_id,  # Flask-Login
    CommandError.show,  # click, to print a ClickException
    PeriodForm.Meta,  # WTForms: form options
    PeriodForm.validate_fin,  # WTForms: inline validator of the field "fin"
)

SET_BY_CONFIGURATION = (
    # The CLOCK setting of an instance config (tests, and an operator replaying a day) holds
    # a FixedClock; the scheduler-process tests write it into the instance folder.
    FixedClock,
    FixedClock.advance,
)

# The JSON API (app/api): flask-smorest and Flask call the views of its blueprints (``@blp``,
# ``@docs``) by their routes; flask-smorest calls ``_register_error_handlers`` at init.
from app.api import v1 as _api_v1  # noqa: E402
from app.api.rest import AncrageApi  # noqa: E402

CALLED_BY_THE_API_FRAMEWORK = (
    _api_v1.post_rent_lines,
    _api_v1.get_tenancies,
    _api_v1.openapi_json,
    AncrageApi._register_error_handlers,
    _AncrageGroup._load_plugin_commands,  # called by click's FlaskGroup
)

# SQLAlchemy calls a ``@validates`` method whenever the attribute is set.
from app.housing.models import Occupancy  # noqa: E402

CALLED_BY_SQLALCHEMY_VALIDATES = (Occupancy._keep_reference_key,)

# SQLAlchemy calls the ``@validates`` methods of a model when the column is set.
from app.documents.models import Document  # noqa: E402

CALLED_BY_SQLALCHEMY = (Document._derive_audience,)

# Evaluation providers: ``@provider`` registers them; app.evaluation.tables.collect calls
# every registered provider.
from app.evaluation.axes import axes as _evaluation_axes  # noqa: E402
from app.evaluation.outcomes import outcomes as _evaluation_outcomes  # noqa: E402

CALLED_BY_THE_EVALUATION_REGISTRY = (_evaluation_outcomes, _evaluation_axes)
