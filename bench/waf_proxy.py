"""WAF reverse proxy throughput on loopback: requests/s through `mamori waf proxy`'s app.

The Web ACL is bench/waf_engine.py's (`--acl bench`, about 40 rules: SQLi/XSS on query, body,
cookies and JSON; grouped string and regex matches; a regex pattern set; a 2,000-CIDR IP set; a
rate-based rule; a rule group) or every managed rule group (`--acl managed`). The proxy runs as
uvicorn does with --workers N (one listening socket shared by N forked processes, each with its
own event loop and upstream client); the upstream is a minimal ASGI app under uvicorn in one
more process. The load generator is `wrk` (Debian's package) on the same machine, sending a
browser's headers, so all three share its cores.

Prints, for passed requests (forwarded to the upstream) and for blocked ones (answered by the
WAF), wrk's requests/s and latency, and how many answers were 4xx/5xx (all of the blocked
ones, none of the passed ones, or the figures measure something else).

    .venv/bin/python bench/waf_proxy.py [--workers 2] [--seconds 10] [--connections 64]
        [--acl bench|managed]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import uvicorn
from waf_engine import ACLS

from mamori.perimeter.waf import WafMiddleware
from mamori.perimeter.waf.proxy import UpstreamProxy


async def _upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b'{"ok":true,"items":[1,2,3]}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"27")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _serve(app: Any, sock: socket.socket) -> None:
    config = uvicorn.Config(app, log_level="error", access_log=False, proxy_headers=False)
    uvicorn.Server(config).run(sockets=[sock])


def _proxy_worker(upstream: str, sock: socket.socket, acl_name: str) -> None:
    acl, _ = ACLS[acl_name](random.Random(7))
    _serve(WafMiddleware(UpstreamProxy(upstream), web_acl=acl), sock)


def _wait(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


# A browser's headers: the managed groups block a request without a User-Agent or to a
# localhost Host, and bot control challenges a browser User-Agent without Accept and
# Accept-Language.
_BROWSER = [
    "-H", "Host: shop.example.com",
    "-H", "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "-H", "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "-H", "Accept-Language: en-GB,en;q=0.9",
    "-H", "Cookie: session=5f2b9c1e7a4d; theme=dark",
]  # fmt: skip


def _wrk(url: str, seconds: int, connections: int) -> tuple[float, str, str, int, int]:
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *_BROWSER, url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # the "Latency Distribution" lines; "50%" alone also ends a Thread Stats line
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    refused = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, p50, p99, total, int(refused.group(1)) if refused else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--acl",
        choices=sorted(ACLS),
        default="bench",
        help="bench: waf_engine.py's ~40-rule Web ACL; managed: all eleven managed rule groups",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    ctx = multiprocessing.get_context("fork")
    up_sock = socket.create_server(("127.0.0.1", 0))
    px_sock = socket.create_server(("127.0.0.1", 0), backlog=1024)
    up_port, px_port = up_sock.getsockname()[1], px_sock.getsockname()[1]
    procs = [ctx.Process(target=_serve, args=(_upstream, up_sock), daemon=True)]
    upstream = f"http://127.0.0.1:{up_port}"
    procs += [
        ctx.Process(target=_proxy_worker, args=(upstream, px_sock, args.acl), daemon=True)
        for _ in range(args.workers)
    ]
    for proc in procs:
        proc.start()
    try:
        _wait(up_port)
        _wait(px_port)
        time.sleep(3.0)  # every worker compiled its Web ACL
        base = f"http://127.0.0.1:{px_port}"
        print(f"Web ACL: {args.acl}; proxy workers: {args.workers}, wrk: 1 thread, "
              f"{args.connections} connections, {args.seconds} s each; "
              f"load average before: {os.getloadavg()[0]:.2f}")  # fmt: skip
        print("| requests | requests/s | p50 | p99 | answered 4xx/5xx |")
        print("| --- | --- | --- | --- | --- |")
        for label, path in (
            ("passed (forwarded)", "/api/items?page=2&sort=name"),
            ("blocked (SQLi)", "/api/items?id=1%27%20union%20select%20password%20from%20users--"),
        ):
            rps, p50, p99, total, refused = _wrk(base + path, args.seconds, args.connections)
            print(f"| {label} | {rps:,.0f} | {p50} | {p99} | {refused:,} of {total:,} |")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(10)


if __name__ == "__main__":
    main()
