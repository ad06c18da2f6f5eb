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
        ("reference bail", "ref bail", "reference", "n bail", "numero de bail", "num bail"),
        "la référence du bail dans votre logiciel, telle que saisie dans Ancrage",
    ),
    ImportColumn(
        "month",
        "Mois",
        False,
        ("mois du compte", "periode"),
        "AAAA-MM ou MM/AAAA ; facultatif si le mois est choisi à l'import",
    ),
    ImportColumn(
        "balance",
        "Solde",
        True,
        ("solde du compte", "solde locataire", "dette"),
        "montant dû par le ménage en fin de mois (négatif s'il est créditeur), ex. 1 234,56",
    ),
    ImportColumn(
        "amount_due",
        "Loyer et charges du mois",
        True,
        ("loyer et charges", "loyer charges comprises", "quittancement", "montant quittance"),
        "loyer + charges appelés pour le mois, ex. 412,80",
    ),
    ImportColumn(
        "last_payment_on",
        "Date du dernier paiement",
        False,
        ("dernier paiement", "date dernier paiement"),
        "JJ/MM/AAAA, vide s'il n'y a eu aucun paiement",
    ),
    ImportColumn(
        "apl_status", "APL", False, ("statut apl", "apl maintenue"), "maintenue, suspendue ou sans"
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


def map_header(header) -> dict[str, int]:
    """Column key → position, for the columns recognised in the header row."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _HEADER_KEYS.get(_normalise_header(name))
        if key and key not in positions:
            positions[key] = index
    return positions


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
