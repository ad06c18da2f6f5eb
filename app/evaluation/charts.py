"""PNG bar charts of the bilan, drawn with Pillow: for each row of a table, the year's bar
beside the previous year's. Always shown with their table (the page and both documents), and
described by an alt text.

A table is charted when it has a numeric column (the first one is drawn) and 2 to
``MAX_ROWS`` rows (a total row is left out: it would flatten the others). A masked count
gets no bar: its place reads "< 5", as in the table.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from app.evaluation.bilan import PairedTable
from app.evaluation.tables import Kind

MAX_ROWS = 12
WIDTH = 900
ROW_HEIGHT = 44
TOP = 56
LEFT = 300
RIGHT = 150
COLOURS = ("#1d4f91", "#a9bfdc")  # the year, the previous year
TEXT = "#1b1b1b"
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
NUMERIC = (Kind.COUNT, Kind.NUMBER, Kind.AMOUNT, Kind.RATIO, Kind.DAYS)


@dataclass(frozen=True)
class Chart:
    key: str
    png: bytes
    alt: str
    height: int = 0  # pixels (the width is WIDTH)


@cache
def _font(size: int):
    for path in FONT_FILES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def _number(value) -> float | None:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    return None


def _column(table: PairedTable) -> int | None:
    for index, column in enumerate(table.columns):
        if column.kind in NUMERIC:
            return index
    return None


def chartable(table: PairedTable) -> bool:
    rows = [row for row in table.rows if not row.is_total]
    return _column(table) is not None and 2 <= len(rows) <= MAX_ROWS


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, font) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def alt_text(table: PairedTable, year: int) -> str:
    index = _column(table)
    column = table.columns[index]
    parts = [
        f"{row.label} : {row.cells[index].text} en {year}, "
        f"{row.cells[index].previous} en {year - 1}"
        for row in table.rows
        if not row.is_total
    ]
    return (
        f"Graphique en barres « {table.title} » ({column.label}), {year} comparé à "
        f"{year - 1} : " + " ; ".join(parts) + "."
    )


def bar_chart(table: PairedTable, year: int) -> Chart | None:
    """The chart of ``table`` (None when it does not suit one). The picture is drawn once
    per process for the same figures (``_picture``): the bilan's tables come from a cache,
    and encoding a dozen PNGs was three quarters of the page's time."""
    if not chartable(table):
        return None
    index = _column(table)
    rows = tuple(
        (
            row.label,
            row.cells[index].value,
            row.cells[index].text,
            row.cells[index].previous_value,
            row.cells[index].previous,
        )
        for row in table.rows
        if not row.is_total
    )
    png, height = _picture(table.title, rows, year)
    return Chart(table.key, png, alt_text(table, year), height)


@lru_cache(maxsize=512)
def _picture(title: str, rows: tuple, year: int) -> tuple[bytes, int]:
    """The PNG of a chart and its height; ``rows``: (label, value, text, previous value,
    previous text) of each bar pair."""
    values = [v for _label, value, _t, previous, _p in rows for v in (value, previous)]
    top = max((n for n in map(_number, values) if n is not None), default=0) or 1
    height = TOP + len(rows) * ROW_HEIGHT + 24
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    font, small = _font(16), _font(13)
    draw.text((12, 10), _fit(draw, title, WIDTH - 24, font), fill=TEXT, font=font)
    for n, (colour, label) in enumerate(zip(COLOURS, (str(year), str(year - 1)), strict=True)):
        x = LEFT + n * 110
        draw.rectangle((x, 36, x + 14, 48), fill=colour)
        draw.text((x + 20, 34), label, fill=TEXT, font=small)
    span = WIDTH - LEFT - RIGHT
    for i, (label, value, text, previous, previous_text) in enumerate(rows):
        y = TOP + i * ROW_HEIGHT
        draw.text((12, y + 12), _fit(draw, label, LEFT - 24, small), fill=TEXT, font=small)
        bars = ((value, text), (previous, previous_text))
        for n, (bar_value, bar_text) in enumerate(bars):
            number = _number(bar_value)
            bar_y = y + 4 + n * 18
            length = round(max(number or 0, 0) * span / top)
            if length:
                draw.rectangle((LEFT, bar_y, LEFT + length, bar_y + 15), fill=COLOURS[n])
            draw.text((LEFT + length + 6, bar_y), bar_text, fill=TEXT, font=small)
    draw.line((LEFT, TOP, LEFT, height - 20), fill="#6b6b6b", width=1)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue(), height


def charts(tables, year: int) -> dict[str, Chart]:
    """The charts of ``tables`` that suit one, by table key."""
    found = {}
    for table in tables:
        chart = bar_chart(table, year)
        if chart is not None:
            found[table.key] = chart
    return found
