"""The visit form on its page: nothing else on the page submits or reloads it, the file
header is reduced to one line, the focus and the skip link lead to the first field, and the
page asks for the unsaved-input warning (static/js/forms.js). The other form pages of the
household file get the same compact header and warning; the tabs keep the full header."""

from html.parser import HTMLParser

import pytest

from app.permissions import Role
from tests.conftest import page
from tests.factories import make_household, make_project, make_user


class _Page(HTMLParser):
    """Submit buttons (with the form that holds them), links, forms and scripts of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.submits: list[tuple[dict | None, str]] = []  # (form, label)
        self.links: list[dict] = []
        self.scripts: list[str] = []
        self.ids: dict[str, dict] = {}
        self._form: dict | None = None
        self._button: list[str] | None = None
        self._link: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids[attrs["id"]] = {"tag": tag, **attrs}
        if tag == "form":
            self._form = {**attrs, "fields": []}
            self.forms.append(self._form)
        elif tag == "button" and attrs.get("type", "submit") == "submit":
            self._button = []
        elif tag == "input" and attrs.get("type") in ("submit", "image"):
            self.submits.append((self._form, attrs.get("value", "")))
        elif tag == "a":
            self._link = {**attrs, "text": ""}
            self.links.append(self._link)
        elif tag == "script":
            self.scripts.append(attrs.get("src", "(inline)"))
        in_form = self._form is not None and tag in ("input", "select", "textarea")
        if in_form and attrs.get("type") != "hidden":
            self._form["fields"].append(attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "button" and self._button is not None:
            self.submits.append((self._form, " ".join("".join(self._button).split())))
            self._button = None
        elif tag == "a":
            self._link = None

    def handle_data(self, data):
        if self._button is not None:
            self._button.append(data)
        if self._link is not None:
            self._link["text"] += data


def parse(response) -> _Page:
    assert response.status_code == 200
    parsed = _Page()
    parsed.feed(page(response))
    return parsed


@pytest.fixture
def people(app):
    project = make_project()
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household = make_household(project, referent=worker, reference="M-2026-0042")
    return {"worker": worker, "household": household}


def test_nothing_but_its_own_button_submits_or_reloads_the_visit_form(people, client):
    household = people["household"]
    client.login(people["worker"])
    url = f"/menages/{household.id}/visites/nouvelle"
    parsed = parse(client.get(url))

    [visit_form] = [form for form in parsed.forms if "data-warn-unsaved" in form]
    assert visit_form["method"] == "post" and visit_form.get("action", "") in ("", url)
    assert [label for form, label in parsed.submits if form is visit_form] == [
        "Enregistrer la visite"
    ]
    # The only other button on the page is the log-out, in its own form, to its own address.
    others = [(form, label) for form, label in parsed.submits if form is not visit_form]
    assert [label for _, label in others] == ["Se déconnecter"]
    assert all(form is not None and form["action"] == "/deconnexion" for form, _ in others)
    # No link leads to the form's own address (the sticky "Noter une visite" bar is gone).
    assert not [link for link in parsed.links if link.get("href", "").split("#")[0] == url]
    assert not [link for link in parsed.links if "Noter une visite" in link["text"]]
    assert "has-sticky-action" not in page(client.get(url))


def test_the_visit_form_page_leads_straight_to_the_first_field(people, client):
    household = people["household"]
    client.login(people["worker"])
    parsed = parse(client.get(f"/menages/{household.id}/visites/nouvelle"))

    [visit_form] = [form for form in parsed.forms if "data-warn-unsaved" in form]
    first = visit_form["fields"][0]
    assert first["id"] == "occurred_on" and "autofocus" in first
    # The second stop of the keyboard, after "Aller au contenu", goes to that field.
    skips = [link for link in parsed.links if "skip-link" in link.get("class", "")]
    assert [(link["text"], link["href"]) for link in skips] == [
        ("Aller au contenu", "#contenu"),
        ("Aller au formulaire", "#occurred_on"),
    ]
    assert "/static/js/forms.js" in parsed.scripts and "(inline)" not in parsed.scripts
    # The header is one line: the reference links back to the file, with the stage.
    back = parsed.ids["household-title"]
    assert back["tag"] == "h1"
    [reference] = [link for link in parsed.links if "__back" in link.get("class", "")]
    assert reference["href"] == f"/menages/{household.id}"
    assert "M-2026-0042" in reference["text"] and "Retour au dossier" in reference["text"]
    assert not [link for link in parsed.links if link["text"].strip() == "Composition"]


def test_a_form_shown_again_with_errors_focuses_nothing_but_the_first_field_in_error(
    people, client
):
    household = people["household"]
    client.login(people["worker"])
    url = f"/menages/{household.id}/visites/nouvelle"
    response = client.post(url, data={"occurred_on": "", "mode": "visite_domicile"})
    parsed = parse(response)
    [visit_form] = [form for form in parsed.forms if "data-warn-unsaved" in form]
    # No autofocus on the (valid or not) date: forms.js puts the focus on the first error.
    assert not [field for field in visit_form["fields"] if "autofocus" in field]
    assert "field--error" in page(response)


@pytest.mark.parametrize(
    "path",
    ["/modifier", "/composition/ajouter"],
    ids=["edit", "add-member"],
)
def test_every_form_page_of_the_file_has_the_compact_header_and_the_warning(people, client, path):
    household = people["household"]
    client.login(people["worker"])
    response = client.get(f"/menages/{household.id}{path}")
    parsed = parse(response)
    body = page(response)
    assert "household-header--compact" in body and "has-sticky-action" not in body
    assert not [link for link in parsed.links if "Noter une visite" in link["text"]]
    wrapper = parsed.ids["formulaire"]
    assert "data-warn-unsaved" in wrapper and "data-focus-first" in wrapper
    assert [link["href"] for link in parsed.links if link["text"] == "Aller au formulaire"] == [
        "#formulaire"
    ]
    assert "/static/js/forms.js" in parsed.scripts


@pytest.mark.parametrize("path", ["", "/accompagnement"], ids=["parcours", "support"])
def test_the_tabs_keep_the_full_header_and_the_visit_action(people, client, path):
    household = people["household"]
    client.login(people["worker"])
    response = client.get(f"/menages/{household.id}{path}")
    parsed = parse(response)
    body = page(response)
    assert "household-header--compact" not in body and "has-sticky-action" in body
    assert [link["href"] for link in parsed.links if link["text"] == "Noter une visite"] == [
        f"/menages/{household.id}/visites/nouvelle"
    ]
    assert "formulaire" not in parsed.ids
    assert not [link for link in parsed.links if link["text"] == "Aller au formulaire"]
