"""The command line: the typer app, the terminal walks and the finding renderers."""

import contextlib
import os
import signal
import sys
from types import FrameType


def _interrupted_while_starting(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C while the command is still loading its modules: nothing has been read or written,
    so stop quietly with 130 instead of printing an import traceback."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write("Interrupted.\n")
        sys.stderr.flush()
    os._exit(130)


# Until main() takes over (it restores Python's own handler before any work starts).
with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted_while_starting)

from triangulate.cli.commands import app, main  # noqa: E402

__all__ = ["app", "main"]
