"""Typed-marker privacy proof, derived from the audience declaration (``app.audience``).

Every ``social`` or ``health`` column of every household-data table (found by the guard of
``tests/test_audience.py``) receives a distinctive value of its own type — text, amounts in
cents, other integers, dates, booleans, enum codes — on every row (only on the rows whose
``tenancy_when`` flag is off, for a column that a row flag opens to the landlord). A column
added tomorrow is marked the same way without touching this file; a new boolean or enum
column must say here how it is shown (its label), or the test fails and says so.

Then every page a landlord user can reach (``app.url_map`` walked, ids from the world, each
export format), the searches, the calendar feed, the e-mail digest and the rent-import report
are rendered after the reminder rules ran on the marked data, and no marker appears in any of
them — text as written, amounts as formatted ("9 876 543,21 €") or raw, dates in any format
and in spreadsheets (Excel's day number), booleans and codes by the label a page would show.
The référent, who may read all of it, does see the markers on the household's pages, so the
test can fail."""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Boolean, Date, Integer, String, Text, func, select, update

from app.audience import Audience, audience_of, tenancy_when
from app.db import UtcDateTime, db
from tests.housing.test_landlord_privacy import add_social_records, pages_for
from tests.test_audience import household_data_tables
from tests.world import build_world

TEXT = "QZTYPED"
# French month names as dates are written, in full or abbreviated.
MONTHS = (
    "janv(ier)?",
    "f[ée]v(rier)?",
    "mars",
    "avr(il)?",
    "mai",
    "juin",
    "juil(let)?",
    "ao[ûu]t?",
    "sept(embre)?",
    "oct(obre)?",
    "nov(embre)?",
    "d[ée]c(embre)?",
)
ANY_1913 = "a date of 1913 (a social or health date, in a format not listed)"
# Dates: every one in 1913, one day later per column (so that an end stays after its start):
# "4 juillet 1913", "04/07/1913", 1913-07-04, 19130704, or Excel's day number.
FIRST_DAY = date(1913, 1, 2)
# Other integers are bounded by the schema: a value its range allows, and how it is shown
# (None: the row keeps its value, and the label that shows it is looked for).
INTEGER_MARKERS = {
    "intervention.duration_minutes": (437, [r"437\s*min"]),
    "support_post_exit_check.months": (None, [r"Vérification à \d+ mois"]),
    "appointment.duration_minutes": (439, [r"439\s*min"]),
}

# Booleans: planted True; what a page shows when the flag is set.
BOOLEAN_LABELS = {
    "household.is_apl_paid_to_landlord": "versée au bailleur",
    "household.has_overindebtedness_file": "surendettement",
    "support_measure_exit.is_lease_glissed": "glissé au nom du ménage",
    "support_post_exit_check.is_still_housed": "toujours logé",
    "support_post_exit_check.is_rent_up_to_date": "loyer à jour",
}
# Enum codes: a rare code, and its label as a page shows it.
ENUM_MARKERS = {
    "household.income_sources": ("pension_alimentaire", "Pension alimentaire"),
    "household.target_publics": ("sortie_detention", "détention"),
    "household_member.relation": ("ascendant", "Parent / ascendant"),
    "orientation.prescriber": ("spip", "SPIP"),
    "orientation.kind": ("maintien", "Maintien dans le logement"),
    "diagnostic.pouvoir_louer_level": ("partiel", "Partiellement acquis"),
    "diagnostic.savoir_louer_level": ("partiel", "Partiellement acquis"),
    "diagnostic.savoir_habiter_level": ("partiel", "Partiellement acquis"),
    "diagnostic.environnement_level": ("partiel", "Partiellement acquis"),
    "diagnostic.needs": ("parentalite", "Parentalité"),
    "consent.partner_category": ("justice", "Partenaires justice"),
    "consent.data_category": ("budget", "Ressources, budget et dettes"),
    "support_measure.type": ("chez_soi_dabord", "chez-soi d'abord"),
    "support_objective.domain": ("parentalite", "Parentalité"),
    "support_objective.status": ("en_pause", "En pause"),
    "support_objective_update.status": ("en_pause", "En pause"),
    "support_review.kind": ("mi_parcours", "mi-parcours"),
    "support_measure_exit.reason": ("deces", "Décès"),
    "support_measure_exit.housing_situation": ("tiers", "chez un tiers"),
    "intervention.mode": ("accompagnement_physique", "Accompagnement physique"),
    "intervention.domains": ("parentalite", "Parentalité"),
    "intervention_correction.field": ("note", "note"),
    "referral.domain": ("parentalite", "Parentalité"),
    "referral.status": ("abandonnee", "Abandonnée"),
    "referral_status_change.status": ("abandonnee", "Abandonnée"),
    "appointment.mode": ("visio", "En visioconférence"),
    "appointment.with_whom": ("partenaire", "Le ménage et un partenaire"),
    "appointment.status": ("non_honore", "Non honoré"),
    "stage_transition.cause": ("measure_closed", "mesure d'accompagnement clôturée"),
    "household_aid.kind": ("commune", "Aide de la commune / CCAS"),
    "household_aid.status": ("accordee", "Accordée"),
}
# Codes whose label is an ordinary word of the landlord's own pages ("note"): the code is
# planted (so the social pages are exercised) but only its free text is looked for.
LABEL_NOT_DISTINCTIVE = {"intervention_correction.field", "household_aid.status"}


def restricted_columns():
    """(table, column) of every social or health column that holds a value of its own (a
    foreign key's content is the row it points at: see ``linked_names``)."""
    for table in household_data_tables(db.metadata):
        for column in table.columns:
            if audience_of(column) not in (Audience.SOCIAL, Audience.HEALTH):
                continue
            if not column.foreign_keys:
                yield table, column


def marker_for(table, column, n: int):
    """The planted value and what its presence in an output looks like (regexes)."""
    name = f"{table.name}.{column.name}"
    if name in ENUM_MARKERS:
        code, label = ENUM_MARKERS[name]
        looks = [] if name in LABEL_NOT_DISTINCTIVE else [re.escape(label)]
        return code, looks
    kind = column.type
    if isinstance(kind, Boolean):
        assert name in BOOLEAN_LABELS, f"{name}: say in BOOLEAN_LABELS how a page shows it"
        return True, [re.escape(BOOLEAN_LABELS[name])]
    if isinstance(kind, UtcDateTime):  # a time in 1913, found by its date
        day = FIRST_DAY + timedelta(days=n)
        moment = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
        return moment, [day.isoformat(), f"{day:%d/%m/%Y}", f"{day:%Y%m%d}"]
    if isinstance(kind, Date):
        day = FIRST_DAY + timedelta(days=n)
        return day, [
            day.isoformat(),
            f"{day:%d/%m/%Y}",
            f"{day:%Y%m%d}",
            rf"(?<!\d){day.day}(er)? {MONTHS[day.month - 1]}\.? 1913",
            f"<v>{(day - date(1899, 12, 30)).days}</v>",
        ]
    if isinstance(kind, Integer):
        if column.name.endswith("_cents"):  # 9nn654321: "9 nn6 543,21 €", 9nn6543.21
            cents = int(f"9{n % 100:02d}654321")
            return cents, [str(cents), rf"{cents // 100}[,.]21"]
        assert name in INTEGER_MARKERS, f"{name}: say in INTEGER_MARKERS what to plant"
        return INTEGER_MARKERS[name]
    if isinstance(kind, String | Text):
        assert not (isinstance(kind, String) and (kind.length or 99) < 10), (
            f"{name}: a short code? say in ENUM_MARKERS which code and label to plant"
        )
        value = f"{TEXT}{n}Z"
        if column.name.startswith("search_"):  # a search key: lower case, as search_key writes
            value = value.lower()
        return value, [value]
    raise AssertionError(f"{name}: no marker for a column of type {kind!r}")


def linked_names():
    """The rows a social or health foreign key points at (a referral's partner, a team
    member, an intensity level), whose names are then social content too."""
    for table in household_data_tables(db.metadata):
        for column in table.columns:
            if audience_of(column) in (Audience.SOCIAL, Audience.HEALTH) and column.foreign_keys:
                (fk,) = column.foreign_keys
                yield table, column, fk.column.table


def plant_markers() -> dict[str, tuple[int, list[str]]]:
    """Write the markers; return per column the rows touched and the patterns to look for."""
    planted = {}
    n = 0
    for table, column in restricted_columns():
        n += 1
        value, looks = marker_for(table, column, n)
        if value is None:  # the schema allows no distinctive value: the label is looked for
            rows = db.session.scalar(select(func.count()).select_from(table))
            planted[f"{table.name}.{column.name}"] = (rows, looks)
            continue
        statement = update(table).values({column.name: value})
        flag = tenancy_when(column)
        if flag is not None:
            statement = statement.where(table.c[flag].is_(False))
        if "updated_at" in table.c:  # keep "modifié à HH:MM" as it was
            statement = statement.values(updated_at=table.c.updated_at)
        result = db.session.execute(statement)
        planted[f"{table.name}.{column.name}"] = (result.rowcount, looks)
    for table, column, target in linked_names():
        n += 1
        text_column = next((c for c in ("full_name", "name") if c in target.c), None)
        assert text_column, f"{table.name}.{column.name}: which column of {target.name} names it?"
        ids = db.session.scalars(
            select(table.c[column.name]).where(table.c[column.name].is_not(None)).distinct()
        ).all()
        for id_ in ids:  # one name each: names may be unique
            db.session.execute(
                update(target).where(target.c.id == id_).values({text_column: f"{TEXT}{n}Z{id_}"})
            )
        planted[f"{table.name}.{column.name}→{target.name}"] = (len(ids), [f"{TEXT}{n}Z"])
    planted[ANY_1913] = (1, [r"(?<![\w])1913"])
    db.session.flush()
    db.session.expire_all()
    return planted


def add_missing_records(w) -> None:
    """The world's household gets one row in each social table the world leaves empty (a
    review examining an objective, a renewal, an intensity change, a corrected note, a
    referral's status change), so that every column is proven on a real row."""
    from app.interventions.models import InterventionCorrection
    from app.partners.models import ReferralStatusChange
    from app.support.models import IntensityChange, MeasureRenewal, ObjectiveUpdate, Review

    worker = w.users["travailleur_social"]
    review = Review(
        household_id=w.household.id,
        measure_id=w.measure.id,
        kind="trimestriel",
        held_on=date(2025, 9, 1),
        summary="x",
        author_id=worker.id,
    )
    db.session.add(review)
    db.session.flush()
    db.session.add_all(
        [
            ObjectiveUpdate(
                objective_id=w.objective.id,
                on=date(2025, 9, 1),
                status="en_cours",
                comment="x",
                review_id=review.id,
                by_id=worker.id,
            ),
            MeasureRenewal(
                measure_id=w.measure.id,
                renewed_on=date(2025, 9, 1),
                previous_end_on=date(2025, 12, 31),
                new_end_on=date(2026, 12, 31),
                justification="x",
                by_id=worker.id,
            ),
            IntensityChange(
                measure_id=w.measure.id,
                changed_on=date(2025, 9, 1),
                from_level_id=w.intensity_level.id,
                to_level_id=w.intensity_level.id,
                reason="x",
                by_id=worker.id,
            ),
            InterventionCorrection(
                intervention_id=w.intervention.id,
                field="note",
                previous_text="x",
                corrected_by_id=worker.id,
            ),
            ReferralStatusChange(
                referral_id=w.referral.id, status="acceptee", on=date(2025, 9, 1), by_id=worker.id
            ),
        ]
    )
    # The world's financial aid is still requested; decided (granted), so that its decision
    # date and granted amount can be marked within its CHECK constraints.
    w.aid.status, w.aid.granted_cents, w.aid.decided_on = "accordee", 85_000, w.aid.requested_on
    db.session.flush()
    # Documents: a health one (a PDF) and a social one (a Word file), each with a marker in
    # its file's bytes too (their titles, names and dates are marked like any social
    # column); and a landlord-audience one, which landlord staff do open.
    from tests.factories import make_document

    w.health_document = make_document(
        w.household, worker, category="sante", content=pdf_with(FILE_MARKERS["sante"])
    )
    w.social_document = make_document(
        w.household,
        worker,
        category="ressources",
        original_name="avis.docx",
        content_type=DOCX,
        content=docx_with(FILE_MARKERS["ressources"]),
    )
    w.tenancy_document = make_document(
        w.household, w.users["bailleur"], category="assurance", content=pdf_with("Assurance")
    )


# The text inside the files of the health and social documents.
FILE_MARKERS = {"sante": f"{TEXT}FILESANTEZ", "ressources": f"{TEXT}FILERESSOURCESZ"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def pdf_with(text: str) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Length 40 >> stream\nBT /F1 12 Tf (" + text.encode()
        + b") Tj ET\nendstream endobj\ntrailer << >>\n%%EOF\n"
    )  # fmt: skip


def docx_with(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", f"<w:document><w:t>{text}</w:t></w:document>")
    return out.getvalue()


@pytest.fixture
def typed_world(app):
    from app.formatting import today_paris
    from app.reminders.jobs import sweep
    from app.reminders.services import create_manual_reminder

    w = build_world()
    add_social_records(w)
    add_missing_records(w)
    w.occupancy.lease_reference = "LEASE-W-1"
    w.landlord_reminder = create_manual_reminder(
        w.users["bailleur"], w.household, title="Relancer l'assurance", due_on=today_paris()
    )
    # A next action due today: its reminder (for the référent) reads the marked text.
    from app.interventions.services import record_visit

    record_visit(
        w.users["travailleur_social"],
        w.household,
        occurred_on=today_paris(),
        mode="telephone",
        next_action="Rappeler",
        next_action_on=today_paris(),
    )
    planted = plant_markers()
    for category, marker in FILE_MARKERS.items():
        planted[f"document file ({category})"] = (1, [marker])
    db.session.commit()
    sweep()  # the reminder rules read the marked data: what they write is checked too
    db.session.commit()
    return w, planted


def leaks(body: str, planted) -> list[str]:
    """The columns whose marker appears in ``body``."""
    text = html.unescape(body)
    flat = re.sub(r"[\s\u00a0\u202f]", "", text)
    found = []
    for name, (_rows, looks) in planted.items():
        for pattern in looks:
            if re.search(pattern, text) or (pattern[0].isdigit() and re.search(pattern, flat)):
                found.append(name)
                break
    return found


def readable(response) -> str:
    """A response as text; a spreadsheet's or an office document's XML parts unzipped."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(
                archive.read(name).decode()
                for name in archive.namelist()
                if name.endswith(".xml") and ("xl/" in name or "word/" in name)
            )
    return data.decode("utf-8", errors="replace")


def test_every_restricted_column_is_marked_on_a_real_row(typed_world):
    _w, planted = typed_world
    assert len(planted) > 60  # the declaration really gave the columns
    # Every type is represented.
    names = set(planted)
    assert {"household.debts_cents", "household.has_overindebtedness_file"} <= names
    assert {"household_member.birth_on", "diagnostic.needs", "support_measure_exit.reason"} <= (
        names
    )
    assert "referral.partner_id→partner" in names
    unproven = sorted(name for name, (rows, _looks) in planted.items() if rows == 0)
    assert unproven == [], f"columns with no marked row: {unproven}"


def test_no_landlord_channel_shows_a_typed_marker(typed_world, app, make_client):
    w, planted = typed_world
    landlord_user = w.users["bailleur"]
    landlord = make_client()
    landlord.login(landlord_user)
    reached, found = set(), {}
    for endpoint, path in pages_for(app, w):
        response = landlord.get(path)
        assert response.status_code != 500, f"{endpoint} ({path})"
        if response.status_code == 200:
            reached.add(endpoint)
        for name in leaks(readable(response), planted):
            found.setdefault(name, []).append(path)
    # The searches, with a marker typed in (it must find nothing and echo only itself).
    for path in ("/menages/", "/logements/", "/logements/parc"):
        for name, (_rows, looks) in planted.items():
            typed = looks[0].replace("\\", "") if looks else ""
            if not typed.upper().startswith(TEXT):
                continue
            response = landlord.post(path, data={"q": typed}, follow_redirects=True)
            body = readable(response).replace(typed, "")
            assert w.household.reference not in body or path != "/menages/", (path, name)
            for leaked in leaks(body, planted):
                found.setdefault(leaked, []).append(f"POST {path} q={typed}")
    # The calendar feed, with the landlord's own token.
    from app.reminders.services import create_calendar_feed

    token = create_calendar_feed(landlord_user)
    db.session.commit()
    feed = landlord.get(f"/calendrier/{token}.ics")
    assert feed.status_code == 200
    for name in leaks(readable(feed), planted):
        found.setdefault(name, []).append("calendar feed")
    # The e-mail digest the landlord would receive.
    from app.reminders.jobs import digest_content
    from app.reminders.queries import my_open_reminders

    with app.test_request_context():
        due = list(db.session.scalars(my_open_reminders(landlord_user)))
        message = digest_content(landlord_user, due, date.today(), "https://ancrage.test")
    for name in leaks(message.subject + message.text + message.html, planted):
        found.setdefault(name, []).append("e-mail digest")
    # The rent-import report.
    content = b"R\xc3\xa9f\xc3\xa9rence du bail;Mois;Solde;Loyer et charges du mois\r\n"
    content += b"LEASE-W-1;2026-10;880;440\r\n"
    response = landlord.post(
        "/logements/import",
        data={"file": (io.BytesIO(content), "extrait.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    for name in leaks(readable(response), planted):
        found.setdefault(name, []).append("import report")
    # Every answer of the JSON API to the landlord's client (app/api): the tenancy status,
    # rent lines accepted and refused, problems.
    for path, answer in api_answers(app, w, make_client):
        for name in leaks(answer, planted):
            found.setdefault(name, []).append(path)
    found = {name: paths[:3] for name, paths in found.items()}
    assert found == {}, f"landlord staff receive social or health content: {found}"
    assert {"housing.household", "households.show", "reports.household_synthesis"} <= reached
    assert "reports.export_tenancies" in reached  # the landlord's CSV and XLSX exports


def api_answers(app, w, make_client):
    """(what, body) of every API call the landlord's client can make."""
    client = make_client()
    headers = {"Authorization": f"Bearer {w.api_token}"}
    tenancies = client.get("/api/v1/tenancies?limit=1", headers=headers)
    assert tenancies.status_code == 200 and tenancies.json["items"]
    yield "GET /api/v1/tenancies", tenancies.get_data(as_text=True)
    cursor = tenancies.json["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/tenancies?limit=1&cursor={cursor}", headers=headers)
        yield "GET /api/v1/tenancies (suite)", page.get_data(as_text=True)
        cursor = page.json["next_cursor"]
    line = {"lease_reference": "LEASE-W-1", "month": "2026-10", "balance_cents": 88_000}
    for body in (
        {"lines": [{**line, "amount_due_cents": 44_000}]},
        {"lines": [{**line, "amount_due_cents": 44_000, "lease_reference": "INCONNU"}]},
        {"lines": [line]},
    ):
        answer = client.post("/api/v1/rent-account-lines", json=body, headers=headers, csrf=False)
        assert answer.status_code in (200, 422)
        yield "POST /api/v1/rent-account-lines", answer.get_data(as_text=True)
    yield "GET /api/v1/openapi.json", client.get("/api/v1/openapi.json").get_data(as_text=True)


def test_the_referent_does_see_the_typed_markers(typed_world, app, make_client):
    """Control: the same markers are on the household's pages for its référent."""
    w, planted = typed_world
    worker = make_client()
    worker.login(w.users["travailleur_social"])
    seen = set()
    for endpoint, path in pages_for(app, w):
        if not endpoint.startswith(("households.", "support.", "interventions.", "reports.")):
            continue
        response = worker.get(path)
        assert response.status_code != 500, f"{endpoint} ({path})"
        seen.update(leaks(readable(response), planted))
    # The référent's inbox shows the next action's text; the landlord's never does (above).
    inbox = readable(worker.get("/rappels/?type=prochaine_action"))
    assert "intervention.next_action" in leaks(inbox, planted)
    # One column of each type at least, on the pages of the file.
    for name in (
        "household.difficulties",  # text
        "household.debts_cents",  # amount
        "household_member.birth_on",  # date
        "household.has_overindebtedness_file",  # boolean
        "household_member.relation",  # enum code
        "support_measure.type",
        "referral.partner_id→partner",  # a health partner's name
    ):
        assert name in seen, f"{name} is not shown to the référent: is the marker right?"
    # And most of the planted columns are shown somewhere on the file's pages.
    assert len(seen) >= len(planted) * 3 // 4, sorted(set(planted) - seen)


def document_routes(w):
    """Every GET route of a document, for each of the household's documents."""
    for document in (w.health_document, w.social_document, w.tenancy_document):
        base = f"/menages/{w.household.id}/documents/{document.id}"
        for path in (base, f"{base}/remplacer", f"{base}/supprimer"):
            yield document, path


def test_landlord_staff_never_reach_a_support_team_document(typed_world, make_client):
    """The health and social documents — titles, names, dates and the text inside their
    files — never reach landlord staff: not listed in the tab, every route of theirs a 404
    (the download included); the landlord's own category opens, without a marker."""
    w, planted = typed_world
    landlord = make_client()
    landlord.login(w.users["bailleur"])
    tab = landlord.get(f"/menages/{w.household.id}/documents")
    assert tab.status_code == 200
    assert leaks(readable(tab), planted) == []
    assert f"/documents/{w.tenancy_document.id}" in tab.get_data(as_text=True)
    for document, path in document_routes(w):
        response = landlord.get(path)
        if document is w.tenancy_document:
            assert response.status_code in (200, 403), path  # delete: the uploader's own
        else:
            assert response.status_code == 404, path
        assert leaks(readable(response), planted) == [], path
    download = landlord.get(f"/menages/{w.household.id}/documents/{w.tenancy_document.id}")
    assert download.status_code == 200 and download.get_data().startswith(b"%PDF")


def test_the_referent_does_open_the_marked_documents(typed_world, make_client):
    """Control: the référent sees the health and social documents' titles in the tab and
    the markers inside their files, so the landlord's test above can fail."""
    w, planted = typed_world
    worker = make_client()
    worker.login(w.users["travailleur_social"])
    seen = set(leaks(readable(worker.get(f"/menages/{w.household.id}/documents")), planted))
    for document in (w.health_document, w.social_document):
        response = worker.get(f"/menages/{w.household.id}/documents/{document.id}")
        assert response.status_code == 200
        seen.update(leaks(readable(response), planted))
    assert {"document.title", "document file (sante)", "document file (ressources)"} <= seen
