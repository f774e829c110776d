"""`triangulate serve` at the HTTP level: access, forgery, blindness, escaping, saves and conflicts.

In process through Starlette's TestClient (each test its own workspace and tokens), plus a few
subprocess runs of the real server for the printed URLs and the signals.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from conftest import ProjectBuilder, ctrl_c_as_in_a_terminal, excerpt, read_csv, survey

pytest.importorskip("starlette")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # newer Starlette prefers the 'httpx2' fork; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from triangulate.serve.app import build_app
from triangulate.serve.workspace import Principal, Tokens, Workspace

SOURCES = [
    {"id": "interviews", "label": "Staff interviews", "kind": "excerpts", "path": "data/i.csv"},
    {"id": "survey", "label": "Partner survey", "kind": "survey", "path": "data/s.csv"},
]
PAYLOAD = "<script>alert('x')</script><img src=x onerror=alert(1)>"
THEMES = [
    {
        "id": "alpha",
        "label": "Alpha theme",
        "definition": "The first theme.",
        "codes": {"interviews": ["a"], "survey": ["a-item"]},
    },
    {
        "id": "beta",
        "label": f"Beta {PAYLOAD}",
        "definition": f"Defined as {PAYLOAD}",
        "codes": {"interviews": ["b"], "survey": ["b-item"]},
    },
    {"id": "gamma", "label": "Gamma theme", "codes": {"interviews": ["g"]}},
]
DATA = {
    "i": [
        excerpt("E1", "P1", "a", "x", "m", text="Alpha words from P1."),
        excerpt("E2", "P2", "b", "y", "n", text=f"Beta says {PAYLOAD}"),
        excerpt("E3", "P1", "g", "z", "o", text="Gamma words."),
    ],
    "s": [
        survey("a-item", 10, 5, substance="x", mechanism="m", item="Alpha item"),
        survey("b-item", 10, 2, substance="y", mechanism="q"),
    ],
}


def row(theme: str, category: str = "", why: str = "", s: str = "", m: str = "") -> dict[str, str]:
    return {
        "theme": theme,
        "source_a": "interviews",
        "source_b": "survey",
        "substance": s,
        "mechanism": m,
        "category": category,
        "rationale": why,
    }


SHEETS = {
    "r1": [
        row("alpha", "full_agreement", "R1-SECRET-RATIONALE"),
        row("beta", "partial_agreement", "r1 beta"),
    ],
    "r2": [
        row("alpha", "", "R2-SECRET-RATIONALE", s="yes", m="no"),
        row("beta", "partial_agreement", "r2 beta"),
    ],
}


def make(builder: ProjectBuilder, **kw: Any) -> Path:
    data = {"interviews": DATA["i"], "survey": DATA["s"]}
    extra = {"findings": "findings.csv", **kw.pop("extra_project", {})}
    return builder.write(
        sources=SOURCES,
        themes=THEMES,
        data=data,
        reviewers=["r1", "r2", "r3"],
        worksheets=kw.pop("worksheets", SHEETS),
        extra_project=extra,
        **kw,
    )


class Server:
    """A workspace, its tokens and a client per principal (cookies kept per client)."""

    def __init__(self, root: Path):
        self.root = root
        self.ws = Workspace(root)
        with self.ws.lock:
            self.ws.fresh()
        assert self.ws.analysis is not None
        self.tokens = Tokens(list(self.ws.analysis.reviewers))
        self.app = build_app(self.ws, self.tokens)

    def client(self, who: str | None = None) -> TestClient:
        c = TestClient(self.app, base_url="http://127.0.0.1", follow_redirects=False)
        if who == "adjudication":
            r = c.get(f"/a/?token={self.tokens.adjudication}")
            assert r.status_code == 303 and "tri_adj" in r.headers.get("set-cookie", "")
        elif who is not None:
            r = c.get(f"/r/{who}/?token={self.tokens.by_reviewer[who]}")
            assert r.status_code == 303
        return c

    def csrf(self, who: str) -> str:
        p = Principal("adjudication") if who == "adjudication" else Principal("reviewer", who)
        return self.tokens.csrf(p)


def hidden(page: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, f"no hidden field {name}"
    return m.group(1)


@pytest.fixture
def server(builder: ProjectBuilder) -> Server:
    return Server(make(builder))


# ---------------------------------------------------------------------------- access


def test_every_page_needs_its_own_token(server: Server) -> None:
    anon = server.client()
    for path in ("/", "/r/r1/", "/r/r1/code", "/r/r1/findings", "/a/", "/a/unit", "/a/report"):
        assert anon.get(path).status_code == 403, path
    assert anon.get("/r/r1/?token=wrong").status_code == 403
    assert anon.get(f"/r/r1/?token={server.tokens.by_reviewer['r2']}").status_code == 403
    assert anon.get(f"/a/?token={server.tokens.by_reviewer['r1']}").status_code == 403
    assert anon.get(f"/r/r1/?token={server.tokens.adjudication}").status_code == 403
    assert anon.get("/r/nobody/").status_code == 403

    r1 = server.client("r1")
    assert r1.get("/r/r1/").status_code == 200  # the cookie from the first visit
    assert r1.get("/r/r1/code?i=0").status_code == 200
    assert r1.get("/r/r1/findings").status_code == 200
    for path in (
        "/r/r2/",
        "/r/r2/code",
        "/a/",
        "/a/unit",
        "/a/findings",
        "/a/report",
        "/a/report.html",
    ):
        assert r1.get(path).status_code == 403, path

    adj = server.client("adjudication")
    for path in ("/a/", "/a/unit", "/a/findings", "/a/report"):
        assert adj.get(path).status_code == 200, path
    for path in ("/r/r1/", "/r/r1/code", "/r/r2/findings"):
        assert adj.get(path).status_code == 403, path


def test_token_in_url_sets_a_strict_cookie_and_redirects_without_it(server: Server) -> None:
    c = server.client()
    r = c.get(f"/r/r1/code?i=1&token={server.tokens.by_reviewer['r1']}")
    assert r.status_code == 303 and r.headers["location"] == "/r/r1/code?i=1"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert len(server.tokens.by_reviewer["r1"]) >= 43  # 32 random bytes: 256 bits


def test_pages_send_a_strict_content_security_policy(server: Server) -> None:
    r = server.client("r1").get("/r/r1/code?i=0")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in r.text.replace('<script src="/static/keys.js" defer></script>', "")
    js = server.client().get("/static/keys.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]


def test_a_post_without_the_csrf_value_is_refused(server: Server) -> None:
    c = server.client("r3")
    page = c.get("/r/r3/code?i=0").text
    form = {
        "theme": "alpha",
        "source_a": "interviews",
        "source_b": "survey",
        "row_hash": hidden(page, "row_hash"),
        "category": "disagreement",
        "rationale": "forged answer",
    }
    assert c.post("/r/r3/code", data=form).status_code == 403
    assert c.post("/r/r3/code", data={**form, "csrf": "0" * 64}).status_code == 403
    # another principal's value does not work either
    assert c.post("/r/r3/code", data={**form, "csrf": server.csrf("r1")}).status_code == 403
    assert not (server.root / "reviews" / "r3.csv").exists()
    adj = server.client("adjudication")
    assert adj.post("/a/report", data={}).status_code == 403
    assert not (server.root / "out").exists()


# ---------------------------------------------------------------------------- blindness, escaping


def test_a_reviewer_never_sees_another_reviewers_codes_nor_the_rules_proposal(
    server: Server,
) -> None:
    c = server.client("r1")
    pages = [c.get("/r/r1/").text, c.get("/r/r1/findings").text]
    pages += [c.get(f"/r/r1/code?i={i}").text for i in range(3)]
    pages += [c.get(f"/r/r1/code?i={i}&all=1").text for i in range(3)]
    text = "\n".join(pages)
    assert "R1-SECRET-RATIONALE" in text  # their own rationale, prefilled
    assert "R2-SECRET-RATIONALE" not in text and "r2 beta" not in text
    assert "r2" not in re.sub(r"<[^>]+>", " ", text).split()  # not even the other reviewers' ids
    assert "Rule's proposal" not in text
    assert "meets on" not in text and "does not meet" not in text  # the rule's reason


def test_without_blind_the_coder_sees_the_proposal(builder: ProjectBuilder) -> None:
    server = Server(make(builder, extra_project={"blind": False}))
    page = server.client("r1").get("/r/r1/code?i=0").text
    assert "Rule's proposal: full_agreement" in page
    assert "R2-SECRET-RATIONALE" not in page


def test_adjudication_shows_every_reviewers_category_judgements_and_rationale(
    server: Server,
) -> None:
    page = server.client("adjudication").get("/a/unit?i=0").text
    assert "R1-SECRET-RATIONALE" in page and "R2-SECRET-RATIONALE" in page
    assert "Partial agreement" in page and "(from the judgements)" in page
    assert re.search(r"<td>yes</td>\s*<td>no</td>", page)  # r2: substance yes, mechanism no
    assert "confirm r1" in page and "confirm r2" in page
    assert "Rule's proposal" in page


def test_text_from_the_data_is_escaped_everywhere(server: Server) -> None:
    pages = [
        server.client("r1").get("/r/r1/code?i=1").text,
        server.client("r1").get("/r/r1/").text,
        server.client("adjudication").get("/a/").text,
        server.client("r1").get("/r/r1/findings").text,
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in pages[0]


# ---------------------------------------------------------------------------- saves


def code_form(c: TestClient, server: Server, who: str, i: int, **answer: str) -> dict[str, str]:
    page = c.get(f"/r/{who}/code?i={i}").text
    return {
        "csrf": hidden(page, "csrf"),
        "theme": hidden(page, "theme"),
        "source_a": hidden(page, "source_a"),
        "source_b": hidden(page, "source_b"),
        "row_hash": hidden(page, "row_hash"),
        **answer,
    }


def test_coding_saves_a_worksheet_row_and_moves_on(server: Server) -> None:
    c = server.client("r3")
    form = code_form(
        c, server, "r3", 0, dim_substance="yes", dim_mechanism="no", rationale="Why not"
    )
    r = c.post("/r/r3/code", data=form)
    assert r.status_code == 303 and r.headers["location"].startswith("/r/r3/code?i=1")
    sheet = {x["theme"]: x for x in read_csv(server.root / "reviews" / "r3.csv")}
    assert (sheet["alpha"]["substance"], sheet["alpha"]["mechanism"]) == ("yes", "no")
    assert sheet["alpha"]["category"] == "partial_agreement"
    assert sheet["alpha"]["rationale"] == "Why not"
    assert set(sheet) == {"alpha", "beta", "gamma"}  # a full worksheet, one row per unit
    follow = c.get(r.headers["location"])
    assert "Saved partial_agreement for Alpha theme" in follow.text
    assert "1 done" in follow.text
    # resume: the start page offers the first uncoded unit
    assert 'href="/r/r3/code?i=1"' in c.get("/r/r3/").text


def test_a_short_rationale_or_an_inconsistent_answer_saves_nothing(server: Server) -> None:
    c = server.client("r3")
    for answer in (
        {"category": "silence", "rationale": "b"},
        {"category": "silence", "rationale": "disagreement"},
        {"dim_substance": "yes", "dim_mechanism": "yes", "category": "disagreement"},
        {"dim_substance": "yes"},
    ):
        r = c.post("/r/r3/code", data=code_form(c, server, "r3", 0, **answer))
        assert r.status_code == 422, answer
        assert "Not saved" in r.text
    assert not (server.root / "reviews" / "r3.csv").exists()


def test_a_row_changed_on_disk_since_the_page_loaded_is_never_overwritten(
    server: Server,
) -> None:
    c = server.client("r1")
    form = code_form(c, server, "r1", 0, category="disagreement", rationale="From the page")
    path = server.root / "reviews" / "r1.csv"
    text = path.read_text().replace("R1-SECRET-RATIONALE", "Edited in a spreadsheet")
    path.write_text(text)
    r = c.post("/r/r1/code", data=form)
    assert r.status_code == 409 and "changed on disk" in r.text
    assert "Edited in a spreadsheet" in r.text  # the page shows what is on disk now
    assert "Edited in a spreadsheet" in path.read_text()
    assert "From the page" not in path.read_text()
    # saving again from the reloaded page works
    form = code_form(c, server, "r1", 0, category="disagreement", rationale="From the page")
    assert c.post("/r/r1/code", data=form).status_code == 303
    rows = {x["theme"]: x for x in read_csv(path)}
    assert rows["alpha"]["rationale"] == "From the page" and rows["beta"]["rationale"] == "r1 beta"


def test_external_edits_are_picked_up_without_reloading_the_sources(server: Server) -> None:
    c = server.client("adjudication")
    assert "R1-SECRET-RATIONALE" in c.get("/a/unit?i=0").text
    loads = server.ws.loads
    path = server.root / "reviews" / "r1.csv"
    path.write_text(path.read_text().replace("R1-SECRET-RATIONALE", "Pulled from git"))
    page = c.get("/a/unit?i=0").text
    assert "Pulled from git" in page
    assert server.ws.loads == loads  # only the review files were read again
    data = server.root / "data" / "i.csv"
    data.write_text(data.read_text().replace("Alpha words from P1.", "Alpha words changed."))
    assert "Alpha words changed." in c.get("/a/unit?i=0").text
    assert server.ws.loads == loads + 1


def test_adjudication_appends_a_decision_and_refuses_a_stale_page(server: Server) -> None:
    c = server.client("adjudication")
    page = c.get("/a/unit?i=0").text
    form = {
        "csrf": hidden(page, "csrf"),
        "theme": "alpha",
        "source_a": "interviews",
        "source_b": "survey",
        "decision_hash": hidden(page, "decision_hash"),
        "category": "partial_agreement",
        "rationale": "ok",
        "decided_by": "ada",
    }
    r = c.post("/a/unit", data=form)
    assert r.status_code == 422 and "at least 3 characters" in r.text
    assert not (server.root / "decisions.jsonl").exists()
    r = c.post("/a/unit", data={**form, "rationale": "Mechanism differs."})
    assert r.status_code == 303
    lines = [json.loads(x) for x in (server.root / "decisions.jsonl").read_text().splitlines()]
    assert [(d["theme"], d["category"], d["decided_by"]) for d in lines] == [
        ("alpha", "partial_agreement", "ada")
    ]
    # The same (now stale) page again: a decision was added since it loaded.
    r = c.post("/a/unit", data={**form, "category": "full_agreement", "rationale": "Again, why"})
    assert r.status_code == 409 and "since the page was loaded" in r.text
    assert len((server.root / "decisions.jsonl").read_text().splitlines()) == 1
    # the name is remembered for the next form
    assert 'value="ada"' in c.get("/a/unit?i=1").text


def test_findings_page_writes_findings_csv_row_by_row(server: Server) -> None:
    c = server.client("r1")
    page = c.get("/r/r1/findings").text
    m = re.search(
        r'id="f-alpha-interviews">.*?name="csrf" value="([^"]+)".*?name="finding_hash" value="([^"]+)"',
        page,
        re.S,
    )
    assert m
    form = {
        "csrf": m.group(1),
        "theme": "alpha",
        "source": "interviews",
        "finding_hash": m.group(2),
        "finding": "Staff describe alpha.",
        "exemplar": "E1",
        "page": "0",
    }
    assert c.post("/r/r1/findings", data={**form, "exemplar": "E2"}).status_code == 422  # E2: beta
    r = c.post("/r/r1/findings", data=form)
    assert r.status_code == 303
    rows = read_csv(server.root / "findings.csv")
    assert rows == [
        {
            "theme": "alpha",
            "source": "interviews",
            "finding": "Staff describe alpha.",
            "exemplar": "E1",
        }
    ]
    r = c.post("/r/r1/findings", data={**form, "finding": "Stale page"})
    assert r.status_code == 409
    assert read_csv(server.root / "findings.csv")[0]["finding"] == "Staff describe alpha."
    # the finding is shown beside the evidence when coding
    assert "Staff describe alpha." in c.get("/r/r1/code?i=0").text


def test_concurrent_saves_to_one_worksheet_lose_no_row(server: Server) -> None:
    c = server.client("r3")
    forms = [
        code_form(c, server, "r3", i, category="disagreement", rationale=f"thread {i}")
        for i in range(2)
    ]
    forms[1]["category"] = "disagreement"
    results: list[int] = []

    def post(form: dict[str, str]) -> None:
        results.append(c.post("/r/r3/code", data=form).status_code)

    threads = [threading.Thread(target=post, args=(f,)) for f in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [303, 303]
    rows = {x["theme"]: x["rationale"] for x in read_csv(server.root / "reviews" / "r3.csv")}
    assert rows["alpha"] == "thread 0" and rows["beta"] == "thread 1"


def test_report_is_regenerated_on_request_and_served_without_scripts(server: Server) -> None:
    c = server.client("adjudication")
    assert "There is no report yet" in c.get("/a/report").text
    assert c.get("/a/report.html").status_code == 404
    page = c.get("/a/report").text
    r = c.post("/a/report", data={"csrf": hidden(page, "csrf")})
    assert r.status_code == 200 and "regenerated" in r.text
    assert (server.root / "out" / "report.html").exists()
    rep = c.get("/a/report.html")
    assert rep.status_code == 200 and "sandbox" in rep.headers["content-security-policy"]
    assert "script-src" not in rep.headers["content-security-policy"]


def test_project_errors_are_shown_and_fixing_them_needs_no_restart(server: Server) -> None:
    c = server.client("r1")
    path = server.root / "reviews" / "r1.csv"
    good = path.read_text()
    path.write_text(good.replace("full_agreement", "no_such_category"))
    r = c.get("/r/r1/code?i=0")
    assert r.status_code == 500 and "review.unknown-category" in r.text
    path.write_text(good)
    assert c.get("/r/r1/code?i=0").status_code == 200


# ---------------------------------------------------------------------------- the real server


def start(root: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "triangulate", "serve", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    urls: dict[str, str] = {}
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while "adjudication" not in urls and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        who, _, url = line.strip().partition("  ")
        if url.startswith("http://"):
            urls[who] = url
    assert "adjudication" in urls, proc.stderr.read() if proc.stderr else ""
    return proc, urls


class _Browserless:
    """An HTTP client that has opened ``url`` (so it holds the cookie); a context manager."""

    def __init__(self, url: str):
        import httpx

        self.base = url.split("/r/")[0].split("/a/")[0]
        self.http = httpx.Client(base_url=self.base, follow_redirects=True, timeout=30)
        self.http.get(url)

    def __enter__(self) -> tuple[Any, str]:
        return self.http, self.base

    def __exit__(self, *exc: object) -> None:
        self.http.close()


@pytest.mark.slow
def test_serve_prints_one_url_per_person_and_sigterm_exits_0(builder: ProjectBuilder) -> None:
    root = make(builder)
    proc, urls = start(root)
    try:
        assert set(urls) == {"r1", "r2", "r3", "adjudication"}
        for _who, url in urls.items():
            assert re.fullmatch(
                r"http://127\.0\.0\.1:\d+/(r/[a-z0-9]+|a)/\?token=[\w-]{43,}", url
            ), url
        import httpx

        assert httpx.get(urls["r1"].split("?")[0]).status_code == 403
        with _Browserless(urls["r1"]) as (client, _):
            page = client.get(urls["r1"].split("?")[0] + "code?i=0")
        assert page.status_code == 200 and "Alpha theme" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "R2-SECRET-RATIONALE" not in page.text
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


@pytest.mark.slow
def test_ctrl_c_exits_130_and_a_kill_9_right_after_a_decision_keeps_it(
    builder: ProjectBuilder,
) -> None:
    root = make(builder)
    proc, urls = start(root)
    try:
        with _Browserless(urls["adjudication"]) as (client, base):
            page = client.get(base + "/a/unit?i=0").text
            r = client.post(
                base + "/a/unit",
                data={
                    "csrf": hidden(page, "csrf"),
                    "theme": "alpha",
                    "source_a": "interviews",
                    "source_b": "survey",
                    "decision_hash": hidden(page, "decision_hash"),
                    "category": "partial_agreement",
                    "rationale": "Confirmed just before the crash.",
                    "decided_by": "ada",
                },
            )
        assert r.status_code == 200 and "Saved the decision" in r.text
    finally:
        proc.kill()  # SIGKILL, straight after the page confirmed
        proc.communicate(timeout=30)
    proc, urls = start(root)
    try:
        with _Browserless(urls["adjudication"]) as (client, base):
            page = client.get(base + "/a/unit?i=0").text
        assert "Current decision: partial_agreement by ada" in page
        assert "Confirmed just before the crash." in page
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err


@pytest.mark.slow
def test_another_host_prints_a_warning(builder: ProjectBuilder) -> None:
    root = make(builder)
    proc, _urls = start(root, "--host", "0.0.0.0")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert "warning: listening on 0.0.0.0" in err
    assert proc.returncode == 0


def test_serve_help_does_not_import_the_web_stack() -> None:
    code = (
        "import sys\n"
        "from triangulate.cli import main\n"
        "try:\n    main(['serve', '--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('starlette', 'uvicorn', 'jinja2', 'pandas') if m in sys.modules]\n"
        "print('IMPORTED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "IMPORTED []" in out.stdout, out.stdout + out.stderr
    assert "--port" in out.stdout and "Example" in out.stdout


def test_saves_applied_in_memory_match_a_fresh_read_of_the_files(server: Server) -> None:
    """After its own saves the server does not re-read every review file; what it keeps in
    memory must be exactly what reading the files again gives."""
    c = server.client("r1")
    for i, answer in enumerate(
        [
            {"category": "disagreement", "rationale": "=starts like a formula"},
            {"dim_substance": "yes", "dim_mechanism": "no", "rationale": "Partial, by the rule"},
            {"category": "", "rationale": "One source only"},
        ]
    ):
        assert c.post("/r/r1/code", data=code_form(c, server, "r1", i, **answer)).status_code == 303
    adj = server.client("adjudication")
    page = adj.get("/a/unit?i=0").text
    form = {
        "csrf": hidden(page, "csrf"),
        "theme": hidden(page, "theme"),
        "source_a": "interviews",
        "source_b": "survey",
        "decision_hash": hidden(page, "decision_hash"),
        "category": "partial_agreement",
        "rationale": "Settled in memory",
        "decided_by": "ada",
    }
    assert adj.post("/a/unit", data=form).status_code == 303
    reloads = server.ws.review_loads
    ws = server.ws
    a = ws.analysis
    assert a is not None

    def snapshot() -> list[object]:
        return [
            (
                u.key,
                {
                    r: (c.category, c.judgements, c.rationale) if c else None
                    for r, c in u.codes.items()
                },
                ws.row_hash("r1", u.key),
                ws.decision_hash(u),
                u.final,
                u.status,
            )
            for u in a.units
        ]

    before = snapshot()
    assert ws.review_loads == reloads  # nothing was read again after the saves
    ws._read_review_files(a.project)
    assert snapshot() == before
