"""Household forms: labels, hints and French messages; the rules themselves live in
``services.py`` (forms only check the shape of the input)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import (
    DateField,
    EuroField,
    MultiCheckboxField,
    OnceForm,
    VersionedForm,
    coerce_id,
    options,
    strip_or_none,
)
from app.households.models import (
    DIAGNOSTIC_AXES,
    DiagnosticLevel,
    HouseholdStage,
    IncomeSource,
    MemberRelation,
    OrientationKind,
    Prescriber,
    SupportDomain,
)
from app.projects.models import TargetPublic

DATE_MESSAGE = "Indiquez une date valide (jj/mm/aaaa)."


# An empty or odd answer (or one that cannot be an id) becomes 0 ("— Choisir —"), which the
# service refuses with a French message.
int_or_zero = coerce_id


class FrenchDateField(DateField):
    """A ``type=date`` input whose parse error says what to type (see app/forms.py)."""


def _date(label: str, *, required: bool = True, description: str = "") -> DateField:
    validators = [InputRequired(DATE_MESSAGE)] if required else [Optional()]
    return FrenchDateField(label, validators=validators, description=description)


def _name(label: str) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(f"Indiquez le {label.lower()}."),
            Length(max=80, message="80 caractères au plus."),
        ],
        filters=[strip_or_none],
    )


def _text(label: str, max_length: int = 5000, description: str = "") -> TextAreaField:
    return TextAreaField(
        label,
        description=description,
        validators=[
            Optional(),
            Length(max=max_length, message=f"{max_length} caractères au plus."),
        ],
        filters=[strip_or_none],
    )


def _amount(label: str) -> EuroField:
    return EuroField(
        label,
        validators=[
            Optional(),
            NumberRange(min=0, max=1_000_000, message="Indiquez un montant positif."),
        ],
    )


class HouseholdCreateForm(OnceForm):
    # The service checks the project is one of the actor's, with its own message.
    project_id = SelectField("Projet", coerce=int_or_zero, validate_choice=False)
    head_first_name = _name("Prénom")
    head_last_name = _name("Nom")
    head_birth_on = _date("Date de naissance", required=False)
    phone = TelField(
        "Téléphone",
        validators=[Optional(), Length(max=30, message="30 caractères au plus.")],
        filters=[strip_or_none],
    )
    email = EmailField(
        "Adresse e-mail",
        validators=[Optional(), Length(max=254, message="L'adresse est trop longue.")],
        filters=[strip_or_none],
    )
    current_address = StringField(
        "Adresse actuelle",
        description="Là où le ménage peut être joint aujourd'hui (hébergement, logement…).",
        validators=[Optional(), Length(max=300, message="300 caractères au plus.")],
        filters=[strip_or_none],
    )
    referent_id = SelectField(
        "Référent·e",
        coerce=int_or_zero,
        description="Vous devenez référent·e si vous ne choisissez personne.",
    )
    # The situation the funder's indicators count: optional, asked from the start.
    target_publics = MultiCheckboxField(
        "Publics",
        choices=options([(t.value, t.label) for t in TargetPublic]),
        description="Informations sensibles : jamais montrées au bailleur.",
    )
    monthly_income_euros = _amount("Ressources mensuelles du ménage (€)")
    income_sources = MultiCheckboxField(
        "Sources de revenus", choices=options(IncomeSource.choices())
    )
    apl_euros = _amount("Montant mensuel de l'APL (€)")
    is_apl_paid_to_landlord = BooleanField("APL versée directement au bailleur (tiers payant)")
    debts_euros = _amount("Montant total des dettes (€)")
    has_overindebtedness_file = BooleanField("Dossier de surendettement déposé")


class SituationForm(VersionedForm):
    """The situation alone, from the file header: publics, resources, APL, debts."""

    target_publics = HouseholdCreateForm.target_publics
    monthly_income_euros = HouseholdCreateForm.monthly_income_euros
    income_sources = HouseholdCreateForm.income_sources
    apl_euros = HouseholdCreateForm.apl_euros
    is_apl_paid_to_landlord = HouseholdCreateForm.is_apl_paid_to_landlord
    debts_euros = HouseholdCreateForm.debts_euros
    has_overindebtedness_file = HouseholdCreateForm.has_overindebtedness_file


class HouseholdEditForm(SituationForm):
    phone = HouseholdCreateForm.phone
    email = HouseholdCreateForm.email
    current_address = HouseholdCreateForm.current_address
    difficulties = _text("Difficultés repérées", description="Des faits, sans jugement.")
    housing_application_number = StringField(
        "Numéro de la demande de logement social",
        description="Le numéro unique (NUR) figurant sur l'attestation d'enregistrement.",
        validators=[Optional(), Length(max=30, message="30 caractères au plus.")],
        filters=[strip_or_none],
    )
    housing_application_expires_on = DateField(
        "Date d'expiration de la demande",
        description="Un rappel est créé un mois avant pour la renouveler.",
        validators=[Optional()],
    )


class MemberForm(OnceForm, VersionedForm):
    first_name = _name("Prénom")
    last_name = _name("Nom")
    birth_on = _date("Date de naissance", required=False)
    relation = SelectField("Lien avec le ménage", choices=options(MemberRelation.choices()))
    is_head = BooleanField(
        "Chef de ménage",
        description="Une seule personne : la cocher ici la retire à l'ancien chef de ménage.",
    )


class OrientationForm(OnceForm):
    prescriber = SelectField("Prescripteur", choices=options(Prescriber.choices()))
    prescriber_detail = StringField(
        "Précision",
        description="Par exemple : SIAO du Rhône, commission du 12 mars.",
        validators=[Optional(), Length(max=160, message="160 caractères au plus.")],
        filters=[strip_or_none],
    )
    oriented_on = _date("Date d'orientation")
    kind = RadioField(
        "Type d'orientation",
        choices=options(OrientationKind.choices()),
        validators=[InputRequired("Choisissez accès ou maintien.")],
    )
    reason = _text("Motif de l'orientation")


def _diagnostic_fields():
    fields = {}
    for axis, label in DIAGNOSTIC_AXES.items():
        fields[f"{axis}_level"] = RadioField(
            label,
            choices=options(DiagnosticLevel.choices()),
            validators=[InputRequired("Choisissez un niveau.")],
        )
        fields[f"{axis}_comment"] = _text(f"Commentaire ({label.split(' (')[0]})", 2000)
    return fields


class DiagnosticForm(OnceForm):
    carried_out_on = _date("Date du diagnostic")
    needs = MultiCheckboxField("Besoins d'accompagnement", choices=options(SupportDomain.choices()))
    recommended_intensity = SelectField("Intensité recommandée")


for _name_, _field in _diagnostic_fields().items():
    setattr(DiagnosticForm, _name_, _field)


class AdhesionForm(OnceForm):
    signed_on = _date("Date de signature du contrat")
    objectives = TextAreaField(
        "Objectifs convenus avec le ménage",
        validators=[
            DataRequired("Indiquez les objectifs."),
            Length(max=5000, message="5000 caractères au plus."),
        ],
        filters=[strip_or_none],
    )


class ConsentForm(OnceForm):
    """The consent of one cell of the grid: the cell is in the URL, the form has its date."""

    given_on = _date("Date du consentement")


class WithdrawConsentForm(FlaskForm):
    withdrawn_on = _date("Date du retrait")


class StageForm(VersionedForm):
    to_stage = SelectField("Nouvelle étape", choices=options(HouseholdStage.choices()))
    on = _date("Date du changement")
    reason = _text(
        "Motif",
        description="Obligatoire pour revenir à une étape précédente.",
    )


class ReferentForm(VersionedForm):
    referent_id = SelectField("Référent·e", coerce=int_or_zero)


class TeamMemberForm(OnceForm):
    user_id = SelectField("Professionnel·le", coerce=int_or_zero)
