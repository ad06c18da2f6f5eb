"""Shared form helpers: French messages for WTForms' built-in errors, the version field."""

from __future__ import annotations

from decimal import Decimal

from flask import flash
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from app.errors import DomainError


class VersionedForm(FlaskForm):
    """An edit form carrying the version of the record it was opened on.

    The field is not called ``version``: a form built with ``obj=record`` would then fill it
    from the record whenever a request omits it, and the stale-edit check would pass.
    """

    expected_version = HiddenField()


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to its field when it names one, else as a flash."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (usable without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def euros_to_cents(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 100).quantize(Decimal(1)))


def cents_to_euros(cents: int | None) -> Decimal | None:
    return None if cents is None else Decimal(cents) / 100


def strip_or_none(value):
    """Form filter: trim text and turn an empty answer into None."""
    if isinstance(value, str):
        value = value.strip()
    return value or None
