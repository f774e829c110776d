#!/usr/bin/env python3
"""The pandas floor: the least a hand-written script does for triangulate's Step 1.

    python benchmarks/pandas_floor.py PROJECT [--out FILE] [--usecols]

Reads the project file and the codebook, reads every source whole, the way a minimal script does
(``pd.read_csv(path, dtype=str, keep_default_na=False)``; with --usecols only the columns the
counting needs, which leaves out the excerpt text), sorts each source's codes into the codebook's
themes, and per theme and source counts distinct excerpts and distinct participants (and the
largest survey share), and collects the dimension tags: split on ';', trimmed, case-folded, empty
ones dropped, for a survey only over codes that someone endorsed. Writes one CSV row per theme
and source.

It checks nothing, reports nothing and writes no report: it is the floor the harness compares
``triangulate run`` with, not a replacement for it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import yaml


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("project", type=Path)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument(
        "--usecols", action="store_true", help="read only the columns the counting needs"
    )
    a = p.parse_args(argv)
    root = a.project
    proj = yaml.safe_load((root / "triangulate.yaml").read_text(encoding="utf-8"))
    book = yaml.safe_load((root / proj["codebook"]).read_text(encoding="utf-8"))
    dims = ["substance", "mechanism"]  # the generated projects use blebu-2023
    rows = []
    for src in proj["sources"]:
        sid, excerpts = src["id"], src["kind"] == "excerpts"
        code_theme = {c: t["id"] for t in book["themes"] for c in t.get("codes", {}).get(sid, [])}
        need = (
            ["excerpt_id", "participant", "code"]
            if excerpts
            else ["code", "respondents", "endorsed"]
        ) + dims
        df = pd.read_csv(
            root / src["path"],
            dtype=str,
            keep_default_na=False,
            usecols=need if a.usecols else None,
        )
        df["theme"] = df["code"].map(code_theme)
        if excerpts:
            total = df["participant"].nunique()
            df = df[df["theme"].notna()]
            agg = df.groupby("theme").agg(
                excerpts=("excerpt_id", "nunique"), participants=("participant", "nunique")
            )
            agg["prominence"] = agg["participants"] / total
        else:
            df["share"] = df["endorsed"].astype(int) / df["respondents"].astype(int)
            df = df[df["theme"].notna()]
            agg = df.groupby("theme").agg(prominence=("share", "max"))
            df = df[df["share"] > 0]
        tags: dict[str, pd.Series] = {}
        for d in dims:
            cells = df[["theme", d]].drop_duplicates()
            t = cells.assign(tag=cells[d].str.split(";")).explode("tag")
            t["tag"] = t["tag"].str.strip().str.casefold()
            t = t[t["tag"] != ""].drop_duplicates(["theme", "tag"])
            tags[d] = t.groupby("theme")["tag"].agg(lambda s: ";".join(sorted(s)))
        for th in book["themes"]:
            tid = th["id"]
            present = tid in agg.index
            r = agg.loc[tid] if present else {}
            counts = [r.get("excerpts", 0), r.get("participants", 0)] if excerpts else ["", ""]
            rows.append(
                [
                    tid,
                    sid,
                    "yes" if present else "no",
                    *counts,
                    r.get("prominence", 0),
                    *(tags[d].get(tid, "") for d in dims),
                ]
            )
    out = pd.DataFrame(rows)
    if a.out:
        out.to_csv(a.out, index=False, header=False)
    else:
        sys.stdout.write(f"{len(out)} theme x source rows\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
