"""Where evidence files live: MEDIA_ROOT/evidence, under random names, encrypted with
EVIDENCE_ENCRYPTION_KEY (lib/filecrypt). Nothing on disk says what a file is or whose."""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from rapidresponse.lib import filecrypt


def root() -> Path:
    return Path(settings.MEDIA_ROOT) / "evidence"


def new_name() -> str:
    return secrets.token_hex(20)


def path_of(name: str) -> Path:
    if not name or not name.isalnum():
        raise ValueError("not a stored evidence name")
    return root() / name[:2] / name


class Sink:
    """An encrypted file being written under a new random name; `sha256` and `size` of
    the plain bytes written."""

    def __init__(self) -> None:
        self.name = new_name()
        self.path = path_of(self.name)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._file = open(self.path, "xb")  # noqa: SIM115 - closed by close()
        self.path.chmod(0o600)
        self._writer = filecrypt.EncryptedWriter(self._file, settings.EVIDENCE_ENCRYPTION_KEY)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        return self._writer.write(data)

    def close(self) -> None:
        self._writer.close()
        self._file.close()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def store(chunks: Iterable[bytes]) -> Sink:
    sink = Sink()
    try:
        for chunk in chunks:
            sink.write(chunk)
        sink.close()
    except BaseException:
        sink.close()
        remove(sink.name)
        raise
    return sink


def read(name: str) -> Iterator[bytes]:
    """The plain bytes of a stored file, chunk by chunk."""
    return filecrypt.decrypt_chunks(path_of(name), settings.EVIDENCE_ENCRYPTION_KEY)


def remove(name: str) -> None:
    if name:
        path_of(name).unlink(missing_ok=True)


def stored_names() -> Iterator[tuple[str, float]]:
    """Every file under the evidence root, with its modification time."""
    base = root()
    if not base.exists():
        return
    for path in base.glob("*/*"):
        if path.is_file() and path.name.isalnum():
            yield path.name, path.stat().st_mtime


@contextmanager
def work_dir() -> Iterator[Path]:
    """A private directory for plain files a tool needs (ffmpeg), deleted afterwards."""
    base = Path(settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=base, prefix="evidence-") as directory:
        yield Path(directory)
