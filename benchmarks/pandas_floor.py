#!/usr/bin/env python3
"""The pandas floor: the least a hand-written script must do for triangulate's Step 1.

    python benchmarks/pandas_floor.py PROJECT [--out FILE]

Reads the project file and the codebook, reads every source (CSV, with pandas' C parser, every
value as text, only the columns the work needs: the four required excerpt columns and the
dimension columns), sorts each source's codes into the codebook's themes, and per theme and
source counts distinct excerpts and distinct participants, the largest survey share, and
collects the dimension tags (split on ';', trimmed, case-folded, empty ones dropped; for a survey
only over codes endorsed by someone). Writes one CSV row per theme and source.

It checks nothing, reports nothing and writes no report: it is the floor the harness compares
``triangulate run`` against, not a replacement for it.
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
    a = p.parse_args(argv)
    root = a.project
    proj = yaml.safe_load((root / "triangulate.yaml").read_text(encoding="utf-8"))
    book = yaml.safe_load((root / proj["codebook"]).read_text(encoding="utf-8"))
    protocol_dims = ["substance", "mechanism"]  # the generated projects use blebu-2023
    rows = []
    for src in proj["sources"]:
        sid = src["id"]
        code_theme = {c: t["id"] for t in book["themes"] for c in t.get("codes", {}).get(sid, [])}
        path = root / src["path"]
        header = pd.read_csv(path, nrows=0).columns
        dims = [d for d in protocol_dims if d in header]
        if src["kind"] == "excerpts":
            cols = ["excerpt_id", "participant", "code", "text", *dims]
        else:
            cols = ["code", "respondents", "endorsed", *dims]
        df = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=cols)
        df["theme"] = df["code"].map(code_theme)
        empty_text = int((df["text"].str.strip() == "").sum()) if "text" in df else 0  # noqa: F841
        if src["kind"] == "excerpts":
            total = df["participant"].nunique()
            g = df.dropna(subset=["theme"]).groupby("theme", sort=False)
            agg = g.agg(excerpts=("excerpt_id", "nunique"), participants=("participant", "nunique"))
            agg["prominence"] = agg["participants"] / total
            tagged = df.dropna(subset=["theme"])
        else:
            share = df["endorsed"].astype(int) / df["respondents"].astype(int)
            df["share"] = share
            agg = df.dropna(subset=["theme"]).groupby("theme", sort=False).agg(prominence=("share", "max"))
            tagged = df[(df["share"] > 0) & df["theme"].notna()]
        tags: dict[tuple[str, str], str] = {}
        for d in dims:
            s = tagged[["theme", d]].assign(tag=tagged[d].str.split(";")).explode("tag")
            s["tag"] = s["tag"].str.strip().str.casefold()
            s = s[s["tag"] != ""].drop_duplicates(["theme", "tag"])
            for theme, group in s.groupby("theme", sort=False)["tag"]:
                tags[(theme, d)] = ";".join(sorted(group))
        for t in book["themes"]:
            tid = t["id"]
            if tid in agg.index:
                r = agg.loc[tid]
                rows.append([tid, sid, "yes", r.get("excerpts", ""), r.get("participants", ""), r["prominence"],
                             *(tags.get((tid, d), "") for d in dims)])
            else:
                zero = 0 if src["kind"] == "excerpts" else ""
                rows.append([tid, sid, "no", zero, zero, 0, *("" for _ in dims)])
    out = pd.DataFrame(rows)
    if a.out:
        out.to_csv(a.out, index=False, header=False)
    else:
        sys.stdout.write(f"{len(out)} theme x source rows\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
