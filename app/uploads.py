"""Request size limits. ``MAX_CONTENT_LENGTH`` bounds every request body; a route that takes
a file declares its own limit with ``@upload_limit("SETTING")``, applied before anything
reads the body (the CSRF check parses the form in a ``before_request``). Past the limit,
Werkzeug refuses the body unread and the user gets the French 413 page, which says the limit
and links back to the form."""

from __future__ import annotations

from flask import current_app, g, request

# Room for the multipart envelope and the other fields of a form that carries a file.
FORM_ENVELOPE_BYTES = 64 * 1024


def upload_limit(setting: str):
    """View decorator: the request body may hold a file of ``config[setting]`` bytes."""

    def decorate(view):
        view.upload_limit_setting = setting
        return view

    return decorate


def register_upload_limits(app) -> None:
    # URL value preprocessors run before every before_request function.
    @app.url_value_preprocessor
    def _apply_upload_limit(endpoint, _values):
        setting = getattr(app.view_functions.get(endpoint), "upload_limit_setting", None)
        if setting:
            g.upload_limit = app.config[setting]
            request.max_content_length = g.upload_limit + FORM_ENVELOPE_BYTES


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",") + " Mo"


def too_large_message() -> str:
    """The 413 page's text: about the file on a route with an upload limit, about the form
    (no file on it) anywhere else."""
    per_route = g.get("upload_limit")
    limit = per_route or current_app.config.get("MAX_CONTENT_LENGTH")
    if not per_route:
        return (
            "Le formulaire envoyé est trop volumineux"
            + (f" ({megabytes(limit)} au plus)" if limit else "")
            + ". Rien n'a été enregistré : raccourcissez le texte, puis renvoyez-le."
        )
    return (
        f"Le fichier envoyé dépasse la taille autorisée ({megabytes(limit)} au plus). "
        "Rien n'a été enregistré : découpez le fichier, puis envoyez chaque partie."
    )


def too_large_title() -> str:
    return "Fichier trop volumineux" if g.get("upload_limit") else "Formulaire trop volumineux"
