from wtforms import EmailField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.forms import (
    MultiCheckboxField,
    OnceForm,
    VersionedForm,
    coerce_id,
    options,
    strip_or_none,
)
from app.permissions import ROLE_LABELS


class UserForm(OnceForm, VersionedForm):
    full_name = StringField(
        "Prénom et nom",
        validators=[
            DataRequired("Indiquez le prénom et le nom."),
            Length(max=120, message="120 caractères au plus."),
        ],
    )
    email = EmailField(
        "Adresse e-mail professionnelle",
        validators=[
            DataRequired("Indiquez l'adresse e-mail."),
            Length(max=254, message="L'adresse est trop longue."),
            Email("Cette adresse e-mail n'est pas valide.", check_deliverability=False),
        ],
    )
    job_title = StringField(
        "Fonction",
        description="Par exemple : conseillère sociale, chargé de clientèle.",
        validators=[Optional(), Length(max=120, message="120 caractères au plus.")],
        filters=[strip_or_none],
    )
    phone = TelField(
        "Téléphone",
        validators=[Optional(), Length(max=30, message="30 caractères au plus.")],
        filters=[strip_or_none],
    )
    organisation_id = SelectField(
        "Organisation", coerce=coerce_id, validators=[DataRequired("Choisissez l'organisation.")]
    )
    roles = MultiCheckboxField(
        "Rôles", choices=options([(r.value, label) for r, label in ROLE_LABELS.items()])
    )
    project_ids = MultiCheckboxField("Projets", coerce=int)
