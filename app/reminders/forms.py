"""Reminder forms: they check the shape of the input; the rules live in ``services.py``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import DateField, IntegerField, OnceForm, strip_or_none
from app.reminders.models import SETTINGS

DATE_MESSAGE = "Indiquez une date valide (jj/mm/aaaa)."


class ManualReminderForm(OnceForm):
    title = StringField(
        "Ce qu'il faudra faire",
        validators=[
            InputRequired("Indiquez ce qu'il faudra faire."),
            Length(max=200, message="200 caractères au plus."),
        ],
        filters=[strip_or_none],
        description="Restez factuel : pas d'information de santé ni de détail personnel.",
    )
    due_on = DateField("Date du rappel", validators=[InputRequired(DATE_MESSAGE)])


class DoneForm(FlaskForm):
    note = TextAreaField(
        "Note (facultative)",
        validators=[Optional(), Length(max=1000, message="1000 caractères au plus.")],
        filters=[strip_or_none],
    )
    # Where to go back to: the inbox, or the household's tab.
    back = HiddenField()


class BulkDoneForm(FlaskForm):
    """Several reminders marked done at once (the ticked ``ids`` are read by the view)."""

    note = TextAreaField(
        "Note pour les rappels cochés (facultative)",
        validators=[Optional(), Length(max=1000, message="1000 caractères au plus.")],
        filters=[strip_or_none],
    )


class PostponeForm(FlaskForm):
    new_date = DateField("Nouvelle date", validators=[InputRequired(DATE_MESSAGE)])
    reason = TextAreaField(
        "Motif du report",
        validators=[
            InputRequired("Indiquez pourquoi le rappel est reporté."),
            Length(max=1000, message="1000 caractères au plus."),
        ],
        filters=[strip_or_none],
    )
    back = HiddenField()


class EmptyForm(FlaskForm):
    """A button that changes data: CSRF only."""


def settings_form(current: dict[str, int]) -> FlaskForm:
    """One number field per threshold of ``SETTINGS``, prefilled with what is in force."""

    class SettingsForm(FlaskForm):
        pass

    for spec in SETTINGS:
        setattr(
            SettingsForm,
            spec.key,
            IntegerField(
                spec.label,
                default=current[spec.key],
                description=f"De {spec.minimum} à {spec.maximum} ({spec.unit}). "
                f"Par défaut : {spec.default}.",
                validators=[
                    InputRequired("Indiquez un nombre entier."),
                    NumberRange(
                        spec.minimum,
                        spec.maximum,
                        message=f"Entre {spec.minimum} et {spec.maximum}.",
                    ),
                ],
                render_kw={"inputmode": "numeric"},
            ),
        )
    return SettingsForm()
