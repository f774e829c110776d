"""The issue 13 adversarial campaign: runs the installed CLI as a user would, many times, and counts
what went wrong. Not collected by pytest (it takes minutes); run it by hand:

    python tests/adversarial_campaign.py [--kills 40] [--interrupts 35]

It prints one line per kind of run and a total: runs, crashes (exit 3 or a traceback), hangs (a
run that did not end in 60 s), data lost (an input changed, or a decision missing), writes outside
the project, injections that worked (a raw control character or a forged CI line in the output, a
spreadsheet cell that starts a formula), and output sets that look complete but are not.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "mamas_neighborhood"
RAW = ("\x1b", "\x07", "\x9b", "\x7f", "\u202e")
PAYLOADS = [
    "\x1b[2J\x1b[H",  # clear screen
    "\x1b]0;pwned\x07",  # window title
    "\x1b]52;c;ZXZpbA==\x07",  # clipboard write (OSC 52)
    "\x9b31m",  # 8-bit CSI
    "\u202eevil",  # bidi override
    "x\n::error file=codebook.yaml,line=1::FORGED",  # forged workflow command
    "=cmd|' /C calc'!A0",
    "a;=cmd|' /C calc'!A0;b",
    "a; +1+1;@SUM(1)",
    "\x7fbell\x07",
]

Totals = dict[str, int]


def cli(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, str]:
    full = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full.pop("GITHUB_ACTIONS", None)
    try:
        p = subprocess.run(
            [sys.executable, "-m", "triangulate", *args],
            cwd=cwd,
            env=full,
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return -1, ""
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def fresh(tmp: Path, name: str) -> Path:
    dest = tmp / name
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("out"))
    return dest


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def inputs_of(project: Path) -> dict[str, bytes]:
    snap = snapshot(project)
    return {k: v for k, v in snap.items() if not k.startswith("out/")}


def reader_verdict(out: Path) -> str:
    from triangulate.outputs.manifest import check_manifest

    if not (out / "manifest.json").exists():
        return "incomplete"
    return "complete" if check_manifest(out) == [] else "corrupt"


def count(t: Totals, key: str, n: int = 1) -> None:
    t[key] = t.get(key, 0) + n


def kills(tmp: Path, n: int, sig: int, t: Totals, label: str) -> None:
    project = fresh(tmp, f"kill-{label}")
    cli(["run", "-q", "."], project)
    before = inputs_of(project)
    rng = random.Random(13 + sig)
    verdicts: dict[str, int] = {}
    start = time.monotonic()
    cli(["run", "-q", "."], project)
    duration = time.monotonic() - start  # kill anywhere in a whole run, start-up included
    for _ in range(n):
        proc = subprocess.Popen(
            [sys.executable, "-m", "triangulate", "run", "-q", "."],
            cwd=project,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(0.1, duration))
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            count(t, "hangs")
            continue
        count(t, "runs")
        if b"Traceback" in err:
            count(t, "crashes")
            print(f"  {label}: traceback (exit {proc.returncode}):", err.decode()[-200:])
        v = reader_verdict(project / "out")
        verdicts[v] = verdicts.get(v, 0) + 1
        if v == "corrupt":
            count(t, "false complete")
        if inputs_of(project) != before:
            count(t, "data lost")
        code, _ = cli(["run", "-q", "."], project)
        count(t, "runs")
        if code != 0 or reader_verdict(project / "out") != "complete":
            count(t, "crashes")
            print(f"  {label}: the re-run failed (exit {code})")
        if any(p.name.endswith(".tmp") for p in (project / "out").iterdir()):
            count(t, "stale temp files")
    print(
        f"{label}: {n} signalled runs (a whole run takes {duration:.1f} s here), "
        f"reader verdicts after the signal: {verdicts}"
    )


def injections(tmp: Path, t: Totals) -> None:
    project = fresh(tmp, "inject")
    data = project / "data" / "interviews.csv"
    with data.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols = list(rows[0])
    for i, p in enumerate(PAYLOADS):
        rows[i % len(rows)]["text"] = p
        rows[(i + 3) % len(rows)]["participant"] = p
    rows.append({**rows[0], "code": PAYLOADS[5], "excerpt_id": "X1"})
    rows.append({**rows[0], "code": PAYLOADS[7], "excerpt_id": "X2"})
    buf = io.StringIO()
    w = csv.DictWriter(buf, cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    data.write_text(buf.getvalue(), encoding="utf-8")
    cb = (project / "codebook.yaml").read_text(encoding="utf-8")
    cb = cb.replace(
        "codes:\n      interviews: [empowering-clients",
        "codes:\n      interviews: [\"a;=cmd|' /C calc'!A0;b\", empowering-clients",
        1,
    )
    (project / "codebook.yaml").write_text(cb, encoding="utf-8")
    ty = (project / "triangulate.yaml").read_text(encoding="utf-8")
    ty = ty.replace("title: MAMA'S", "title: \"\\e]0;pwned\\a x\\n::error file=a::FORGED MAMA'S", 1)
    ty = ty.replace("(sample after Blebu et al. 2023)\n", '(sample after Blebu et al. 2023)"\n', 1)
    (project / "triangulate.yaml").write_text(ty, encoding="utf-8")
    commands = [
        ["validate", "."],
        ["validate", "--format", "github", "."],
        ["validate", "--format", "json", "."],
        ["run", "."],
        ["run", "--redact", "."],
        ["sort", "."],
        ["converge", "."],
        ["agreement", "."],
        ["report", "."],
    ]
    worked = 0
    for args in commands:
        code, text = cli(args, project)
        count(t, "runs")
        if code == 3 or "Traceback" in text:
            count(t, "crashes")
            print("  crash:", args, text[-400:])
        if code == -1:
            count(t, "hangs")
        if any(r in text for r in RAW) or any(
            line.startswith("::error file=a::")
            or line.startswith("::error file=codebook.yaml,line=1::")
            for line in text.splitlines()
        ):
            worked += 1
            print("  injection printed raw:", args)
    for name in ("sorting.csv", "convergence_matrix.csv"):
        text = (project / "out" / name).read_text(encoding="utf-8")
        for line in text.splitlines():
            for cell in line.replace(",", ";").split(";"):
                if cell.strip('"').lstrip(" ").startswith(("=", "+", "@")):
                    worked += 1
                    print("  live formula cell in", name, repr(cell))
    count(t, "injections that worked", worked)
    print(f"injections: {len(PAYLOADS)} payloads x {len(commands)} commands, worked: {worked}")


def paths(tmp: Path, t: Totals) -> None:
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("SECRET first line\n", encoding="utf-8")
    cases = {
        "output ../": ("output", "../escape"),
        "output absolute": ("output", str(outside / "abs")),
        "output symlink": ("output", "link"),
        "codebook ..": ("codebook", "../outside/secret.csv"),
        "source absolute": ("source", str(outside / "secret.csv")),
        "results -> data": ("output", "results"),
    }
    for label, (key, value) in cases.items():
        project = fresh(tmp, "paths-" + label.replace(" ", "_").replace("/", "").replace(">", ""))
        ty = (project / "triangulate.yaml").read_text(encoding="utf-8")
        if key == "output":
            ty = ty.replace("output: out", f"output: {value}")
        elif key == "codebook":
            ty = ty.replace("codebook: codebook.yaml", f"codebook: {value}")
        else:
            ty = ty.replace("path: data/network_survey.csv", f"path: {value}")
        (project / "triangulate.yaml").write_text(ty, encoding="utf-8")
        if value == "link":
            (project / "link").symlink_to(outside)
        if value == "results":
            (project / "results").symlink_to(project / "data")
            ty = ty.replace("path: data/network_survey.csv", "path: data/sorting.csv")
            (project / "triangulate.yaml").write_text(ty, encoding="utf-8")
            shutil.copy(project / "data" / "network_survey.csv", project / "data" / "sorting.csv")
        before_out = snapshot(outside)
        before_in = inputs_of(project)
        for args in (["validate", "."], ["run", "."], ["sort", "."], ["converge", "."]):
            code, text = cli(args, project)
            count(t, "runs")
            if code == 3 or "Traceback" in text:
                count(t, "crashes")
            if "SECRET" in text:
                count(t, "outside file quoted")
        if snapshot(outside) != before_out or (tmp / "escape").exists():
            count(t, "writes outside the project")
            print("  wrote outside:", label)
        if inputs_of(project) != before_in:
            count(t, "data lost")
            print("  input changed:", label)
    print(f"paths: {len(cases)} escapes x 4 commands")


def encodings_and_pipes(tmp: Path, t: Totals) -> None:
    project = fresh(tmp, "enc")
    ty = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(
        ty.replace("title: MAMA'S", "title: Árvíztűrő tükörfúrógép MAMA'S"), encoding="utf-8"
    )
    for enc in ("cp1252", "ascii", "latin-1"):
        code, _ = cli(["run", "."], project, env={"PYTHONIOENCODING": enc})
        count(t, "runs")
        if code != 0:
            count(t, "crashes")
            print("  encoding", enc, "exit", code)
    for cmd in ("sort", "converge", "validate", "run", "agreement"):
        p = subprocess.run(
            [
                "bash",
                "-c",
                f"set -o pipefail; {sys.executable} -m triangulate {cmd} . | head -1 >/dev/null",
            ],
            cwd=project,
            capture_output=True,
            timeout=60,
        )
        count(t, "runs")
        if p.returncode != 0 or b"Traceback" in p.stderr or b"Exception ignored" in p.stderr:
            count(t, "crashes")
            print("  pipe", cmd, "exit", p.returncode, p.stderr[-300:])
    print("encodings and pipes: 3 encodings, 5 commands piped into head -1")


def surrogates(tmp: Path, t: Totals) -> None:
    project = fresh(tmp, "surrogates")
    import re

    cb = (project / "codebook.yaml").read_text(encoding="utf-8")
    cb = re.sub(r"label: Care Coordinators embody.*", 'label: "half \\\\ud83d emoji"', cb, count=1)
    (project / "codebook.yaml").write_text(cb, encoding="utf-8")
    with (project / "decisions.jsonl").open("a", encoding="utf-8") as fh:
        line = json.loads((project / "decisions.jsonl").read_text(encoding="utf-8").splitlines()[0])
        line["rationale"] = "x"
        fh.write(json.dumps(line).replace('"x"', '"half \\ud83d"') + "\n")
    for args in (
        ["validate", "."],
        ["validate", "--format", "json", "."],
        ["validate", "--format", "github", "."],
        ["run", "."],
    ):
        code, text = cli(args, project)
        count(t, "runs")
        if code not in (0, 1) or "Traceback" in text:
            count(t, "crashes")
            print("  surrogates", args, code, text[-300:])
    print("surrogates: 4 commands")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=40)
    ap.add_argument("--interrupts", type=int, default=35)
    opts = ap.parse_args()
    t: Totals = {}
    with tempfile.TemporaryDirectory(prefix="triangulate-campaign-") as d:
        tmp = Path(d)
        injections(tmp, t)
        paths(tmp, t)
        encodings_and_pipes(tmp, t)
        surrogates(tmp, t)
        kills(tmp, opts.kills, signal.SIGKILL, t, "kill -9")
        kills(tmp, opts.interrupts, signal.SIGINT, t, "Ctrl-C")
    keys = [
        "runs",
        "crashes",
        "hangs",
        "data lost",
        "writes outside the project",
        "outside file quoted",
        "injections that worked",
        "false complete",
        "stale temp files",
    ]
    print("TOTAL: " + ", ".join(f"{k} {t.get(k, 0)}" for k in keys))
    return 0 if all(t.get(k, 0) == 0 for k in keys[1:]) else 1


if __name__ == "__main__":
    sys.exit(main())
