"""A coordinator (demo data) opens the caseloads, finds the most loaded référent, hands two of
their households over to a colleague, and exports the indicators; the XLSX holds the figures
of the page. Screenshots at desktop width and at 375 px, without sideways scrolling."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.helpers import log_in, open_menu

pytestmark = pytest.mark.e2e

COORDINATOR = "coordination@traitdunion.demo"
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def no_sideways_scroll(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def page_figures(page: Page) -> dict[str, str]:
    """Indicator label → the value as the page shows it."""
    rows = page.locator("table.indicators tbody tr")
    return {
        rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").inner_text()
        for i in range(rows.count())
    }


def as_number(text: str) -> float:
    cleaned = re.sub(r"[\s\u00a0\u202f€%]", "", text).replace(",", ".")
    return float(cleaned)


def test_coordinator_balances_caseloads_and_exports_indicators(
    demo_data, live_server, browser, screenshots_dir
):
    context = browser.new_context(accept_downloads=True, **DESKTOP)
    page = context.new_page()
    log_in(page, live_server, COORDINATOR)  # with the coordinator's second factor
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()

    page.get_by_role("link", name="Pilotage").click()
    expect(page.get_by_role("heading", name="Portefeuilles des référent·es")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "pilotage-portefeuilles.png"), full_page=True)
    loaded = page.locator("#plus-charge strong").inner_text()
    first_row = page.locator("#portefeuilles tbody tr").first
    expect(first_row.locator("th")).to_have_text(loaded)  # heaviest first
    households_before = int(first_row.locator("td").first.inner_text())
    assert households_before >= 2

    first_row.locator("td").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(loaded)
    boxes = page.locator("input[name=household_ids]")
    references = []
    for i in range(2):
        box = boxes.nth(i)
        references.append(page.locator(f"label[for='{box.get_attribute('id')}']").inner_text())
        box.check()
    target = page.get_by_label("Nouveau ou nouvelle référent·e")
    options = target.locator("option")
    colleague = next(
        options.nth(i).inner_text()
        for i in range(1, options.count())
        if options.nth(i).inner_text() != loaded
    )
    target.select_option(label=colleague)
    page.get_by_label("Motif de la réaffectation").fill("Rééquilibrage des portefeuilles")
    page.screenshot(path=str(screenshots_dir / "pilotage-reaffectation.png"), full_page=True)
    page.get_by_role("button", name="Réaffecter").click()
    expect(page.get_by_text(f"2 ménages confiés à {colleague}")).to_be_visible()
    for reference in references:  # no longer in the loaded référent's list
        expect(page.get_by_text(reference, exact=True)).to_have_count(0)

    page.get_by_role("link", name="Retour aux portefeuilles").click()
    row = page.locator("#portefeuilles tbody tr", has=page.locator("th", has_text=loaded))
    expect(row.locator("td").first).to_have_text(str(households_before - 2))

    page.get_by_role("link", name="Indicateurs", exact=True).click()
    expect(page.get_by_role("heading", name="Indicateurs du programme")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "pilotage-indicateurs.png"), full_page=True)
    page.locator("#graphiques").screenshot(path=str(screenshots_dir / "pilotage-graphiques.png"))
    shown = page_figures(page)
    assert int(shown["Ménages accompagnés dans la période"]) > 0
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Exporter (Excel)").click()
    with open(download_info.value.path(), "rb") as downloaded:
        workbook = load_workbook(io.BytesIO(downloaded.read()))
    # A percentage is a fraction shown with a % format (0.956 reads 95,6 %): compared as shown.
    exported = {
        row[1].value: (row[2].value * 100 if row[2].number_format.endswith("%") else row[2].value)
        for row in workbook["Indicateurs"].iter_rows(min_row=2)
        if row[0].value != "Périmètre"
    }
    assert set(exported) == set(shown)
    compared = 0
    for label, value in exported.items():
        if isinstance(value, str) and value.startswith("<"):
            assert 1 <= int(shown[label]) <= 4, label  # a small count, masked
        elif isinstance(value, str) and value.startswith("masqué"):
            continue  # a mean or amount over fewer than 5 households
        elif value == "—":
            assert shown[label] == "—"
        else:
            assert as_number(shown[label]) == pytest.approx(value), label
            compared += 1
    assert compared >= 10

    page.goto(f"{live_server}/pilotage/menages")
    page.get_by_role("link", name=re.compile("^Synthèse")).first.click()
    page.emulate_media(media="print")  # A4 width is close to this desktop viewport
    expect(page.get_by_role("banner")).to_be_hidden()
    expect(page.get_by_text("Pour l'imprimer")).to_be_hidden()
    page.screenshot(path=str(screenshots_dir / "synthese-impression.png"), full_page=True)
    context.close()
    pages_fit_a_phone(live_server, browser, screenshots_dir)


def pages_fit_a_phone(live_server, browser, screenshots_dir):
    """The same pages at 375 px (in the same test: loading the demo data is the slow part)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server, COORDINATOR)
    open_menu(page)  # folded behind "Menu" on a phone
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    for name, path in (
        ("portefeuilles", "/pilotage/"),
        ("liste", "/pilotage/menages"),
        ("souffrance", "/pilotage/dossiers-en-souffrance"),
        ("indicateurs", "/pilotage/indicateurs"),
    ):
        page.goto(live_server + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.screenshot(path=str(screenshots_dir / f"pilotage-{name}-375.png"), full_page=True)
        assert no_sideways_scroll(page) <= 0, path
        assert_accessible(page, path)
    page.goto(live_server + "/pilotage/menages")
    page.get_by_role("link", name=re.compile("^Synthèse")).first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "synthese-375.png"), full_page=True)
    assert no_sideways_scroll(page) <= 0
    assert_accessible(page, "synthèse")
    context.close()
