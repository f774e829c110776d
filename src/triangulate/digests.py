"""SHA-256 of input files, computed from the bytes a reader already read where it can.

Readers call :func:`remember` (or :func:`remember_digest`) with the bytes they read; the report's
provenance then asks :func:`sha256_file`, which answers from what was remembered while the file
is unchanged (same size and modification time) and reads the file only otherwise.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

_lock = threading.Lock()
_known: dict[tuple[str, int, int], str] = {}


def _key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
        return (str(path.resolve()), st.st_size, st.st_mtime_ns)
    except OSError:
        return None


def remember_digest(path: Path, digest: str) -> None:
    key = _key(path)
    if key is not None:
        with _lock:
            _known[key] = digest


def remember(path: Path, raw: bytes) -> None:
    """Record the SHA-256 of ``raw``, the whole content just read from ``path``."""
    remember_digest(path, hashlib.sha256(raw).hexdigest())


def sha256_file(path: Path) -> str:
    key = _key(path)
    if key is not None:
        with _lock:
            known = _known.get(key)
        if known is not None:
            return known
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    if key is not None:
        with _lock:
            _known[key] = digest
    return digest
