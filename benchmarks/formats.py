#!/usr/bin/env python3
"""Write a copy of a generated project with its excerpt sources in another format.

    python benchmarks/formats.py PROJECT OUT --format xlsx|jsonl|tsv

The copy has the same codebook, protocol, survey, worksheets and decisions; only the ``kind:
excerpts`` sources whose path ends in ``.csv`` are rewritten (same rows, same cells, as text), and
the project file points at the new files. Used by ``harness.py`` to time each format on the same
rows; ``.qdpx`` is made by the interop helper's generator when it is there.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from pathlib import Path

import yaml


def _col(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def write_xlsx(dest: Path, rows: list[list[str]] | object) -> None:
    """A one-sheet workbook with shared strings, as Excel saves one (openpyxl's write-only mode
    writes inline strings instead, which no spreadsheet program does by default)."""
    import zipfile
    from xml.sax.saxutils import escape

    strings: dict[str, int] = {}
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    ]
    for r_idx, row in enumerate(rows, start=1):  # type: ignore[call-overload]
        cells = []
        for c_idx, value in enumerate(row):
            if value == "":
                continue
            k = strings.setdefault(value, len(strings))
            cells.append(f'<c r="{_col(c_idx)}{r_idx}" t="s"><v>{k}</v></c>')
        parts.append(f'<row r="{r_idx}">{"".join(cells)}</row>')
    parts.append("</sheetData></worksheet>")
    sst = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(strings)}">'
    ]
    sst += [f'<si><t xml:space="preserve">{escape(v)}</t></si>' for v in strings]
    sst.append("</sst>")
    ns = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="'
        + ns
        + '/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
        + ns
        + '/package/2006/relationships">'
        '<Relationship Id="rId1" Type="'
        + ns
        + '/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="'
        + ns
        + '/spreadsheetml/2006/main" '
        'xmlns:r="'
        + ns
        + '/officeDocument/2006/relationships"><sheets><sheet name="codings" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
        + ns
        + '/package/2006/relationships">'
        '<Relationship Id="rId1" Type="'
        + ns
        + '/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="'
        + ns
        + '/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": "".join(parts),
        "xl/sharedStrings.xml": "".join(sst),
    }
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text.encode("utf-8"))


def convert(project: Path, out: Path, fmt: str) -> Path:
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(project, out, ignore=shutil.ignore_patterns("out", ".bench-params.json"))
    pfile = out / "triangulate.yaml"
    doc = yaml.safe_load(pfile.read_text(encoding="utf-8"))
    for spec in doc["sources"]:
        path = spec["path"]
        if spec.get("kind") != "excerpts" or not path.endswith(".csv"):
            continue
        src = out / path
        dest = src.with_suffix("." + fmt)
        with src.open(encoding="utf-8", newline="") as fh:
            rows = csv.reader(fh)
            header = next(rows)
            if fmt == "xlsx":
                write_xlsx(dest, [header, *rows])
            elif fmt == "jsonl":
                with dest.open("w", encoding="utf-8") as o:
                    for r in rows:
                        o.write(json.dumps(dict(zip(header, r)), ensure_ascii=False) + "\n")
            elif fmt == "tsv":
                with dest.open("w", encoding="utf-8", newline="") as o:
                    w = csv.writer(o, delimiter="\t", lineterminator="\n")
                    w.writerow(header)
                    w.writerows(rows)
            else:
                raise SystemExit(f"unknown format {fmt}")
        src.unlink()
        spec["path"] = str(Path(path).with_suffix("." + fmt))
    pfile.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("project", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--format", required=True, choices=["xlsx", "jsonl", "tsv"])
    a = p.parse_args(argv)
    convert(a.project, a.out, a.format)
    return 0


if __name__ == "__main__":
    sys.exit(main())
