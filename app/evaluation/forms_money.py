"""Forms of a project's budget lines and places, and of a household's financial aid. The
rules (amounts, dates, decisions) live in ``app/evaluation/money.py``."""

from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.evaluation.models import AidKind, AidStatus, Funder
from app.forms import (
    DateField,
    EuroField,
    IntegerField,
    OnceForm,
    VersionedForm,
    options,
    strip_or_none,
)

DATE_MESSAGE = "Indiquez une date valide (jj/mm/aaaa)."


def _label(label: str, description: str) -> StringField:
    return StringField(
        label,
        description=description,
        validators=[Optional(), Length(max=160, message="160 caractères au plus.")],
        filters=[strip_or_none],
    )


def _note() -> TextAreaField:
    return TextAreaField(
        "Remarque",
        validators=[Optional(), Length(max=2000, message="2000 caractères au plus.")],
        filters=[strip_or_none],
    )


class BudgetLineForm(OnceForm, VersionedForm):
    funder = SelectField("Financeur", choices=options(Funder.choices()))
    label = _label(
        "Nom du financeur ou du dispositif",
        "Obligatoire pour « Autre financeur » ; sinon facultatif (par exemple « DDETS »).",
    )
    granted = EuroField("Montant accordé (€)", validators=[InputRequired("Indiquez un montant.")])
    received = EuroField(
        "Montant reçu (€)",
        description="Ce qui a été versé à ce jour ; au plus le montant accordé.",
        validators=[Optional()],
    )
    note = _note()


class PlacesForm(VersionedForm):
    places = IntegerField(
        "Places conventionnées",
        description="Le nombre de logements accompagnés prévu par la convention pour l'année.",
        validators=[InputRequired("Indiquez le nombre de places.")],
    )
    note = _note()


class AidForm(OnceForm, VersionedForm):
    kind = SelectField("Type d'aide", choices=options(AidKind.choices()))
    label = _label("Précision", "Obligatoire pour « Autre aide » : de quelle aide s'agit-il ?")
    status = SelectField("Où en est la demande", choices=options(AidStatus.choices()))
    requested_on = DateField("Date de la demande", validators=[InputRequired(DATE_MESSAGE)])
    requested = EuroField("Montant demandé (€)", validators=[Optional()])
    decided_on = DateField(
        "Date de la décision",
        description="Pour une aide accordée ou refusée.",
        validators=[Optional()],
    )
    granted = EuroField(
        "Montant accordé (€)", description="Pour une aide accordée.", validators=[Optional()]
    )
    note = _note()
