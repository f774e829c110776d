"""Opening input files: the one gate every file the tool reads goes through.

:func:`open_input` refuses, each with one wording and a finding, a file that is

- missing (``file.missing``; a dangling symbolic link counts as missing),
- a folder, a named pipe (FIFO), a device (``/dev/zero``), a socket, a symbolic-link loop, or
  unreadable (``file.unreadable``),
- larger than the bound the caller gives (``data.too-large``), checked on its size before any byte
  is read, so a 50 MB codebook is refused at once instead of after minutes of parsing.

It never blocks: the file is ``stat``-ed before it is opened, only regular files are opened, and the
open itself is non-blocking (a file swapped for a FIFO between the two steps still cannot hang).

The bounds per kind of file (``LIMITS``) are far above any real project's files, and low enough
that reading one cannot exhaust a laptop's memory:

========================  =========  ==============================================================
kind                      bound      why
========================  =========  ==============================================================
project/codebook/protocol   4 MiB    hand-written YAML; a 5,000-code codebook with definitions is
                                     well under 1 MiB, and the YAML parser needs ~80x the file size
                                     in memory
source table (CSV/JSONL)    2 GiB    1,500,000 codings per source are ~335 MB of CSV
workbook (.xlsx)          256 MiB    compressed; its members are bounded again when unpacked
SPSS/Stata file             2 GiB    read by pyreadstat into memory
REFI-QDA project (.qdpx)    8 GiB    may hold audio/video sources; members are read lazily and
                                     bounded one by one
REFI-QDA XML (.qdc/.qde)  256 MiB    parsed whole
worksheet                  64 MiB    one row per unit: thousands of rows, not millions
decisions.jsonl           256 MiB    about a million decisions
========================  =========  ==============================================================
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triangulate.findings import Finding, Location, error, warning

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

LIMITS: dict[str, int] = {
    "yaml": 4 * MiB,
    "table": 2 * GiB,
    "xlsx": 256 * MiB,
    "stat": 2 * GiB,
    "qdpx": 8 * GiB,
    "xml": 256 * MiB,
    "worksheet": 64 * MiB,
    "decisions": 256 * MiB,
}
"""The largest file of each kind the tool reads, in bytes (see the module docstring)."""

MISSING_HINT = "check the path in the project file: paths are relative to the folder that holds it"


@dataclass
class InputFile:
    """What :func:`open_input` found. ``data`` holds the bytes when they were read."""

    path: Path
    shown: str
    size: int = 0
    data: bytes | None = None
    findings: list[Finding] = field(default_factory=list)
    absent: bool = False  # an optional file that does not exist (no finding)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.absent


def _size(n: int) -> str:
    for unit, div in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= div:
            return f"{n / div:,.1f} {unit}"
    return f"{n:,} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_input(
    path: Path,
    shown: str,
    limit: int,
    *,
    read: bool = True,
    optional: bool = False,
    hint: str = MISSING_HINT,
) -> InputFile:
    """Check (and with ``read``, read) one input file; every problem becomes one finding.

    ``shown`` is the path as messages show it; ``limit`` the largest size accepted, in bytes (take
    it from :data:`LIMITS`). With ``read=False`` only the checks are made (for readers that open the
    path themselves: zip archives, pyreadstat). With ``optional``, a file that does not exist at all
    gives ``absent=True`` and no finding (a symbolic link to nowhere, or a loop, is still reported).
    ``hint`` follows the "file not found" wording.
    """
    result = InputFile(path, shown)
    loc = Location(shown)

    def fail(code: str, message: str) -> InputFile:
        result.findings.append(error(code, message, loc))
        return result

    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return fail(
                "file.unreadable",
                f"cannot read {shown}: it is a symbolic link loop; point it at a real file",
            )
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            try:
                os.lstat(path)
            except OSError:
                if optional:
                    result.absent = True
                    return result
                return fail("file.missing", f"file not found: {shown} ({hint})")
            return fail(
                "file.missing",
                f"file not found: {shown} is a symbolic link to a file that does not exist",
            )
        return fail("file.unreadable", f"cannot read {shown}: {exc.strerror or exc}")
    if not stat.S_ISREG(st.st_mode):
        what = _kind(st.st_mode)
        return fail(
            "file.unreadable",
            f"cannot read {shown}: it is {what}, not a regular file; use a regular file instead",
        )
    result.size = st.st_size
    if st.st_size > limit:
        return fail(
            "data.too-large",
            f"{shown} is {_size(st.st_size)}, more than the {_size(limit)} this tool reads "
            "from such a file; it is not read (check that this is the right file)",
        )
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return fail("file.unreadable", f"cannot read {shown}: {exc.strerror or exc}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped between stat and open
            return fail(
                "file.unreadable",
                f"cannot read {shown}: it is {_kind(st.st_mode)}, not a regular file; "
                "use a regular file instead",
            )
        if not read:
            return result
        chunks: list[bytes] = []
        total = 0
        while True:
            # one read for the whole file when it is as big as stat said (no copy when joined)
            chunk = os.read(fd, min(max(st.st_size - total, 0) + 1, 0x7FFF0000))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew while being read
                return fail(
                    "data.too-large",
                    f"{shown} is more than the {_size(limit)} this tool reads from such a file; "
                    "it is not read (check that this is the right file)",
                )
        result.data = b"".join(chunks)
        result.size = total
        return result
    except OSError as exc:
        return fail("file.unreadable", f"cannot read {shown}: {exc.strerror or exc}")
    finally:
        os.close(fd)


def scrub_json_line(obj: Any, line: str, location: Location) -> tuple[Any, list[Finding]]:
    """A parsed JSON line with lone surrogate escapes (``\\ud83d``: half an emoji) replaced by
    U+FFFD, and the warning that says so (spec v2 section 11: such text can never be written)."""
    from triangulate.text import json_has_surrogate_escape, scrub

    if not json_has_surrogate_escape(line):  # cheap test: the common line has no such escape
        return obj, []
    obj, halves = scrub(obj)
    if not halves:
        return obj, []
    return obj, [
        warning(
            "data.lone-surrogate",
            "the line holds half of a character (a lone surrogate escape such as \\ud83d); "
            "it is read as \ufffd",
            location,
        )
    ]
