"""Shared form helpers: French messages for WTForms' built-in errors, the version field, the
one-time submission key of create forms, the number and date fields that enforce the
plausible bounds of ``app/bounds.py``, and the one view pattern of every POST (``submit``,
``press``, ``commit_service``: one service call, one commit, a flash, a redirect).

Forms import ``DateField``, ``IntegerField`` and ``EuroField`` from here, never from WTForms
(a test checks it), so that no typed value reaches a service beyond its bounds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import flash, redirect
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms import DateField as _DateField
from wtforms import DecimalField, HiddenField, SelectMultipleField
from wtforms import IntegerField as _IntegerField
from wtforms.csrf.core import CSRFTokenField as _WTFormsCSRFTokenField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from app import bounds
from app.db import db
from app.errors import DomainError
from app.submissions import new_submission_key, remember_submission_key


class CSRFTokenField(_WTFormsCSRFTokenField):
    """The CSRF token input without ``id="csrf_token"``: a page with several forms (a list
    with a button per row) would repeat that id, which HTML forbids; nothing refers to it.
    Same class name as WTForms' field: templates skip fields whose ``type`` is that name."""

    def __call__(self, **kwargs):
        kwargs.setdefault("id", False)  # WTForms leaves out an attribute whose value is False
        return super().__call__(**kwargs)


class _Csrf(_FlaskFormCSRF):
    field_class = CSRFTokenField


# Every form of the app is a FlaskForm: they all get the token field above.
FlaskForm.Meta.csrf_class = _Csrf


class VersionedForm(FlaskForm):
    """An edit form carrying the version of the record it was opened on.

    The field is not called ``version``: a form built with ``obj=record`` would then fill it
    from the record whenever a request omits it, and the stale-edit check would pass.
    """

    expected_version = HiddenField()


class OnceForm(FlaskForm):
    """A form that creates something: it carries a one-time submission key, drawn when the
    form is rendered. Once the creation commits, the key is recorded with the page it led to
    (``app.submissions``); the same form posted again (a double tap, a reloaded POST) then
    creates nothing and leads to that page. Edit forms shared with the creation (``obj=``)
    may carry it too: an edit posted twice is refused as stale anyway."""

    submission_key = HiddenField(default=new_submission_key)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        remember_submission_key(self.submission_key.data)
        return True


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to its field when it names one, else as a flash."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def options(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """The options of a select, radio or checkbox field from ``(value, label)`` pairs (the
    shape of our enums' ``choices()``): WTForms 3.3 deprecates tuples as declared choices and
    3.4 drops them, so fields declare ``SelectChoice`` objects."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (usable without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EuroField(DecimalField):
    """An amount in euros typed the French way: ``1 234,56`` (comma, spaces) or ``1234.56``.

    ``kind`` (``bounds.MONEY`` by default, stored in cents; ``bounds.SURFACE`` with
    ``cents=False`` for m²) caps the size: a number beyond it in either direction is refused
    here with the kind's message. The sign is the service's rule (it refuses a negative rent
    with its own message)."""

    def __init__(self, label=None, validators=None, *, kind=bounds.MONEY, cents=True, **kwargs):
        kwargs.setdefault("places", 2)
        self.kind, self.cents = kind, cents
        render_kw = {"inputmode": "decimal", "autocomplete": "off", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0]:
            raw = valuelist[0].replace("\u202f", "").replace("\xa0", "").replace(" ", "")
            raw = raw.removesuffix("€").replace(",", ".")
            try:
                self.data = Decimal(raw)
            except InvalidOperation as error:
                self.data = None
                raise ValueError(
                    "Indiquez un montant en euros, par exemple 450 ou 1 234,56."
                ) from error
            if not self.data.is_finite():
                self.data = None
                raise ValueError("Indiquez un montant en euros, par exemple 450 ou 1 234,56.")
            # Compared before any conversion: 1e309 is a finite Decimal that cannot be rounded.
            ceiling = Decimal(self.kind.high) / 100 if self.cents else Decimal(self.kind.high)
            if abs(self.data) > ceiling:
                self.data = None
                raise ValueError(self.kind.message)
        else:
            self.data = None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        # A type=number input only holds a valid floating-point number ("1550.00"): the
        # browser shows it the French way; "1550,00" would be dropped and the field left empty.
        return f"{self.data:.2f}"


class DateField(_DateField):
    """A ``type=date`` input: a French message when unreadable, and only dates between 1900
    and 2100 (``bounds.DATE_MIN``..``DATE_MAX``); finer rules (not in the future, within two
    years) are the services' (``bounds.check_date``, ``bounds.check_planned``)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Indiquez une date valide (jj/mm/aaaa).") from error
        if not bounds.date_in_window(self.data):
            self.data = None
            raise ValueError(bounds.DATE_MESSAGE)


class IntegerField(_IntegerField):
    """A whole number; ``kind`` (``bounds.COUNT`` by default) refuses one beyond its range, so
    a 24-digit number never reaches a 32-bit column."""

    def __init__(self, label=None, validators=None, *, kind: bounds.Bounds = bounds.COUNT, **kw):
        self.kind = kind
        super().__init__(label, validators, **kw)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Indiquez un nombre entier, par exemple 12.") from error
        if self.data is not None and not self.kind.contains(self.data):
            self.data = None
            raise ValueError(self.kind.message)


def coerce_id(value) -> int:
    """Coerce a select or hidden field holding an id; anything that cannot be an id becomes
    0 ("— Choisir —"), which the form or the service refuses."""
    return bounds.id_or_none(value) or 0


def euros_to_cents(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 100).quantize(Decimal(1)))


def cents_to_euros(cents: int | None) -> Decimal | None:
    return None if cents is None else Decimal(cents) / 100


def strip_or_none(value):
    """Form filter: trim text and turn an empty answer into None."""
    if isinstance(value, str):
        value = value.strip()
    return value or None


# --- the one view pattern ---------------------------------------------------------------------
#
# Every POST view loads its records in scope, then hands ONE service call to one of these:
# ``submit`` for a form shown again on a refusal, ``press`` for a button that flashes and goes
# back. They commit once, flash, redirect; a ``DomainError`` (a stale edit lost at the commit
# included) rolls back and is shown on its field or flashed. Views never commit themselves
# (``tests/test_view_pattern.py`` checks it).

EXPIRED = "Le formulaire a expiré. Rechargez la page et recommencez."

Message = str | tuple[str, str] | None
Target = str | Callable[[Any], str] | None


def submit(
    form,
    action: Callable[[], object],
    message: Message | Callable[[Any], Message],
    redirect_to: Target,
    *,
    then: Callable[[Any], object] | None = None,
    page: Callable[[Any], Any] | None = None,
):
    """A form's POST: validate ``form``, run the service ``action``, commit, flash, redirect.
    On a refusal roll back and show the message beside its field (or flashed). Returns None
    when the form must be shown (GET, invalid or refused): the view then renders it."""
    if not form.validate_on_submit():
        return None
    return commit_service(action, message, redirect_to, form=form, then=then, page=page)


def press(
    form,
    action: Callable[[], object],
    message: Message | Callable[[Any], Message],
    redirect_to: Target,
    *,
    refused_to: str | None = None,
    invalid: str | Callable[[Any], str] | None = EXPIRED,
    then: Callable[[Any], object] | None = None,
    page: Callable[[Any], Any] | None = None,
):
    """A button's POST: check ``form`` (its CSRF token, a version, a choice), run the service
    ``action``, commit, flash, redirect. An invalid form flashes ``invalid`` (none when None),
    a refusal flashes its message; both go to ``refused_to`` (default ``redirect_to``)."""
    if not form.validate_on_submit():
        if invalid:
            flash(invalid(form) if callable(invalid) else invalid, "error")
        return redirect(_refusal_target(redirect_to, refused_to))
    return commit_service(action, message, redirect_to, refused_to=refused_to, then=then, page=page)


def commit_service(
    action: Callable[[], object],
    message: Message | Callable[[Any], Message],
    redirect_to: Target,
    *,
    form=None,
    refused_to: str | None = None,
    then: Callable[[Any], object] | None = None,
    page: Callable[[Any], Any] | None = None,
):
    """The shared core, for a view that validated its form itself: run ``action`` (one
    service call), commit, run ``then(result)`` (session changes that follow a commit), flash
    ``message`` (``"text"``, ``("text", "category")`` or a function of the service's result;
    category "success" by default; nothing when None) and redirect to ``redirect_to`` (a URL
    or a function of the result). With ``page`` (a function of the result), its response is
    answered instead of a redirect: what is shown once and never put in a URL (a temporary
    password, recovery codes); ``redirect_to`` may then be None.

    A ``DomainError`` — raised by the service, or a race lost at the commit
    (``StaleEditError``) — rolls back; with ``form`` it is shown on its field and None is
    returned (the view renders the form), else it is flashed and the request goes to
    ``refused_to`` (default ``redirect_to``)."""
    try:
        result = action()
        text = message(result) if callable(message) else message
        db.session.commit()  # inside: a race lost at the commit is a StaleEditError too
    except DomainError as error:
        db.session.rollback()
        if form is not None:
            apply_domain_error(form, error)
            return None
        flash(error.message, "error")
        return redirect(_refusal_target(redirect_to, refused_to))
    if then is not None:
        then(result)
    if isinstance(text, tuple):
        flash(*text)
    elif text:
        flash(text, "success")
    if page is not None:
        return page(result)
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def _refusal_target(redirect_to: Target, refused_to: str | None) -> str:
    if refused_to is not None:
        return refused_to
    if not isinstance(redirect_to, str):
        raise TypeError("press(): without a fixed redirect_to, say where a refusal goes")
    return redirect_to
