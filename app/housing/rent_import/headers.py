"""The columns of the rent-account extract and the mapping of a file's header onto them
(template headers and their accepted synonyms)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.households.models import search_key


@dataclass(frozen=True)
class ImportColumn:
    key: str
    header: str  # the header of the template
    required: bool
    aliases: tuple[str, ...] = ()
    hint: str = ""


IMPORT_COLUMNS = (
    ImportColumn(
        "reference",
        "Référence du bail",
        True,
        (
            "reference bail",
            "ref bail",
            "reference",
            "n bail",
            "numero de bail",
            "num bail",
            "n contrat",
            "n de contrat",
            "no contrat",
            "numero de contrat",
            "numero contrat",
            "num contrat",
            "contrat",
            "reference contrat",
            "ref contrat",
            "code bail",
        ),
        "la référence du bail dans votre logiciel, telle que saisie dans Ancrage",
    ),
    ImportColumn(
        "month",
        "Mois",
        False,
        (
            "mois du compte",
            "periode",
            "periode de quittancement",
            "mois de quittancement",
            "mois quittance",
            "date d arrete",
            "date arrete",
            "arrete au",
        ),
        "AAAA-MM ou MM/AAAA ; facultatif si le mois est choisi à l'import",
    ),
    ImportColumn(
        "balance",
        "Solde",
        True,
        (
            "solde du compte",
            "solde locataire",
            "dette",
            "solde debiteur",
            "solde fin de mois",
            "solde comptable",
            "solde final",
            "solde du",
        ),
        "montant dû par le ménage en fin de mois (négatif s'il est créditeur), ex. 1 234,56",
    ),
    ImportColumn(
        "amount_due",
        "Loyer et charges du mois",
        True,
        (
            "loyer et charges",
            "loyer charges comprises",
            "loyer cc",
            "quittancement",
            "quittancement du mois",
            "montant quittance",
            "montant du quittancement",
            "total quittance",
            "quittance",
        ),
        "loyer + charges appelés pour le mois, ex. 412,80",
    ),
    ImportColumn(
        "last_payment_on",
        "Date du dernier paiement",
        False,
        (
            "dernier paiement",
            "date dernier paiement",
            "dernier reglement",
            "date dernier reglement",
            "date du dernier reglement",
            "dernier encaissement",
            "date dernier encaissement",
            "date du dernier encaissement",
        ),
        "JJ/MM/AAAA, vide s'il n'y a eu aucun paiement",
    ),
    ImportColumn(
        "apl_status",
        "APL",
        False,
        ("statut apl", "apl maintenue", "etat apl", "situation apl"),
        "maintenue, suspendue ou sans",
    ),
    ImportColumn(
        "caf_reported_on",
        "Date de signalement CAF",
        False,
        ("signalement caf", "date signalement caf"),
        "JJ/MM/AAAA, vide si pas de signalement",
    ),
)
TEMPLATE_HEADER = ";".join(c.header for c in IMPORT_COLUMNS)


def _normalise_header(text: object) -> str:
    key = search_key(str(text or "")).replace("°", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", key).split())


_HEADER_KEYS = {
    name: column.key
    for column in IMPORT_COLUMNS
    for name in (_normalise_header(column.header), *column.aliases)
}


def header_names(header) -> list[str]:
    """The normalised name of each column of a header row (how a profile names columns)."""
    return [_normalise_header(name) for name in header]


def map_header(header, saved: dict[str, str] | None = None) -> dict[str, int]:
    """Column key → position, for the columns recognised in the header row: first by the
    landlord's saved profile (column key → normalised header name), then by the template's
    headers and their known synonyms."""
    names = header_names(header)
    positions: dict[str, int] = {}
    for key, name in (saved or {}).items():
        if key in _KEYS and name and name in names:
            positions[key] = names.index(name)
    taken = set(positions.values())
    for index, name in enumerate(names):
        key = _HEADER_KEYS.get(name)
        if key and key not in positions and index not in taken:
            positions[key] = index
            taken.add(index)
    return positions


def mapping_names(header, positions: dict[str, int]) -> dict[str, str]:
    """What a profile keeps of a mapping: column key → normalised header name."""
    names = header_names(header)
    return {
        key: names[index]
        for key, index in positions.items()
        if index < len(names) and names[index] and names.count(names[index]) == 1
    }


_KEYS = {column.key for column in IMPORT_COLUMNS}


def header_problem(positions: dict, header, fmt: str, month: date | None) -> str | None:
    missing = [c.header for c in IMPORT_COLUMNS if c.required and c.key not in positions]
    if missing:
        hint = ""
        if fmt == "csv" and len(header) == 1 and ("," in header[0] or "\t" in header[0]):
            hint = " Le séparateur attendu est le point-virgule (;)."
        return "Colonnes obligatoires absentes : " + ", ".join(missing) + "." + hint
    if month is None and "month" not in positions:
        return (
            "Le mois du compte n'est indiqué nulle part : choisissez-le ou ajoutez une "
            "colonne « Mois »."
        )
    return None


def mapping_text(positions: dict[str, int]) -> str:
    """A mapping carried by the preview's form: ``reference:0,balance:3``."""
    return ",".join(f"{key}:{index}" for key, index in sorted(positions.items()))


def parse_mapping(text: str | None, width: int) -> dict[str, int] | None:
    """The mapping of ``mapping_text``, or of the preview's selects; None when unreadable
    (an unknown column, a position outside the header, a column used twice)."""
    positions: dict[str, int] = {}
    for part in filter(None, (text or "").split(",")):
        key, _, index = part.partition(":")
        if key not in _KEYS or key in positions or not index.isdigit() or len(index) > 4:
            return None
        positions[key] = int(index)
    if any(index >= width for index in positions.values()):
        return None
    if len(set(positions.values())) != len(positions):
        return None
    return positions
