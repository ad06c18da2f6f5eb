"""The document store: content-addressed, atomic, private, safe under concurrent writes."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
import time

import pytest

from app.documents.storage import CHUNK_BYTES, DocumentStore


def test_concurrent_writes_of_the_same_content_leave_one_private_file(tmp_path):
    store = DocumentStore(tmp_path / "documents")
    content = b"%PDF-1.4 " + b"x" * 100_000
    digests = []
    start = threading.Barrier(8)

    def put():
        start.wait()
        digests.append(store.put_stream(io.BytesIO(content))[0])

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


def test_a_stream_is_hashed_while_it_is_written_in_one_pass(tmp_path):
    store = DocumentStore(tmp_path / "documents")
    content = b"%PDF-1.4 " + bytes(range(256)) * 9000  # more than two chunks
    reads = []

    class Upload(io.BytesIO):
        def read(self, size=-1):
            reads.append(self.tell())
            return super().read(size)

    digest, size = store.put_stream(Upload(content))

    assert (digest, size) == (hashlib.sha256(content).hexdigest(), len(content))
    # Read once from start to end, a chunk at a time (never rewound, never read whole).
    assert reads == sorted(set(reads)) and len(reads) == len(content) // CHUNK_BYTES + 2
    assert [p.name for p in store.folder.iterdir()] == [digest]
    assert stat.S_IMODE(store.path(digest).stat().st_mode) == 0o600
    assert store.path(digest).read_bytes() == content


def test_storing_known_content_again_drops_the_copy_and_freshens_the_file(tmp_path):
    store = DocumentStore(tmp_path / "documents")
    content = b"%PDF-1.4 again"
    digest, _ = store.put_stream(io.BytesIO(content))
    os.utime(store.path(digest), (1_000_000, 1_000_000))  # an old file, for the orphan sweep

    assert store.put_stream(io.BytesIO(content)) == (digest, len(content))

    assert [p.name for p in store.folder.iterdir()] == [digest]  # the temporary file dropped
    assert store.path(digest).stat().st_mtime > time.time() - 60


def test_a_file_over_the_limit_is_refused_unread_and_nothing_is_stored(app, tmp_path):
    from app.documents.content import prepare_files
    from app.documents.services import store_prepared
    from app.errors import DomainError

    class Upload(io.BytesIO):
        def read(self, size=-1):
            raise AssertionError("read before its size was checked")

    small = io.BytesIO(b"%PDF-1.4 small")
    with pytest.raises(DomainError, match="dépasse la taille autorisée"):
        prepare_files([("a.pdf", small), ("b.pdf", Upload(b"%PDF" + b"x" * 2000))],
                      max_bytes=1000, max_files=5)  # fmt: skip
    with app.test_request_context():
        prepared = prepare_files([("a.pdf", small)], max_bytes=1000, max_files=5)
        small.read()  # wherever the stream was left, the whole file is stored
        [stored] = store_prepared(prepared)
    assert stored.size_bytes == len(b"%PDF-1.4 small")
    assert stored.sha256 == hashlib.sha256(b"%PDF-1.4 small").hexdigest()
