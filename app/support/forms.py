"""Forms of the support tab and of the intensity levels. Forms check the shape of the input;
the rules live in ``services.py``."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DecimalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import bounds
from app.forms import (
    DateField,
    IntegerField,
    OnceForm,
    VersionedForm,
    coerce_id,
    options,
    strip_or_none,
)
from app.households.models import SupportDomain
from app.support.models import (
    ExitReason,
    HousingAtExit,
    MeasureType,
    ObjectiveStatus,
    ReviewKind,
)

DATE_MESSAGE = "Indiquez une date valide (jj/mm/aaaa)."


def _date(label: str, *, required: bool = True, description: str = "") -> DateField:
    validators = [InputRequired(DATE_MESSAGE)] if required else [Optional()]
    return DateField(label, validators=validators, description=description)


def _text(label: str, description: str = "", *, required: str | None = None) -> TextAreaField:
    validators = [DataRequired(required)] if required else [Optional()]
    return TextAreaField(
        label,
        description=description,
        validators=[*validators, Length(max=5000, message="5000 caractères au plus.")],
        filters=[strip_or_none],
    )


class _Decimal(DecimalField):
    def process_formdata(self, valuelist):
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].replace(",", ".").strip()]
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Indiquez un nombre, par exemple 1,5.") from error
        if self.data is not None and not bounds.WEIGHT.contains(self.data):
            self.data = None  # NaN, Infinity, 1e309: never compared, never stored
            raise ValueError(bounds.WEIGHT.message)


class IntensityLevelForm(OnceForm, VersionedForm):
    # Creation only: a level belongs to one project for good (the edit form drops it).
    project_id = SelectField(
        "Projet", coerce=coerce_id, validators=[DataRequired("Choisissez le projet.")]
    )
    name = StringField(
        "Nom du niveau",
        validators=[DataRequired("Indiquez le nom du niveau."), Length(max=60)],
        filters=[strip_or_none],
    )
    contact_every_days = IntegerField(
        "Un contact attendu tous les … jours",
        description="Par exemple 7 pour un contact par semaine.",
        validators=[InputRequired("Indiquez le rythme de contact.")],
        kind=bounds.CONTACT_DAYS,
    )
    caseload_weight = _Decimal(
        "Poids dans la file active",
        description="Un ménage à ce niveau compte pour ce nombre de ménages (par exemple 1,5).",
        places=1,
        validators=[InputRequired("Indiquez le poids.")],
    )
    is_active = BooleanField("Niveau proposé pour les nouvelles mesures", default=True)


class MeasureForm(OnceForm):
    type = SelectField("Type de mesure", choices=options(MeasureType.choices()))
    type_detail = StringField(
        "Précision",
        description="Seulement pour « Autre mesure ».",
        validators=[Optional(), Length(max=120)],
        filters=[strip_or_none],
    )
    intensity_level_id = SelectField("Intensité", coerce=int)
    start_on = _date("Début")
    planned_end_on = _date("Fin prévue")


class RenewalForm(VersionedForm):
    new_end_on = _date("Nouvelle date de fin")
    justification = _text(
        "Justification",
        "Pourquoi l'accompagnement doit-il se poursuivre ?",
        required="Le renouvellement doit être justifié.",
    )


class IntensityChangeForm(VersionedForm):
    intensity_level_id = SelectField("Nouvelle intensité", coerce=int)
    changed_on = _date("Date du changement")
    reason = _text("Motif")


class ObjectiveForm(OnceForm):
    domain = SelectField("Domaine", choices=options(SupportDomain.choices()))
    title = StringField(
        "Objectif",
        description="Par exemple : constituer le dossier FSL.",
        validators=[DataRequired("Décrivez l'objectif en quelques mots."), Length(max=200)],
        filters=[strip_or_none],
    )
    status = SelectField("Statut", choices=options(ObjectiveStatus.choices()), default="a_engager")
    set_on = _date("Fixé le")


class ObjectiveUpdateForm(VersionedForm):
    status = SelectField("Statut", choices=options(ObjectiveStatus.choices()))
    comment = _text("Avancée", "Ce qui a été fait, ce qui bloque.")
    on = _date("Date")


class ReviewForm(OnceForm):
    kind = SelectField("Type de bilan", choices=options(ReviewKind.choices()))
    held_on = _date("Date du bilan")
    summary = _text("Synthèse", "Réservée à l'équipe d'accompagnement et aux coordinateurs.")


def review_form(objectives) -> ReviewForm:
    """A review form with a status and a comment for each objective of the household."""

    class Form(ReviewForm):
        pass

    for objective in objectives:
        setattr(
            Form,
            f"status_{objective.id}",
            SelectField(
                "Statut", choices=options(ObjectiveStatus.choices()), default=objective.status
            ),
        )
        setattr(
            Form,
            f"comment_{objective.id}",
            TextAreaField(
                "Avancée", validators=[Optional(), Length(max=2000)], filters=[strip_or_none]
            ),
        )
    return Form()


class ExitForm(VersionedForm):
    exit_on = _date("Date de sortie")
    reason = SelectField("Motif de sortie", choices=options(ExitReason.choices()))
    housing_situation = SelectField(
        "Situation de logement à la sortie", choices=options(HousingAtExit.choices())
    )
    is_lease_glissed = BooleanField("Le bail a glissé au nom du ménage")
    handover = _text(
        "Relais vers le droit commun",
        "Services qui prennent le relais (CCAS, Département, CMP…) et ce qui a été transmis.",
    )


YES_NO = [("oui", "Oui"), ("non", "Non")]


class PostExitCheckForm(VersionedForm):
    done_on = _date("Date de la vérification")
    is_still_housed = RadioField(
        "Le ménage est-il toujours logé ?",
        choices=options(YES_NO),
        validators=[InputRequired("Indiquez si le ménage est toujours logé.")],
    )
    is_rent_up_to_date = RadioField(
        "Le loyer est-il à jour ?",
        choices=options([*YES_NO, ("inconnu", "Ne sait pas")]),
        validators=[InputRequired("Indiquez si le loyer est à jour.")],
    )
    comment = _text("Commentaire")
