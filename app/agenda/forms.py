"""The appointment form and the buttons of an appointment. Forms check the shape of the input;
the rules (not in the past, within two years, a place for « autre lieu ») are the services'."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, Optional

from app import bounds
from app.agenda.models import AppointmentMode, AppointmentWith
from app.forms import DateField, IntegerField, OnceForm, coerce_id, options, strip_or_none


class _TimeField(TimeField):
    """``hh:mm``, refused in French when unreadable."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(TIME_MESSAGE) from error


TIME_MESSAGE = "Indiquez une heure valide (hh:mm)."


class AppointmentForm(OnceForm):
    household_id = SelectField(
        "Ménage", coerce=coerce_id, validators=[InputRequired("Choisissez le ménage.")]
    )
    day = DateField("Date", validators=[InputRequired("Indiquez une date valide (jj/mm/aaaa).")])
    at = _TimeField("Heure", validators=[InputRequired(TIME_MESSAGE)])
    duration_minutes = IntegerField(
        "Durée (minutes)",
        default=60,
        validators=[InputRequired("Indiquez la durée en minutes.")],
        kind=bounds.DURATION,
    )
    mode = RadioField(
        "Lieu ou mode",
        choices=options(AppointmentMode.choices()),
        default=AppointmentMode.DOMICILE.value,
        validators=[InputRequired("Choisissez le lieu ou le mode du rendez-vous.")],
    )
    place = StringField(
        "Adresse ou précision du lieu",
        description="Obligatoire pour « Autre lieu ». Facultatif sinon.",
        validators=[Optional(), Length(max=200, message="200 caractères au plus.")],
        filters=[strip_or_none],
    )
    with_whom = RadioField(
        "Avec qui",
        choices=options(AppointmentWith.choices()),
        default=AppointmentWith.MENAGE.value,
        validators=[InputRequired("Choisissez avec qui a lieu le rendez-vous.")],
    )
    for_user_id = SelectField("Dans l'agenda de", coerce=coerce_id, validators=[Optional()])
    note = TextAreaField(
        "Note de l'équipe",
        description="Réservée à l'équipe d'accompagnement : objet du rendez-vous, à préparer.",
        validators=[Optional(), Length(max=2000, message="2000 caractères au plus.")],
        filters=[strip_or_none],
    )


class AppointmentButtonForm(FlaskForm):
    """« Non honoré » and « Annuler »: one tap, guarded by the version the page showed."""

    expected_version = HiddenField()
