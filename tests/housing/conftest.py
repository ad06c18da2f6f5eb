import pytest


@pytest.fixture(autouse=True)
def _rent_import_staging(request, tmp_path):
    """The extracts kept between preview and import go to the test's own folder."""
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        app.config["RENT_IMPORT_STAGING_DIR"] = str(tmp_path / "staging")
