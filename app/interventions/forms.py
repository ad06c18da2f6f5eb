"""The quick visit form (built for a phone) and the correction form. Forms check the shape of
the input; the rules (dates, consent, duration range) live in ``services.py``."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app import bounds
from app.forms import (
    DateField,
    IntegerField,
    MultiCheckboxField,
    OnceForm,
    VersionedForm,
    options,
    strip_or_none,
)
from app.households.models import SupportDomain
from app.interventions.models import DURATION_MAX, DURATION_MIN, InterventionMode

DATE_MESSAGE = "Indiquez une date valide (jj/mm/aaaa)."


def _text(label: str, description: str = "", max_length: int = 5000) -> TextAreaField:
    return TextAreaField(
        label,
        description=description,
        validators=[
            Optional(),
            Length(max=max_length, message=f"{max_length} caractères au plus."),
        ],
        filters=[strip_or_none],
    )


class _TextsMixin:
    note = _text(
        "Note de l'équipe",
        "Réservée à l'équipe d'accompagnement et aux coordinateurs. Écrivez des faits : le "
        "ménage peut demander une copie de son dossier.",
    )
    share_with_landlord = BooleanField("Partager un compte rendu avec le bailleur")
    shared_summary = _text(
        "Compte rendu pour le bailleur",
        "Quelques lignes sans information sociale ni de santé, lues par le personnel du bailleur.",
        max_length=1000,
    )
    next_action = StringField(
        "Prochaine action",
        description="Par exemple : rappeler la CAF, accompagner au rendez-vous FSL.",
        validators=[Optional(), Length(max=300, message="300 caractères au plus.")],
        filters=[strip_or_none],
    )
    next_action_on = DateField(
        "Date de la prochaine action",
        description="Elle vous reviendra en rappel ce jour-là ; sans date, une semaine après "
        "ce contact. Le prochain contact avec le ménage clôt le rappel.",
        validators=[Optional()],
    )


class VisitForm(_TextsMixin, OnceForm):
    occurred_on = DateField("Date", validators=[InputRequired(DATE_MESSAGE)])
    mode = RadioField(
        "Type de contact",
        choices=options(InterventionMode.choices()),
        default=InterventionMode.VISITE_DOMICILE.value,
        validators=[InputRequired("Choisissez le type de contact.")],
    )
    duration_minutes = IntegerField(
        "Durée (minutes)",
        description=f"Entre {DURATION_MIN} et {DURATION_MAX} minutes. Facultatif.",
        validators=[Optional()],
        kind=bounds.DURATION,
    )
    domains = MultiCheckboxField("Domaines abordés", choices=options(SupportDomain.choices()))
    # The planned appointment this visit records (« Noter la visite » in the agenda).
    appointment_id = HiddenField()


class CorrectionForm(_TextsMixin, VersionedForm):
    pass
