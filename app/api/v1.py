"""/api/v1/: the calls of a landlord's information system (docs/api.md), and the OpenAPI
document with its reference page."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, render_template, request
from flask_smorest import Blueprint as ApiBlueprint
from sqlalchemy.exc import IntegrityError

from app.api import queries, rent_lines, services
from app.api.models import Scope
from app.api.problems import TITLES, problem
from app.api.rest import IDEMPOTENCY_KEY, client_required, openapi_document
from app.api.schemas import (
    ProblemSchema,
    RentLinesResultSchema,
    RentLinesSchema,
    TenancyPageSchema,
    TenancyQuerySchema,
)
from app.db import db, takes_write_lock_late

blp = ApiBlueprint(
    "api_v1",
    __name__,
    url_prefix="/api/v1",
    description="Comptes locataires et situation locative des baux suivis.",
)
docs = Blueprint("api_docs", __name__)

COMMON_ERRORS = (401, 403, 429)
IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Clé choisie par le client (1 à 255 caractères ASCII visibles) : un "
    "second envoi avec la même clé et le même corps renvoie la première réponse sans rien "
    "réécrire ; avec un autre corps, il est refusé (422).",
    "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,255}$"},
}


def _errors(*statuses):
    """Declare the problem+json answers of an operation."""

    def decorator(view):
        for status in sorted({*COMMON_ERRORS, *statuses}, reverse=True):
            view = blp.alt_response(status, schema=ProblemSchema, description=TITLES[status])(view)
        return view

    return decorator


@blp.route("/rent-account-lines", methods=["POST"])
@takes_write_lock_late  # the body is read and checked before the first write
@client_required(Scope.RENT_ACCOUNTS_WRITE)
@blp.arguments(RentLinesSchema)
@blp.response(200, RentLinesResultSchema)
@blp.doc(parameters=[IDEMPOTENCY_HEADER], operationId="postRentAccountLines")
@_errors(400, 409, 413, 415, 422)
def post_rent_lines(payload):
    """Envoyer des lignes de comptes locataires

    Un lot de 1 à 1 000 lignes (bail, mois, solde, loyer et charges…), validé comme
    l'import de l'extrait mensuel : tout ou rien. Une ligne refusée → 422, rien n'est
    écrit, ``errors`` donne la position de chaque ligne refusée et ses motifs."""
    client = g.api_client
    key = request.headers.get("Idempotency-Key")
    digest = services.request_hash(request.get_data())
    if key is not None:
        if not IDEMPOTENCY_KEY.match(key):
            return problem(400, "Idempotency-Key : 1 à 255 caractères ASCII visibles.")
        stored = services.stored_answer(client, key)
        if stored is not None:
            if stored.request_hash != digest:
                return problem(
                    422,
                    "Cette clé d'idempotence a déjà servi pour un autre contenu.",
                    kind="idempotence",
                )
            response = jsonify(stored.response)
            response.status_code = stored.status
            response.headers["Idempotent-Replayed"] = "true"
            return response
    organisation = client.organisation
    try:
        report = rent_lines.import_lines(client, organisation, payload["lines"])
    except rent_lines.ImportRejected as rejected:
        db.session.rollback()
        rent_lines.record_refused(client, organisation, rejected.report)
        db.session.commit()
        return _refusal(rejected)
    body = {
        "lines": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "out_of_programme": report.out_of_programme,
        "months": [month.strftime("%Y-%m") for month in report.months],
    }
    if key is not None:
        services.store_answer(client, key, digest, 200, body)
    try:
        db.session.commit()
    except IntegrityError:  # the same key, sent twice at once: the other one wrote
        db.session.rollback()
        return problem(409, "Un envoi avec cette clé d'idempotence est déjà enregistré.")
    return body


def _refusal(rejected):
    report = rejected.report
    errors = [
        {
            "index": rent_lines.line_index(row.line),
            "lease_reference": row.reference,
            "reasons": list(row.reasons),
        }
        for row in report.problems
    ]
    detail = rejected.message
    if report.file_problems:
        detail = " ".join(report.file_problems)
    return problem(422, detail, errors={"lines": errors}, kind="lignes-refusees")


@blp.route("/tenancies", methods=["GET"])
@client_required(Scope.TENANCIES_READ)
@blp.arguments(TenancyQuerySchema, location="query")
@blp.response(200, TenancyPageSchema)
@blp.doc(operationId="getTenancies")
@_errors(400, 422)
def get_tenancies(arguments):
    """Situation locative des baux suivis

    Les baux en cours du bailleur suivis dans Ancrage, ce que montre son tableau de bord :
    solde et tendance, étape de procédure et prochaine échéance légale, plan d'apurement,
    contact professionnel du ou de la référent·e, prochaine réunion tripartite, comptes
    rendus de visite partagés avec le bailleur. Pagination par curseur (``next_cursor``)."""
    try:
        after = queries.decode_cursor(arguments["cursor"]) if arguments["cursor"] else None
    except queries.BadCursor:
        return problem(400, "Curseur invalide : reprenez la valeur next_cursor reçue.")
    page = queries.tenancy_status_page(
        queries.ClientViewer(g.api_client),
        after=after,
        limit=arguments["limit"],
        lease_reference=arguments["lease_reference"],
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@docs.route("/api/v1/openapi.json")
def openapi_json():
    response = jsonify(openapi_document())
    response.headers["Cache-Control"] = "no-cache"
    return response


@docs.route("/api/v1/")
def reference():
    """The reference page: every operation of the document, server-rendered."""
    document = openapi_document()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    return render_template("api/reference.html", document=document, operations=operations)
