from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.api.models import SCOPE_LABELS
from app.forms import DateField, MultiCheckboxField, OnceForm, coerce_id, options


class ApiClientForm(OnceForm):
    name = StringField(
        "Nom du client",
        description="Par exemple : logiciel de gestion locative (production).",
        validators=[
            DataRequired("Donnez un nom au client."),
            Length(max=80, message="80 caractères au plus."),
        ],
    )
    organisation_id = SelectField(
        "Bailleur", coerce=coerce_id, validators=[DataRequired("Choisissez le bailleur.")]
    )
    scopes = MultiCheckboxField(
        "Droits", choices=options([(s.value, label) for s, label in SCOPE_LABELS.items()])
    )
    expires_on = DateField("Expire le", validators=[DataRequired("Indiquez l'expiration.")])


class RevokeForm(FlaskForm):
    pass
