"""Realistic landlord extracts, as ERPs produce them (the files of ``tests/housing/data/``,
written by ``python -m tests.housing.extracts``), and what the import must read in them.

Twenty leases are followed in Ancrage (``FOLLOWED``: ``RH-1000`` … ``RH-1019``); the
extracts cover the landlord's whole portfolio, so most rows are for leases Ancrage does not
follow. References are written as ERPs and spreadsheets change them (case, spaces, leading
zeros); amounts and dates in each of the formats the import accepts."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

DATA = Path(__file__).parent / "data"
FOLLOWED = [f"RH-{1000 + i}" for i in range(20)]

PORTFOLIO_CSV = DATA / "portefeuille-erp-cp1252.csv"  # 400 rows, 5 % followed
TAB_SEPARATED = DATA / "extrait-tabulations-utf8.tsv"  # 50 rows
WORKBOOK = DATA / "extrait-texte-et-dates.xlsx"  # 30 rows
UNFAMILIAR = DATA / "extrait-inconnu-octobre.csv"  # headers no synonym knows
UNFAMILIAR_NEXT = DATA / "extrait-inconnu-novembre.csv"  # the same layout, a month later


def written_reference(index: int) -> str:
    """How the ERP writes the followed lease ``RH-1000 + index``."""
    number = 1000 + index
    return (f"rh-0{number}", f" RH-{number} ", f"RH-\u00a0{number}", f"Rh-00{number}")[index % 4]


def expected(index: int) -> dict:
    """What the import must store for the followed lease ``index``."""
    balance = (-1 if index % 5 == 1 else 1) * (123_456 + index * 1_001) if index % 5 else 0
    return {
        "balance_cents": balance,
        "amount_due_cents": 41_280 + index * 100,
        "last_payment_on": date(2026, 10, 1 + index),
    }


def _euros(cents: int, style: int, space: str = "\u00a0") -> str:
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", space)
    text = f"{grouped},{rest:02d}"
    if cents >= 0:
        return text
    return (f"-{text}", f"{text}-", f"({text})")[style % 3]


def _portfolio_rows(total: int, followed_every: int) -> list[tuple]:
    rows = []
    followed = 0
    for n in range(total):
        if n % followed_every == 0 and followed < len(FOLLOWED):
            index, followed = followed, followed + 1
            values = expected(index)
            rows.append((written_reference(index), values, index))
        else:
            balance = (n * 7919) % 250_000 - 20_000
            values = {
                "balance_cents": balance,
                "amount_due_cents": 35_000 + n,
                "last_payment_on": date(2026, 10, 1 + n % 28),
            }
            rows.append((f"RH-{5000 + n:06d}", values, n))
    return rows


def portfolio_csv() -> bytes:
    """The ERP's reporting tool: cp1252, ``;``, French headers, every format of amount."""
    header = (
        "N° contrat;Nom du locataire;Période;Quittancement;Règlements;Solde débiteur;"
        "Date dernier règlement;APL"
    )
    lines = [header]
    for reference, values, n in _portfolio_rows(400, 20):
        day = values["last_payment_on"]
        period = "01.10.2026" if n % 2 else "31/10/2026 00:00:00"
        paid = day.strftime("%d.%m.%Y") if n % 3 else day.strftime("%d/%m/%Y 00:00:00")
        space = "\u00a0" if n % 2 else " "
        lines.append(
            f"{reference};Mme Éloïse Dûpont-{n};{period};"
            f"{_euros(values['amount_due_cents'], n)};{_euros(20_000, n)};"
            f'"{_euros(values["balance_cents"], n, space)}";{paid};{"oui" if n % 2 else "Non"}'
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def tab_separated() -> bytes:
    """UTF-8, tab-separated, thin spaces as thousands separators, ISO dates."""
    lines = ["Référence bail\tMois\tSolde\tMontant quittancé\tDate dernier paiement\tStatut APL"]
    for reference, values, n in _portfolio_rows(50, 2):
        space = "\u202f" if n % 2 else "\u2009"
        day = values["last_payment_on"]
        paid = day.isoformat() if n % 2 else f"{day.isoformat()}T00:00:00"
        lines.append(
            f"{reference}\t2026-10\t{_euros(values['balance_cents'], n, space)}\t"
            f"{_euros(values['amount_due_cents'], n)}\t{paid}\tmaintenue"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def workbook() -> bytes:
    """Numbers stored as text (``1 234,56``), real Excel dates, one date as a serial."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Référence du bail", "Période", "Solde", "Quittancement", "Dernier paiement"])
    for reference, values, n in _portfolio_rows(30, 1):
        day = values["last_payment_on"]
        paid = datetime(day.year, day.month, day.day) if n % 2 else (day - date(1899, 12, 30)).days
        sheet.append(
            [
                reference,
                datetime(2026, 10, 1),
                _euros(values["balance_cents"], n, " "),
                _euros(values["amount_due_cents"], n),
                paid,
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def unfamiliar(month: str) -> bytes:
    """A layout no synonym knows for two required columns: the lease and the balance."""
    lines = ["Contrat locatif;Période;Quittancement;Reste à payer;Agence"]
    for index, reference in enumerate(FOLLOWED[:3]):
        lines.append(f"{reference};{month};412,80;{100 * (index + 1)},00;Lyon 8e")
    lines += [f"RH-{9000 + n};{month};390,00;0,00;Vénissieux" for n in range(6)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def write_all() -> None:
    DATA.mkdir(exist_ok=True)
    PORTFOLIO_CSV.write_bytes(portfolio_csv())
    TAB_SEPARATED.write_bytes(tab_separated())
    UNFAMILIAR.write_bytes(unfamiliar("10/2026"))
    UNFAMILIAR_NEXT.write_bytes(unfamiliar("11/2026"))
    WORKBOOK.write_bytes(workbook())


if __name__ == "__main__":
    write_all()
