"""Reading a landlord's monthly rent-account extract (CSV or XLSX), without writing:
``limits`` (what a file may weigh, the refusal), ``files`` (CSV and XLSX rows within the
limits), ``headers`` (the columns and the mapping of a file's header), ``values`` (amounts,
days, months), ``rows`` (one row checked against the leases), ``summary`` (the report) and
``reader`` (the lines checked against the leases, the whole file), ``references`` (how a
lease reference is matched), ``history`` (the import profile and the imports written) and
``writer`` (the bulk writes). ``services.import_rent_accounts`` imports a file;
``import_rent_lines`` imports lines already parsed (the API), with the same checks."""

from app.housing.rent_import.files import ENCODINGS, SEPARATORS, csv_dialect, file_format, read_rows
from app.housing.rent_import.headers import (
    IMPORT_COLUMNS,
    TEMPLATE_HEADER,
    ImportColumn,
    header_names,
    header_problem,
    map_header,
    mapping_names,
    mapping_text,
    parse_mapping,
)
from app.housing.rent_import.history import (
    RentImport,
    RentImportProfile,
    import_history,
    previous_import,
    saved_columns,
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
from app.housing.rent_import.reader import (
    PREVIEW_ROWS,
    check_lines,
    read_header,
    read_header_or_none,
    read_rent_accounts,
    report_progress,
)
from app.housing.rent_import.references import reference_key
from app.housing.rent_import.rows import CheckedRow, RowContext, check_row
from app.housing.rent_import.summary import ImportRejected, ImportReport, RowProblem
from app.housing.rent_import.values import parse_amount, parse_day, parse_month
from app.housing.rent_import.writer import (
    AlreadyImported,
    ImportSource,
    check_not_imported,
    count_changes,
    import_rent_lines,
    preview_rent_accounts,
    write_rent_accounts,
)

__all__ = [
    "ENCODINGS",
    "IMPORT_COLUMNS",
    "LIMIT_SETTINGS",
    "MAX_BAD_ROWS",
    "MAX_REPORTED_PROBLEMS",
    "NOT_READABLE",
    "PREVIEW_ROWS",
    "SEPARATORS",
    "SHOWN_CHARS",
    "TEMPLATE_HEADER",
    "AlreadyImported",
    "CheckedRow",
    "FileRefused",
    "ImportColumn",
    "ImportLimits",
    "ImportRejected",
    "ImportReport",
    "ImportSource",
    "RentImport",
    "RentImportProfile",
    "RowContext",
    "RowProblem",
    "check_lines",
    "check_not_imported",
    "check_row",
    "check_size",
    "count_changes",
    "csv_dialect",
    "file_format",
    "header_names",
    "header_problem",
    "import_history",
    "import_rent_lines",
    "map_header",
    "mapping_names",
    "mapping_text",
    "parse_amount",
    "parse_day",
    "parse_mapping",
    "parse_month",
    "preview_rent_accounts",
    "previous_import",
    "read_header",
    "read_header_or_none",
    "read_rent_accounts",
    "read_rows",
    "reference_key",
    "report_progress",
    "saved_columns",
    "shown",
    "write_rent_accounts",
]
