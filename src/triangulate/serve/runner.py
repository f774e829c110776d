"""Start the web workspace: load the project, bind the port, print the URLs, serve until stopped.

Ctrl-C (SIGINT) and SIGTERM both stop the server gracefully: requests in flight finish (a
decision a page is confirming is already fsynced), then the process ends. SIGTERM exits 0;
Ctrl-C raises KeyboardInterrupt afterwards, which the CLI turns into exit 130.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

from triangulate.serve.app import build_app
from triangulate.serve.workspace import Tokens, Workspace

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class _Server(uvicorn.Server):
    interrupted = False
    early: list[int]  # signals that arrived before the server listened for them

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_signal(sig: int, frame: object) -> None:
            if sig == signal.SIGINT:
                if self.interrupted:
                    self.force_exit = True
                self.interrupted = True
            self.should_exit = True

        original = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        for sig in getattr(self, "early", []):
            on_signal(sig, None)
        try:
            yield
        finally:
            for s, handler in original.items():
                signal.signal(s, handler)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only for sockets that
    # say so; without it a kept-alive connection waits ~40 ms (Nagle and delayed ACK) per page.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def urls(host: str, port: int, tokens: Tokens) -> list[tuple[str, str]]:
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    out = [(r, f"{base}/r/{r}/?token={t}") for r, t in tokens.by_reviewer.items()]
    out.append(("adjudication", f"{base}/a/?token={tokens.adjudication}"))
    return out


def serve(
    workspace: Workspace,
    host: str,
    port: int,
    echo: Callable[[str], None],
    warn: Callable[[str], None],
) -> int:
    """Serve until stopped. Raises KeyboardInterrupt after a graceful stop on Ctrl-C."""
    analysis = workspace.analysis
    assert analysis is not None
    tokens = Tokens(list(analysis.reviewers))
    early: list[int] = []
    # From here on a signal only asks the server to stop (once it runs), whenever it arrives.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, f: early.append(s))
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    if host not in LOOPBACK:
        warn(
            f"warning: listening on {host}, not only on this machine: anyone who can reach this "
            "address and has one of the URLs below can open its pages, over plain HTTP "
            "(not encrypted). Use the default (127.0.0.1) unless you need this."
        )
    if not analysis.reviewers:
        warn(
            "note: the project lists no reviewers ('reviewers:' in triangulate.yaml), so there is "
            "no coding URL; add reviewers and restart to code in the browser."
        )
    for who, url in urls(host, actual, tokens):
        echo(f"{who}  {url}")
    echo("Each URL carries its own secret: give each reviewer only theirs. Ctrl-C stops.")
    config = uvicorn.Config(
        build_app(workspace, tokens),
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
    )
    server = _Server(config)
    server.early = early
    server.run(sockets=[sock])
    if server.interrupted:
        raise KeyboardInterrupt
    return 0


def load(path: Path) -> Workspace:
    return Workspace(path)
