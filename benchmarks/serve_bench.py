#!/usr/bin/env python3
"""Page and save latency of ``triangulate serve`` on a large project (not a timed test).

    python benchmarks/serve_bench.py /tmp/serve-bench --codings 150000 --themes 2000 --requests 200

Generates the project with benchmarks/generate.py when the folder does not exist yet (two
excerpt sources of N codings each, a survey, the given number of themes, two complete
worksheets), starts the real server as a user would (``python -m triangulate serve``), and
times over loopback HTTP:

- start-up (until the URLs are printed: the one full analysis);
- coding pages, adjudication pages, start pages and findings pages of random units;
- saves: a coding POST (worksheet row rewritten atomically and fsynced) and the page after it
  (which reads the review files again), and adjudication POSTs (decision appended, fsynced).

Prints p50/p95/max in milliseconds for each kind. Needs httpx (the test extra).
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def hidden(page: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    if not m:
        raise SystemExit(f"no field {name} in the page")
    return m.group(1)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("project", type=Path)
    ap.add_argument("--codings", type=int, default=150_000)
    ap.add_argument("--themes", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    if not args.project.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                str(args.project),
                "--codings",
                str(args.codings),
                "--sources",
                "2",
                "--survey",
                "--themes",
                str(args.themes),
                "--reviewers",
                "2",
            ],
            check=True,
        )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "triangulate", "serve", str(args.project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    urls: dict[str, str] = {}
    assert proc.stdout is not None
    while "adjudication" not in urls:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the server did not start")
        who, _, url = line.strip().partition("  ")
        if url.startswith("http"):
            urls[who] = url
    startup = time.perf_counter() - t0
    rng = random.Random(args.seed)
    times: dict[str, list[float]] = {}

    def timed(kind: str, fn: object) -> httpx.Response:
        start = time.perf_counter()
        r = fn()  # type: ignore[operator]
        times.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
        if r.status_code >= 400:
            raise SystemExit(f"{kind}: HTTP {r.status_code}")
        return r  # type: ignore[no-any-return]

    try:
        reviewer = next(w for w in urls if w != "adjudication")
        rbase = urls[reviewer].split("?")[0]
        abase = urls["adjudication"].split("/a/")[0] + "/a/"
        with (
            httpx.Client(follow_redirects=False, timeout=60) as rc,
            httpx.Client(follow_redirects=False, timeout=60) as ac,
        ):
            rc.get(urls[reviewer])
            ac.get(urls["adjudication"])
            first = rc.get(rbase + "code?i=0").text
            total = int(re.search(r"Unit 1 of (\d+)", first).group(1))  # type: ignore[union-attr]
            adj_first = ac.get(abase).text
            selected = int(
                re.search(r"of (\d+) disputed unit", adj_first).group(1)  # type: ignore[union-attr]
            )
            for _ in range(args.requests):
                i = rng.randrange(total)
                timed("coding page", lambda i=i: rc.get(f"{rbase}code?i={i}"))
            for _ in range(args.requests // 4):
                timed("start page", lambda: rc.get(rbase + f"?page={rng.randrange(10)}"))
                timed("findings page", lambda: rc.get(rbase + f"findings?page={rng.randrange(50)}"))
            if selected:
                for _ in range(args.requests):
                    i = rng.randrange(selected)
                    timed("adjudication page", lambda i=i: ac.get(f"{abase}unit?i={i}"))
            for n in range(args.requests // 4):
                i = rng.randrange(total)
                page = rc.get(f"{rbase}code?i={i}").text
                form = {
                    k: hidden(page, k)
                    for k in ("csrf", "theme", "source_a", "source_b", "row_hash")
                }
                form.update({"category": "disagreement", "rationale": f"benchmark save {n}"})
                r = timed(
                    "coding save (POST)", lambda form=form: rc.post(f"{rbase}code", data=form)
                )
                timed(
                    "page after a save",
                    lambda r=r: rc.get(httpx.URL(rbase).join(r.headers["location"])),
                )
            if selected:
                for n in range(min(args.requests // 4, selected)):
                    page = ac.get(f"{abase}unit?i={n}").text
                    form = {
                        k: hidden(page, k)
                        for k in ("csrf", "theme", "source_a", "source_b", "decision_hash")
                    }
                    form.update(
                        {
                            "category": "disagreement",
                            "rationale": f"benchmark decision {n}",
                            "decided_by": "bench",
                        }
                    )
                    timed(
                        "adjudication save (POST)",
                        lambda form=form: ac.post(f"{abase}unit", data=form),
                    )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    print(f"project: {args.project} ({total} units, {selected} disputed)")
    print(f"start-up until the URLs are printed: {startup:.1f} s")
    print(f"{'kind':28} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in times.items():
        print(
            f"{kind:28} {len(values):5d} {statistics.median(values):8.1f} "
            f"{pct(values, 0.95):8.1f} {max(values):8.1f}"
        )
    print(f"server exit code after SIGTERM: {proc.returncode}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
