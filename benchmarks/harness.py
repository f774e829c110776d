#!/usr/bin/env python3
"""Time ``triangulate`` against a hand-written pandas floor, in one run, alternating.

    python benchmarks/harness.py                      # the target size: 2 x 150,000 codings + survey
    python benchmarks/harness.py --codings 2000 --themes 20 --reps 1 --scale-reps 1 --startup-reps 1

Generates (once, cached in --workdir) a synthetic project with benchmarks/generate.py, then
measures, each as a subprocess and in ABAB... order so that machine noise hits both sides alike:

1. ``triangulate run PROJECT`` against ``benchmarks/pandas_floor.py PROJECT``: the median of the
   per-repetition time ratios, and the ratio of peak memory (max RSS of each child, from
   ``os.wait4``'s resource usage of that child alone);
2. linearity: ``triangulate run`` on the project and on one with ``--scale`` times the codings
   (ratio of median times);
3. start-up: ``triangulate --help`` and ``triangulate --version`` against
   ``python -c "import typer"`` (ratio of median times), and whether ``-X importtime`` shows
   pandas, numpy, openpyxl or pydantic imported on those paths;
4. ``triangulate validate`` on the shipped sample (median seconds);
5. the size of the report.html written by the run, and how long Python's html.parser takes on it.

Every result is printed with its target; nothing is asserted unless --check is given (then the
exit code is 1 when a target is missed). Timings are ratios taken in one run: compare ratios, not
absolute seconds, across machines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SAMPLE = REPO / "sample_data" / "mamas_neighborhood"
HEAVY = ("pandas", "numpy", "openpyxl", "pydantic")

TARGETS = {
    "time": 1.5,
    "memory": 2.0,
    "linearity": 11.0,
    "startup": 1.2,
    "validate": 1.0,
    # issue 14 (CPU time, the machine being shared)
    "run_floor": 1.2,  # run / floor at the target size, 200 themes
    "run_floor_large": 1.4,  # ... at 2,000 themes
    "run_memory": 1.3,
    "sort_vs_validate": 1.2,
    "xlsx": 2.0,
    "jsonl": 1.5,
    "qdpx": 2.0,
    "tsv": 1.5,
}
CHILD_ENV: dict[str, str] | None = None  # the environment of every timed child (see main)


@dataclass
class Sample:
    seconds: float  # wall time
    max_rss: int  # bytes
    returncode: int
    cpu: float = (
        0.0  # user + system CPU time of the child (what the ratios use: the machine may be shared)
    )


# Children are started by a small launcher process, not by this one. On Linux a child's peak RSS
# (ru_maxrss) counts the memory of the process it was forked from as it was at exec, so once this
# harness had grown (it writes the large format variants) every child reported at least its size.
# The launcher is a fresh interpreter (multiprocessing's forkserver) that never grows.
_LAUNCHER: Any = None


def start_launcher() -> None:
    global _LAUNCHER
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "forkserver" in multiprocessing.get_all_start_methods():
        _LAUNCHER = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
        _LAUNCHER.submit(int).result()  # start it now, while this process is small


def run_child(cmd: list[str], cwd: Path | None = None, stdout_path: Path | None = None) -> Sample:
    """Run ``cmd`` to completion; wall time and the peak RSS of that child alone."""
    if _LAUNCHER is not None:
        return _LAUNCHER.submit(_run_child_here, cmd, cwd, stdout_path, CHILD_ENV).result()  # type: ignore[no-any-return]
    return _run_child_here(cmd, cwd, stdout_path, CHILD_ENV)


def _run_child_here(
    cmd: list[str], cwd: Path | None, stdout_path: Path | None, env: dict[str, str] | None
) -> Sample:
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout_path:
            out.close()  # type: ignore[union-attr]
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return Sample(seconds, rss, p.returncode, usage.ru_utime + usage.ru_stime)


def triangulate_cmd(explicit: str | None) -> list[str]:
    if explicit:
        return explicit.split()
    script = Path(sys.executable).parent / ("triangulate.exe" if os.name == "nt" else "triangulate")
    if script.exists():
        return [str(script)]
    found = shutil.which("triangulate")
    return [found] if found else [sys.executable, "-m", "triangulate"]


def project_for(workdir: Path, args: argparse.Namespace, codings: int) -> Path:
    """The generated project for these parameters (generated once, reused while its stamp matches)."""
    params = {
        "codings": codings,
        "sources": args.sources,
        "survey": args.survey,
        "themes": args.themes,
        "reviewers": args.reviewers,
        "seed": args.seed,
        "generator": hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest(),
    }
    name = f"p{codings}x{args.sources}{'s' if args.survey else ''}-t{args.themes}-r{args.reviewers}-s{args.seed}"
    path = workdir / name
    stamp = path / ".bench-params.json"
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        return path
    if path.exists():
        shutil.rmtree(path)
    cmd = [
        sys.executable,
        str(HERE / "generate.py"),
        str(path),
        "--codings",
        str(codings),
        "--sources",
        str(args.sources),
        "--themes",
        str(args.themes),
        "--reviewers",
        str(args.reviewers),
        "--seed",
        str(args.seed),
    ] + (["--survey"] if args.survey else [])
    print(f"generating {path.name} ...", flush=True)
    subprocess.run(cmd, check=True)
    stamp.write_text(json.dumps(params))
    return path


def alternate(
    cmds: dict[str, list[str]], reps: int, cwd: Path | None = None
) -> dict[str, list[Sample]]:
    """Run each command once per repetition, in the same order every time (ABAB...)."""
    out: dict[str, list[Sample]] = {k: [] for k in cmds}
    for _ in range(reps):
        for k, cmd in cmds.items():
            s = run_child(cmd, cwd)
            if s.returncode != 0:
                raise SystemExit(
                    f"'{' '.join(cmd)}' exited {s.returncode}; run it by hand to see why"
                )
            out[k].append(s)
    return out


def med(samples: list[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def cpu(samples: list[Sample]) -> float:
    return statistics.median(s.cpu for s in samples)


def peak(samples: list[Sample]) -> int:
    return max(s.max_rss for s in samples)


def variant_for(workdir: Path, project: Path, fmt: str) -> Path:
    """The project with its excerpt sources in ``fmt`` (xlsx, jsonl, tsv: benchmarks/formats.py;
    qdpx: generate.qdpx_variant), made once and reused while its inputs are unchanged."""
    sys.path.insert(0, str(HERE))
    try:
        import formats
        import generate
    finally:
        sys.path.pop(0)
    stamp_src = project / ".bench-params.json"
    params = {
        "from": stamp_src.read_text() if stamp_src.exists() else str(project),
        "format": fmt,
        "formats": hashlib.sha256((HERE / "formats.py").read_bytes()).hexdigest(),
        "generator": hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest(),
    }
    out = workdir / f"{project.name}-{fmt}"
    stamp = out / ".bench-params.json"
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        return out
    print(f"writing the {fmt} variant of {project.name} ...", flush=True)
    if fmt == "qdpx":
        generate.qdpx_variant(project, out)
    else:
        formats.convert(project, out, fmt)
    stamp.write_text(json.dumps(params))
    return out


def commands_table(
    tri: list[str], project: Path, floor: list[str], reps: int, label: str, run_target: float
) -> list[str]:
    """validate, sort, converge and run on ``project`` against the floor (CPU time, peak memory),
    alternated; sort and converge also against validate. Returns the targets missed."""
    cmds = {
        c: tri + [c, str(project)] + ["--quiet"] * (c != "validate")
        for c in ("validate", "sort", "converge", "run")
    }
    cmds["floor"] = floor
    alternate(cmds, 1)  # warm-up
    res = alternate(cmds, reps)
    f_cpu, f_rss = cpu(res["floor"]), peak(res["floor"])
    missed = []
    print(f"commands, {label} (CPU s median of {reps}; peak memory):", flush=True)
    print(
        f"  {'command':<10} {'CPU s':>7} {'/floor':>7} {'/validate':>10} {'peak MB':>8} {'/floor':>7}  target"
    )
    for c in ("validate", "sort", "converge", "run", "floor"):
        c_cpu, c_rss = cpu(res[c]), peak(res[c])
        v = c_cpu / cpu(res["validate"])
        target = ""
        if c in ("sort", "converge"):
            ok = v <= TARGETS["sort_vs_validate"]
            target = f"/validate <= {TARGETS['sort_vs_validate']}  {'ok' if ok else 'MISSED'}"
            if not ok:
                missed.append(f"{c}/validate ({label})")
        if c == "run":
            ok_t, ok_m = c_cpu / f_cpu <= run_target, c_rss / f_rss <= TARGETS["run_memory"]
            target = (
                f"/floor <= {run_target} {'ok' if ok_t else 'MISSED'}; memory <= {TARGETS['run_memory']} "
                f"{'ok' if ok_m else 'MISSED'}"
            )
            missed += [f"run/floor ({label})"] * (not ok_t) + [f"run memory ({label})"] * (not ok_m)
        print(
            f"  {c:<10} {c_cpu:7.2f} {c_cpu / f_cpu:7.2f} {v:10.2f} {c_rss / 1e6:8.0f} {c_rss / f_rss:7.2f}  {target}",
            flush=True,
        )
    return missed


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def mb(n: float) -> str:
    return f"{n / 1e6:.0f} MB"


def heavy_imports(cmd: list[str]) -> list[str]:
    """Top-level packages among HEAVY that ``-X importtime`` shows imported by ``cmd``."""
    env = dict(CHILD_ENV or os.environ, PYTHONIMPORTTIME="1")
    p = subprocess.run(
        cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    seen = set()
    for line in p.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            mod = line.rsplit("|", 1)[1].strip().split(".")[0]
            if mod in HEAVY:
                seen.add(mod)
    return sorted(seen)


class _Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags += 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Benchmark triangulate against a pandas floor (see benchmarks/README.md)."
    )
    p.add_argument(
        "--codings", type=int, default=150_000, help="rows per excerpt source (default 150000)"
    )
    p.add_argument("--sources", type=int, default=2, help="excerpt sources (default 2)")
    p.add_argument(
        "--survey",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add a survey source (default yes)",
    )
    p.add_argument("--themes", type=int, default=200)
    p.add_argument("--reviewers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reps", type=int, default=5, help="run/floor repetitions (default 5)")
    p.add_argument(
        "--scale", type=int, default=10, help="linearity: compare N and SCALE x N codings (0: skip)"
    )
    p.add_argument("--scale-reps", type=int, default=3, help="linearity repetitions (default 3)")
    p.add_argument(
        "--startup-reps", type=int, default=15, help="--help/--version/import typer repetitions"
    )
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "triangulate-bench",
        help="where generated projects are kept and reused",
    )
    p.add_argument(
        "--triangulate",
        default=None,
        help="the command to run (default: the triangulate beside this Python)",
    )
    p.add_argument(
        "--formats",
        default="xlsx,jsonl,qdpx",
        help="excerpt-source formats to time against CSV on the same rows (comma-separated from "
        "xlsx, jsonl, qdpx, tsv; '' to skip)",
    )
    p.add_argument(
        "--large-themes",
        type=int,
        default=2000,
        help="also time the commands on a project with this many themes (0: skip)",
    )
    p.add_argument(
        "--yardstick",
        type=Path,
        default=REPO.parent / "shared" / "bench",
        help="folder with the shared yardstick (perfgen.py, floor.py); skipped when absent",
    )
    p.add_argument(
        "--yardstick-codings",
        type=int,
        default=150_000,
        help="codings per source for the yardstick project (0: skip)",
    )
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE if set (by default children cache bytecode under WORKDIR/pycache)",
    )
    args = p.parse_args(argv)

    global CHILD_ENV
    CHILD_ENV = dict(os.environ)
    if not args.no_bytecode_cache:
        # As in an installed copy, whose bytecode pip compiled: without this, a checkout run with
        # PYTHONDONTWRITEBYTECODE=1 compiles triangulate's modules on every start (but not typer's).
        CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(args.workdir / "pycache")

    tri = triangulate_cmd(args.triangulate)
    args.workdir.mkdir(parents=True, exist_ok=True)
    start_launcher()
    missed: list[str] = []
    project = project_for(args.workdir, args, args.codings)
    desc = (
        f"{args.sources} x {args.codings} codings{' + survey' if args.survey else ''}, {args.themes} themes, "
        f"{args.reviewers} reviewers, seed {args.seed}"
    )
    print(
        f"== triangulate benchmark: {desc}; {args.reps} repetition(s); command: {' '.join(tri)}",
        flush=True,
    )

    # ---- 1. run vs the pandas floor
    run = tri + ["run", str(project), "--quiet"]
    floor = [
        sys.executable,
        str(HERE / "pandas_floor.py"),
        str(project),
        "--out",
        str(args.workdir / "floor.csv"),
    ]
    lean = floor + ["--usecols"]
    alternate({"run": run, "floor": floor, "lean": lean}, 1)  # warm the file cache and the bytecode
    res = alternate({"run": run, "floor": floor, "lean": lean}, args.reps)
    ratios = [a.seconds / b.seconds for a, b in zip(res["run"], res["floor"])]
    tr = statistics.median(ratios)
    rss_run = max(s.max_rss for s in res["run"])
    rss_floor = max(s.max_rss for s in res["floor"])
    mr = rss_run / rss_floor
    print(
        f"run/floor time ratio: {tr:.2f} (median of {len(ratios)}; triangulate {med(res['run']):.2f} s, "
        f"floor {med(res['floor']):.2f} s)  target <= {TARGETS['time']}  {verdict(tr, TARGETS['time'])}",
        flush=True,
    )
    print(
        f"run/floor peak memory ratio: {mr:.2f} (triangulate {mb(rss_run)}, floor {mb(rss_floor)})  "
        f"target <= {TARGETS['memory']}  {verdict(mr, TARGETS['memory'])}",
        flush=True,
    )
    lr_t = statistics.median(a.seconds / b.seconds for a, b in zip(res["run"], res["lean"]))
    lr_m = rss_run / max(s.max_rss for s in res["lean"])
    print(
        f"(for information) against a floor that reads only the columns it counts (no excerpt text): "
        f"time {lr_t:.2f}, peak memory {lr_m:.2f} (floor --usecols {med(res['lean']):.2f} s, "
        f"{mb(max(s.max_rss for s in res['lean']))})",
        flush=True,
    )
    missed += [k for k, v in (("time", tr), ("memory", mr)) if v > TARGETS[k]]

    # ---- 6. each command, and each format, against the floor (CPU time)
    missed += commands_table(tri, project, floor, args.reps, desc, TARGETS["run_floor"])
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if formats:
        variants = {"csv": project} | {f: variant_for(args.workdir, project, f) for f in formats}
        cmds = {f: tri + ["run", str(v), "--quiet"] for f, v in variants.items()}
        cmds["floor"] = floor
        alternate(cmds, 1)  # warm-up
        res_f = alternate(cmds, args.reps)
        base_cpu, base_rss = cpu(res_f["csv"]), peak(res_f["csv"])
        print(
            f"formats: run on the same rows (CPU s median of {args.reps}; peak memory):", flush=True
        )
        print(
            f"  {'format':<7} {'CPU s':>7} {'/csv':>6} {'/floor':>7} {'peak MB':>8} {'/csv':>6}  target"
        )
        for f in ["csv", *formats]:
            c, m = cpu(res_f[f]), peak(res_f[f])
            target = ""
            if f != "csv":
                t = TARGETS.get(f, 2.0)
                ok = c / base_cpu <= t
                target = f"/csv <= {t}  {'ok' if ok else 'MISSED'}"
                if not ok:
                    missed.append(f"{f}/csv")
            print(
                f"  {f:<7} {c:7.2f} {c / base_cpu:6.2f} {c / cpu(res_f['floor']):7.2f} {m / 1e6:8.0f} {m / base_rss:6.2f}  {target}",
                flush=True,
            )
    if args.large_themes:
        big_args = argparse.Namespace(**{**vars(args), "themes": args.large_themes})
        large = project_for(args.workdir, big_args, args.codings)
        large_floor = [
            sys.executable,
            str(HERE / "pandas_floor.py"),
            str(large),
            "--out",
            str(args.workdir / "floor-large.csv"),
        ]
        missed += commands_table(
            tri,
            large,
            large_floor,
            args.reps,
            desc.replace(f"{args.themes} themes", f"{args.large_themes} themes"),
            TARGETS["run_floor_large"],
        )

    # ---- 7. the shared yardstick (../shared/bench): perfgen.py DIR N, floor.py DIR
    if args.yardstick_codings and (args.yardstick / "perfgen.py").is_file():
        yard = args.workdir / f"yardstick-{args.yardstick_codings}"
        ystamp = yard / ".bench-params.json"
        yparams = {
            "n": args.yardstick_codings,
            "perfgen": hashlib.sha256((args.yardstick / "perfgen.py").read_bytes()).hexdigest(),
        }
        if not (ystamp.exists() and json.loads(ystamp.read_text()) == yparams):
            if yard.exists():
                shutil.rmtree(yard)
            print(f"generating {yard.name} with {args.yardstick / 'perfgen.py'} ...", flush=True)
            subprocess.run(
                [
                    sys.executable,
                    str(args.yardstick / "perfgen.py"),
                    str(yard),
                    str(args.yardstick_codings),
                ],
                check=True,
            )
            ystamp.write_text(json.dumps(yparams))
        ycmds = {
            "run": tri + ["run", str(yard), "--quiet"],
            "floor": [sys.executable, str(args.yardstick / "floor.py"), str(yard)],
        }
        alternate(ycmds, 1)
        yres = alternate(ycmds, args.reps)
        yr = cpu(yres["run"]) / cpu(yres["floor"])
        ym = peak(yres["run"]) / peak(yres["floor"])
        ok_t, ok_m = yr <= TARGETS["run_floor"], ym <= TARGETS["run_memory"]
        print(
            f"yardstick ({args.yardstick.name}/perfgen.py {args.yardstick_codings}): run/floor CPU {yr:.2f} "
            f"(run {cpu(yres['run']):.2f} s, floor.py {cpu(yres['floor']):.2f} s, median of {args.reps}) "
            f"target <= {TARGETS['run_floor']} {'ok' if ok_t else 'MISSED'}; peak memory {ym:.2f} "
            f"({mb(peak(yres['run']))} vs {mb(peak(yres['floor']))}) target <= {TARGETS['run_memory']} "
            f"{'ok' if ok_m else 'MISSED'}",
            flush=True,
        )
        missed += ["yardstick run/floor"] * (not ok_t) + ["yardstick memory"] * (not ok_m)

    # ---- 5. the report (written by the runs above)
    html_path = project / "out" / "report.html"
    if html_path.exists():
        text = html_path.read_text(encoding="utf-8")
        t0 = time.perf_counter()
        counter = _Counter()
        counter.feed(text)
        counter.close()
        parse = time.perf_counter() - t0
        md = project / "out" / "report.md"
        print(
            f"report.html: {len(text.encode()) / 1e6:.2f} MB, {counter.tags} elements, html.parser {parse:.2f} s; "
            f"report.md {md.stat().st_size / 1e6:.2f} MB",
            flush=True,
        )

    # ---- 2. linearity
    if args.scale and args.scale > 1:
        big = project_for(args.workdir, args, args.codings * args.scale)
        small_cmd = tri + ["run", str(project), "--quiet"]
        big_cmd = tri + ["run", str(big), "--quiet"]
        lin = alternate({"small": small_cmd, "big": big_cmd}, args.scale_reps)
        lr = med(lin["big"]) / med(lin["small"])
        target = TARGETS["linearity"] * args.scale / 10
        print(
            f"linearity: {args.scale}x the codings takes {lr:.2f}x the time ({args.codings}: {med(lin['small']):.2f} s, "
            f"{args.codings * args.scale}: {med(lin['big']):.2f} s; peak memory {mb(max(s.max_rss for s in lin['small']))} -> "
            f"{mb(max(s.max_rss for s in lin['big']))})  target <= {target:g}  {verdict(lr, target)}",
            flush=True,
        )
        if lr > target:
            missed.append("linearity")

    # ---- 3. start-up
    typer_cmd = [sys.executable, "-c", "import typer"]
    alternate(
        {"typer": typer_cmd, "help": tri + ["--help"], "version": tri + ["--version"]}, 1
    )  # warm-up
    st = alternate(
        {"typer": typer_cmd, "help": tri + ["--help"], "version": tri + ["--version"]},
        args.startup_reps,
    )
    base = med(st["typer"])
    for k in ("help", "version"):
        r = med(st[k]) / base
        heavy = heavy_imports(tri + [f"--{k}"])
        print(
            f"--{k} / import typer: {r:.2f} ({med(st[k]) * 1000:.0f} ms vs {base * 1000:.0f} ms, median of {args.startup_reps}); "
            f"heavy imports: {', '.join(heavy) if heavy else 'none'}  target <= {TARGETS['startup']}  "
            f"{verdict(r, TARGETS['startup']) if not heavy else 'MISSED'}",
            flush=True,
        )
        if r > TARGETS["startup"] or heavy:
            missed.append(k)

    # ---- 4. validate on the shipped sample
    if SAMPLE.is_dir():
        run_child(tri + ["validate", str(SAMPLE)])  # warm-up
        val: list[Sample] = []
        for _ in range(max(3, args.startup_reps // 3)):
            s = run_child(tri + ["validate", str(SAMPLE)])
            if s.returncode not in (0, 1):
                raise SystemExit(f"triangulate validate exited {s.returncode}")
            val.append(s)
        v = med(val)
        print(
            f"validate on the sample: {v:.2f} s (median of {len(val)})  target < {TARGETS['validate']} s  {verdict(v, TARGETS['validate'])}",
            flush=True,
        )
        if v > TARGETS["validate"]:
            missed.append("validate")

    print(f"== targets missed: {', '.join(missed) if missed else 'none'}", flush=True)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
