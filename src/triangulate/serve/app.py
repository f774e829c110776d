"""The Starlette application of ``triangulate serve``: requests in, workspace calls, pages out.

Every page is rendered on the server from Jinja2 templates with autoescaping (all data is
escaped); the only script is ``static/keys.js`` (keyboard shortcuts), served as a file so that
the Content-Security-Policy forbids every inline script. Access:

- ``/r/<reviewer>/...``: that reviewer's start page, coding and findings pages;
- ``/a/...``: adjudication, findings and the report.

A request needs the principal's token, either in ``?token=`` (the printed URL: answered with a
cookie and a redirect to the same page without the token) or in that cookie; anything else is
403. Every form carries an anti-forgery value derived from the token; a POST without it is 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from triangulate.outputs.report import prominence_text
from triangulate.project import paths
from triangulate.protocol.analysis import Analysis, ThemeSource, Unit
from triangulate.serve.workspace import (
    Conflict,
    Principal,
    ProjectErrors,
    Refused,
    Tokens,
    Workspace,
)

STATIC = Path(__file__).resolve().parent / "static"

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
)
LIST_PAGE = 100
FINDINGS_PAGE = 10
EVIDENCE_SHOWN = 50
EXEMPLARS_LISTED = 200  # per row of the findings page (the first ones in file order)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """Adds the security headers to every response (pure ASGI: no per-request task overhead)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_CSP.encode()))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


# ---------------------------------------------------------------------------- view models


@dataclass
class Evidence:
    label: str
    source: str
    present: bool
    silent_text: str
    prominence: str
    finding: str
    exemplar: str
    excerpts: list[dict[str, str]]
    more: int
    items: list[dict[str, str]]
    tags: list[tuple[str, str]]


def evidence(analysis: Analysis, ts: ThemeSource, show_all: bool) -> Evidence:
    project = analysis.project
    f = analysis.source_findings.get((ts.theme, ts.source))
    excerpts: list[dict[str, str]] = []
    items: list[dict[str, str]] = []
    more = 0
    if ts.kind == "excerpts":
        seen: set[str] = set()
        for r in ts.excerpt_rows:
            if r.excerpt_id in seen:
                continue
            if not show_all and len(excerpts) >= EVIDENCE_SHOWN:
                break  # the rest are only counted (ts.excerpts: distinct excerpt ids)
            seen.add(r.excerpt_id)
            excerpts.append(
                {"who": r.participant, "id": r.excerpt_id, "code": r.code, "text": r.text}
            )
        more = max(0, (ts.excerpts or len(seen)) - len(excerpts))
    else:
        for sr in ts.survey_rows:
            if sr.endorsed is not None:
                share = f"{sr.endorsed}/{sr.respondents} ({100 * sr.share:.0f}%)"
            else:
                share = f"{sr.percent:g}% of {sr.respondents}"
            items.append({"item": sr.item or sr.code, "code": sr.code, "share": share})
    if ts.present:
        silent = ""
    elif ts.survey_rows:
        silent = "Measured at 0%: asked, and nobody endorsed it."
    else:
        silent = "Silent: no code of this theme in this source."
    return Evidence(
        project.source_label(ts.source),
        ts.source,
        ts.present,
        silent,
        prominence_text(ts) if ts.present else "",
        f.text if f is not None else "",
        (f.exemplar or "") if f is not None else "",
        excerpts,
        more,
        items,
        [
            (d, ", ".join(sorted(ts.tags.get(d, ()))) or "none")
            for d in project.protocol.dimension_ids
        ],
    )


def _group_label(analysis: Analysis, gid: str) -> str:
    for g in analysis.project.codebook.groups:
        if g.id == gid:
            return g.label or g.id
    return gid


# ---------------------------------------------------------------------------- the application


class WebApp:
    """Routes and handlers; one instance per server run."""

    def __init__(self, workspace: Workspace, tokens: Tokens):
        self.ws = workspace
        self.tokens = tokens
        self.env = Environment(
            loader=PackageLoader("triangulate.serve", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # ---- plumbing

    @staticmethod
    def cookie_name(p: Principal) -> str:
        return "tri_adj" if p.role == "adjudication" else f"tri_r_{p.reviewer}"

    def authorise(self, request: Request, p: Principal) -> Response | None:
        """None when the request may go on; else the response to send (403 or a redirect)."""
        token = request.query_params.get("token")
        if token is not None and self.tokens.check(p, token):
            if request.method == "GET":
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                url = request.url.path + ("?" + urlencode(rest) if rest else "")
                response = RedirectResponse(url, status_code=303)
                response.set_cookie(
                    self.cookie_name(p),
                    token,
                    httponly=True,
                    samesite="strict",
                    path="/",
                )
                return response
            return None
        if self.tokens.check(p, request.cookies.get(self.cookie_name(p))):
            return None
        return self.forbidden()

    @staticmethod
    def forbidden() -> Response:
        return PlainTextResponse(
            "403 Forbidden: open the page with the URL that 'triangulate serve' printed for you "
            "(each URL carries its own secret token; a reviewer's URL opens only that reviewer's "
            "pages).",
            status_code=403,
        )

    def reviewer_principal(self, request: Request) -> Principal | None:
        rid = request.path_params.get("rid", "")
        if rid not in self.tokens.by_reviewer:
            return None
        return Principal("reviewer", rid)

    def render(self, name: str, p: Principal, status: int = 200, **ctx: Any) -> HTMLResponse:
        base = "/a" if p.role == "adjudication" else f"/r/{p.reviewer}"
        a = self.ws.analysis
        page = self.env.get_template(name).render(
            principal=p,
            base=base,
            csrf=self.tokens.csrf(p),
            title=a.project.file.title if a is not None else "triangulate",
            **ctx,
        )
        return HTMLResponse(page, status_code=status)

    def errors_page(self, p: Principal, exc: ProjectErrors) -> HTMLResponse:
        return self.render(
            "errors.html",
            p,
            status=500,
            findings=[(f.code, str(f.location.file or ""), f.message) for f in exc.findings[:200]],
        )

    async def form(self, request: Request, p: Principal) -> dict[str, str] | Response:
        form = await request.form()
        values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        if not self.tokens.check_csrf(p, values.get("csrf")):
            return PlainTextResponse(
                "403 Forbidden: the form's anti-forgery value is missing or wrong. Reload the page "
                "and try again.",
                status_code=403,
            )
        return values

    # ---- reviewer pages

    async def reviewer_start(self, request: Request) -> Response:
        p = self.reviewer_principal(request)
        if p is None:
            return self.forbidden()
        if (denied := self.authorise(request, p)) is not None:
            return denied
        with self.ws.lock:
            try:
                a = self.ws.fresh()
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            rid = p.name
            coded = [u.codes.get(rid) is not None for u in a.units]
            resume = self.ws.next_open(a.units, -1, coded)
            page = _int(request.query_params.get("page"), 0)
            start = page * LIST_PAGE
            rows = [
                {
                    "index": i,
                    "theme": u.theme.display,
                    "pair": f"{a.project.source_label(u.source_a)} / {a.project.source_label(u.source_b)}",
                    "mine": (u.codes[rid].category or "") if u.codes.get(rid) else "",  # type: ignore[union-attr]
                }
                for i, u in enumerate(a.units[start : start + LIST_PAGE], start=start)
            ]
            return self.render(
                "start.html",
                p,
                done=sum(coded),
                total=len(a.units),
                resume=resume,
                rows=rows,
                page=page,
                pages=max(1, -(-len(a.units) // LIST_PAGE)),
                has_findings=findings_declared(a),
                blind=blind(a),
            )

    def coding_context(
        self, a: Analysis, rid: str, index: int, show_all: bool, entered: dict[str, str] | None
    ) -> dict[str, Any]:
        unit = a.units[index]
        protocol = a.project.protocol
        own = unit.codes.get(rid)
        raw = self.ws.raw_rows.get(rid, {}).get(unit.key, {})
        if entered is not None:
            values = {d: entered.get(f"dim_{d}", "") for d in protocol.dimension_ids}
            category = entered.get("category", "")
            rationale = entered.get("rationale", "")
        else:
            values = {d: raw.get(d, "").strip().casefold() for d in protocol.dimension_ids}
            category = (raw.get("category") or "").strip() if raw else ""
            rationale = own.rationale if own is not None else ""
        coded = [u.codes.get(rid) is not None for u in a.units]
        skip = self.ws.next_open(a.units, index, coded)
        if skip is None or skip == index:
            skip = index + 1 if index + 1 < len(a.units) else None
        return {
            "unit": unit,
            "index": index,
            "total": len(a.units),
            "done": sum(coded),
            "group": _group_label(a, unit.group) if unit.group else "",
            "sources": [evidence(a, unit.a, show_all), evidence(a, unit.b, show_all)],
            "show_all": show_all,
            "dims": [
                {
                    "id": d.id,
                    "label": d.label,
                    "description": d.description or "",
                    "value": values.get(d.id, ""),
                }
                for d in protocol.dimensions
            ],
            "categories": categories(a),
            "category": category,
            "rationale": rationale,
            "one_source": unit.one_source,
            "one_source_category": protocol.rules.one_source,
            "row_hash": self.ws.row_hash(rid, unit.key),
            "back": index - 1 if index > 0 else None,
            "skip": skip,
            "blind": blind(a),
            "silence": silence_text(unit),
        }

    async def coding(self, request: Request) -> Response:
        p = self.reviewer_principal(request)
        if p is None:
            return self.forbidden()
        if (denied := self.authorise(request, p)) is not None:
            return denied
        entered: dict[str, str] | None = None
        message = request.query_params.get("saved", "")
        error = ""
        status = 200
        if request.method == "POST":
            form = await self.form(request, p)
            if isinstance(form, Response):
                return form
            key = (form.get("theme", ""), form.get("source_a", ""), form.get("source_b", ""))
            judgements: dict[str, bool | None] = {}
            with self.ws.lock:
                try:
                    a = self.ws.fresh()
                except ProjectErrors as exc:
                    return self.errors_page(p, exc)
                for d in a.project.protocol.dimension_ids:
                    v = form.get(f"dim_{d}", "")
                    judgements[d] = True if v == "yes" else False if v == "no" else None
                try:
                    saved = self.ws.save_coding(
                        p.name,
                        key,
                        form.get("row_hash", ""),
                        judgements,
                        form.get("category") or None,
                        form.get("rationale", ""),
                    )
                except Conflict as exc:
                    error = (
                        f"Not saved: {exc}. The page now shows what is on disk; check it and save "
                        "again."
                    )
                    status = 409
                except Refused as exc:
                    error = f"Not saved: {exc}."
                    entered = form
                    status = 422
                except ProjectErrors as exc:
                    return self.errors_page(p, exc)
                else:
                    if saved.next_index is None:
                        return RedirectResponse(
                            f"/r/{p.name}/?{urlencode({'saved': saved.message, 'finished': '1'})}",
                            status_code=303,
                        )
                    return RedirectResponse(
                        f"/r/{p.name}/code?{urlencode({'i': saved.next_index, 'saved': saved.message})}",
                        status_code=303,
                    )
                index = self.ws.unit_index(a.units, key)
                if index is None:
                    index = 0
        else:
            index = None
        with self.ws.lock:
            try:
                a = self.ws.fresh()
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            if not a.units:
                return self.render("empty.html", p, what="units")
            if index is None:
                want = request.query_params.get("i")
                if want is None:
                    coded = [u.codes.get(p.name) is not None for u in a.units]
                    index = self.ws.next_open(a.units, -1, coded)
                    if index is None:
                        return RedirectResponse(
                            f"/r/{p.name}/?finished=1",
                            status_code=303,
                        )
                else:
                    index = min(max(_int(want, 0), 0), len(a.units) - 1)
            ctx = self.coding_context(
                a, p.name, index, request.query_params.get("all") == "1", entered
            )
            return self.render("code.html", p, status=status, message=message, error=error, **ctx)

    # ---- adjudication

    async def adjudication_start(self, request: Request) -> Response:
        p = Principal("adjudication")
        if (denied := self.authorise(request, p)) is not None:
            return denied
        with self.ws.lock:
            try:
                a = self.ws.fresh()
                units = self.ws.adjudication_units()
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            decided = [u.decision is not None for u in units]
            page = _int(request.query_params.get("page"), 0)
            start = page * LIST_PAGE
            progress = {
                r: sum(1 for u in a.units if u.codes.get(r) is not None) for r in a.reviewers
            }
            rows = [
                {
                    "index": i,
                    "theme": u.theme.display,
                    "pair": f"{a.project.source_label(u.source_a)} / {a.project.source_label(u.source_b)}",
                    "given": ", ".join(f"{r}: {u.category_of(r) or '-'}" for r in a.reviewers),
                    "decision": u.decision.category if u.decision else "",
                }
                for i, u in enumerate(units[start : start + LIST_PAGE], start=start)
            ]
            return self.render(
                "adj_start.html",
                p,
                total_units=len(a.units),
                progress=progress,
                selected=len(units),
                decided=sum(decided),
                resume=self.ws.next_open(units, -1, decided),
                rows=rows,
                page=page,
                pages=max(1, -(-len(units) // LIST_PAGE)),
                statuses=a.statuses(),
                has_findings=findings_declared(a),
                message=request.query_params.get("saved", ""),
            )

    async def adjudicate(self, request: Request) -> Response:
        p = Principal("adjudication")
        if (denied := self.authorise(request, p)) is not None:
            return denied
        entered: dict[str, str] | None = None
        error = ""
        status = 200
        index: int | None = None
        name_cookie: str | None = None
        if request.method == "POST":
            form = await self.form(request, p)
            if isinstance(form, Response):
                return form
            key = (form.get("theme", ""), form.get("source_a", ""), form.get("source_b", ""))
            try:
                saved = self.ws.save_decision(
                    key,
                    form.get("decision_hash", ""),
                    form.get("category", ""),
                    form.get("rationale", ""),
                    form.get("decided_by", ""),
                )
            except Conflict as exc:
                error = (
                    f"Not saved: {exc}. The page now shows what is on disk; check it and decide "
                    "again."
                )
                status = 409
            except Refused as exc:
                error = f"Not saved: {exc}."
                entered = form
                status = 422
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            else:
                target = (
                    f"/a/unit?{urlencode({'i': saved.next_index, 'saved': saved.message})}"
                    if saved.next_index is not None
                    else f"/a/?{urlencode({'saved': saved.message})}"
                )
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(
                    "tri_name",
                    form.get("decided_by", "").strip()[:100],
                    httponly=True,
                    samesite="strict",
                    path="/a",
                )
                return response
            name_cookie = form.get("decided_by")
            with self.ws.lock:
                try:
                    units = self.ws.adjudication_units()
                except ProjectErrors as exc:
                    return self.errors_page(p, exc)
                index = self.ws.unit_index(units, key)
        with self.ws.lock:
            try:
                a = self.ws.fresh()
                units = self.ws.adjudication_units()
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            if not units:
                return self.render("empty.html", p, what="disputed units")
            if index is None:
                want = request.query_params.get("i")
                if want is None:
                    index = self.ws.next_open(units, -1, [u.decision is not None for u in units])
                    if index is None:
                        index = 0
                else:
                    index = min(max(_int(want, 0), 0), len(units) - 1)
            unit = units[index]
            protocol = a.project.protocol
            reviewers: list[dict[str, Any]] = []
            for rid in a.reviewers:
                c = unit.codes.get(rid)
                reviewers.append(
                    {
                        "id": rid,
                        "category": (c.category or "") if c else "",
                        "label": label_of(a, c.category) if c and c.category else "",
                        "derived": bool(c and c.derived),
                        "judgements": [
                            (
                                d,
                                ""
                                if c is None or c.judgements.get(d) is None
                                else ("yes" if c.judgements.get(d) else "no"),
                            )
                            for d in protocol.dimension_ids
                        ],
                        "rationale": c.rationale if c else "",
                    }
                )
            given: dict[str, list[str]] = {}
            for row in reviewers:
                if row["category"]:
                    given.setdefault(row["category"], []).append(row["id"])
            decided = [u.decision is not None for u in units]
            skip = self.ws.next_open(units, index, decided)
            if skip is None or skip == index:
                skip = index + 1 if index + 1 < len(units) else None
            if entered is not None:
                category, rationale = entered.get("category", ""), entered.get("rationale", "")
            else:
                category, rationale = "", ""
            return self.render(
                "adjudicate.html",
                p,
                status=status,
                unit=unit,
                index=index,
                total=len(units),
                done=sum(decided),
                group=_group_label(a, unit.group) if unit.group else "",
                sources=[
                    evidence(a, unit.a, request.query_params.get("all") == "1"),
                    evidence(a, unit.b, request.query_params.get("all") == "1"),
                ],
                show_all=request.query_params.get("all") == "1",
                dims=[
                    {"id": d.id, "label": d.label, "description": d.description or ""}
                    for d in protocol.dimensions
                ],
                categories=categories(a),
                reviewers=reviewers,
                given=given,
                category=category,
                rationale=rationale,
                decided_by=name_cookie
                if name_cookie is not None
                else request.cookies.get("tri_name", ""),
                decision=unit.decision,
                proposed_label=a.category_label(unit.proposed) if unit.proposed else "none",
                decision_hash=self.ws.decision_hash(unit),
                back=index - 1 if index > 0 else None,
                skip=skip,
                message=request.query_params.get("saved", ""),
                error=error,
                silence=silence_text(unit),
            )

    # ---- findings (both roles)

    async def findings(self, request: Request) -> Response:
        if request.url.path.startswith("/a/"):
            p: Principal | None = Principal("adjudication")
        else:
            p = self.reviewer_principal(request)
        if p is None:
            return self.forbidden()
        if (denied := self.authorise(request, p)) is not None:
            return denied
        error = ""
        status = 200
        message = request.query_params.get("saved", "")
        page = _int(request.query_params.get("page"), 0)
        if request.method == "POST":
            form = await self.form(request, p)
            if isinstance(form, Response):
                return form
            page = _int(form.get("page"), 0)
            try:
                saved = self.ws.save_finding(
                    form.get("theme", ""),
                    form.get("source", ""),
                    form.get("finding_hash", ""),
                    form.get("finding", ""),
                    form.get("exemplar", ""),
                )
            except Conflict as exc:
                error = f"Not saved: {exc}. The page now shows what is on disk; check it and save again."
                status = 409
            except Refused as exc:
                error = f"Not saved: {exc}."
                status = 422
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            else:
                base = "/a" if p.role == "adjudication" else f"/r/{p.name}"
                anchor = f"#f-{form.get('theme', '')}-{form.get('source', '')}"
                return RedirectResponse(
                    f"{base}/findings?{urlencode({'page': page, 'saved': saved.message})}{anchor}",
                    status_code=303,
                )
        with self.ws.lock:
            try:
                a = self.ws.fresh()
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            themes = a.project.codebook.themes
            start = page * FINDINGS_PAGE
            rows = []
            for t in themes[start : start + FINDINGS_PAGE]:
                entries = []
                for sid in a.project.source_ids:
                    ts = a.sorting.get((t.id, sid))
                    if ts is None or not ts.present:
                        continue
                    f = a.source_findings.get((t.id, sid))
                    choices = self.ws.exemplars(t.id, sid)[:EXEMPLARS_LISTED]
                    if f is not None and f.exemplar and f.exemplar not in choices:
                        choices.append(f.exemplar)  # never dropped by saving this row
                    entries.append(
                        {
                            "source": sid,
                            "label": a.project.source_label(sid),
                            "prominence": prominence_text(ts),
                            "text": f.text if f else "",
                            "exemplar": (f.exemplar or "") if f else "",
                            "choices": choices,
                            "hash": self.ws.finding_hash(t.id, sid),
                        }
                    )
                rows.append(
                    {
                        "id": t.id,
                        "label": t.display,
                        "definition": t.definition or "",
                        "entries": entries,
                    }
                )
            return self.render(
                "findings.html",
                p,
                status=status,
                rows=rows,
                page=page,
                pages=max(1, -(-len(themes) // FINDINGS_PAGE)),
                declared=findings_declared(a),
                findings_file=getattr(a.project.file, "findings", None) or "",
                message=message,
                error=error,
            )

    # ---- report (adjudication only)

    async def report(self, request: Request) -> Response:
        p = Principal("adjudication")
        if (denied := self.authorise(request, p)) is not None:
            return denied
        error = ""
        message = ""
        if request.method == "POST":
            form = await self.form(request, p)
            if isinstance(form, Response):
                return form
            try:
                self.ws.regenerate_report()
                message = "The report was regenerated from the files as they are now."
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            except OSError as exc:
                error = f"Could not write the report: {exc.strerror or exc}"
        with self.ws.lock:
            try:
                a = self.ws.fresh()
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            path = a.project.output_dir / paths.REPORT_HTML
            exists = path.exists()
            import datetime as _dt

            when = (
                _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M:%S UTC"
                )
                if exists
                else ""
            )
            return self.render(
                "report.html",
                p,
                exists=exists,
                when=when,
                path=f"{a.project.file.output}/{paths.REPORT_HTML}",
                message=message,
                error=error,
            )

    async def report_file(self, request: Request) -> Response:
        p = Principal("adjudication")
        if (denied := self.authorise(request, p)) is not None:
            return denied
        with self.ws.lock:
            try:
                a = self.ws.fresh()
            except ProjectErrors as exc:
                return self.errors_page(p, exc)
            path = a.project.output_dir / paths.REPORT_HTML
        if not path.exists():
            return PlainTextResponse("No report yet: regenerate it first.", status_code=404)
        return HTMLResponse(
            path.read_text(encoding="utf-8"),
            headers={"content-security-policy": REPORT_CSP},
        )

    async def root(self, request: Request) -> Response:
        return self.forbidden()

    async def favicon(self, request: Request) -> Response:
        return Response(status_code=204)

    def routes(self) -> list[Route | Mount]:
        return [
            Route("/", self.root),
            Route("/favicon.ico", self.favicon),
            Route("/r/{rid}/", self.reviewer_start),
            Route("/r/{rid}/code", self.coding, methods=["GET", "POST"]),
            Route("/r/{rid}/findings", self.findings, methods=["GET", "POST"]),
            Route("/a/", self.adjudication_start),
            Route("/a/unit", self.adjudicate, methods=["GET", "POST"]),
            Route("/a/findings", self.findings, methods=["GET", "POST"]),
            Route("/a/report", self.report, methods=["GET", "POST"]),
            Route("/a/report.html", self.report_file),
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ]


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def blind(a: Analysis) -> bool:
    return bool(getattr(a.project.file, "blind", True))


def findings_declared(a: Analysis) -> bool:
    return bool(getattr(a.project.file, "findings", None))


def label_of(a: Analysis, category: str) -> str:
    try:
        return a.project.protocol.category(category).label
    except KeyError:
        return category


def categories(a: Analysis) -> list[dict[str, Any]]:
    return [
        {"n": i, "id": c.id, "label": c.label, "definition": c.definition}
        for i, c in enumerate(a.project.protocol.categories, start=1)
    ]


def silence_text(unit: Unit) -> str:
    kind = getattr(unit, "silence", None) or unit.note
    return {
        "not_collected": "The silent source's instrument could not capture this theme (not collected).",
        "measured_zero": "The silent source asked about this theme and nobody endorsed it (measured at 0%).",
        "not_raised": "The silent source could have spoken to this theme and did not (not raised).",
    }.get(kind or "", "")


def build_app(workspace: Workspace, tokens: Tokens) -> ASGIApp:
    web = WebApp(workspace, tokens)
    app = Starlette(routes=web.routes())
    app.state.web = web
    return SecurityHeaders(app)
