"""A real HTTP receiver on 127.0.0.1 for webhook tests: records what it is sent, and answers
with a scripted sequence of status codes (or stalls, to test timeouts)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Status codes answered in turn; the last one repeats. "stall": answer nothing for 1.5 s.
    script: list[int | str] = field(default_factory=lambda: [200])

    def payloads(self) -> list[Any]:
        return [r.body for r in self.requests]


@contextmanager
def receiver(
    script: list[int | str] | None = None, path: str = "/hook/T0001/B0002/s3cr3t"
) -> Iterator[Receiver]:
    state = Receiver(url="", script=list(script or [200]))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with lock:
                state.requests.append(
                    Received(self.path, dict(self.headers), json.loads(raw or b"null"))
                )
                step = state.script[min(len(state.requests) - 1, len(state.script) - 1)]
            if step == "stall":
                time.sleep(1.5)
                step = 200
            self.send_response(int(step))
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if step == 200 else b"busy, try later")

        def log_message(self, *_args: Any) -> None:  # keep test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # A client that gave up (a timeout test) breaks the answer's write: not worth a traceback.
    server.handle_error = lambda *_args: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
