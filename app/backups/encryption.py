"""Encryption of backup files with a key file: AES-256-GCM in chunks (the STREAM construction),
so a wrong key is told apart from a damaged file."""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.backups.files import CHUNK_SIZE, BackupError, ensure_private_folder, new_private_file

# --- encryption --------------------------------------------------------------------------
#
# File layout: MAGIC (8 bytes) | salt (16) | key check (16) | chunks. Each chunk is a 4-byte
# big-endian length, then AES-256-GCM(ciphertext + tag) of at most CHUNK_SIZE plain bytes.
# The file key and the key check come from the key file's 32 bytes and the salt (HKDF-SHA256),
# so a wrong key is told apart from a damaged file. Nonce: the chunk's number (11 bytes) and
# a last-chunk flag (the STREAM construction): chunks cannot be reordered, dropped or
# truncated unnoticed. The header is the associated data of every chunk.

MAGIC = b"ANCRBK1\x00"
SALT_SIZE = 16
CHECK_SIZE = 16
HEADER_SIZE = len(MAGIC) + SALT_SIZE + CHECK_SIZE
TAG_SIZE = 16


def generate_key_file(path: Path) -> None:
    """Write a new random key (32 bytes, base64) into a new ``0600`` file."""
    if not path.parent.exists():
        ensure_private_folder(path.parent)
    with new_private_file(path) as handle:
        handle.write(base64.b64encode(os.urandom(32)) + b"\n")


def read_key_file(path: Path) -> bytes:
    """The 32-byte key of ``path`` (base64, e.g. from ``backup generate-key`` or
    ``openssl rand -base64 32``). Refuses a key file other users can read."""
    try:
        mode = path.stat().st_mode
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BackupError(f"Fichier de clé introuvable : {path}.") from None
    except OSError as error:
        raise BackupError(
            f"Fichier de clé illisible : {path} ({error.strerror}). Vérifiez ses droits."
        ) from error
    if mode & 0o077:
        raise BackupError(
            f"Le fichier de clé {path} est accessible à d'autres utilisateurs : "
            f"rendez-le privé (chmod 600 {path})."
        )
    try:
        key = base64.b64decode(raw.strip(), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise BackupError(
            f"Le fichier de clé {path} ne contient pas une clé valide (32 octets en base64, "
            "créée par « backup generate-key »)."
        )
    return key


def _derive(key: bytes, salt: bytes) -> tuple[bytes, bytes]:
    material = HKDF(
        algorithm=hashes.SHA256(), length=32 + CHECK_SIZE, salt=salt, info=b"ancrage-backup-v1"
    ).derive(key)
    return material[:32], material[32:]


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A writable binary stream that encrypts into ``target`` chunk by chunk: one chunk is
    held back until the next write or ``close`` tells whether it is the last one."""

    def __init__(self, target, key: bytes):
        salt = os.urandom(SALT_SIZE)
        file_key, check = _derive(key, salt)
        self.header = MAGIC + salt + check
        self.target = target
        self.cipher = AESGCM(file_key)
        self.counter = 0
        self.pending = bytearray()
        target.write(self.header)

    def _seal(self, chunk: bytes, last: bool) -> None:
        sealed = self.cipher.encrypt(_nonce(self.counter, last), chunk, self.header)
        self.target.write(len(sealed).to_bytes(4, "big") + sealed)
        self.counter += 1

    def write(self, data) -> int:
        self.pending += data
        while len(self.pending) > CHUNK_SIZE:  # more follows: these are not the last
            self._seal(bytes(self.pending[:CHUNK_SIZE]), False)
            del self.pending[:CHUNK_SIZE]
        return len(data)

    def close(self) -> None:
        self._seal(bytes(self.pending), True)
        self.pending = bytearray()


def decrypt_stream(source, target, key: bytes, *, name: str) -> None:
    """Decrypt ``source`` into ``target`` (``None``: only check); raises ``BackupError`` for a
    wrong key or a damaged file."""
    header = source.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
        raise BackupError(f"{name} n'est pas une sauvegarde chiffrée d'Ancrage.")
    file_key, check = _derive(key, header[len(MAGIC) : len(MAGIC) + SALT_SIZE])
    if not hmac.compare_digest(check, header[-CHECK_SIZE:]):
        raise BackupError(
            f"Mauvaise clé : {name} a été chiffrée avec une autre clé. Rien n'a été restauré."
        )
    cipher = AESGCM(file_key)
    damaged = BackupError(f"Sauvegarde endommagée : {name} est tronquée ou altérée.")
    counter = 0
    while True:
        length_bytes = source.read(4)
        if len(length_bytes) < 4:
            raise damaged  # no last chunk: truncated
        length = int.from_bytes(length_bytes, "big")
        if not TAG_SIZE <= length <= CHUNK_SIZE + TAG_SIZE:
            raise damaged
        sealed = source.read(length)
        if len(sealed) < length:
            raise damaged
        plain = None
        for last in (False, True):
            try:
                plain = cipher.decrypt(_nonce(counter, last), sealed, header)
            except InvalidTag:
                continue
            break
        if plain is None:
            raise damaged
        if target is not None:
            target.write(plain)
        if last:
            if source.read(1):
                raise damaged  # bytes after the last chunk
            return
        counter += 1


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC
