"""The document store: content-addressed, atomic, private, safe under concurrent writes."""

from __future__ import annotations

import hashlib
import stat
import threading

import pytest

from app.documents.storage import DocumentStore


def test_concurrent_writes_of_the_same_content_leave_one_private_file(tmp_path):
    store = DocumentStore(tmp_path / "documents")
    content = b"%PDF-1.4 " + b"x" * 100_000
    digests = []
    start = threading.Barrier(8)

    def put():
        start.wait()
        digests.append(store.put(content))

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    digest = hashlib.sha256(content).hexdigest()
    assert set(digests) == {digest}
    assert [p.name for p in store.folder.iterdir()] == [digest]  # no temporary file left
    assert stat.S_IMODE(store.path(digest).stat().st_mode) == 0o600
    assert store.path(digest).read_bytes() == content


@pytest.mark.parametrize("name", ["../etc/passwd", "a" * 63, "A" * 64, "", "x/" + "a" * 62])
def test_only_a_digest_names_a_stored_file(tmp_path, name):
    with pytest.raises(ValueError):
        DocumentStore(tmp_path).path(name)
