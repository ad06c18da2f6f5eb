"""Accessibility check with axe-core (WCAG 2.1 A and AA rules) on a page in Chromium."""

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def assert_accessible(page, label: str = "") -> None:
    # Callers wait for the page they mean to check; this also waits for it to finish loading
    # and for its CSS transitions to end: axe measures colours as they are at that instant,
    # and a button fading into its hover colour under the pointer (0.15 s) once read 4.2:1.
    page.wait_for_load_state()
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")
    results = _AXE.run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{label or page.url}\n{results.generate_report()}"
