"""Phone layout (issue #16, item 9), in Chromium on the demo data.

- The list pages of every role fit from 320 px to 1280 px without sideways scrolling; below
  640 px their tables are cards (no sideways-scrolling box either); axe finds no WCAG
  violation on them at 375 px and 1280 px.
- On a phone the site header is about 60 px with the menu behind one button; the menu's
  entries, the file's tabs, the phone link and the filters button are at least 44 × 44 px;
  the current tab is scrolled into view; at 1280 px no tab is cut off.
- The filters fold behind "Filtres" on a phone and are open on a wide screen.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.helpers import log_in, open_menu

pytestmark = pytest.mark.e2e

WIDTHS = (320, 375, 768, 1280)
TOUCH = 44
WORKER = "sophie.martin@traitdunion.demo"
# The list pages of each role (the integrator adds the other branches' new pages here).
ROLE_PAGES = {
    WORKER: ("/agenda/", "/menages/", "/rappels/", "/partenaires/"),
    "gestion@rhonehabitat.demo": (
        "/agenda/",
        "/logements/",
        "/logements/parc",
        "/logements/import",
        "/logements/clients-api/",
        "/menages/",
        "/rappels/",
    ),
    "coordination@traitdunion.demo": (
        "/agenda/",
        "/pilotage/",
        "/pilotage/menages",
        "/pilotage/dossiers-en-souffrance",
        "/pilotage/indicateurs",
        "/menages/",
    ),
    "admin@ancrage.demo": (
        "/admin/utilisateurs/",
        "/admin/organisations/",
        "/admin/projets/",
        "/admin/journal",
        "/accompagnement/intensites/",
        "/admin/rappels",
    ),
}
# Pages whose lists became cards on a phone: axe at both widths.
CHANGED = {
    "/menages/",
    "/partenaires/",
    "/logements/",
    "/logements/parc",
    "/pilotage/",
    "/pilotage/menages",
    "/pilotage/dossiers-en-souffrance",
    "/admin/utilisateurs/",
    "/admin/organisations/",
    "/admin/projets/",
    "/admin/journal",
    "/accompagnement/intensites/",
}

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Card tables wider than their box (they would scroll sideways inside it).
WIDE_CARDS = """() => [...document.querySelectorAll('table.cards-on-phone')]
    .filter(t => t.getBoundingClientRect().width > t.parentElement.clientWidth + 1)
    .map(t => t.querySelector('caption')?.textContent || t.id || 'table')"""


def box(locator):
    """Where the element is drawn, once its page has loaded (measured before the stylesheet
    applies, a link is its bare line of text: it happened under CI's load)."""
    locator.page.wait_for_load_state("load")
    rect = locator.bounding_box()
    assert rect is not None, locator
    return rect


def assert_tap_target(locator, what: str) -> None:
    rect = box(locator)
    assert rect["height"] >= TOUCH and rect["width"] >= TOUCH, f"{what}: {rect}"


@pytest.mark.parametrize("email", sorted(ROLE_PAGES), ids=lambda e: e.split("@")[0])
def test_list_pages_fit_every_width_and_become_cards_on_a_phone(
    email, demo_data, live_server, browser, screenshots_dir
):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server, email)
    for path in ROLE_PAGES[email]:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(live_server + path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            assert page.evaluate(SIDEWAYS) <= 0, f"{path} scrolls sideways at {width} px"
            if width < 640:
                assert page.evaluate(WIDE_CARDS) == [], f"{path} at {width} px"
                assert box(page.locator("header.topbar"))["height"] <= 64, path
            if path in CHANGED and width in (375, 1280):
                assert_accessible(page, f"{path} at {width} px")
            if width == 375:
                name = path.strip("/").replace("/", "-")
                page.screenshot(
                    path=str(screenshots_dir / f"phone-layout-{name}-{width}.png"), full_page=True
                )
    context.close()


def test_phone_header_tabs_links_and_filters_are_easy_to_tap(
    demo_data, live_server, browser, screenshots_dir
):
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    log_in(page, live_server, WORKER)
    page.goto(live_server + "/menages/")

    # A compact header: the brand and one "Menu" button; the navigation folded inside.
    assert box(page.locator("header.topbar"))["height"] <= 64
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav).to_be_hidden()
    toggle = page.locator(".topmenu > summary")
    expect(toggle).to_contain_text("Menu")
    assert_tap_target(toggle, "Menu button")
    open_menu(page)
    for link in nav.get_by_role("link").all():
        assert box(link)["height"] >= TOUCH, link.inner_text()
    assert box(page.get_by_role("button", name="Se déconnecter"))["height"] >= TOUCH
    assert_accessible(page, "menu open at 375 px")
    toggle.click()
    expect(nav).to_be_hidden()

    # Filters fold behind one button; the search box stays in view.
    stage = page.get_by_label("Étape")
    expect(page.get_by_label("Rechercher")).to_be_visible()
    expect(stage).to_be_hidden()
    filters = page.locator(".filters__more > summary")
    assert_tap_target(filters, "Filtres button")
    filters.click()
    expect(stage).to_be_visible()
    stage.select_option(label="Maintien")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator(".filters__more > summary")).to_contain_text("1 actif")
    expect(page.get_by_label("Étape")).to_be_visible()  # an active filter stays shown
    page.screenshot(path=str(screenshots_dir / "phone-layout-filtered-375.png"), full_page=True)

    # The household file: the phone link and the tabs are tap targets; the current tab,
    # far right in the row, is scrolled into view.
    page.goto(live_server + "/menages/")
    page.locator("table.cards-on-phone tbody a").first.click()
    phone_link = page.locator(".household-header a[href^='tel:']").first
    assert_tap_target(phone_link, "phone link")
    tabs = page.get_by_role("navigation", name="Rubriques du dossier")
    for tab in tabs.get_by_role("link").all():
        assert_tap_target(tab, tab.inner_text())
    tabs.get_by_role("link", name="Équipe").click()
    current = tabs.locator("[aria-current=page]")
    expect(current).to_have_text("Équipe")
    row, tab = box(tabs), box(current)
    assert tab["x"] >= row["x"] - 1 and tab["x"] + tab["width"] <= row["x"] + row["width"] + 1
    assert page.evaluate(SIDEWAYS) <= 0
    page.screenshot(path=str(screenshots_dir / "phone-layout-file-tabs-375.png"))

    # At 1280 px the menu is open, no button; every tab is whole, none scrolled away.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    expect(nav).to_be_visible()
    expect(toggle).to_be_hidden()
    row = box(tabs)
    for tab in tabs.get_by_role("link").all():
        rect = box(tab)
        assert rect["x"] >= row["x"] - 1, tab.inner_text()
        assert rect["x"] + rect["width"] <= row["x"] + row["width"] + 1, tab.inner_text()
    page.goto(live_server + "/menages/")
    expect(page.get_by_label("Étape")).to_be_visible()
    expect(page.locator(".filters__more > summary")).to_be_hidden()
    context.close()
