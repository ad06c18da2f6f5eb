"""The report of an import: file-level problems, the first bad rows (all are counted), the
months read and what was written; and the refusal shown when the file has problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.errors import DomainError
from app.housing.rent_import.limits import MAX_BAD_ROWS, MAX_REPORTED_PROBLEMS, FileRefused, _number


@dataclass(frozen=True)
class RowProblem:
    line: int
    reference: str
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return " ; ".join(self.reasons)


@dataclass
class ImportReport:
    """What the import found: file-level problems, the first bad rows (all are counted),
    and what was written."""

    file_format: str = ""
    encoding: str = ""  # a CSV's, as detected (files.ENCODINGS)
    separator: str = ""  # a CSV's, as detected (files.SEPARATORS)
    rows: int = 0
    file_problems: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    bad_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    out_of_programme: int = 0  # rows of leases Ancrage does not follow, set aside
    months: tuple[date, ...] = ()
    # The mapping used (column key → position in the header row) and the header itself.
    positions: dict[str, int] = field(default_factory=dict)
    header: tuple = ()
    preview: list[dict] = field(default_factory=list)  # the first rows as understood
    needs_mapping: bool = False  # a required column (or the month) was not found

    @property
    def is_valid(self) -> bool:
        return not self.file_problems and not self.bad_rows

    @property
    def shown_problems(self) -> list[RowProblem]:
        return self.problems

    @property
    def hidden_problems(self) -> int:
        return self.bad_rows - len(self.problems)

    def add_problem(self, problem: RowProblem) -> None:
        self.bad_rows += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)
        if self.bad_rows > MAX_BAD_ROWS:
            raise FileRefused(
                f"Plus de {_number(MAX_BAD_ROWS)} lignes à corriger : la lecture s'est arrêtée "
                f"à la ligne {_number(problem.line)}. Vérifiez qu'il s'agit bien de l'extrait "
                "des comptes du mois."
            )


class ImportRejected(DomainError):
    """The file has problems: nothing was imported; ``report`` lists them."""

    def __init__(self, report: ImportReport):
        count = report.bad_rows
        if report.file_problems:
            message = "Le fichier a été refusé : rien n'a été importé."
        else:
            message = (
                f"{count} ligne{'s' if count > 1 else ''} à corriger : rien n'a été importé. "
                "Corrigez le fichier puis importez-le de nouveau."
            )
        super().__init__(message, field="file")
        self.report = report


def _summarise(report: ImportReport, values: list[dict]) -> list[dict]:
    if not report.file_problems and report.rows - report.out_of_programme == 0:
        if report.out_of_programme:
            report.file_problems.append(
                "Aucune ligne du fichier ne concerne un bail suivi dans Ancrage : "
                f"{_number(report.out_of_programme)} lignes hors programme."
            )
            return []
        report.file_problems.append("Le fichier ne contient aucune ligne de compte.")
    report.months = tuple(sorted({v["month"] for v in values}))
    return values if report.is_valid else []
