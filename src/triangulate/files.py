"""Writing files safely: atomically, never overwriting what must not be overwritten."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Stop a spreadsheet from reading a cell as a formula (CSV/formula injection).

    A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe, which Excel and LibreOffice show as plain text. Plain negative numbers are kept.
    """
    if value and value.startswith(DANGEROUS_PREFIXES):
        if value[0] == "-" and _is_number(value):
            return value
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo :func:`neutralise` on text the tool wrote and now reads back (worksheet rationales)."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(DANGEROUS_PREFIXES):
        return value[1:]
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _temp_beside(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it (an existing file
    keeps its permissions)."""
    try:
        mode: int | None = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = None
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                with contextlib.suppress(OSError):
                    os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_new_file(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` atomically; never replace an existing file.

    Returns False (and writes nothing) when the file already exists.
    """
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if path exists: no race with another writer
        except FileExistsError:
            return False
        except OSError:
            # File systems without hard links: fall back to an exclusive create.
            try:
                with open(path, "xb") as out:
                    out.write(text.encode("utf-8"))
            except FileExistsError:
                return False
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
