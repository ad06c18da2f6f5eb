"""Backups carry the document files (issue #17): one archive holds the database and every
file with its SHA-256 in a manifest; a restore puts both back, and refuses — restoring
nothing, the targets left as they were — a file whose bytes do not match its hash, a missing
file, or a member whose name would leave the staging folder."""

import hashlib
import io
import json
import stat
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.backups.services import create_backup, restore_backup, verify_backup
from app.db import db
from app.permissions import Role
from tests.backups.test_backups import SUFFIX, _cli, _restored_rows
from tests.backups.test_backups import fresh_target as fresh_target
from tests.backups.test_backups import key_file as key_file
from tests.factories import PDF_BYTES, make_document, make_household, make_project, make_user

CONTENTS = [PDF_BYTES, b"%PDF-1.4\n% avis CAF\n%%EOF\n", b"\x89PNG\r\n\x1a\n" + b"x" * 3000]


@pytest.fixture
def with_documents(app, database_url):
    project = make_project()
    worker = make_user(Role.TRAVAILLEUR_SOCIAL, projects=[project])
    household = make_household(project, referent=worker)
    for index, content in enumerate(CONTENTS):
        make_document(household, worker, content=content, title=f"Pièce {index}")
    db.session.commit()
    db.session.remove()
    return database_url


def _documents_folder(app) -> Path:
    return Path(app.config["DOCUMENTS_FOLDER"])


def _digests() -> set[str]:
    return {hashlib.sha256(content).hexdigest() for content in CONTENTS}


def _rewrite(archive: Path, change) -> None:
    """Rewrite the (plain) tar ``archive`` member by member through ``change(name, data)``,
    which returns the (name, data) to write, or None to drop the member."""
    members = []
    with tarfile.open(archive) as tar:
        for member in tar:
            members.append((member.name, tar.extractfile(member).read()))
    archive.unlink()
    archive.with_name(archive.name + ".sha256").unlink()  # the content itself must tell
    with tarfile.open(archive, "w") as tar:
        for name, data in members:
            changed = change(name, data)
            if changed is None:
                continue
            info = tarfile.TarInfo(changed[0])
            info.size = len(changed[1])
            tar.addfile(info, io.BytesIO(changed[1]))


def test_round_trip_puts_the_files_back_with_their_hashes(
    app,
    with_documents,
    fresh_target,
    tmp_path,
):
    archive = tmp_path / f"b{SUFFIX}.tar"
    result = create_backup(with_documents, archive, documents=_documents_folder(app))
    assert result.documents == 3

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[-1] == "manifest.json"
    assert {entry["sha256"] for entry in manifest["documents"]} == _digests()
    assert manifest["database"]["sha256"] and manifest["database"]["name"] in names

    assert verify_backup(archive).documents == 3
    restored_folder = tmp_path / "restored-documents"
    counts = restore_backup(archive, fresh_target, documents=restored_folder)
    assert counts["document"] == 3
    on_disk = {path.name: path.read_bytes() for path in restored_folder.iterdir()}
    assert {hashlib.sha256(data).hexdigest() for data in on_disk.values()} == _digests()
    assert all(hashlib.sha256(data).hexdigest() == name for name, data in on_disk.items())
    assert stat.S_IMODE(restored_folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in restored_folder.iterdir()} == {0o600}
    # Every restored row finds its file.
    engine = create_engine(fresh_target)
    with engine.connect() as conn:
        hashes = set(conn.execute(text("SELECT sha256 FROM document")).scalars())
    engine.dispose()
    assert hashes == set(on_disk)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ancrage-restore-")]


def test_encrypted_round_trip_through_the_commands(
    app,
    with_documents,
    fresh_target,
    tmp_path,
    key_file,
):
    archive = tmp_path / f"enc{SUFFIX}.tar.enc"
    created = _cli(app, "create", "--output", archive, "--key-file", key_file)
    assert created.exit_code == 0, created.output
    assert "documents : 3 fichier(s)" in created.output
    assert PDF_BYTES not in archive.read_bytes()
    verified = _cli(app, "verify", archive, "--key-file", key_file)
    assert verified.exit_code == 0 and "empreintes vérifiées" in verified.output
    folder = tmp_path / "docs"
    restored = _cli(
        app,
        "restore",
        archive,
        "--into",
        fresh_target,
        "--documents-into",
        folder,
        "--key-file",
        key_file,
    )
    assert restored.exit_code == 0, restored.output
    assert {path.name for path in folder.iterdir()} == _digests()


def _refused(app, archive: Path, target: str, folder: Path, message: str) -> None:
    result = _cli(app, "restore", archive, "--into", target, "--documents-into", folder)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Rien n'a été restauré" in result.output
    # Nothing restored: no database rows, no documents folder, no staging left behind.
    assert _restored_rows(target) == {}
    assert not folder.exists()
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".ancrage-")] == []
    verified = _cli(app, "verify", archive)
    assert verified.exit_code == 1 and message in verified.output


def test_a_tampered_file_is_refused(app, with_documents, fresh_target, tmp_path):
    archive = tmp_path / f"t{SUFFIX}.tar"
    create_backup(with_documents, archive, documents=_documents_folder(app))
    victim = "documents/" + hashlib.sha256(CONTENTS[1]).hexdigest()
    _rewrite(
        archive,
        lambda name, data: (name, data.replace(b"CAF", b"XYZ")) if name == victim else (name, data),
    )
    _refused(app, archive, fresh_target, tmp_path / "docs", "ne correspond pas à son empreinte")


def test_a_missing_file_is_refused(app, with_documents, fresh_target, tmp_path):
    archive = tmp_path / f"m{SUFFIX}.tar"
    create_backup(with_documents, archive, documents=_documents_folder(app))
    victim = "documents/" + hashlib.sha256(CONTENTS[2]).hexdigest()
    _rewrite(archive, lambda name, data: None if name == victim else (name, data))
    _refused(app, archive, fresh_target, tmp_path / "docs", "manque dans l'archive")


@pytest.mark.parametrize("member", ["../x", "documents/../../x", "/etc/x"])
def test_a_member_leaving_the_folder_is_refused(
    app,
    with_documents,
    fresh_target,
    tmp_path,
    member,
):
    archive = tmp_path / f"p{SUFFIX}.tar"
    create_backup(with_documents, archive, documents=_documents_folder(app))
    victim = "documents/" + hashlib.sha256(CONTENTS[0]).hexdigest()
    _rewrite(archive, lambda name, data: (member, data) if name == victim else (name, data))
    _refused(app, archive, fresh_target, tmp_path / "docs", "fichier inattendu")
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()


def test_a_documents_folder_that_is_not_empty_is_refused(
    app,
    with_documents,
    fresh_target,
    tmp_path,
):
    archive = tmp_path / f"n{SUFFIX}.tar"
    create_backup(with_documents, archive, documents=_documents_folder(app))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "précieux").write_text("à garder")
    result = _cli(app, "restore", archive, "--into", fresh_target, "--documents-into", folder)
    assert result.exit_code == 1 and "n'est pas vide" in result.output
    assert [p.name for p in folder.iterdir()] == ["précieux"]
    assert _restored_rows(fresh_target) == {}


def test_a_backup_without_documents_still_restores(
    app,
    with_documents,
    fresh_target,
    tmp_path,
):
    """A database-only backup (made before documents were included) restores as before."""
    from sqlalchemy.engine import make_url

    from app.backups.services import _dump_pg, _sqlite_copy  # the bare database file

    old = tmp_path / f"ancrage-20261101-031500{SUFFIX}"
    if SUFFIX == ".dump":
        _dump_pg(make_url(with_documents), old)
    else:
        _sqlite_copy(Path(make_url(with_documents).database), old)
    assert verify_backup(old).documents is None
    counts = restore_backup(old, fresh_target, documents=tmp_path / "docs")
    assert counts["document"] == 3 and not (tmp_path / "docs").exists()
