"""Domains depend downward only: no import circle between the packages of ``app/``.

Every import of ``app/`` is read with ``ast`` — at module level and inside functions — and
so are the ``"app.module:function"`` / ``"app.module"`` strings handed to a loader
(``import_string``, a registry of dotted names). Each package ``app/<pkg>/`` and each
top-level module ``app/<name>.py`` is one node; an import from one node into another is an
edge. The test fails on any cycle of that graph and prints it, e.g. after someone writes,
inside a function of ``app/households/queries.py``::

    from app.housing.queries import current_occupancy   # households -> housing

while ``app/housing`` imports ``app.households`` (housing -> households)::

    AssertionError: import circle between domain packages:
      2 packages reach each other: households, housing
      one circle in each group, with the imports that make it:
      households -> housing -> households
        app.households.queries -> app.housing.queries (line 412)
        app.housing.views -> app.households.file (line 24)

A downward layer reads nothing above it; the layers are described in docs/development.md
("Layering"). When a lower domain must show something an upper one owns (a tab, a badge, a
timeline event of the household file), the upper domain registers it at application start
(``app.households.file_registry``) instead of being imported.

``app/__init__.py`` (``create_app``) is the composition root: it imports every domain to
register its models, blueprints and contributions, so it is not a node of the graph.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

# Imports from a lower node into a higher one that stay, with their reason. Key: (importing
# module, imported module); both must still exist (checked below), so the list cannot rot.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    # Core modules that need a record of a domain in one corner case, imported inside the
    # function concerned.
    ("app.db", "app.errors"): "GuardedSession turns a lost race into errors' StaleEditError",
    ("app.errors", "app.users.models"): "a stale edit names who saved first",
    ("app.errors", "app.audit.models"): "a refused request (403/404) is audited",
    ("app.errors", "app.audit.services"): "a refused request (403/404) is audited",
    # Accounts: the User model is shared by login (auth) and account administration (users).
    ("app.auth.services", "app.users.models"): "login reads and updates the User account",
    ("app.auth.views", "app.users.models"): "login reads and updates the User account",
    ("app.auth.passwords", "app.users.models"): "a password change updates the User account",
    (
        "app.auth.password_reset",
        "app.users.models",
    ): "a reset link is issued for, and updates, a User account",
    (
        "app.auth.second_factor",
        "app.users.models",
    ): "the second factor is enrolled on, and checked against, the User account",
    ("app.audit.queries", "app.users.models"): "the journal names who did what",
    ("app.users.services", "app.reminders.services"): (
        "PROJECT_ACCESS_LISTENERS: a user added to a project is told of their reminders there"
    ),
    ("app.projects.services", "app.support.services"): (
        "a new project starts with support's default intensity levels"
    ),
    # Pages of the household file owned by lower domains load the household like every file
    # page (one household.read per GET).
    # A landlord's staff see the households housed in their dwellings: the household scope
    # and search read housing's lease tables.
    ("app.households.queries", "app.housing.models"): (
        "visible_households: a landlord sees the households of its current leases"
    ),
    ("app.households.path", "app.housing.models"): (
        "a household already holding a lease may move straight to maintien"
    ),
    # A service that settles a reminder's condition tells the reminders at once
    # (docs/reminders.md, resolve_for_household).
    ("app.partners.services", "app.reminders.services"): "a referral's answer settles reminders",
    ("app.retention.views", "app.scheduler"): (
        "the CLI command runs the job through the scheduler's once-per-slot claim"
    ),
}

_DOTTED = re.compile(r"^app(?:\.\w+)+(?::\w+)?$")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_imports(root: Path = APP) -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every import of the tree under
    ``root``, including imports inside functions and dotted names in strings."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base_name = ".".join(base + ([node.module] if node.module else []))
                else:
                    base_name = node.module or ""
                # ``from app import bounds`` imports the module app.bounds.
                for alias in node.names:
                    candidate = f"{base_name}.{alias.name}"
                    parts = candidate.split(".")[1:]
                    if (root.joinpath(*parts).with_suffix(".py")).exists() or (
                        root.joinpath(*parts) / "__init__.py"
                    ).exists():
                        targets.append(candidate)
                    else:
                        targets.append(base_name)
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _DOTTED.match(node.value)
            ):
                targets = [node.value.partition(":")[0]]
            found += [(module, target, node.lineno) for target in targets]
    return found


def node_of(module: str, top: str = "app") -> str | None:
    """The graph node of a module: ``app/<pkg>/…`` → ``pkg``, ``app/<name>.py`` → ``name``;
    ``None`` outside the tree and for the composition root ``app`` itself."""
    parts = module.split(".")
    if parts[0] != top or len(parts) < 2:
        return None
    return parts[1]


def package_graph(root: Path = APP, allowed=ALLOWED_UPWARD):
    """``{node: {node it imports: [evidence lines]}}``, allowed upward imports left out."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for source, target, line in module_imports(root):
        a, b = node_of(source, root.name), node_of(target, root.name)
        if a is None or b is None or a == b or (source, target) in allowed:
            continue
        graph[a][b].append(f"{source} -> {target} (line {line})")
    return graph


def strongly_connected(graph) -> list[list[str]]:
    """The groups of more than one node that all reach each other (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(set(graph) | {b for edges in graph.values() for b in edges}):
        if node not in index:
            visit(node)
    return groups


def find_cycles(graph) -> list[list[str]]:
    """One cycle (a list of nodes, first repeated last) per strongly connected group, so a
    failure names every circle at once."""
    return [_cycle_within(graph, set(group)) for group in strongly_connected(graph)]


def _cycle_within(graph, group: set[str]) -> list[str]:
    """A shortest cycle through the first node of ``group`` (breadth-first)."""
    start = min(group)
    previous = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, start]
            if nxt in group and nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return sorted(group)


def describe(graph, cycles) -> str:
    lines = ["import circle between domain packages:"]
    for group in strongly_connected(graph):
        lines.append(f"  {len(group)} packages reach each other: {', '.join(group)}")
    lines.append("  one circle in each group, with the imports that make it:")
    for cycle in cycles:
        lines.append("  " + " -> ".join(cycle))
        for a, b in pairwise(cycle):
            lines += [f"    {evidence}" for evidence in graph[a][b][:3]]
    return "\n".join(lines)


def test_no_import_circle_between_domain_packages():
    graph = package_graph()
    cycles = find_cycles(graph)
    assert not cycles, describe(graph, cycles)


def test_allowed_upward_imports_still_exist():
    imports = {(source, target) for source, target, _ in module_imports()}
    assert not [pair for pair in ALLOWED_UPWARD if pair not in imports]


def test_the_detector_finds_a_planted_circle(tmp_path):
    """A throw-away tree where ``low`` imports ``high`` inside a function and ``high``
    imports ``low`` through a ``module:function`` string: the test above would fail."""
    root = tmp_path / "app"
    (root / "low").mkdir(parents=True)
    (root / "high").mkdir()
    (root / "__init__.py").write_text("from app.high import views\n")
    (root / "low" / "__init__.py").write_text("")
    (root / "high" / "__init__.py").write_text("")
    (root / "core.py").write_text("VALUE = 1\n")
    (root / "low" / "queries.py").write_text(
        "from app.core import VALUE\n\ndef header():\n    from app.high.queries import badges\n"
    )
    (root / "high" / "queries.py").write_text('PROVIDERS = ("app.low.queries:header",)\n')
    (root / "high" / "views.py").write_text("from app import core\n")

    graph = package_graph(root, allowed={})
    cycles = find_cycles(graph)

    assert cycles == [["high", "low", "high"]]
    assert "app.low.queries -> app.high.queries (line 4)" in describe(graph, cycles)
    # The composition root (app/__init__.py) is no node; "from app import core" is app.core.
    assert "app" not in graph and set(graph["high"]) == {"low", "core"}


def test_the_detector_honours_the_allowed_list(tmp_path):
    root = tmp_path / "app"
    for package in ("low", "high"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "low" / "models.py").write_text("import app.high.models\n")
    (root / "high" / "models.py").write_text("from app.low.models import X\n")

    assert find_cycles(package_graph(root, allowed={}))
    assert not find_cycles(
        package_graph(root, allowed={("app.low.models", "app.high.models"): "reason"})
    )


def test_the_household_domain_imports_none_of_its_contributors():
    """The spokes register their tabs, badges and timeline events (households/file_registry);
    households reads none of them, apart from the listed lease tables of the landlord scope."""
    above = {"housing", "support", "interventions", "partners", "reminders", "reports"}
    above |= {"retention", "home", "scheduler", "demo", "cli"}
    found = [
        f"{source} -> {target} (line {line})"
        for source, target, line in module_imports()
        if node_of(source) == "households"
        and node_of(target) in above
        and (source, target) not in ALLOWED_UPWARD
    ]
    assert not found, "\n".join(found)
