"""Forms of the Documents tab. The file inputs are read by the view (``request.files``):
their content is checked by ``app.documents.content``, never by the form."""

from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import DateField, OnceForm, VersionedForm, strip_or_none

TITLE_HINT = "Facultatif : le nom du fichier sinon. Par exemple « Attestation CAF mars 2026 »."


class UploadForm(OnceForm):
    """Carries a one-time submission key: the same upload posted twice records once."""

    category = SelectField("Catégorie", validators=[DataRequired("Choisissez une catégorie.")])
    title = StringField(
        "Titre",
        description=TITLE_HINT,
        validators=[Optional(), Length(max=200, message="200 caractères au plus.")],
        filters=[strip_or_none],
    )
    document_on = DateField("Date du document", validators=[Optional()])
    valid_until = DateField(
        "Valable jusqu'au",
        description="Pour une attestation d'assurance, un titre de séjour…",
        validators=[Optional()],
    )
    link = SelectField("Justifie", validators=[Optional()], default="")

    def setup(self, categories, links) -> UploadForm:
        self.category.choices = [("", "— Choisir —")] + [(c.value, c.label) for c in categories]
        self.link.choices = [("", "— Rien en particulier —"), *links]
        return self


class ReplaceForm(VersionedForm):
    title = StringField(
        "Titre",
        validators=[Optional(), Length(max=200, message="200 caractères au plus.")],
        filters=[strip_or_none],
    )
    document_on = DateField("Date du document", validators=[Optional()])
    valid_until = DateField("Valable jusqu'au", validators=[Optional()])


class DeleteForm(VersionedForm):
    reason = TextAreaField(
        "Raison de la suppression",
        validators=[
            DataRequired("Indiquez la raison de la suppression."),
            Length(max=500, message="500 caractères au plus."),
        ],
        filters=[strip_or_none],
    )
