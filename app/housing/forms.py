"""Housing forms: labels, hints and French messages. The rules live in ``services.py``; forms
only check the shape of the input (so a negative rent reaches the service, which refuses it
with its own message)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import bounds
from app.forms import (
    DateField,
    EuroField,
    OnceForm,
    VersionedForm,
    coerce_id,
    options,
    strip_or_none,
)
from app.housing.models import (
    Funding,
    GlaActionKind,
    LeaseReviewDecision,
    LeaseType,
    ProcedureStageKind,
    RepaymentPlanStatus,
    Typology,
)

DATE_MESSAGE = "Indiquez une date valide (jj/mm/aaaa)."
CHOOSE = [("", "— Choisir —")]


def _date(label: str, *, required: bool = True, description: str = "") -> DateField:
    validators = [InputRequired(DATE_MESSAGE)] if required else [Optional()]
    return DateField(label, validators=validators, description=description)


def _text(label: str, max_length: int, description: str = "") -> StringField:
    return StringField(
        label,
        description=description,
        validators=[
            Optional(),
            Length(max=max_length, message=f"{max_length} caractères au plus."),
        ],
        filters=[strip_or_none],
    )


def _choice(label: str, choices, message: str) -> SelectField:
    return SelectField(label, choices=options(CHOOSE + choices), validators=[DataRequired(message)])


class DwellingForm(OnceForm, VersionedForm):
    landlord_id = SelectField(
        "Bailleur",
        coerce=int,
        validators=[DataRequired("Choisissez le bailleur.")],
        # No placeholder: the first landlord is a real answer, and HTML allows ``required`` on
        # a select only when its first option is an empty placeholder.
        render_kw={"required": False},
    )
    address = StringField(
        "Adresse",
        description="Numéro, rue, bâtiment, étage, porte.",
        validators=[
            DataRequired("Indiquez l'adresse."),
            Length(max=200, message="200 caractères au plus."),
        ],
        filters=[strip_or_none],
    )
    postal_code = StringField(
        "Code postal",
        validators=[DataRequired("Indiquez le code postal.")],
        filters=[strip_or_none],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    city = StringField(
        "Commune",
        validators=[
            DataRequired("Indiquez la commune."),
            Length(max=120, message="120 caractères au plus."),
        ],
        filters=[strip_or_none],
    )
    residence = _text("Résidence", 120, "Nom de la résidence ou du groupe, s'il y en a un.")
    landlord_reference = _text(
        "Référence du logement chez le bailleur", 40, "Facultatif, unique chez ce bailleur."
    )
    typology = _choice("Typologie", Typology.choices(), "Choisissez la typologie.")
    surface_m2 = EuroField(
        "Surface habitable (m²)", validators=[Optional()], kind=bounds.SURFACE, cents=False
    )
    funding = _choice("Financement", Funding.choices(), "Choisissez le financement.")
    rent = EuroField(
        "Loyer mensuel hors charges (€)", validators=[InputRequired("Indiquez le loyer.")]
    )
    charges = EuroField("Charges mensuelles (€)", validators=[Optional()])


class OccupancyForm(OnceForm):
    dwelling_id = SelectField(
        "Logement", coerce=coerce_id, validators=[DataRequired("Choisissez le logement.")]
    )
    lease_type = _choice("Type de bail", LeaseType.choices(), "Choisissez le type de bail.")
    start_on = _date("Début du bail")
    lease_reference = _text(
        "Référence du bail chez le bailleur",
        40,
        "Celle de l'extrait mensuel des comptes locataires : elle sert à l'import des impayés.",
    )
    glissement_target_on = _date(
        "Date cible du glissement",
        required=False,
        description="Bail glissant seulement : en général 18 à 24 mois après l'entrée.",
    )


class EndOccupancyForm(VersionedForm):
    end_on = _date("Fin du bail")
    end_reason = _text("Motif", 200, "Par exemple : mutation, départ volontaire, décès.")


class LeaseReviewForm(OnceForm):
    held_on = _date("Date du bilan")
    decision = _choice("Décision", LeaseReviewDecision.choices(), "Choisissez la décision.")
    comment = TextAreaField(
        "Relevé de décisions",
        description=(
            "Partagé avec le bailleur et le ménage : pas d'information sociale ni de santé."
        ),
        validators=[Optional(), Length(max=2000, message="2000 caractères au plus.")],
        filters=[strip_or_none],
    )
    next_review_on = _date(
        "Prochain bilan", required=False, description="Par défaut six mois plus tard."
    )


class GlissementForm(VersionedForm):
    glissed_on = _date("Date du glissement", description="Le bail direct commence ce jour-là.")
    lease_reference = _text(
        "Référence du nouveau bail", 40, "Laissez vide si la référence ne change pas."
    )


class GlaActionForm(OnceForm):
    kind = _choice("Action", GlaActionKind.choices(), "Choisissez le type d'action.")
    done_on = _date("Date")
    outcome = TextAreaField(
        "Résultat",
        description="Ce qui a été convenu ; pas d'information sociale ni de santé.",
        validators=[Optional(), Length(max=2000, message="2000 caractères au plus.")],
        filters=[strip_or_none],
    )


class RepaymentPlanForm(OnceForm):
    start_on = _date("Début du plan")
    monthly = EuroField(
        "Mensualité de remboursement (€)",
        description="En plus du loyer courant.",
        validators=[InputRequired("Indiquez la mensualité.")],
    )
    debt = EuroField("Dette à apurer (€)", validators=[Optional()])


class RepaymentPlanStatusForm(VersionedForm):
    status = _choice("Statut", RepaymentPlanStatus.choices(), "Choisissez le statut.")


class ProcedureStageForm(OnceForm):
    stage = _choice("Étape", ProcedureStageKind.choices(), "Choisissez l'étape.")
    occurred_on = _date("Date de l'étape")
    hearing_on = _date(
        "Date de l'audience",
        required=False,
        description="Connue à l'assignation : le diagnostic social et financier est dû avant.",
    )
    comment = _text("Précision", 300)


class ImportForm(FlaskForm):
    file = FileField(
        "Fichier de l'extrait mensuel",
        description="CSV (point-virgule, virgule ou tabulation) ou classeur Excel .xlsx.",
        render_kw={"accept": ".csv,.xlsx,text/csv"},
    )
    month = StringField(
        "Mois du compte",
        description="Facultatif si le fichier a une colonne « Mois ». Format AAAA-MM.",
        validators=[Optional()],
        filters=[strip_or_none],
        render_kw={"type": "month", "placeholder": "2026-03"},
    )


class ConfirmImportForm(FlaskForm):
    """The preview's "Importer" button: the month chosen and the mapping shown, carried
    as they were previewed (the file itself stays on the server, named by its hash)."""

    month = HiddenField(validators=[Optional()], filters=[strip_or_none])
    name = HiddenField(validators=[Optional(), Length(max=255)])
    mapping = HiddenField(validators=[Optional(), Length(max=500)])
