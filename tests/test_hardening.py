"""Issue 13, the hardening items: each test builds the hostile input on the fly and reproduces one
item (its number in the comment above it). Nothing binary is committed.

Items: 2 lone surrogates; 5, 6 paths outside the project and symlinked outputs; 7 the output set
can be told complete (manifest, stale temporary files, a full disk, a file that cannot be
replaced); 10 umask permissions; 11 redaction of messages; 12 control characters and CI forgery;
13 joined cells; 16 encodings and broken pipes; 19 explain, --output -, github summary, --quiet.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ProjectBuilder, Result, ctrl_c_as_in_a_terminal, excerpt, survey

INTERVIEWS = {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"}
SURVEY = {"id": "survey", "kind": "survey", "path": "data/survey.csv"}
THEMES = [
    {"id": "shared", "codes": {"interviews": ["a"], "survey": ["s"]}},
    {"id": "lonely", "codes": {"interviews": ["b"]}},
]
OUTPUTS = {
    "sorting.csv",
    "convergence_matrix.csv",
    "summary.json",
    "report.md",
    "report.html",
    "convergence_matrix.xlsx",
    "convergence.svg",
    "report.docx",
    "manifest.json",
}


def invoke(args: list[str], cwd: Path | None = None) -> Result:
    """``triangulate ARGS`` in this process, through the console script's entry point."""
    from triangulate.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    code: Any = None
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code
    finally:
        os.chdir(old)
    return Result(int(code or 0), out.getvalue(), err.getvalue())


def run_sub(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, shell: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("GITHUB_ACTIONS", None)
    if shell is not None:
        return subprocess.run(
            ["bash", "-c", shell], cwd=cwd, env=full_env, capture_output=True, timeout=120
        )
    return subprocess.run(
        [sys.executable, "-m", "triangulate", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(autouse=True)
def _no_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def make_project(builder: ProjectBuilder, **kw: Any) -> Path:
    kw.setdefault("themes", THEMES)
    kw.setdefault("reviewers", ["bb"])
    kw.setdefault(
        "data",
        {
            "interviews": [
                excerpt("E1", "P1", "a", "barrier", "trust"),
                excerpt("E2", "P2", "b", "x", "y"),
            ],
            "survey": [survey("s", 10, endorsed=4, substance="barrier", mechanism="trust")],
        },
    )
    return builder.write(sources=[INTERVIEWS, SURVEY], **kw)


def findings_of(project: Path, *extra: str) -> tuple[Result, list[dict[str, Any]]]:
    r = invoke(["validate", "--format", "json", *extra, "."], cwd=project)
    assert "Traceback" not in r.stderr, str(r)
    return r, json.loads(r.stdout)["findings"]


def no_traceback(r: Result) -> None:
    assert r.exit_code != 3 and "Traceback" not in r.stderr, str(r)


def set_yaml(path: Path, **changes: Any) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc.update(changes)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


# ---------------------------------------------------------------------------- item 2: surrogates


HALF = "\\ud83d"  # as written inside a YAML double-quoted scalar or a JSON string


def test_lone_surrogates_in_yaml_are_reported_and_every_output_is_written(
    builder: ProjectBuilder,
) -> None:
    project = make_project(builder)
    cb = project / "codebook.yaml"
    cb.write_text(
        "themes:\n"
        f'  - id: shared\n    label: "Care {HALF} coordination"\n'
        f'    codes: {{interviews: [a], survey: ["s"]}}\n'
        f'  - id: lonely\n    codes: {{interviews: ["b"]}}\n'
        f'    definition: "two halves \\ud83d\\ude00 make one"\n',
        encoding="utf-8",
    )
    r, found = findings_of(project)
    assert r.exit_code == 0, str(r)
    hits = [f for f in found if f["code"] == "data.lone-surrogate"]
    assert [(h["location"]["file"], h["location"]["line"]) for h in hits] == [("codebook.yaml", 3)]
    assert hits[0]["location"]["field"] == "themes[0].label"
    for fmt in ("github", "text"):
        no_traceback(invoke(["validate", "--format", fmt, "."], cwd=project))
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 0, str(r)
    out = project / "out"
    assert {p.name for p in out.iterdir()} == OUTPUTS
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Care \ufffd coordination" in report and "\U0001f600" in report


def test_lone_surrogate_in_a_code_name_keeps_validate_json_and_github_working(
    builder: ProjectBuilder,
) -> None:
    project = make_project(builder)
    (project / "codebook.yaml").write_text(
        f'themes:\n  - id: shared\n    codes: {{interviews: ["a{HALF}"], survey: [s]}}\n',
        encoding="utf-8",
    )
    for fmt in ("json", "github"):
        r = invoke(["validate", "--format", fmt, "."], cwd=project)
        no_traceback(r)
        assert r.exit_code in (0, 1)
    r = invoke(["run", "."], cwd=project)
    no_traceback(r)


def test_lone_surrogates_in_json_lines_are_reported_and_decisions_kept(
    builder: ProjectBuilder,
) -> None:
    project = make_project(builder)
    line = (
        '{"theme": "shared", "source_a": "interviews", "source_b": "survey", '
        f'"category": "full_agreement", "rationale": "ok {HALF}", "decided_by": "Jos{HALF}"}}\n'
    )
    (project / "decisions.jsonl").write_text(line, encoding="utf-8")
    r, found = findings_of(project)
    assert r.exit_code == 0, str(r)
    assert [
        (f["location"]["file"], f["location"]["line"])
        for f in found
        if f["code"] == "data.lone-surrogate"
    ] == [("decisions.jsonl", 1)]
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 0, str(r)
    matrix = (project / "out" / "convergence_matrix.csv").read_text(encoding="utf-8")
    assert "ok \ufffd" in matrix  # the decision counts, its text kept as well as it can be


def test_a_reviewer_name_in_latin1_bytes_is_kept_and_the_decision_saved(tmp_path: Path) -> None:
    # item 2: review --as $'Jos\xe9' (a Latin-1 shell): Python decodes the argument to a surrogate
    from triangulate.cli.commands import _clean_arg
    from triangulate.review.decisions import append_decision

    name = os.fsdecode(b"Jos\xe9")
    assert _clean_arg(name) == "José"
    path = tmp_path / "decisions.jsonl"
    append_decision(path, {"theme": "t", "rationale": "half \ud83d", "decided_by": name})
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["rationale"] == "half \ufffd" and saved["decided_by"] == "Jos\ufffd"


# ---------------------------------------------------------------------------- items 5, 6: paths


@pytest.mark.parametrize(
    "key, value",
    [
        ("output", "../../elsewhere"),
        ("output", "/tmp/triangulate-outside-test"),
        ("codebook", "../codebook.yaml"),
    ],
)
def test_paths_outside_the_project_are_refused(
    builder: ProjectBuilder, key: str, value: str
) -> None:
    project = make_project(builder)
    secret = "SECRET-FIRST-LINE: not yaml: [\n"
    (project.parent / "codebook.yaml").write_text(secret, encoding="utf-8")
    set_yaml(project / "triangulate.yaml", **{key: value})
    r, found = findings_of(project)
    assert r.exit_code == 1, str(r)
    hits = [f for f in found if f["code"] == "project.path-outside"]
    assert hits and hits[0]["location"]["file"] == "triangulate.yaml"
    assert hits[0]["location"]["line"] is not None
    for cmd in (["run"], ["sort"], ["converge"], ["report"], ["agreement"]):
        r = invoke([*cmd, "."], cwd=project)
        assert r.exit_code == 1, (cmd, str(r))
        assert "project.path-outside" in r.stderr
        assert "SECRET" not in r.stdout + r.stderr  # an outside file is never read, never quoted
    if key == "codebook":
        r = invoke(["export-codebook", ".", "--output", "-"], cwd=project)
        assert r.exit_code == 1 and "project.path-outside" in r.stderr and "SECRET" not in r.stderr
    assert not (project.parent.parent / "elsewhere").exists()
    assert not Path("/tmp/triangulate-outside-test").exists()


def test_allow_outside_lets_a_trusted_project_read_outside(
    builder: ProjectBuilder, tmp_path: Path
) -> None:
    project = make_project(builder)
    shared = tmp_path / "shared-data"
    shared.mkdir()
    (project / "data" / "survey.csv").rename(shared / "survey.csv")
    set_yaml(
        project / "triangulate.yaml",
        sources=[INTERVIEWS, {**SURVEY, "path": "../shared-data/survey.csv"}],
    )
    assert invoke(["run", "."], cwd=project).exit_code == 1
    r = invoke(["run", "--allow-outside", "."], cwd=project)
    assert r.exit_code == 0, str(r)
    for cmd in (
        "validate",
        "sort",
        "converge",
        "report",
        "agreement",
        "review",
        "run",
        "serve",
        "export-codebook",
    ):
        help_text = invoke([cmd, "--help"]).stdout
        assert "--allow-outside" in help_text, cmd


def test_a_symlink_that_leads_outside_is_refused(builder: ProjectBuilder, tmp_path: Path) -> None:
    project = make_project(builder)
    outside = tmp_path / "outside.csv"
    (project / "data" / "interviews.csv").rename(outside)
    (project / "data" / "interviews.csv").symlink_to(outside)
    r, found = findings_of(project)
    assert r.exit_code == 1
    hit = next(f for f in found if f["code"] == "project.path-outside")
    assert "symlink" in hit["message"] and hit["location"]["field"] == "sources[0].path"
    # the fixed paths too: a decisions.jsonl symlinked elsewhere would be appended to
    (project / "data" / "interviews.csv").unlink()
    outside.rename(project / "data" / "interviews.csv")
    (tmp_path / "elsewhere.jsonl").write_text("", encoding="utf-8")
    (project / "decisions.jsonl").symlink_to(tmp_path / "elsewhere.jsonl")
    r, found = findings_of(project)
    assert r.exit_code == 1
    assert any(
        f["code"] == "project.path-outside" and f["location"]["file"] == "decisions.jsonl"
        for f in found
    )


def test_a_symlinked_output_folder_cannot_overwrite_an_input(builder: ProjectBuilder) -> None:
    # item 6: results -> data with output: results overwrote data/sorting.csv
    project = make_project(builder)
    (project / "data" / "sorting.csv").write_text("code,respondents\ns,3\n", encoding="utf-8")
    set_yaml(
        project / "triangulate.yaml",
        sources=[INTERVIEWS, {**SURVEY, "path": "data/sorting.csv"}],
        output="results",
    )
    (project / "results").symlink_to(project / "data", target_is_directory=True)
    before = (project / "data" / "sorting.csv").read_bytes()
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 1, str(r)
    assert "project.output-collision" in r.stderr
    assert (project / "data" / "sorting.csv").read_bytes() == before


# ---------------------------------------------------------------------------- item 7: output set


def test_the_manifest_is_written_last_and_lists_every_output(builder: ProjectBuilder) -> None:
    from triangulate.outputs.manifest import check_manifest

    project = make_project(builder)
    assert invoke(["run", "."], cwd=project).exit_code == 0
    out = project / "out"
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in doc["files"]] == [
        "sorting.csv",
        "convergence_matrix.csv",
        "summary.json",
        "report.md",
        "report.html",
        "convergence_matrix.xlsx",
        "convergence.svg",
        "report.docx",
    ]
    assert doc["complete"] is True and doc["version"]
    assert check_manifest(out) == []
    assert os.stat(out / "manifest.json").st_mtime_ns >= max(
        os.stat(out / f["name"]).st_mtime_ns for f in doc["files"]
    )
    # a file changed afterwards (here by 'sort') no longer passes: 'sort' removes the manifest
    assert invoke(["sort", "."], cwd=project).exit_code == 0
    assert check_manifest(out) and not (out / "manifest.json").exists()
    # editing by hand is caught by the hashes
    assert invoke(["run", "."], cwd=project).exit_code == 0
    (out / "summary.json").write_text("{}", encoding="utf-8")
    assert check_manifest(out) == ["summary.json was changed after the run that wrote the manifest"]


def test_stale_temporary_files_of_a_killed_run_are_removed(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    out = project / "out"
    out.mkdir()
    stale = [out / ".report.md.ab12cd34.tmp", out / ".summary.json.x_y9z8w7.tmp"]
    for p in stale:
        p.write_text("half", encoding="utf-8")
    keep = out / "notes.tmp"  # not ours: kept
    keep.write_text("mine", encoding="utf-8")
    assert invoke(["run", "."], cwd=project).exit_code == 0
    assert not any(p.exists() for p in stale) and keep.exists()


def test_a_full_disk_names_the_file_and_exits_2_leaving_no_manifest(
    builder: ProjectBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    import tempfile

    import triangulate.files as files

    project = make_project(builder)
    assert invoke(["run", "."], cwd=project).exit_code == 0
    real = files._temp_beside

    def full_disk(path: Path) -> tuple[int, str]:
        if path.name != "report.md":
            return real(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), tmp  # every write: ENOSPC

    monkeypatch.setattr(files, "_temp_beside", full_disk)
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 2, str(r)
    assert "out/report.md" in r.stderr and "No space left on device" in r.stderr
    assert "Traceback" not in r.stderr and ".tmp" not in r.stderr
    names = {p.name for p in (project / "out").iterdir()}
    assert "manifest.json" not in names and not any(n.endswith(".tmp") for n in names)


def test_an_output_that_cannot_be_replaced_is_named_by_its_real_name(
    builder: ProjectBuilder,
) -> None:
    # stands in for an immutable out/report.html: a folder where the file should go
    project = make_project(builder)
    (project / "out" / "report.html").mkdir(parents=True)
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 2, str(r)
    assert "out/report.html" in r.stderr and ".tmp" not in r.stderr
    assert not (project / "out" / "manifest.json").exists()


def _reader_check(out: Path) -> str:
    """What a reader concludes about an output folder: 'complete' (manifest and hashes agree),
    'incomplete' (no manifest), or 'corrupt' (a manifest that does not match: must never be)."""
    from triangulate.outputs.manifest import check_manifest

    if not (out / "manifest.json").exists():
        return "incomplete"
    return "complete" if check_manifest(out) == [] else "corrupt"


@pytest.mark.slow
def test_kill_9_at_random_points_never_leaves_a_set_that_looks_complete(
    builder: ProjectBuilder,
) -> None:
    import random
    import signal
    import time

    project = make_project(builder)
    assert run_sub(["run", "-q", "."], project).returncode == 0
    rng = random.Random(13)
    seen: dict[str, int] = {}
    for _ in range(12):
        # change the data so a new run's files differ from the old ones
        (project / "data" / "survey.csv").write_text(
            f"code,respondents,endorsed\ns,{rng.randint(5, 50)},{rng.randint(0, 5)}\n",
            encoding="utf-8",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "triangulate", "run", "-q", "."],
            cwd=project,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 1.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = _reader_check(project / "out")
        seen[state] = seen.get(state, 0) + 1
        assert state != "corrupt"
        # the next run cleans up and completes
        r = run_sub(["run", "-q", "."], project)
        assert r.returncode == 0, r.stderr
        assert _reader_check(project / "out") == "complete"
        assert not [p for p in (project / "out").iterdir() if p.name.endswith(".tmp")]
    assert sum(seen.values()) == 12


# ---------------------------------------------------------------------------- item 10: umask


def test_files_the_tool_creates_follow_the_umask_and_rewrites_keep_their_mode(
    builder: ProjectBuilder,
) -> None:
    project = make_project(builder)
    old = os.umask(0o002)
    try:
        assert (
            invoke(["converge", "."], cwd=project).exit_code == 0
        )  # blank worksheet? none: exists
        assert invoke(["run", "."], cwd=project).exit_code == 0
        out = project / "out"
        for name in OUTPUTS:
            assert stat.S_IMODE(os.stat(out / name).st_mode) == 0o664, name
        os.chmod(out / "report.md", 0o640)
        assert invoke(["run", "."], cwd=project).exit_code == 0
        assert stat.S_IMODE(os.stat(out / "report.md").st_mode) == 0o640
        # a new worksheet (create-only write) and a new decisions file
        set_yaml(project / "triangulate.yaml", reviewers=["bb", "pl"])
        assert invoke(["converge", "."], cwd=project).exit_code == 0
        assert stat.S_IMODE(os.stat(project / "reviews" / "pl.csv").st_mode) == 0o664
        from triangulate.review.decisions import append_decision

        append_decision(project / "decisions.jsonl", {"theme": "shared"})
        assert stat.S_IMODE(os.stat(project / "decisions.jsonl").st_mode) == 0o664
    finally:
        os.umask(old)


# ---------------------------------------------------------------------------- item 11: redaction


def _qdpx_project(tmp_path: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "qdpx"))
    from qdpx_builder import QdpxBuilder

    text = "Lopez told me her husband hits her.\nWe call the clinic.\n"
    b = QdpxBuilder()
    c = b.code("point-person")
    d = b.doc("Interview Maria Lopez", text)
    b.select(d, "Lopez told me her husband hits her.", [c])
    b.case("Maria Lopez", sources=[d])
    b.case("Site Zebulon", sources=[d])  # two cases: qdpx.ambiguous-case names both
    root = tmp_path / "study"
    b.write(root / "data" / "export.qdpx")
    (root / "data" / "survey.csv").write_text(
        "code,respondents,endorsed\npoint-person,10,4\n", encoding="utf-8"
    )
    project = {
        "title": "T",
        "protocol": "blebu-2023",
        "sources": [
            {"id": "interviews", "kind": "excerpts", "path": "data/export.qdpx"},
            {"id": "survey", "kind": "survey", "path": "data/survey.csv"},
        ],
    }
    (root / "triangulate.yaml").write_text(yaml.safe_dump(project), encoding="utf-8")
    (root / "codebook.yaml").write_text(
        yaml.safe_dump({"themes": [{"id": "contact", "codes": {"interviews": ["point-person"]}}]}),
        encoding="utf-8",
    )
    return root


PAYLOADS = ("Maria", "Lopez", "husband", "Zebulon")


def test_redact_leaves_names_and_excerpts_out_of_every_message_and_output(
    tmp_path: Path,
) -> None:
    project = _qdpx_project(tmp_path)
    plain = invoke(["run", "."], cwd=project)
    assert plain.exit_code == 0, str(plain)
    assert (
        "qdpx.ambiguous-case" in plain.stderr and "Zebulon" in plain.stderr
    )  # the payload is live
    r = invoke(["run", "--redact", "."], cwd=project)
    assert r.exit_code == 0, str(r)
    assert "qdpx.ambiguous-case" in r.stderr
    everything = r.stdout + r.stderr
    for p in sorted((project / "out").iterdir()):
        if p.suffix in (".xlsx", ".docx"):  # zip archives: read every member
            import zipfile

            with zipfile.ZipFile(p) as z:
                for name in z.namelist():
                    everything += z.read(name).decode("utf-8", "replace")
        else:
            everything += p.read_bytes().decode("utf-8", "replace")
    for word in PAYLOADS:
        assert word not in everything, word
    # and in CI logs (github format), whatever the flags
    g = invoke(["validate", "--format", "github", "."], cwd=project)
    assert "qdpx.ambiguous-case" in g.stdout
    for word in PAYLOADS:
        assert word not in g.stdout + g.stderr, word
    j = invoke(["validate", "--format", "json", "--redact", "."], cwd=project)
    for word in PAYLOADS:
        assert word not in j.stdout, word


def test_marked_data_values_are_redacted_in_place() -> None:
    from triangulate.findings import Location, redacted_message, warning

    f = warning(
        "data.missing-value",
        "participant 'Ana Ruiz' said 'it's hard' twice",
        Location("a.csv", row=2),
        data=("Ana Ruiz", "it's hard"),
    )
    assert redacted_message(f) == "participant '[redacted]' said '[redacted]' twice"


# ---------------------------------------------------------------------------- item 12: controls

ESC_CODE = "a\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07"


def _escape_project(builder: ProjectBuilder) -> Path:
    return make_project(
        builder,
        themes=[
            {"id": "shared", "codes": {"interviews": [ESC_CODE], "survey": ["s"]}},
        ],
        data={
            "interviews": [
                excerpt("E1", "P1", ESC_CODE, "barrier", "trust", text="x\x1b[31mred\x9b2J"),
                excerpt("E2", "P2", "unsorted\x1b[2J", "x", "y"),
            ],
            "survey": [survey("s", 10, endorsed=4, substance="barrier", mechanism="trust")],
        },
        reviewers=[],
    )


def test_control_characters_never_reach_the_terminal_raw(builder: ProjectBuilder) -> None:
    project = _escape_project(builder)
    for args in (["validate", "."], ["run", "."], ["sort", "."], ["converge", "."]):
        r = invoke(args, cwd=project)
        assert r.exit_code == 0, (args, str(r))
        text = r.stdout + r.stderr
        for raw in ("\x1b", "\x07", "\x9b"):
            assert raw not in text, (args, repr(raw))
    r = invoke(["validate", "."], cwd=project)
    assert "unsorted\u241b[2J" in r.stderr  # shown visibly, as the spec's example
    # the validate warning, located at the cell
    _, found = findings_of(project)
    cells = {
        (f["location"]["row"], f["location"]["field"])
        for f in found
        if f["code"] == "data.control-characters" and f["location"]["file"] == "data/interviews.csv"
    }
    assert {(2, "code"), (2, "text"), (3, "code")} <= cells  # rows as findings number them
    assert any(
        f["code"] == "data.control-characters" and f["location"]["file"] == "codebook.yaml"
        for f in found
    )


def test_data_can_never_start_a_line_in_a_ci_log(builder: ProjectBuilder) -> None:
    forged = "x\n::error file=codebook.yaml,line=1::FORGED"
    project = make_project(
        builder,
        themes=[{"id": "shared", "codes": {"interviews": ["a"], "survey": ["s"]}}],
        data={
            "interviews": [
                excerpt("E1", "P1", "a", "barrier", "trust"),
                excerpt("E2", "P2", forged, "x", "y"),
            ],
            "survey": [survey("s", 10, endorsed=4, substance="barrier", mechanism="trust")],
        },
    )
    set_yaml(project / "triangulate.yaml", title=forged)
    for args in (
        ["run", "."],
        ["validate", "."],
        ["validate", "--format", "github", "."],
        ["sort", "."],
    ):
        r = invoke(args, cwd=project)
        assert r.exit_code == 0, str(r)
        for line in (r.stdout + r.stderr).splitlines():
            assert not line.lstrip().startswith("::error file=codebook.yaml"), (args, line)
    r = invoke(["validate", "--format", "github", "."], cwd=project)
    assert "x%0A::error file=codebook.yaml" in r.stdout


def test_visible_marks() -> None:
    from triangulate.cli.render import visible

    assert visible("a\x1b[2Jb") == "a\u241b[2Jb"
    assert visible("a\nb") == "a\u2424b" and visible("a\nb", one_line=False) == "a\nb"
    assert visible("t\tab") == "t\tab"
    assert visible("\x7f\x9b\u202e") == "\u2421<U+009B><U+202E>"
    assert visible("half \ud83d") == "half \ufffd"


# ---------------------------------------------------------------------------- item 13: joined


def test_every_element_of_a_joined_cell_is_neutralised(builder: ProjectBuilder) -> None:
    from triangulate.files import neutralise, unneutralise

    payload = "=cmd|' /C calc'!A0"
    assert neutralise(f"a;{payload};b") == f"a;'{payload};b"
    assert neutralise("a; +1;-2;@x") == "a;' +1;-2;'@x"
    for value in (f"a;{payload};b", "a; +1;-2;@x", "=x", "plain;text", ";;=;"):
        assert unneutralise(neutralise(value)) == value
    project = make_project(
        builder,
        themes=[{"id": "shared", "codes": {"interviews": ["a", payload], "survey": ["s"]}}],
        data={
            "interviews": [
                excerpt("E1", "P1", "a", "barrier", "trust"),
                excerpt("E2", "P2", payload, "barrier", "trust"),
            ],
            "survey": [survey("s", 10, endorsed=4, substance="barrier", mechanism="trust")],
        },
    )
    assert invoke(["run", "."], cwd=project).exit_code == 0
    text = (project / "out" / "sorting.csv").read_text(encoding="utf-8")
    # split the way Excel with a ';' list separator does: no cell may start a formula
    for line in text.splitlines():
        for cell in line.replace(",", ";").split(";"):
            assert not cell.strip('"').lstrip(" ").startswith(("=", "+", "@")), line


# ---------------------------------------------------------------------------- item 16: stdio


def test_an_encoding_that_cannot_hold_a_title_gets_replacements_not_a_crash(
    builder: ProjectBuilder,
) -> None:
    project = make_project(builder)
    set_yaml(project / "triangulate.yaml", title="Árvíztűrő tükörfúrógép")
    r = run_sub(["run", "."], project, env={"PYTHONIOENCODING": "cp1252"})
    assert r.returncode == 0, r.stderr.decode("cp1252", "replace")
    assert "Árvízt?r? tükörfúrógép" in r.stdout.decode("cp1252")  # ű and ő are not in cp1252
    assert (project / "out" / "manifest.json").exists()


def test_a_closed_pipe_ends_the_command_quietly_with_exit_0(builder: ProjectBuilder) -> None:
    project = make_project(
        builder,
        themes=[
            {"id": f"theme{i}", "codes": {"interviews": ["a"] if i == 0 else [], "survey": []}}
            for i in range(400)
        ],
    )
    r = run_sub(
        [], project, shell=f"set -o pipefail; {sys.executable} -m triangulate sort . | head -1"
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr.decode() == "" or "Traceback" not in r.stderr.decode()
    assert b"Exception ignored" not in r.stderr and b"BrokenPipe" not in r.stderr


def test_the_console_shows_control_characters_visibly_even_inside_rich_renderables() -> None:
    # the walks (review/converge --reviewer) print through this console: a hostile excerpt
    # cannot repaint the reviewer's screen or write the clipboard (OSC 52)
    from rich.table import Table
    from rich.text import Text

    from triangulate.cli.commands import _console

    buf = io.StringIO()
    console = _console(file=buf, force_terminal=True, color_system="standard", width=80)
    t = Table()
    t.add_column("evidence")
    t.add_row(Text("x\x1b]52;c;ZXZpbA==\x07y"))
    console.print(t)
    console.print(Text("bold \x1b[2J", style="bold"))
    out = buf.getvalue()
    assert "\x1b]52" not in out and "\x1b[2J" not in out and "\x07" not in out
    assert "\u241b]52;c;ZXZpbA==" in out and "\u241b[2J" in out  # (rich drops the BEL itself)
    assert "\x1b[1m" in out  # rich's own styling still works


# ---------------------------------------------------------------------------- item 19: CLI


def test_explain_prints_meaning_example_and_fix_from_the_installed_catalogue() -> None:
    from triangulate.findings import CATALOGUE

    r = invoke(["explain", "data.unsorted-code"])
    assert r.exit_code == 0, str(r)
    entry = CATALOGUE["data.unsorted-code"]
    assert r.stdout.startswith("data.unsorted-code (warning)")
    assert entry.example in r.stdout and "Fix:" in r.stdout
    listing = invoke(["explain", "project"])
    assert listing.exit_code == 0 and "project.path-outside" in listing.stdout
    assert "data." not in listing.stdout
    assert len(invoke(["explain"]).stdout.splitlines()) == len(CATALOGUE)
    bad = invoke(["explain", "data.unsorted"])
    assert bad.exit_code == 2 and "did you mean data.unsorted-code" in bad.stderr


def test_messages_point_to_explain_not_to_files_a_wheel_user_lacks(
    builder: ProjectBuilder,
) -> None:
    project = make_project(builder)
    set_yaml(project / "triangulate.yaml", output="/")
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 1 and "triangulate explain CODE" in r.stderr
    assert "docs/findings.md" not in r.stderr and "spec (section" not in r.stderr
    v = invoke(["validate", "--select", "nonsense", "."], cwd=project)
    assert v.exit_code == 2 and "docs/findings.md" not in v.stderr


def test_output_dash_means_stdout(tmp_path: Path, builder: ProjectBuilder) -> None:
    project = make_project(builder)
    r = invoke(["export-codebook", ".", "--output", "-"], cwd=project)
    assert r.exit_code == 0, str(r)
    assert r.stdout.startswith("<?xml") and not (project / "-").exists()
    s = invoke(["schema", "--output", "-"], cwd=tmp_path)
    assert s.exit_code == 0 and not (tmp_path / "-").exists()
    assert set(json.loads(s.stdout)) == {
        "project.schema.json",
        "codebook.schema.json",
        "protocol.schema.json",
    }
    qdc = tmp_path / "c.qdc"
    qdc.write_text(r.stdout, encoding="utf-8")
    i = invoke(["import-codebook", str(qdc), "--output", "-"], cwd=tmp_path)
    assert i.exit_code == 0, str(i)
    assert "themes:" in i.stdout and not (tmp_path / "-").exists()


def test_github_format_writes_a_step_summary_with_every_finding(
    builder: ProjectBuilder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project = make_project(
        builder,
        data={
            "interviews": [excerpt(f"E{i}", f"P{i}", f"code{i}") for i in range(14)],
            "survey": [survey("s", 10, endorsed=4)],
        },
    )
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = invoke(["validate", "--format", "github", "."], cwd=project)
    assert r.exit_code == 0, str(r)
    *annotations, last = r.stdout.splitlines()
    assert len(annotations) >= 14 and "GitHub shows only the first 10" in last
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")  # appended, never overwritten
    assert text.count("\n| warning |") == len(annotations)


def test_quiet_never_draws_a_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    from triangulate.cli import commands

    monkeypatch.setattr(commands.sys.stderr, "isatty", lambda: True, raising=False)
    assert commands._ProgressBar(quiet=True)._enabled is False
    monkeypatch.delenv("TERM", raising=False)
    assert commands._ProgressBar(quiet=False)._enabled is True


def test_a_very_long_title_does_not_stop_the_word_output(builder: ProjectBuilder) -> None:
    # found by the fuzz campaign: report.docx's title property holds at most 255 characters
    project = make_project(builder)
    set_yaml(project / "triangulate.yaml", title="9" * 400)
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 0, str(r)
    assert (project / "out" / "manifest.json").exists()


@pytest.mark.slow
def test_ctrl_c_at_any_moment_of_run_exits_130_or_finishes(tmp_path: Path) -> None:
    """SIGINT sent at moments spread over a whole `run` (loading, analysing, writing, shutting
    down): the exit status is 130 (interrupted) or 0 (it had finished), never a death by signal,
    and a manifest is only there when every output it lists is complete.

    The moments start once the interpreter has started (timed with ``--version``): before any of
    the tool's code runs, Python's own start-up answers Ctrl-C, which no program can change."""
    import shutil
    import signal
    import time

    from conftest import SAMPLE
    from triangulate.outputs.manifest import check_manifest

    project = tmp_path / "p"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("out"))
    script = Path(sys.executable).parent / "triangulate"  # the command as users run it
    if not script.exists():
        pytest.skip("no triangulate script beside this Python")
    cmd = [str(script), "run", str(project), "--quiet"]
    started = time.perf_counter()
    subprocess.run([str(script), "--version"], capture_output=True)
    startup = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    whole = time.perf_counter() - started
    for k in range(10):
        shutil.rmtree(project / "out", ignore_errors=True)
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=ctrl_c_as_in_a_terminal,
        )
        time.sleep(startup + (whole - startup) * 1.1 * k / 9)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 130), (k, proc.returncode, err.decode()[-500:])
        if (project / "out" / "manifest.json").exists():
            assert check_manifest(project / "out") == [], k  # names, sizes and hashes all hold
        if proc.returncode == 0:
            assert check_manifest(project / "out") == [], k


def test_main_run_in_process_leaves_the_callers_ctrl_c_alone(tmp_path: Path) -> None:
    """main() ignores Ctrl-C during shutdown only as the command itself: called with arguments in
    another program's process (a script, this test suite) it must not leave SIGINT ignored, which
    every process started afterwards would inherit (a terminal review that Ctrl-C cannot stop)."""
    import shutil
    import signal

    from conftest import SAMPLE

    project = tmp_path / "p"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("out"))
    before = signal.getsignal(signal.SIGINT)
    try:
        # as in an interactive session (a background test run starts with Ctrl-C ignored)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        assert invoke(["validate", str(project)]).exit_code == 0
        assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
