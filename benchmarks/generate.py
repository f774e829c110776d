#!/usr/bin/env python3
"""Generate a large synthetic triangulate project (seeded, deterministic).

    python benchmarks/generate.py OUT --codings 150000 --sources 2 --survey --themes 200 \
        --reviewers 2 --seed 1

writes OUT/triangulate.yaml, OUT/codebook.yaml, OUT/data/interviews_<k>.csv (one per excerpt
source, each with --codings rows), OUT/data/survey.csv (with --survey) and, with --reviewers R,
complete worksheets OUT/reviews/r<k>.csv that disagree on about 15% of the units.

Only the standard library and PyYAML are used, so the generator runs wherever triangulate does.
The data is shaped like a real project: codes used with a skewed (Zipf-like) frequency, excerpts
carrying one to three codes, a few hundred participants, dimension tags with stray spaces and
mixed case, an ignored extra column, a few unsorted codes and unused codebook codes (warnings),
some themes silent in a source, and a few survey codes nobody endorsed.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
import sys
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

import yaml

WORDS = [
    "we",
    "they",
    "she",
    "he",
    "clinic",
    "referral",
    "partner",
    "mom",
    "client",
    "family",
    "coordinator",
    "call",
    "follow",
    "up",
    "week",
    "month",
    "trust",
    "know",
    "help",
    "need",
    "food",
    "housing",
    "diaper",
    "transport",
    "appointment",
    "form",
    "staff",
    "team",
    "network",
    "meeting",
    "share",
    "resource",
    "community",
    "agency",
    "time",
    "case",
    "load",
    "nobody",
    "always",
    "sometimes",
    "really",
    "just",
    "because",
    "when",
    "then",
    "after",
    "before",
    "with",
    "without",
    "about",
    "into",
    "over",
    "back",
    "again",
]
DIMENSIONS = ("substance", "mechanism")
SHARED_TAGS = ("barrier", "facilitator", "trust", "caseload", "follow-up", "navigation")


def _tags(rng: random.Random, pool: list[str]) -> str:
    picked = rng.sample(pool, rng.randint(1, 3))
    parts = []
    for t in picked:
        r = rng.random()
        if r < 0.05:
            t = t.upper()
        elif r < 0.10:
            t = f" {t} "
        parts.append(t)
    if rng.random() < 0.03:
        parts.append("")  # a trailing ';'
    return ";".join(parts)


def _text(rng: random.Random) -> str:
    n = rng.randint(8, 40)
    s = " ".join(rng.choice(WORDS) for _ in range(n))
    if rng.random() < 0.1:
        s = s.replace(" ", ", ", 1)  # a quoted cell
    if rng.random() < 0.02:
        s += ' she said "no" twice'
    return s[0].upper() + s[1:] + "."


def generate(
    out: Path,
    codings: int,
    sources: int,
    survey: bool,
    themes: int,
    reviewers: int,
    seed: int,
    codes_per_theme: int = 3,
) -> None:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    source_ids = [f"interviews_{k + 1}" for k in range(sources)]
    theme_ids = [f"theme_{i:04d}" for i in range(themes)]

    # ---- codebook: every theme gets codes in every excerpt source; ~10% are silent in the last one
    silent_in_last = set(rng.sample(theme_ids, max(0, themes // 10))) if sources >= 2 else set()
    theme_codes: dict[str, dict[str, list[str]]] = {t: {} for t in theme_ids}
    data_codes: dict[str, list[str]] = {}  # codes that occur in each source's data
    for si, sid in enumerate(source_ids):
        used: list[str] = []
        for ti, t in enumerate(theme_ids):
            codes = [f"t{ti:04d}-code-{k}" for k in range(codes_per_theme)]
            theme_codes[t][sid] = codes
            if si == sources - 1 and t in silent_in_last:
                continue  # listed in the codebook, never used in the data (codebook.code-unused)
            used += codes
        used += [f"unsorted-{si}-{k}" for k in range(3)]  # data.unsorted-code
        data_codes[sid] = used
    survey_codes: dict[str, list[str]] = {}
    if survey:
        for ti, t in enumerate(theme_ids):
            if rng.random() < 0.8:
                survey_codes[t] = [f"q{ti:04d}-{k}" for k in range(2)]
                theme_codes[t]["survey"] = survey_codes[t]
    tag_pool = {
        t: {
            d: [f"{d[:3]}-{ti % 50}-{k}" for k in range(4)] + list(SHARED_TAGS[:2])
            for d in DIMENSIONS
        }
        for ti, t in enumerate(theme_ids)
    }
    code_theme = {c: t for t in theme_ids for codes in theme_codes[t].values() for c in codes}

    groups = [
        {"id": f"group_{g}", "label": f"Overarching theme {g}"} for g in range(max(1, themes // 25))
    ]
    codebook = {
        "groups": groups,
        "themes": [
            {
                "id": t,
                "label": f"Theme {i}",
                "group": groups[i % len(groups)]["id"],
                "definition": f"Synthetic theme number {i}.",
                "codes": theme_codes[t],
                **(
                    {"not_collected": ["survey"]}
                    if survey and t not in survey_codes and i % 2 == 0
                    else {}
                ),
            }
            for i, t in enumerate(theme_ids)
        ],
    }
    (out / "codebook.yaml").write_text(yaml.safe_dump(codebook, sort_keys=False), encoding="utf-8")

    # ---- excerpt sources
    participants = max(10, codings // 300)
    for sid in source_ids:
        codes = data_codes[sid]
        weights = [1.0 / (k + 1) ** 0.7 for k in range(len(codes))]
        rng.shuffle(weights)
        with (out / "data" / f"{sid}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["excerpt_id", "participant", "code", "text", *DIMENSIONS, "coder"])
            n = 0
            e = 0
            while n < codings:
                e += 1
                eid = f"{sid[:1].upper()}{e:07d}"
                who = f"P{rng.randrange(participants):04d}"
                text = _text(rng)
                first = rng.choices(codes, weights)[0]
                picked = [first]
                k = min(rng.choice((1, 1, 1, 2, 2, 3)), codings - n)
                theme = code_theme.get(first)
                for _ in range(k - 1):
                    cand = (
                        rng.choice(theme_codes[theme][sid])
                        if theme and rng.random() < 0.7
                        else rng.choices(codes, weights)[0]
                    )
                    if cand not in picked and (
                        theme is None
                        or theme not in silent_in_last
                        or sid != source_ids[-1]
                        or code_theme.get(cand) != theme
                    ):
                        picked.append(cand)
                for code in picked:
                    t = code_theme.get(code)
                    pool = tag_pool[t] if t else {d: list(SHARED_TAGS) for d in DIMENSIONS}
                    tags = [_tags(rng, pool[d]) if rng.random() > 0.02 else "" for d in DIMENSIONS]
                    w.writerow([eid, who, code, text, *tags, rng.choice(("ab", "cd", "ef"))])
                    n += 1

    # ---- the survey
    if survey:
        with (out / "data" / "survey.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["code", "item", "respondents", "endorsed", *DIMENSIONS])
            for t, codes in survey_codes.items():
                for k, code in enumerate(codes):
                    n = rng.randint(50, 300)
                    endorsed = (
                        0 if k and rng.random() < 0.1 else rng.randint(1, n)
                    )  # the first is endorsed
                    w.writerow(
                        [
                            code,
                            f"Item about {t} ({code})",
                            n,
                            endorsed,
                            *(_tags(rng, tag_pool[t][d]) for d in DIMENSIONS),
                        ]
                    )
            for k in range(3):
                w.writerow([f"unsorted-q{k}", "An item no theme uses", 100, 10, "", ""])

    # ---- the project file
    all_sources = [
        {
            "id": sid,
            "label": f"Interviews, site {k + 1}",
            "kind": "excerpts",
            "path": f"data/{sid}.csv",
        }
        for k, sid in enumerate(source_ids)
    ]
    if survey:
        all_sources.append(
            {"id": "survey", "label": "Partner survey", "kind": "survey", "path": "data/survey.csv"}
        )
    reviewer_ids = [f"r{k + 1}" for k in range(reviewers)]
    project = {
        "title": f"Synthetic benchmark ({codings} codings x {sources} sources, {themes} themes, seed {seed})",
        "protocol": "blebu-2023",
        "codebook": "codebook.yaml",
        "sources": all_sources,
        **({"reviewers": reviewer_ids} if reviewer_ids else {}),
        "output": "out",
    }
    (out / "triangulate.yaml").write_text(
        yaml.safe_dump(project, sort_keys=False), encoding="utf-8"
    )

    # ---- reviewer worksheets: one row per unit (theme x pair where either source has the theme)
    if reviewer_ids:
        present: dict[str, set[str]] = {}
        for t in theme_ids:
            here = {
                sid for sid in source_ids if not (sid == source_ids[-1] and t in silent_in_last)
            }
            if t in survey_codes:
                here.add("survey")  # its first code is always endorsed
            present[t] = here
        ids = [s["id"] for s in all_sources]
        units = [
            (t, a, b)
            for t in theme_ids
            for i, a in enumerate(ids)
            for b in ids[i + 1 :]
            if a in present[t] or b in present[t]
        ]
        base = {u: (rng.random() < 0.7, rng.random() < 0.5) for u in units}
        (out / "reviews").mkdir(exist_ok=True)
        for r in reviewer_ids:
            with (out / "reviews" / f"{r}.csv").open("w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(["theme", "source_a", "source_b", *DIMENSIONS, "category", "rationale"])
                for u in units:
                    t, a, b = u
                    if (a in present[t]) != (b in present[t]):
                        w.writerow([t, a, b, "", "", "silence", "only one source speaks to it"])
                        continue
                    s, m = base[u]
                    if rng.random() < 0.15:
                        s = not s
                    w.writerow(
                        [t, a, b, "yes" if s else "no", "yes" if m else "no", "", f"{r} read both"]
                    )


def qdpx_variant(src: Path, dst: Path, crlf: bool = False) -> Path:
    """Copy the project ``src`` to ``dst`` with every ``kind: excerpts`` CSV turned into a REFI-QDA
    ``.qdpx`` holding the same codings (for the per-format benchmark; see benchmarks/README.md).

    Each participant becomes one text source (and a case of the same name) whose plain text is
    their excerpts, one per line; each excerpt is a ``PlainTextSelection`` (positions in Unicode
    code points, as the REFI-QDA specification counts) with one ``Coding`` per code; the code tree
    is flat (one codable ``Code`` per code name), so the codebook reads the same. Excerpt ids
    become selection GUIDs, and a ``.qdpx`` carries no dimension tags. With ``crlf`` the texts end
    lines with CRLF (as Windows exports do), which makes position-unit detection do its work.
    Deterministic: the same ``src`` gives the same bytes. Returns ``dst``.
    """
    import yaml

    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("out", ".bench-params.json"))
    project = yaml.safe_load((dst / "triangulate.yaml").read_text(encoding="utf-8"))
    ns = uuid.UUID("0b7f3f9e-7c38-4f0e-a7c1-2b2f1d6c9a11")

    def guid(*parts: str) -> str:
        return str(uuid.uuid5(ns, "/".join(parts)))

    eol = "\r\n" if crlf else "\n"
    for source in project["sources"]:
        if source["kind"] != "excerpts" or not source["path"].endswith(".csv"):
            continue
        sid = source["id"]
        csv_path = dst / source["path"]
        by_who: dict[str, list[tuple[str, str, list[str]]]] = {}  # participant -> excerpts
        codes: dict[str, str] = {}  # code name -> GUID
        with csv_path.open(encoding="utf-8", newline="") as fh:
            last: tuple[str, str, list[str]] | None = None
            for row in csv.DictReader(fh):
                code = row["code"]
                codes.setdefault(code, guid(sid, "code", code))
                if last is not None and last[0] == row["excerpt_id"]:
                    last[2].append(code)
                    continue
                last = (row["excerpt_id"], row["text"], [code])
                by_who.setdefault(row["participant"], []).append(last)
        out: list[str] = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<Project xmlns="urn:QDA-XML:project:1.0" name="Benchmark" origin="benchmarks/generate.py">',
            "<CodeBook><Codes>",
        ]
        out += [
            f'<Code guid="{g}" name={quoteattr(name)} isCodable="true"/>'
            for name, g in codes.items()
        ]
        out.append("</Codes></CodeBook><Cases>")
        docs = {who: guid(sid, "source", who) for who in by_who}
        for who, g in docs.items():
            out.append(
                f'<Case guid="{guid(sid, "case", who)}" name={quoteattr(who)}>'
                f'<SourceRef targetGUID="{g}"/></Case>'
            )
        out.append("</Cases><Sources>")
        texts: dict[str, str] = {}
        for who, excerpts in by_who.items():
            g = docs[who]
            out.append(
                f'<TextSource guid="{g}" name={quoteattr(who)} plainTextPath="internal://{g}.txt">'
            )
            buf = io.StringIO()
            at = 0
            for eid, text, ecodes in excerpts:
                start, end = at, at + len(text)
                buf.write(text + eol)
                at = end + len(eol)
                out.append(
                    f'<PlainTextSelection guid="{guid(sid, "sel", eid)}" startPosition="{start}" endPosition="{end}">'
                )
                out += [
                    f'<Coding guid="{guid(sid, "coding", eid, c)}"><CodeRef targetGUID="{codes[c]}"/></Coding>'
                    for c in ecodes
                ]
                out.append("</PlainTextSelection>")
            out.append("</TextSource>")
            texts[g] = buf.getvalue()
        out.append("</Sources></Project>")
        qdpx = csv_path.with_suffix(".qdpx")
        with zipfile.ZipFile(qdpx, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(
                zipfile.ZipInfo("project.qde", (2026, 1, 1, 0, 0, 0)),
                "\n".join(out),
                zipfile.ZIP_DEFLATED,
            )
            for g, text in texts.items():
                info = zipfile.ZipInfo(f"sources/{g}.txt", (2026, 1, 1, 0, 0, 0))
                zf.writestr(info, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
        csv_path.unlink()
        source["path"] = str(Path(source["path"]).with_suffix(".qdpx").as_posix())
    (dst / "triangulate.yaml").write_text(
        yaml.safe_dump(project, sort_keys=False), encoding="utf-8"
    )
    return dst


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="the project folder to write")
    p.add_argument("--codings", type=int, default=150_000, help="rows per excerpt source")
    p.add_argument("--sources", type=int, default=2, help="number of excerpt sources")
    p.add_argument("--survey", action="store_true", help="add a survey source")
    p.add_argument("--themes", type=int, default=200)
    p.add_argument("--reviewers", type=int, default=0, help="write this many complete worksheets")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--format",
        choices=("csv", "qdpx", "qdpx-crlf"),
        default="csv",
        help="excerpt sources as CSV, or as REFI-QDA .qdpx (LF or CRLF line endings)",
    )
    a = p.parse_args(argv)
    if a.sources < 1 or a.sources + a.survey < 2:
        p.error("a project needs at least two sources (--sources 2, or --sources 1 --survey)")
    if a.format == "csv":
        generate(a.out, a.codings, a.sources, a.survey, a.themes, a.reviewers, a.seed)
        return 0
    tmp = a.out.with_name(a.out.name + ".csv-tmp")
    generate(tmp, a.codings, a.sources, a.survey, a.themes, a.reviewers, a.seed)
    qdpx_variant(tmp, a.out, crlf=a.format == "qdpx-crlf")
    shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
