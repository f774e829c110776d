"""The run manifest: written last, it tells a reader that an output set is complete and whole.

``run`` and ``report`` remove ``manifest.json`` before writing anything, write every output (each
atomically), then write the manifest listing each file with its size and SHA-256. So:

- no manifest: a run is under way, was killed, or failed (the files may be a mix of two runs);
- a manifest whose hashes all match: the set is exactly what one run wrote (:func:`check_manifest`);
- a hash that does not match: a file was changed since (for example by ``sort`` or by hand).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from triangulate import __version__
from triangulate.files import atomic_write_text
from triangulate.project.paths import MANIFEST_JSON

MANIFEST_FORMAT = 1


def remove_manifest(out: Path) -> None:
    """Say "incomplete" before touching any output: remove the manifest (durably)."""
    path = out / MANIFEST_JSON
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
        _sync_folder(out)


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def manifest_text(paths: list[Path]) -> str:
    files: list[dict[str, Any]] = []
    for p in paths:
        digest, size = _sha256(p)
        files.append({"name": p.name, "bytes": size, "sha256": digest})
    doc = {
        "manifest": MANIFEST_FORMAT,
        "tool": "triangulate",
        "version": __version__,
        "complete": True,
        "files": files,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_manifest(out: Path, paths: list[Path]) -> Path:
    """Write ``manifest.json`` listing ``paths`` (after every one of them is on disk)."""
    _sync_folder(out)
    path = out / MANIFEST_JSON
    atomic_write_text(path, manifest_text(paths))
    _sync_folder(out)
    return path


def check_manifest(out: Path) -> list[str]:
    """Problems that make the output set in ``out`` not one complete run; empty when it is."""
    path = out / MANIFEST_JSON
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"no {MANIFEST_JSON}: the last run did not finish (or none has run)"]
    except (OSError, ValueError) as exc:
        return [f"{MANIFEST_JSON} cannot be read: {exc}"]
    problems: list[str] = []
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list) or doc.get("complete") is not True:
        return [f"{MANIFEST_JSON} is not a complete manifest"]
    for entry in files:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or "/" in name or "\\" in name or name in ("", ".", ".."):
            problems.append(f"{MANIFEST_JSON} lists a bad name: {name!r}")
            continue
        try:
            digest, _ = _sha256(out / name)
        except OSError:
            problems.append(f"{name} is missing")
            continue
        if digest != entry.get("sha256"):
            problems.append(f"{name} was changed after the run that wrote the manifest")
    return problems
