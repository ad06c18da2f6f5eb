from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import (
    DateField,
    EuroField,
    IntegerField,
    MultiCheckboxField,
    OnceForm,
    VersionedForm,
    coerce_id,
    options,
)
from app.projects.models import FundingCall, TargetPublic


class ProjectForm(OnceForm, VersionedForm):
    name = StringField(
        "Nom du projet",
        validators=[
            DataRequired("Indiquez le nom du projet."),
            Length(max=160, message="160 caractères au plus."),
        ],
    )
    territory = StringField(
        "Territoire",
        description="Par exemple : Métropole de Lyon, Seine-Saint-Denis.",
        validators=[
            DataRequired("Indiquez le territoire."),
            Length(max=160, message="160 caractères au plus."),
        ],
    )
    lead_landlord_id = SelectField(
        "Bailleur chef de file",
        coerce=coerce_id,
        validators=[DataRequired("Choisissez le bailleur chef de file.")],
    )
    partner_ids = MultiCheckboxField("Organisations partenaires", coerce=int)
    funding_call = SelectField(
        "Appel à projets / financement", choices=options([(c.value, c.label) for c in FundingCall])
    )
    convention_start_on = DateField("Début de la convention", validators=[Optional()])
    convention_end_on = DateField("Fin de la convention", validators=[Optional()])
    target_households = IntegerField(
        "Nombre de ménages visé",
        validators=[
            Optional(),
            NumberRange(min=0, max=100000, message="Indiquez un nombre entre 0 et 100 000."),
        ],
    )
    grant_euros = EuroField(
        "Subvention (€)",
        validators=[
            Optional(),
            NumberRange(min=0, max=100_000_000, message="Indiquez un montant positif."),
        ],
    )
    target_publics = MultiCheckboxField(
        "Publics cibles", choices=options([(t.value, t.label) for t in TargetPublic])
    )
