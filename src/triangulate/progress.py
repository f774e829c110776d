"""Progress reporting: the library's only way to say how far it is (it never prints)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``."""
