"""Modules a newcomer can hold in their head (issue 14): no module of ``app/`` is over 600
lines unless its first lines say why (``# Over 600 lines because: …``), and no function or
method of ``app/`` is above cyclomatic complexity 20 as radon counts it (the ``radon cc``
grade D starts at 21). A module that grows past the limit is split along the seams it already
marks (docs/development.md, "Layout"); a role may become several modules."""

from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Function

APP = Path(__file__).resolve().parents[1] / "app"
MAX_LINES = 600
MAX_COMPLEXITY = 20
# One of a long module's first lines, with the reason after the colon.
REASON_MARKER = "# Over 600 lines because:"
REASON_WITHIN_LINES = 3


def size_problem(name: str, source: str) -> str | None:
    """Why ``source`` breaks the size rule, or None."""
    lines = source.splitlines()
    if len(lines) <= MAX_LINES:
        return None
    for line in lines[:REASON_WITHIN_LINES]:
        if line.startswith(REASON_MARKER) and line[len(REASON_MARKER) :].strip():
            return None
    return f"{name}: {len(lines)} lines and no '{REASON_MARKER} …' line at its top"


def complexity_problems(name: str, source: str) -> list[str]:
    """Every function or method of ``source`` above the complexity limit."""
    return [
        f"{name}:{block.lineno} {block.fullname} has complexity {block.complexity}"
        for block in cc_visit(source)
        if isinstance(block, Function) and block.complexity > MAX_COMPLEXITY
    ]


def _modules():
    for path in sorted(APP.rglob("*.py")):
        yield path.relative_to(APP.parent).as_posix(), path.read_text(encoding="utf-8")


def test_no_module_over_600_lines_without_a_reason_at_its_top():
    problems = [p for name, source in _modules() if (p := size_problem(name, source))]
    assert not problems, "\n".join(problems)


def test_no_function_above_complexity_20():
    problems = [p for name, source in _modules() for p in complexity_problems(name, source)]
    assert not problems, "\n".join(problems)


def test_the_checks_refuse_a_long_module_and_a_tangled_function():
    """The two checks above fail on what they are meant to catch."""
    long = "x = 1\n" * (MAX_LINES + 1)
    assert size_problem("app/long.py", long) == (
        "app/long.py: 601 lines and no '# Over 600 lines because: …' line at its top"
    )
    assert size_problem("app/long.py", "x = 1\n" * MAX_LINES) is None
    assert size_problem("app/long.py", f"{REASON_MARKER} a generated table\n{long}") is None
    # The marker needs a reason, and belongs at the top.
    assert size_problem("app/long.py", f"{REASON_MARKER}\n{long}")
    assert size_problem("app/long.py", f'"""Doc."""\n\n\n{REASON_MARKER} late\n{long}')

    def function(decisions: int) -> str:
        branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(decisions))
        return f"def tangled(x):\n{branches}    return -1\n"

    # radon counts one plus one per decision: 19 ifs make 20, the limit.
    assert complexity_problems("app/t.py", function(MAX_COMPLEXITY - 1)) == []
    tangled = function(MAX_COMPLEXITY)
    assert complexity_problems("app/t.py", tangled) == ["app/t.py:1 tangled has complexity 21"]
    method = "class C:\n" + "".join(f"    {line}\n" for line in tangled.splitlines())
    assert complexity_problems("app/t.py", method) == ["app/t.py:2 C.tangled has complexity 21"]
