"""Reading a landlord's monthly rent-account extract (CSV or XLSX), without writing:
``limits`` (what a file may weigh, the refusal), ``files`` (CSV and XLSX rows within the
limits), ``headers`` (the columns and the mapping of a file's header), ``values`` (amounts,
days, months), ``rows`` (one row checked against the leases), ``summary`` (the report) and
``reader`` (the whole file). ``services.import_rent_accounts`` writes in bulk once the whole
file has been read and validated."""

from app.housing.rent_import.files import file_format, read_rows
from app.housing.rent_import.headers import (
    IMPORT_COLUMNS,
    TEMPLATE_HEADER,
    ImportColumn,
    header_problem,
    map_header,
)
from app.housing.rent_import.limits import (
    LIMIT_SETTINGS,
    MAX_BAD_ROWS,
    MAX_REPORTED_PROBLEMS,
    NOT_READABLE,
    SHOWN_CHARS,
    FileRefused,
    ImportLimits,
    check_size,
    shown,
)
from app.housing.rent_import.reader import read_rent_accounts, report_progress
from app.housing.rent_import.rows import CheckedRow, RowContext, check_row
from app.housing.rent_import.summary import ImportRejected, ImportReport, RowProblem
from app.housing.rent_import.values import parse_amount, parse_day, parse_month

__all__ = [
    "IMPORT_COLUMNS",
    "LIMIT_SETTINGS",
    "MAX_BAD_ROWS",
    "MAX_REPORTED_PROBLEMS",
    "NOT_READABLE",
    "SHOWN_CHARS",
    "TEMPLATE_HEADER",
    "CheckedRow",
    "FileRefused",
    "ImportColumn",
    "ImportLimits",
    "ImportRejected",
    "ImportReport",
    "RowContext",
    "RowProblem",
    "check_row",
    "check_size",
    "file_format",
    "header_problem",
    "map_header",
    "parse_amount",
    "parse_day",
    "parse_month",
    "read_rent_accounts",
    "read_rows",
    "report_progress",
    "shown",
]
