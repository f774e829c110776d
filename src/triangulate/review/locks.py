"""One writer at a time per file: a lock shared by threads of one process and by processes.

The terminal walks and the web workspace save through the same writers; holding
:func:`file_lock` around a read-check-write sequence makes two saves to one file happen one
after the other, so neither loses the other's row. Across processes the lock is an advisory
``fcntl.flock`` on a hidden lock file beside the target (where ``fcntl`` exists); within a
process, a ``threading.Lock`` per path.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _thread_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = threading.Lock()
        return lock


def lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold the lock for ``path`` (its folder must exist or be creatable)."""
    with _thread_lock(path):
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: the thread lock is all there is
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            yield  # a read-only folder: the write itself will say what is wrong
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
