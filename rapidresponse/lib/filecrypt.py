"""Files encrypted at rest, in chunks, so that a long video never has to fit in memory.

Layout of an encrypted file::

    MAGIC (5) | key id (8) | wrap nonce (12) | wrapped file key (32 + 16) | chunk | chunk | ...

Each file has a random 256-bit key of its own, wrapped (AES-GCM) by the first key of the
master keys (`keys`: comma-separated, URL-safe base64 of 32 bytes each; the first encrypts,
every one decrypts). The key id names the master key that wrapped it, so decrypting never
tries them all. The body is AES-GCM in chunks of CHUNK bytes of plain text; the nonce of
chunk n is n (11 bytes) and a last-chunk flag (1 byte), so a chunk cannot be moved, dropped,
or the file cut short without decryption failing.

Changing the master key (`rewrap`) rewrites only the header: the body keeps its file key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import shutil
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"RRFC\x01"
CHUNK = 64 * 1024
TAG = 16
KEY_ID = 8
NONCE = 12
WRAPPED = 32 + TAG
HEADER = len(MAGIC) + KEY_ID + NONCE + WRAPPED


class FileCryptError(ValueError):
    """The file is not ours, was changed or cut short, or no configured key opens it."""


def new_key() -> str:
    """A fresh master key, as the settings hold it."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@lru_cache(maxsize=4)
def _master_keys(keys: str) -> tuple[tuple[bytes, bytes], ...]:
    """(key id, key) of each configured master key, the encrypting one first."""
    parsed = []
    for text in keys.split(","):
        text = text.strip()
        if not text:
            continue
        try:
            key = base64.urlsafe_b64decode(text.encode())
        except ValueError as exc:
            raise FileCryptError("a file encryption key is not URL-safe base64") from exc
        if len(key) != 32:
            raise FileCryptError("a file encryption key must be 32 bytes (URL-safe base64)")
        parsed.append((key_id(key), key))
    if not parsed:
        raise FileCryptError("no file encryption key is configured")
    return tuple(parsed)


def key_id(key: bytes) -> bytes:
    return hmac.new(key, b"rapidresponse file key id", hashlib.sha256).digest()[:KEY_ID]


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(NONCE - 1, "big") + (b"\x01" if last else b"\x00")


def _header(keys: str, file_key: bytes) -> bytes:
    kid, master = _master_keys(keys)[0]
    wrap_nonce = os.urandom(NONCE)
    wrapped = AESGCM(master).encrypt(wrap_nonce, file_key, MAGIC + kid)
    return MAGIC + kid + wrap_nonce + wrapped


def _open_header(keys: str, header: bytes) -> tuple[bytes, bytes]:
    """(key id, file key) from a file's header."""
    if len(header) != HEADER or not header.startswith(MAGIC):
        raise FileCryptError("not an encrypted file of ours")
    kid = header[len(MAGIC):len(MAGIC) + KEY_ID]
    wrap_nonce = header[len(MAGIC) + KEY_ID:len(MAGIC) + KEY_ID + NONCE]
    wrapped = header[len(MAGIC) + KEY_ID + NONCE:]
    for candidate, master in _master_keys(keys):
        if hmac.compare_digest(candidate, kid):
            try:
                return kid, AESGCM(master).decrypt(wrap_nonce, wrapped, MAGIC + kid)
            except InvalidTag as exc:
                raise FileCryptError("the file's key does not open with its master key") \
                    from exc
    raise FileCryptError("the key this file was written with is not configured")


class EncryptedWriter:
    """Write plain bytes in; encrypted chunks go to `out`. `close()` writes the last chunk
    (a file must be closed to be readable)."""

    def __init__(self, out: BinaryIO, keys: str):
        self._out = out
        self._file_key = secrets.token_bytes(32)
        self._aead = AESGCM(self._file_key)
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        out.write(_header(keys, self._file_key))

    def write(self, data: bytes) -> int:
        self._buffer += data
        # Keep at least one byte back: only close() knows which chunk is the last.
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        self._out.write(self._aead.encrypt(_nonce(self._index, last), plain, MAGIC))
        self._index += 1

    def close(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


def encrypt_file(source: BinaryIO, target: Path, keys: str) -> int:
    """Encrypt the readable `source` into a new file at `target` (mode 0600); the number
    of plain bytes."""
    size = 0
    with _private_file(target) as out:
        writer = EncryptedWriter(out, keys)
        while block := source.read(CHUNK):
            writer.write(block)
            size += len(block)
        writer.close()
    return size


def _private_file(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def decrypt_chunks(path: Path, keys: str) -> Iterator[bytes]:
    """The plain text of an encrypted file, chunk by chunk; FileCryptError if any part of
    it was changed, moved or cut off."""
    with open(path, "rb") as f:
        _kid, file_key = _open_header(keys, f.read(HEADER))
        aead = AESGCM(file_key)
        size = CHUNK + TAG
        block = f.read(size)
        index = 0
        while True:
            following = f.read(size) if len(block) == size else b""
            last = not following
            try:
                yield aead.decrypt(_nonce(index, last), block, MAGIC)
            except InvalidTag as exc:
                raise FileCryptError("the encrypted file was changed or cut short") from exc
            if last:
                return
            block, index = following, index + 1


def rewrap(path: Path, keys: str) -> bool:
    """Wrap the file's key with the first master key (after a key change); False when it
    already is. The body is copied as it is, and the new file replaces the old at once."""
    with open(path, "rb") as f:
        kid, file_key = _open_header(keys, f.read(HEADER))
        if hmac.compare_digest(kid, _master_keys(keys)[0][0]):
            return False
        fresh = path.with_name(path.name + ".rewrap")
        fresh.unlink(missing_ok=True)
        with _private_file(fresh) as out:
            out.write(_header(keys, file_key))
            shutil.copyfileobj(f, out, CHUNK)
    os.replace(fresh, path)
    return True
