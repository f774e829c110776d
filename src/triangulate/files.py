"""Writing files safely: atomically, never overwriting what must not be overwritten.

Files the tool creates get the permissions the user's umask gives (``0666 & ~umask``, as an editor
would), not the owner-only mode of a bare temporary file; a file that is rewritten keeps its mode.
Errors name the file the user asked for, never the temporary file beside it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"
"""Joined cells (codes, tags) use it; spreadsheet programs in most of Europe split CSV cells on it."""

TEMP_SUFFIX = ".tmp"
STALE_TEMP_SECONDS = 60.0
"""A temporary file older than this is left over from a killed run and is removed by the next one."""


def _neutralise_one(value: str) -> str:
    stripped = value.lstrip(" ")
    if stripped and stripped.startswith(DANGEROUS_PREFIXES):
        if stripped[0] == "-" and _is_number(stripped):
            return value
        return "'" + value
    return value


def neutralise(value: str) -> str:
    """Stop a spreadsheet from reading a cell as a formula (CSV/formula injection).

    A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe, which Excel and LibreOffice show as plain text. Plain negative numbers are kept.
    Every element of a ``;``-joined cell is treated the same way (``a;=cmd|...`` becomes
    ``a;'=cmd|...``), because Excel with a ``;`` list separator splits the cell there.
    """
    if not value:
        return value
    if LIST_SEPARATOR not in value:
        return _neutralise_one(value)
    return LIST_SEPARATOR.join(_neutralise_one(part) for part in value.split(LIST_SEPARATOR))


def _unneutralise_one(value: str) -> str:
    if value.startswith("'") and value[1:].lstrip(" ").startswith(DANGEROUS_PREFIXES):
        return value[1:]
    return value


def unneutralise(value: str) -> str:
    """Undo :func:`neutralise` on text the tool wrote and now reads back (worksheet rationales)."""
    if LIST_SEPARATOR not in value:
        return _unneutralise_one(value)
    return LIST_SEPARATOR.join(_unneutralise_one(part) for part in value.split(LIST_SEPARATOR))


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------- permissions


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (safe with threads)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def new_file_mode() -> int:
    """The mode a new file gets from the umask: what ``open(path, "w")`` would give."""
    return 0o666 & ~current_umask()


def _mode_for(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return new_file_mode()


# ---------------------------------------------------------------------------- writing


def _temp_beside(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)


def _named(exc: OSError, path: Path) -> OSError:
    """The same error, naming ``path`` (the file the user knows) instead of a temporary file."""
    code = exc.errno if exc.errno is not None else errno.EIO
    return type(exc)(code, exc.strerror or str(exc), str(path))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it.

    The file gets the mode the existing file had, or the umask's mode when new. A failure (a full
    disk, a read-only or immutable file) leaves ``path`` as it was and raises an ``OSError`` whose
    ``filename`` is ``path``.
    """
    atomic_write_chunks(path, (data,))


def atomic_write_chunks(path: Path, chunks: Iterable[bytes]) -> None:
    """:func:`atomic_write_bytes` of the chunks joined, written as they come: a large report is
    never held whole in memory. An exception while the chunks are made leaves ``path`` as it was."""
    mode = _mode_for(path)
    try:
        fd, tmp = _temp_beside(path)
    except OSError as exc:
        raise _named(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            with contextlib.suppress(OSError):
                os.fchmod(fh.fileno(), mode)
            for data in chunks:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _named(exc, path) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def encode_text(text: str) -> bytes:
    """UTF-8; a lone surrogate (half an emoji from a ``\\ud83d`` escape) becomes U+FFFD, not a crash."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, encode_text(text))


def write_new_file(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` atomically; never replace an existing file.

    Returns False (and writes nothing) when the file already exists. The file gets the umask's mode.
    """
    data = encode_text(text)
    try:
        fd, tmp = _temp_beside(path)
    except OSError as exc:
        raise _named(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            with contextlib.suppress(OSError):
                os.fchmod(fh.fileno(), new_file_mode())
            fh.write(data)
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
                    out.write(data)
            except FileExistsError:
                return False
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        raise _named(exc, path) from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{6,}\.tmp$")


def remove_stale_temps(folder: Path, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove ``.NAME.XXXXXX.tmp`` files a killed run left in ``folder`` (not symlinks, not folders).

    Only files older than ``older_than`` seconds go, so another run writing at this moment keeps its
    temporary file. Returns the files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not _TEMP_NAME.match(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime < older_than:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[bool]:
    """Hold an exclusive lock on ``folder`` itself (no lock file is left behind) while writing.

    Yields True when the lock is held: then no other run of the tool is writing into the folder, so
    every temporary file in it is left over from a killed run. Yields False where folder locks are
    not available (the caller then only removes old temporary files).
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield False
        return
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock
