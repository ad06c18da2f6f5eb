"""Forms of the coordination pages: the indicators' period (a GET form) and the
reassignment of households."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.forms import DateField, coerce_id, strip_or_none
from app.reports.services import REASON_MAX


class PeriodForm(FlaskForm):
    """Read from the query string; nothing is written, so no CSRF token."""

    class Meta:
        csrf = False

    projet = SelectField("Projet", choices=[], validate_choice=False, default="")
    debut = DateField("Du", validators=[DataRequired("Indiquez la date de début de la période.")])
    fin = DateField("Au", validators=[DataRequired("Indiquez la date de fin de la période.")])

    def validate_fin(self, field):
        if field.data and self.debut.data and field.data < self.debut.data:
            raise ValidationError(
                "La date de fin doit être le même jour que la date de début ou après."
            )


class ReassignForm(FlaskForm):
    """The households are the ticked ``household_ids`` checkboxes of the list above the form
    (read with ``request.form.getlist``); the hidden fields bring the user back to that list.
    """

    new_referent_id = SelectField(
        "Nouveau ou nouvelle référent·e",
        coerce=coerce_id,
        choices=[],
        validate_choice=False,
        validators=[DataRequired("Choisissez le ou la nouvelle référent·e.")],
    )
    reason = StringField(
        "Motif de la réaffectation",
        filters=[strip_or_none],
        validators=[
            DataRequired("Indiquez le motif de la réaffectation."),
            Length(max=REASON_MAX, message=f"{REASON_MAX} caractères au plus."),
        ],
        description="Par exemple : rééquilibrage des portefeuilles, départ en congé. "
        "N'écrivez rien sur la situation des ménages : ce motif est conservé dans le journal.",
    )
    source = HiddenField(validators=[Optional()])
    projet = HiddenField(validators=[Optional()])
    indicateur = HiddenField(validators=[Optional()])
    referent = HiddenField(validators=[Optional()])
    jours = HiddenField(validators=[Optional()])
    page = HiddenField(validators=[Optional()])
