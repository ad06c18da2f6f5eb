"""Small-cell suppression (app/evaluation/suppression.py): the small counts are masked, and
an attacker who subtracts published cells from the published totals — again and again, as
long as a row or a column holds a single unknown — recovers none of them."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.evaluation.suppression import equations, suppress
from app.evaluation.tables import Column, FigureTable, Kind, Row

THRESHOLD = 5


def table(
    matrix, *, row_total=True, column_total=True, extra=(), kinds=None, key="t"
) -> FigureTable:
    """A COUNT table from ``matrix`` (inner cells); the margins are added when asked."""
    rows = [list(r) for r in matrix]
    if column_total:
        rows = [[*r, sum(r)] for r in rows]
    if row_total:
        rows.append([sum(col) for col in zip(*rows, strict=True)])
    n = len(rows[0])
    kinds = kinds or [Kind.COUNT] * n
    columns = tuple(Column(f"c{j}", f"Colonne {j}", kinds[j]) for j in range(n))
    columns += tuple(Column(key_, label, kind) for key_, label, kind in extra)
    return FigureTable(
        key=key,
        axis="outcomes",
        title="Essai",
        definition="essai",
        columns=columns,
        rows=tuple(
            Row(f"r{i}", f"Ligne {i}", tuple(values) + tuple(None for _ in extra))
            for i, values in enumerate(rows)
        ),
        row_total=row_total,
        column_total=column_total,
    )


def recovered_by_subtraction(figures: FigureTable, masked) -> set:
    """The attacker: every equation (a row or a column with its total) holding exactly one
    unknown gives it; repeat while something is found."""
    unknown = {cell for cell in masked if figures.columns[cell[1]].kind == Kind.COUNT}
    recovered = set()
    progress = True
    while progress:
        progress = False
        for line in equations(figures):
            left = [cell for cell in line if cell in unknown]
            if len(left) == 1:
                unknown.discard(left[0])
                recovered.add(left[0])
                progress = True
    return recovered


def small_counts(figures: FigureTable) -> set:
    return {
        (i, j)
        for i, row in enumerate(figures.rows)
        for j, value in enumerate(row.values)
        if figures.columns[j].kind == Kind.COUNT and value is not None and 0 < value < THRESHOLD
    }


# --- hand examples -----------------------------------------------------------------------


def test_a_table_without_small_counts_is_published_whole():
    result = suppress(table([[10, 20], [30, 40]]), THRESHOLD)
    assert result.masked == frozenset()


def test_zero_is_not_masked_and_five_is_the_first_count_shown():
    # [[0, 5], [12, 6]]: 0 is "nobody", 5 reaches the threshold: nothing to mask.
    result = suppress(table([[0, 5], [12, 6]]), THRESHOLD)
    assert result.masked == frozenset()


def test_one_small_cell_takes_three_complements_forming_a_rectangle():
    # Inner    c0  c1  | total
    #  r0       3  10  |  13
    #  r1       8  20  |  28
    #  total   11  30  |  41
    # 3 is masked. Row r0 then holds one unknown: its smallest other non-zero cell, 10, is
    # masked (inner before the margin 13). Column c0 holds one unknown (3): 8 is masked.
    # Column c1 now holds 10 alone: 20 is masked. Row r1 holds 8 and 20: two, stable.
    result = suppress(table([[3, 10], [8, 20]]), THRESHOLD)
    assert result.masked == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert recovered_by_subtraction(result.table, result.masked) == set()


def test_the_smallest_complement_is_chosen_then_the_first_on_ties():
    # r0 = [2, 9, 7, 7] (total 25): beside 2, the smallest non-zero other cell is 7, the
    # first of the two 7s (column c2). No row total: only the row's equation binds.
    result = suppress(table([[2, 9, 7, 7]], row_total=False), THRESHOLD)
    assert result.masked == {(0, 0), (0, 2)}


def test_a_small_total_is_masked_and_protected_too():
    # r0 = [0, 3] total 3: 3 and its total 3 are both small (primary); the row holds two
    # unknowns. Column c1: [3, 9] total 12 → 3 alone in the column: 9 is masked; column of
    # the totals [3, 9 + 7 = 16] total 19: 3 alone → 16 masked. Row r1 then holds 9 and 16.
    # Row total: c0 [0, 7] → 7, fine; the total row [7, 12, 19] holds nothing masked.
    result = suppress(table([[0, 3], [7, 9]]), THRESHOLD)
    assert {(0, 1), (0, 2)} <= result.masked
    assert {(1, 1), (1, 2)} <= result.masked
    assert result.masked == {(0, 1), (0, 2), (1, 1), (1, 2)}
    assert recovered_by_subtraction(result.table, result.masked) == set()


def test_without_margins_only_the_small_cells_are_masked():
    result = suppress(table([[3, 10], [8, 20]], row_total=False, column_total=False), THRESHOLD)
    assert result.masked == {(0, 0)}


def test_a_share_of_a_row_with_a_masked_count_is_masked_too():
    # Rows: [3 households, share 0.3], [12 households, share 0.4]: the share of 3 households
    # is masked with them; the other is shown.
    figures = FigureTable(
        key="t",
        axis="outcomes",
        title="Essai",
        definition="essai",
        columns=(
            Column("menages", "Ménages", Kind.COUNT),
            Column("part", "Part", Kind.RATIO),
            Column("visites", "Visites", Kind.NUMBER),
        ),
        rows=(Row("a", "A", (3, 0.3, 14)), Row("b", "B", (12, 0.4, 30))),
    )
    result = suppress(figures, THRESHOLD)
    assert result.masked == {(0, 0), (0, 1)}  # the visits (events) stay


def test_the_same_table_always_gives_the_same_cells():
    figures = table([[1, 2, 30], [4, 50, 60], [70, 3, 80]])
    assert suppress(figures, THRESHOLD) == suppress(figures, THRESHOLD)


# --- property: nothing recoverable --------------------------------------------------------

counts = st.integers(min_value=0, max_value=30)
matrices = st.integers(min_value=1, max_value=5).flatmap(
    lambda width: st.lists(st.lists(counts, min_size=width, max_size=width), min_size=1, max_size=5)
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matrices, st.booleans(), st.booleans())
def test_no_masked_cell_is_recoverable_from_the_totals(matrix, row_total, column_total):
    figures = table(matrix, row_total=row_total, column_total=column_total)
    result = suppress(figures, THRESHOLD)
    assert small_counts(figures) <= result.masked
    assert recovered_by_subtraction(figures, result.masked) == set()
    # Every equation holds zero or at least two masked cells.
    for line in equations(figures):
        assert len([cell for cell in line if cell in result.masked]) != 1


def test_the_attacker_does_recover_a_cell_masked_alone():
    # Without the complements, 3 = 13 − 10 (its row) or 11 − 8 (its column): the attacker of
    # the property test finds it, so its "nothing recovered" means something.
    figures = table([[3, 10], [8, 20]])
    assert recovered_by_subtraction(figures, {(0, 0)}) == {(0, 0)}
