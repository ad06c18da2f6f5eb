"""Each demo role logs in, sees its home page and logs out, in headless Chromium."""

import pytest
from playwright.sync_api import Page, expect

from app.demo import USERS
from tests.e2e.helpers import log_in

pytestmark = pytest.mark.e2e

ONE_ACCOUNT_PER_ROLE = {}
for email, name, _org, roles, _projects, _title in USERS:
    ONE_ACCOUNT_PER_ROLE.setdefault(roles[0], (email, name))


@pytest.mark.parametrize("role", sorted(ONE_ACCOUNT_PER_ROLE), ids=str)
def test_each_demo_role_logs_in_sees_home_and_logs_out(
    role, demo_data, live_server, page: Page, screenshots_dir
):
    email, name = ONE_ACCOUNT_PER_ROLE[role]
    log_in(page, live_server, email)
    expect(page.get_by_role("heading", level=1)).to_be_visible()  # each role's home page
    expect(page.get_by_role("banner")).to_contain_text(name)
    page.screenshot(path=str(screenshots_dir / f"home-{role}.png"), full_page=True)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté·e.")).to_be_visible()
    page.goto(f"{live_server}/accueil")
    expect(page).to_have_url(f"{live_server}/connexion?next=%2Faccueil")


def test_wrong_password_shows_a_french_message(demo_data, live_server, page: Page):
    log_in(page, live_server, "admin@ancrage.demo", "pas-le-bon-mot-de-passe")
    expect(page.get_by_text("Adresse e-mail ou mot de passe incorrect.")).to_be_visible()


def test_phone_width_login_and_admin_pages_fit_without_horizontal_scroll(
    demo_data, live_server, browser, screenshots_dir
):
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    log_in(page, live_server, "admin@ancrage.demo")
    for path in ("/accueil", "/admin/utilisateurs/", "/admin/projets/nouveau"):
        page.goto(f"{live_server}{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        page.screenshot(
            path=str(screenshots_dir / f"phone{path.replace('/', '-')}.png"), full_page=True
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375px"
    context.close()
