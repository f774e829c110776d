"""The package both Office writers share (Open Packaging Conventions, ECMA-376 part 2).

``xlsxml.py`` (the workbook) and ``docxml.py`` (the Word document) differ in their XML, not in the
zip around it: the content types, the package relationships, the core properties and a zip with
fixed entry times, so that the same input gives the same bytes on every run and every system.
The text escaping both use lives here too.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT = "application/vnd.openxmlformats-officedocument."
# characters XML 1.0 cannot hold (and lone surrogates, which UTF-8 cannot)
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# A part is its text, or its text in pieces (written in batches, never joined whole: the
# 12,000-row table of a large report.docx).
Part = str | Iterable[str]  # a part's text, or its pieces in order (joined a batch at a time)


def markup(text: str) -> str:
    """``& < >`` escaped, a carriage return as a reference (a parser reads a raw one as ``\\n``)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def escape_text(text: str) -> str:
    """Text for an element's content: characters XML cannot hold become spaces, ``& < >`` are
    escaped, a carriage return is kept as a reference (a parser would read a raw one as a line
    feed)."""
    if XML_ILLEGAL.search(text):
        text = XML_ILLEGAL.sub(" ", text)
    return markup(text)


def content_types(overrides: Sequence[tuple[str, str]]) -> str:
    """``[Content_Types].xml``: the two defaults and one override per part."""
    return (
        f'{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
        + "</Types>"
    )


def root_rels(main_part: str) -> str:
    """``_rels/.rels``: the main part (``xl/workbook.xml``, ``word/document.xml``) and the
    core and app properties."""
    return (
        f'{XML_DECL}<Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId1" Type="{REL}officeDocument" Target="{main_part}"/>'
        f'<Relationship Id="rId2" Type="{PKG_REL}/metadata/core-properties" '
        'Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{REL}extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )


def core_properties(
    title: str, author: str, comments: str, created: datetime, revision: int | None = None
) -> str:
    """``docProps/core.xml``; created and modified are the same fixed time."""
    when = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{XML_DECL}<cp:coreProperties"
        ' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:dcmitype="http://purl.org/dc/dcmitype/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape_text(title)}</dc:title>"
        f"<dc:creator>{escape_text(author)}</dc:creator>"
        f"<dc:description>{escape_text(comments)}</dc:description>"
        f"<cp:lastModifiedBy>{escape_text(author)}</cp:lastModifiedBy>"
        + (f"<cp:revision>{revision}</cp:revision>" if revision is not None else "")
        + f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def write_package(parts: Sequence[tuple[str, Part]]) -> bytes:
    """The parts, in order, as a zip: fixed entry times, the same origin system everywhere,
    deflate level 1 (level 6 cost a fifth of the workbook's time for a quarter of its size)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compresslevel=1) as zf:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # the same bytes whichever system writes them
            if isinstance(text, str):
                zf.writestr(info, text.encode("utf-8"), compresslevel=1)
                continue
            info._compresslevel = 1  # type: ignore[attr-defined]  # what writestr sets
            pieces = iter(text)  # a list, or a generator making the pieces as they are written
            with zf.open(info, "w") as member:
                while batch := list(islice(pieces, 2048)):
                    member.write("".join(batch).encode("utf-8"))
    return buf.getvalue()
