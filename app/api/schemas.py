"""The JSON shapes of /api/v1/ (marshmallow): they validate what comes in and describe, in
the OpenAPI document, what goes out. Validation messages are French."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

REQUIRED = "Champ obligatoire."
MESSAGES = {
    "required": REQUIRED,
    "null": "Ce champ ne peut pas être nul.",
    "invalid": "Valeur invalide.",
    "format": "Valeur invalide.",
    "too_large": "Nombre trop grand.",
}
MONEY_RANGE = validate.Range(
    -1_000_000_000, 1_000_000_000, error="Montant hors des bornes (±10 000 000 €, en centimes)."
)
DUE_RANGE = validate.Range(
    0, 1_000_000_000, error="Montant hors des bornes (0 à 10 000 000 €, en centimes)."
)
APL_STATUSES = ("maintenue", "suspendue", "sans")


class FrenchSchema(Schema):
    error_messages = {
        "type": "Un objet JSON est attendu.",
        "unknown": "Champ inconnu.",
    }


def _str(**kwargs):
    return fields.String(error_messages={**MESSAGES, "invalid": "Texte attendu."}, **kwargs)


def _int(*, strict: bool = True, **kwargs):
    return fields.Integer(
        strict=strict, error_messages={**MESSAGES, "invalid": "Nombre entier attendu."}, **kwargs
    )


def _date(**kwargs):
    return fields.Date(
        error_messages={**MESSAGES, "invalid": "Date attendue (AAAA-MM-JJ)."}, **kwargs
    )


# --- rent-account lines -------------------------------------------------------------------


class RentLineSchema(FrenchSchema):
    lease_reference = _str(
        required=True,
        validate=validate.Length(1, 40, error="De 1 à 40 caractères."),
        metadata={"description": "Référence du bail dans le logiciel du bailleur."},
    )
    month = _str(
        required=True,
        validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Mois attendu (AAAA-MM)."),
        metadata={"description": "Mois du compte, AAAA-MM.", "example": "2026-03"},
    )
    balance_cents = _int(
        required=True,
        validate=MONEY_RANGE,
        metadata={"description": "Solde dû en fin de mois, en centimes (négatif si créditeur)."},
    )
    amount_due_cents = _int(
        required=True,
        validate=DUE_RANGE,
        metadata={"description": "Loyer et charges appelés pour le mois, en centimes."},
    )
    last_payment_on = _date(load_default=None, allow_none=True)
    apl_status = _str(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(APL_STATUSES, error="maintenue, suspendue ou sans."),
    )
    caf_reported_on = _date(load_default=None, allow_none=True)


class RentLinesSchema(FrenchSchema):
    lines = fields.List(
        fields.Nested(RentLineSchema),
        required=True,
        validate=validate.Length(1, 1000, error="De 1 à 1 000 lignes par envoi."),
        error_messages={**MESSAGES, "invalid": "Une liste de lignes est attendue."},
    )


class RentLinesResultSchema(Schema):
    lines = fields.Integer(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(
        required=True, metadata={"description": "Lignes identiques à ce qui était enregistré."}
    )
    out_of_programme = fields.Integer(
        required=True,
        metadata={"description": "Lignes de baux non suivis dans Ancrage, mises de côté."},
    )
    months = fields.List(fields.String(), required=True)


# --- problems (RFC 9457) ------------------------------------------------------------------


class ProblemSchema(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.Raw(metadata={"description": "Détail par champ ou par ligne."})


# --- tenancy status -----------------------------------------------------------------------


class TenancyQuerySchema(FrenchSchema):
    limit = _int(
        strict=False,
        load_default=50,
        validate=validate.Range(1, 100, error="De 1 à 100 baux par page."),
    )
    cursor = _str(
        load_default=None,
        validate=validate.Length(1, 40, error="Curseur invalide."),
        metadata={"description": "La valeur next_cursor de la page précédente."},
    )
    lease_reference = _str(
        load_default=None, validate=validate.Length(1, 40, error="De 1 à 40 caractères.")
    )


class DwellingSchema(Schema):
    address = fields.String(required=True)
    postal_code = fields.String(required=True)
    city = fields.String(required=True)
    typology = fields.String(required=True)
    landlord_reference = fields.String(required=True, allow_none=True)


class RentAccountSchema(Schema):
    month = fields.String(required=True)
    balance_cents = fields.Integer(required=True)
    amount_due_cents = fields.Integer(required=True)
    months_of_arrears = fields.Float(required=True)
    last_payment_on = fields.Date(required=True, allow_none=True)
    previous_balance_cents = fields.Integer(required=True, allow_none=True)
    trend = fields.String(
        required=True, validate=validate.OneOf(("hausse", "baisse", "stable", "inconnue"))
    )


class DeadlineSchema(Schema):
    on = fields.Date(required=True)
    label = fields.String(required=True)


class ProcedureSchema(Schema):
    stage = fields.String(required=True)
    stage_label = fields.String(required=True)
    occurred_on = fields.Date(required=True)
    hearing_on = fields.Date(required=True, allow_none=True)
    next_deadline = fields.Nested(DeadlineSchema, required=True, allow_none=True)


class PlanSchema(Schema):
    start_on = fields.Date(required=True)
    monthly_cents = fields.Integer(required=True)
    debt_cents = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True)


class ReferentSchema(Schema):
    name = fields.String(required=True)
    phone = fields.String(required=True, allow_none=True)
    email = fields.String(required=True)


class SharedVisitSchema(Schema):
    occurred_on = fields.Date(required=True)
    mode = fields.String(required=True)
    summary = fields.String(required=True)


class TenancyStatusSchema(Schema):
    lease_reference = fields.String(required=True, allow_none=True)
    lease_type = fields.String(required=True)
    lease_start_on = fields.Date(required=True)
    household_reference = fields.String(required=True)
    head_of_household = fields.String(required=True)
    dwelling = fields.Nested(DwellingSchema, required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(("a_jour", "impaye", "plan", "procedure"))
    )
    status_label = fields.String(required=True)
    supported = fields.Boolean(required=True)
    rent_account = fields.Nested(RentAccountSchema, required=True, allow_none=True)
    procedure = fields.Nested(ProcedureSchema, required=True, allow_none=True)
    repayment_plan = fields.Nested(PlanSchema, required=True, allow_none=True)
    referent = fields.Nested(ReferentSchema, required=True, allow_none=True)
    next_tripartite_meeting_on = fields.Date(required=True, allow_none=True)
    shared_visit_summaries = fields.List(fields.Nested(SharedVisitSchema), required=True)


class TenancyPageSchema(Schema):
    items = fields.List(fields.Nested(TenancyStatusSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
