"""How long a large report.html takes to open in headless Chromium (issue: under 2 s at 2,000
themes x 6 source pairs).

    python benchmarks/report_open.py DIR            # generate (if missing), run, time the report
    python benchmarks/report_open.py DIR --reps 5 --themes 2000 --sources 3 --survey

DIR is a project folder written by ``benchmarks/generate.py`` (3 excerpt sources + a survey = 4
sources = 6 pairs a theme). Prints the file size and, per repetition, the wall time of
``page.goto`` until the load event, with the navigation timing's DOMContentLoaded and load times
and the first contentful paint, then the medians. Uses the system Chromium (tests/browser.py).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("project", type=Path)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--themes", type=int, default=2000)
    p.add_argument("--sources", type=int, default=3)
    p.add_argument("--survey", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--codings", type=int, default=30_000)
    p.add_argument("--reviewers", type=int, default=2)
    args = p.parse_args(argv)
    args.project = args.project.resolve()
    report = args.project / "out" / "report.html"
    if not (args.project / "triangulate.yaml").exists():
        gen = [sys.executable, str(HERE / "generate.py"), str(args.project)]
        gen += ["--codings", str(args.codings), "--sources", str(args.sources)]
        gen += ["--themes", str(args.themes), "--reviewers", str(args.reviewers)]
        gen += ["--survey"] if args.survey else []
        subprocess.run(gen, check=True)
    if not report.exists():
        subprocess.run([sys.executable, "-m", "triangulate", "run", str(args.project), "-q"])
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM_ARGS, chromium_path

    size = report.stat().st_size
    print(f"{report}: {size / 1e6:.1f} MB")
    walls, loads, fcps = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for i in range(args.reps):
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                page = ctx.new_page()
                t0 = time.perf_counter()
                page.goto(report.as_uri(), wait_until="load", timeout=120_000)
                wall = time.perf_counter() - t0
                nav = page.evaluate(
                    "(() => { const n = performance.getEntriesByType('navigation')[0];"
                    " const f = performance.getEntriesByName('first-contentful-paint')[0];"
                    " return [n.domContentLoadedEventEnd, n.loadEventEnd, f ? f.startTime : null]; })()"
                )
                walls.append(wall)
                loads.append(nav[1] / 1000)
                if nav[2] is not None:
                    fcps.append(nav[2] / 1000)
                print(
                    f"rep {i + 1}: goto {wall:.2f} s, DOMContentLoaded {nav[0] / 1000:.2f} s, "
                    f"load {nav[1] / 1000:.2f} s, first paint "
                    + (f"{nav[2] / 1000:.2f} s" if nav[2] is not None else "n/a")
                )
                ctx.close()
        finally:
            browser.close()
    print(
        f"median: goto {statistics.median(walls):.2f} s, load {statistics.median(loads):.2f} s"
        + (f", first paint {statistics.median(fcps):.2f} s" if fcps else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
