"""The journal's action filter offers a fixed vocabulary (app/audit/queries.py): every action
the code records must belong to one of its families, or an administrator could not find it."""

import ast
from pathlib import Path

from app.audit.queries import ACTION_FAMILIES, ACTION_LABELS

APP = Path(__file__).resolve().parents[2] / "app"


def _recorded_actions() -> dict[str, str]:
    """Every action string passed to ``record(actor, action, …)`` in app/, with its file."""
    found: dict[str, str] = {}
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name != "record":
                continue
            action = node.args[1]
            branches = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
            for branch in branches:
                assert isinstance(branch, ast.Constant) and isinstance(branch.value, str), (
                    f"{path.relative_to(APP.parent)}:{node.lineno}: the action given to record() "
                    "must be a literal string, so that this test can see it"
                )
                found[branch.value] = f"{path.relative_to(APP.parent)}:{node.lineno}"
    return found


def test_the_walk_finds_the_actions_people_search_for():
    actions = _recorded_actions()
    assert {"household.read", "auth.login", "user.created", "reminder.created"} <= set(actions)


def test_every_recorded_action_belongs_to_a_family_of_the_filter():
    missing = {
        action: where
        for action, where in _recorded_actions().items()
        if action.split(".", 1)[0] not in ACTION_FAMILIES
    }
    assert not missing, f"add their family to ACTION_FAMILIES: {missing}"


def test_every_labelled_action_belongs_to_a_family():
    assert {action.split(".", 1)[0] for action in ACTION_LABELS} <= set(ACTION_FAMILIES)
