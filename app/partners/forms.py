"""Forms of the partner directory, referrals and tripartite meetings. The rules (consent,
known partner, dates) live in ``services.py``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from app.forms import DateField, OnceForm, VersionedForm, coerce_id, options, strip_or_none
from app.households.models import SupportDomain
from app.partners.models import PartnerDomain

DATE_MESSAGE = "Indiquez une date valide (jj/mm/aaaa)."


def _string(label: str, max_length: int, description: str = "", required: str | None = None):
    validators = [DataRequired(required)] if required else [Optional()]
    return StringField(
        label,
        description=description,
        validators=[
            *validators,
            Length(max=max_length, message=f"{max_length} caractères au plus."),
        ],
        filters=[strip_or_none],
    )


def _text(label: str, description: str = "", required: str | None = None) -> TextAreaField:
    validators = [DataRequired(required)] if required else [Optional()]
    return TextAreaField(
        label,
        description=description,
        validators=[*validators, Length(max=5000, message="5000 caractères au plus.")],
        filters=[strip_or_none],
    )


def _email(label: str) -> EmailField:
    return EmailField(
        label,
        validators=[
            Optional(),
            Length(max=254, message="L'adresse est trop longue."),
            Email("Cette adresse e-mail n'est pas valide.", check_deliverability=False),
        ],
        filters=[strip_or_none],
    )


class PartnerForm(OnceForm, VersionedForm):
    name = _string("Nom", 160, required="Indiquez le nom du partenaire.")
    domain = SelectField("Domaine", choices=options(PartnerDomain.choices()))
    kind = _string("Type de structure", 80, "Par exemple : CMP, Mission locale, SIAE.")
    address = _string("Adresse", 200)
    city = _string("Commune", 120)
    phone = TelField("Téléphone", validators=[Optional(), Length(max=30)], filters=[strip_or_none])
    email = _email("Adresse e-mail")
    notes = _text(
        "Informations pratiques",
        "Horaires, modalités d'orientation… Aucune information sur les ménages.",
    )
    is_active = BooleanField("Partenaire actif (proposé pour les orientations)", default=True)


class CorrectionForm(FlaskForm):
    message = TextAreaField(
        "Correction proposée",
        description="Par exemple : nouveau numéro de téléphone, structure fermée. "
        "Aucune information sur les ménages.",
        validators=[
            DataRequired("Indiquez la correction à proposer."),
            Length(max=1000, message="1000 caractères au plus."),
        ],
        filters=[strip_or_none],
    )


class ContactForm(OnceForm):
    full_name = _string("Prénom et nom", 120, required="Indiquez le nom du contact.")
    job_title = _string("Fonction", 120)
    phone = TelField("Téléphone", validators=[Optional(), Length(max=30)], filters=[strip_or_none])
    email = _email("Adresse e-mail")


class ReferralForm(OnceForm):
    # Choices are checked by the service, which explains an unknown partner in plain words.
    partner_id = SelectField("Partenaire", coerce=coerce_id, validate_choice=False)
    domain = SelectField("Domaine", choices=options(SupportDomain.choices()))
    reason = _text(
        "Motif de l'orientation",
        "Ce que vous demandez au partenaire ; le strict nécessaire.",
        required="Indiquez le motif de l'orientation.",
    )
    referred_on = DateField("Date", validators=[InputRequired(DATE_MESSAGE)])


class ReferralStatusForm(VersionedForm):
    status = SelectField("Nouveau statut")
    on = DateField("Date", validators=[InputRequired(DATE_MESSAGE)])
    comment = _text("Commentaire ou résultat")


class MeetingForm(OnceForm):
    held_on = DateField(
        "Date de la réunion",
        description="Une date à venir enregistre une réunion prévue.",
        validators=[InputRequired(DATE_MESSAGE)],
    )
    attendees = _text(
        "Participants",
        "Par exemple : Mme Durand, la gestionnaire du bailleur, la référente.",
        required="Indiquez les participants.",
    )
    decisions = _text(
        "Décisions",
        "Lues par le bailleur : aucune information sociale ni de santé.",
    )
    next_meeting_on = DateField("Prochaine réunion", validators=[Optional()])
