"""The one place the API reaches the rent-account import (``app.housing.rent_import``): the
JSON lines, already parsed and typed by the schema, are handed to
``rent_import.import_rent_lines`` as the import's column keys, so they go through the same
checks (the landlord's leases, months, bounds, duplicates), the same all-or-nothing refusal
and the same bulk write as a file — but never through a file's reading: no header, no
column mapping, so the landlord's saved import profile (the web import's) plays no part.
When the import's entry points change, only this module follows."""

from __future__ import annotations

from decimal import Decimal

from app.housing import rent_import, services
from app.housing.rent_import import ImportRejected, ImportReport

__all__ = ["ImportRejected", "ImportReport", "import_lines", "line_index", "record_refused"]

FIRST_LINE = 1  # import_rent_lines numbers the lines from 1


def _euros(cents: int) -> Decimal:
    """An exact amount in euros (the import reads numbers as euros)."""
    return Decimal(cents).scaleb(-2)


def as_cells(line: dict) -> dict:
    """One JSON line as the import's cells (column key → value)."""
    return {
        "reference": line["lease_reference"],
        "month": line["month"],
        "balance": _euros(line["balance_cents"]),
        "amount_due": _euros(line["amount_due_cents"]),
        "last_payment_on": line.get("last_payment_on"),
        "apl_status": line.get("apl_status"),
        "caf_reported_on": line.get("caf_reported_on"),
    }


def line_index(line: int) -> int:
    """The position in the JSON ``lines`` list (from 0) of a line number of the report."""
    return line - FIRST_LINE


def import_lines(actor, organisation, lines: list[dict]) -> ImportReport:
    """Import the lines all or nothing (``ImportRejected`` when any is refused)."""
    return rent_import.import_rent_lines(
        actor, organisation, [as_cells(line) for line in lines], via="api"
    )


def record_refused(actor, organisation, report: ImportReport) -> None:
    services.record_refused_import(actor, organisation, report, via="api")
