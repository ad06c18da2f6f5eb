"""The one view pattern: a view never commits or rolls back itself.

Every form or button POST hands its one service call to ``app.forms.submit`` (a form shown
again on a refusal), ``press`` (a button that flashes and goes back) or ``commit_service``
(their shared core, when the view validated the form itself). They commit once, flash,
redirect, and roll back on a ``DomainError`` (a stale edit lost at the commit included).

This test reads every views module of ``app/`` (``views.py``, ``views_*.py`` and
``views/*.py``) and fails on a ``….commit()`` or ``….rollback()`` call written in a view
module outside the few functions listed in ``ALLOWED`` with their reason. A function that
must be added there is one that does not fit the pattern for a reason a reviewer accepts.

A deliberately broken example (``test_a_view_committing_itself_is_reported``)::

    @bp.route("/x", methods=["POST"])
    def x():
        try:
            services.do(current_user)
        except DomainError as error:
            db.session.rollback()          # <- reported: app/…/views.py:x
            flash(error.message, "error")
        db.session.commit()                # <- reported too
        return redirect(url_for(".index"))
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"

# (module path relative to app/, top-level function) -> why it commits or rolls back itself.
ALLOWED: dict[tuple[str, str], str] = {
    # Reads that must leave a trace: a GET writes its audit entry in a short transaction of
    # its own, committed before the page or the file is produced (Lock discipline).
    ("retention/views.py", "_audit"): "GET: the subject-access export is logged first",
    ("reports/views_exports.py", "export_indicators"): "GET: logged before it is sent",
    ("reports/views_exports.py", "export_caseload"): "GET: logged before it is sent",
    ("reports/views_tenancies.py", "export_tenancies"): "GET: logged before it is sent",
    ("evaluation/views_national.py", "_log_download"): "GET: the national export is logged "
    "before it is sent",
    ("evaluation/views_bilan.py", "_download"): "GET: the bilan's download is logged before "
    "it is sent",
    ("agenda/views.py", "_note_feed_use"): "calendar feed: best-effort hourly note, a "
    "busy database is rolled back and the feed still served",
    ("support/views.py", "open_measure"): "default intensity levels created on first use, "
    "a concurrent first use loses on the unique key and is rolled back (IntegrityError)",
    ("health/views.py", "ready"): "health probe: ends its read transaction, nothing written",
    ("health/views.py", "_database"): "health probe: a failed SELECT 1 ends its transaction",
    # Login and session: a refused attempt is kept (it feeds the throttle), so the refusal
    # commits instead of rolling back; the session hook runs before any view.
    ("auth/views.py", "_enforce_session_lifetime"): "before_request hook: an expired "
    "session's audit entry",
    ("auth/views.py", "login"): "a refused password commits its failed attempt (throttle)",
    ("auth/views.py", "reauthenticate"): "a refused password commits its failed attempt",
    ("auth/views.py", "second_factor"): "a refused code commits its failed attempt",
    ("auth/views.py", "_enrolment"): "the pending secret is stored when the page is shown, "
    "and enrolment at login then completes the login in a second transaction",
    # The rent-account import answers with its report (no redirect), and a refused file is
    # itself recorded after the rollback of the import.
    ("housing/views_import.py", "import_accounts"): "renders the import report; a refused import "
    "is recorded after the rollback",
    # Command-line commands registered on a blueprint: no request, no flash, no redirect.
    ("housing/views_import.py", "import_accounts_command"): "CLI command",
    ("reminders/views.py", "sweep_command"): "CLI command",
    ("reminders/views.py", "digest_command"): "CLI command",
}


def view_modules() -> list[Path]:
    found = {*APP.glob("*/views.py"), *APP.glob("*/views_*.py"), *APP.glob("*/views/*.py")}
    return sorted(found)


def transaction_calls(source: str) -> list[tuple[str, int]]:
    """``(top-level function, line)`` of each ``….commit()`` / ``….rollback()`` call;
    a call outside any function is reported under ``<module>``."""
    found: list[tuple[str, int]] = []
    tree = ast.parse(source)
    for node in tree.body:
        owner = (
            node.name
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            else "<module>"
        )
        for inner in ast.walk(node):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in ("commit", "rollback")
            ):
                found.append((owner, inner.lineno))
    return sorted(found, key=lambda call: call[1])


def test_views_leave_the_transaction_to_the_one_pattern():
    offending, used = [], set()
    for path in view_modules():
        module = path.relative_to(APP).as_posix()
        for function, line in transaction_calls(path.read_text(encoding="utf-8")):
            if (module, function) in ALLOWED:
                used.add((module, function))
            else:
                offending.append(f"app/{module}:{line} in {function}()")
    assert not offending, (
        "A view commits or rolls back itself: hand its service call to app.forms.submit / "
        "press / commit_service (docs/development.md, 'The one view pattern'), or list it "
        "in ALLOWED with its reason:\n" + "\n".join(offending)
    )
    stale = sorted(set(ALLOWED) - used)
    assert not stale, f"ALLOWED lists functions that no longer commit: {stale}"


def test_the_scan_covers_every_blueprint_views_module():
    modules = {p.relative_to(APP).parts[0] for p in view_modules()}
    assert {"households", "housing", "reports", "auth", "support", "partners"} <= modules


BROKEN_VIEW = """
@bp.route("/x", methods=["POST"])
def x():
    try:
        services.do(current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    db.session.commit()
    return redirect(url_for(".index"))


@bp.route("/y", methods=["POST"])
def y():
    return press(FlaskForm(), lambda: services.do(current_user), "Fait.", url_for(".index"))
"""


def test_a_view_committing_itself_is_reported():
    assert transaction_calls(BROKEN_VIEW) == [("x", 7), ("x", 9)]
