from wtforms import EmailField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.forms import OnceForm, VersionedForm, options
from app.organisations.models import OrganisationKind


class OrganisationForm(OnceForm, VersionedForm):
    name = StringField(
        "Nom",
        validators=[
            DataRequired("Indiquez le nom de l'organisation."),
            Length(max=160, message="160 caractères au plus."),
        ],
    )
    kind = SelectField(
        "Type",
        choices=options([(k.value, k.label) for k in OrganisationKind]),
        validators=[DataRequired("Choisissez le type d'organisation.")],
        # Every option is a real answer (no placeholder): HTML allows ``required`` on a select
        # only when its first option is an empty placeholder.
        render_kw={"required": False},
    )
    city = StringField(
        "Ville",
        validators=[Optional(), Length(max=120, message="120 caractères au plus.")],
        filters=[lambda v: v.strip() if v else None],
    )
    email = EmailField(
        "E-mail de contact",
        validators=[
            Optional(),
            Length(max=254, message="L'adresse est trop longue."),
            Email("Cette adresse e-mail n'est pas valide.", check_deliverability=False),
        ],
        filters=[lambda v: v.strip().lower() if v else None],
    )
    phone = TelField(
        "Téléphone",
        validators=[Optional(), Length(max=30, message="30 caractères au plus.")],
        filters=[lambda v: v.strip() if v else None],
    )
