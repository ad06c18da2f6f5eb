"""The one place the API reaches the rent-account import (``app.housing.rent_import`` and
``housing.services.import_rent_accounts``): a batch of JSON lines is written as the
import's own template (a ``;`` CSV with the template header) and goes through the same
reading, validation, all-or-nothing refusal and bulk write as a file. When the import's
entry points change, only this module follows."""

from __future__ import annotations

import csv
import io

from app.housing import rent_import, services
from app.housing.rent_import import ImportRejected, ImportReport

__all__ = ["ImportRejected", "ImportReport", "import_lines", "line_index", "record_refused"]

FIRST_LINE = 2  # the template's header is line 1


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole},{rest:02d}"


def _day(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def as_extract(lines: list[dict]) -> bytes:
    """The lines as the import's template (UTF-8, ``;``, amounts with a decimal comma)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in rent_import.IMPORT_COLUMNS])
    for line in lines:
        writer.writerow(
            [
                line["lease_reference"],
                line["month"],
                _euros(line["balance_cents"]),
                _euros(line["amount_due_cents"]),
                _day(line.get("last_payment_on")),
                line.get("apl_status") or "",
                _day(line.get("caf_reported_on")),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def line_index(line: int) -> int:
    """The position in the JSON ``lines`` list (from 0) of a line number of the report."""
    return line - FIRST_LINE


def import_lines(actor, organisation, lines: list[dict]) -> ImportReport:
    """Import the lines all or nothing (``ImportRejected`` when any is refused)."""
    return services.import_rent_accounts(actor, organisation, content=as_extract(lines), via="api")


def record_refused(actor, organisation, report: ImportReport) -> None:
    services.record_refused_import(actor, organisation, report, via="api")
