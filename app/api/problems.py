"""Errors of /api/ as ``application/problem+json`` (RFC 9457), in French, for the API's own
refusals and for every error Werkzeug or the application raises on an /api/ path."""

from __future__ import annotations

import json

from flask import Response, request

PROBLEM_TYPE = "application/problem+json"
API_PREFIX = "/api/"

TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Ressource introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Requête trop volumineuse",
    415: "Type de contenu non pris en charge",
    422: "Données refusées",
    429: "Trop de requêtes",
    500: "Erreur interne",
    503: "Service momentanément indisponible",
}
DETAILS = {
    400: "La requête est mal formée.",
    401: "Un jeton valide est requis : en-tête « Authorization: Bearer … ».",
    403: "Ce client n'a pas le droit nécessaire.",
    404: "Cette adresse ne correspond à aucune ressource de l'API.",
    405: "Cette méthode n'est pas acceptée à cette adresse.",
    409: "La requête entre en conflit avec une autre.",
    413: "Le corps de la requête dépasse la taille permise.",
    415: "Le corps doit être du JSON (Content-Type: application/json).",
    422: "Les données envoyées ont été refusées.",
    429: "Limite d'appels atteinte : réessayez plus tard.",
    500: "Une erreur inattendue s'est produite ; elle a été journalisée.",
    503: "Ancrage est très sollicité, réessayez dans quelques secondes.",
}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors=None,
    headers: dict | None = None,
    kind: str | None = None,
) -> Response:
    body = {
        "type": f"/api/v1/problemes#{kind}" if kind else "about:blank",
        "title": TITLES.get(status, TITLES[500 if status >= 500 else 400]),
        "status": status,
        "detail": detail or DETAILS.get(status, DETAILS[500 if status >= 500 else 400]),
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(
        json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=PROBLEM_TYPE
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_errors(error) -> dict | None:
    """The field messages webargs attached to a 422 (``{"json": {...}}`` → ``{...}``)."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if isinstance(messages, dict) and len(messages) == 1:
        return next(iter(messages.values()))
    return messages
