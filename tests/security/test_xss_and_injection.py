"""Every free-text field stores and re-renders script, attribute-breaking and template
payloads harmlessly.

The forms are filled like a browser: each page's form is read (field names, hidden values,
selected options, first radio of each group), every text field gets the payload, dates and
numbers a valid value. Then every page that shows these records is read as each role."""

from __future__ import annotations

import re
from datetime import timedelta

from app.formatting import today_paris
from app.households.models import Household
from tests.conftest import page
from tests.factories import make_consent
from tests.security.helpers import TEXT_KINDS, form_data, main_form
from tests.world import build_world

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
RAW_MARKERS = (SCRIPT, "<img src=x onerror", "<script>")


def payload(i: int) -> str:
    """A marker (to find it again), the template payload, then the HTML payloads."""
    return f"Q{i}q{{{{7*7}}}}" + SCRIPT + ATTRIBUTE


def short(i: int) -> str:
    return f"Q{i}q{SCRIPT}"[:30]


# Fields whose validation wants a particular shape: (form field name -> value).
# To come, and within the two-year planning horizon (app/bounds.py).
SOON = (today_paris() + timedelta(days=90)).isoformat()
SHAPED = {
    "email": "xss@example.org",
    "phone": "04 72 00 00 00",
    "postal_code": "69008",
    "housing_application_number": None,  # short payload
    "birth_on": "",
    "head_birth_on": "",
    "landlord_reference": None,
    # dates that must be to come
    "next_action_on": SOON,
    "next_meeting_on": SOON,
    "due_on": SOON,
}


def _fill(form: dict, i: int, extra: dict | None = None) -> dict:
    values = {}
    for name, kind, value, _ in form["fields"]:
        if name in ("csrf_token", "expected_version"):
            continue
        if name in SHAPED:
            values[name] = SHAPED[name] if SHAPED[name] is not None else short(i)
        elif kind in TEXT_KINDS:
            values[name] = payload(i)
        elif kind == "date" and not value:
            values[name] = "2025-06-15"
    values.update(extra or {})
    return form_data(form, values, choose=True)


def _submit(client, path: str, i: int, extra: dict | None = None):
    body = client.get(path).get_data(as_text=True)
    form = main_form(body)
    action = form["action"] or path
    response = client.post(action, data=_fill(form, i, extra))
    return response


def _assert_harmless(client, path: str, problems: dict, seen: str) -> str:
    response = client.get(path)
    body = response.get_data(as_text=True)
    if response.status_code != 200:
        problems[path] = f"status {response.status_code}"
        return seen
    for raw in RAW_MARKERS:
        if raw in body:
            problems[path] = f"raw {raw!r} in the page"
    if re.search(r"Q\d+q49", body):
        problems[path] = "template payload evaluated"
    return seen + page(response)


def test_free_text_payloads_are_stored_and_shown_escaped(app, make_client):
    w = build_world()
    make_consent(w.household, "sante", "sante")
    coordinator = make_client()
    coordinator.login(w.users["coordinateur"])
    admin = make_client()
    admin.login(w.users["admin"])
    landlord = make_client()
    landlord.login(w.users["bailleur"])
    worker = make_client()
    worker.login(w.users["travailleur_social"])

    H = f"/menages/{w.household.id}"
    forms = [
        (coordinator, "/menages/nouveau", None),
        (coordinator, H + "/modifier", None),
        (coordinator, H + "/composition/ajouter", None),
        (coordinator, H + f"/composition/{w.member.id}/modifier", None),
        (coordinator, H + "/orientation", None),
        (coordinator, H + "/diagnostic", None),
        (coordinator, H + "/adhesion", None),
        (worker, H + "/visites/nouvelle", None),
        (worker, H + f"/visites/{w.intervention.id}/corriger", None),
        (coordinator, H + "/partenaires/orientations/nouvelle", {"partner_id": str(w.partner.id)}),
        (coordinator, H + "/partenaires/reunions/nouvelle", None),
        (coordinator, H + "/accompagnement/objectifs/nouveau", None),
        (coordinator, H + f"/accompagnement/mesures/{w.measure.id}/bilan", None),
        (coordinator, H + "/rappels", None),
        (coordinator, "/logements/parc/nouveau", {"rent": "380"}),
        (landlord, f"/logements/parc/{w.dwelling.id}/modifier", None),
        (coordinator, "/partenaires/nouveau", None),
        (admin, "/admin/organisations/nouvelle", None),
        (admin, f"/admin/organisations/{w.landlord.id}/modifier", None),
        (
            admin,
            "/admin/utilisateurs/nouveau",
            {"organisation_id": str(w.association.id), "roles": "travailleur_social"},
        ),
        (admin, f"/admin/utilisateurs/{w.target_user.id}/modifier", {"email": "xss2@example.org"}),
        (admin, "/admin/projets/nouveau", {"lead_landlord_id": str(w.landlord.id)}),
    ]
    refused = {}
    for i, (client, path, extra) in enumerate(forms):
        response = _submit(client, path, i, extra)
        # 302 back to the record; 200 only for the account creation (temporary password).
        if response.status_code != 302 and (
            response.status_code != 200 or "Le formulaire contient" in page(response)
        ):
            errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', page(response))
            refused[path] = (response.status_code, errors[:5])
    assert not refused, f"Forms that did not accept the payloads: {refused}"

    created = Household.query.filter(Household.id != w.household.id).order_by(Household.id)
    new_id = created.all()[-1].id
    searched = coordinator.post("/menages/", data={"q": "Q"}).location  # list of a name search
    pages = {
        coordinator: [
            *(
                f"/menages/{hid}{tab}"
                for hid in (w.household.id, new_id)
                for tab in (
                    "",
                    "/composition",
                    "/equipe",
                    "/accompagnement",
                    "/partenaires",
                    "/logement",
                    "/synthese",
                    "/rappels",
                    "/modifier",
                    "/orientation",
                    "/diagnostic",
                    "/adhesion",
                )
            ),
            H + f"/composition/{w.member.id}/modifier",
            H + f"/visites/{w.intervention.id}/corriger",
            "/menages/",
            searched,
            "/pilotage/",
            "/pilotage/menages",
            "/pilotage/dossiers-en-souffrance",
            "/logements/",
            "/logements/parc",
            "/partenaires/",
            "/rappels/",
            "/accueil",
        ],
        landlord: [H, H + "/partenaires", H + "/logement", H + "/synthese", "/logements/parc"],
        worker: [H, H + "/accompagnement", "/menages/", "/accueil", "/rappels/"],
        admin: [
            "/admin/organisations/",
            "/admin/utilisateurs/",
            "/admin/projets/",
            f"/admin/organisations/{w.landlord.id}/modifier",
            f"/admin/utilisateurs/{w.target_user.id}/modifier",
            "/admin/journal",
        ],
    }
    problems: dict = {}
    seen = ""
    for client, paths in pages.items():
        for path in paths:
            seen = _assert_harmless(client, path, problems, seen)
    assert not problems, problems
    # The payloads were stored and are shown as typed (escaped), form by form.
    missing = [path for i, (_, path, _) in enumerate(forms) if f"Q{i}q" not in seen]
    assert not missing, f"Payload of these forms shown nowhere: {missing}"
    assert "Q0q{{7*7}}" + SCRIPT + ATTRIBUTE in seen
