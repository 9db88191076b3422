"""WAF accuracy and speed: Mamori's managed rule groups against ModSecurity v3 + OWASP CRS.

The labelled corpus of bench/waf_corpus.py (attacks of every class the managed groups cover,
benign traffic, hard benign cases) goes through a Web ACL running every managed group in block
mode (the IP lists empty: the corpus has no reputation data) and, in the same run, through
ModSecurity v3 with the OWASP Core Rule Set at paranoia level 1, blocking on CRS's default
anomaly threshold. ModSecurity runs in a small C program (bench/modsec_driver.c, compiled here
with gcc against the installed libmodsecurity); the rules are the installed Debian package's:

    apt-get install libmodsecurity3 libmodsecurity-dev modsecurity-crs gcc
    .venv/bin/python bench/waf.py [--benign 4000] [--examples 8] [--no-peer]

Prints detection per attack class and payload source, false positives on benign and hard
benign traffic, per-request latency (p50/p90/p99/max, in-process, one thread) for both engines,
and examples of what one engine caught and the other missed, of false positives (with the
rules behind them) and of Mamori's slowest requests. A request counts as detected when Mamori
answers anything but ALLOW (Block, or the Captcha of the bot signals) and when ModSecurity
intervenes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import cpu_model, table
from waf_corpus import Sample, corpus

from mamori.perimeter.waf import WebAcl, build_web_acl, collect_resources, parse_document
from mamori.perimeter.waf.rulesets import CATALOGUE, web_acl_document
from mamori.perimeter.waf.rulesets.reputation import ip_list_document

HERE = Path(__file__).resolve().parent
CRS_SETUP = Path("/etc/modsecurity/crs/crs-setup.conf")  # Debian's modsecurity-crs layout
CRS_RULES = Path("/usr/share/modsecurity-crs/rules")
IP_LIST_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One engine's answer to one request."""

    detected: bool
    nanoseconds: int
    why: str  # the rule(s) behind a detection, "" otherwise


def managed_web_acl() -> tuple[WebAcl, float]:
    """Every managed group in one Web ACL (empty IP lists), and the seconds it took to build."""
    start = time.perf_counter()
    lists = [
        parse_document(ip_list_document(rule.name, []), "ip-list.json")
        for group in IP_LIST_GROUPS
        for rule in CATALOGUE[group].rules
    ]
    acl = build_web_acl(parse_document(web_acl_document(), "webacl.json"), collect_resources(lists))
    return acl, time.perf_counter() - start


def run_mamori(acl: WebAcl, samples: list[Sample]) -> list[Outcome]:
    for sample in samples[:300]:  # warm caches and the allocator
        acl.evaluate(sample.request)
    out = []
    clock = time.perf_counter_ns
    for sample in samples:
        start = clock()
        verdict = acl.evaluate(sample.request)
        elapsed = clock() - start
        detected = verdict.action != "ALLOW"
        why = f"{verdict.terminating_rule}:{verdict.rule_group_rule}" if detected else ""
        out.append(Outcome(detected, elapsed, why))
    return out


# -- the peer: ModSecurity v3 + CRS -------------------------------------------------------------

# The engine settings of a typical deployment, then CRS as Debian installs it. The JSON body
# processor is switched on for JSON requests (CRS 3.3 does not do it itself), and the API
# methods the benign traffic uses are allowed (CRS's default list stops at POST).
MODSEC_CONF = """\
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction ProcessPartial
SecAuditEngine Off
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" \\
    "id:1000001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\\+|/)|text/)xml" \\
    "id:1000002,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=1"
SecAction "id:900200,phase:1,nolog,pass,t:none,\\
    setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'"
Include {setup}
Include {rules}/*.conf
"""


def peer_missing() -> str | None:
    """Why ModSecurity + CRS cannot run here, or None."""
    if shutil.which("gcc") is None:
        return "gcc not found (needed to build bench/modsec_driver.c)"
    if not Path("/usr/include/modsecurity/modsecurity.h").exists():
        return "libmodsecurity-dev not installed (no modsecurity/modsecurity.h)"
    if not CRS_SETUP.exists() or not CRS_RULES.is_dir():
        return f"modsecurity-crs not installed ({CRS_SETUP} or {CRS_RULES} missing)"
    return None


def crs_version() -> str:
    try:
        result = subprocess.run(
            [
                "dpkg-query",
                "-W",
                "-f=${Package} ${Version}\\n",
                "modsecurity-crs",
                "libmodsecurity3",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "versions unknown"
    return ", ".join(result.stdout.split("\n")).strip(", ") or "versions unknown"


def _records(samples: Iterable[Sample]) -> Iterable[bytes]:
    """Requests in the driver's length-prefixed input format."""
    for sample in samples:
        r = sample.request
        method, uri, ip = r.method.encode(), r.uri.encode("utf-8", "surrogatepass"), r.client_ip
        head = f"{len(method)} {len(uri)} {len(ip)} {len(r.body)} {len(r.headers)}\n"
        parts = [head.encode(), method, uri, ip.encode(), r.body]
        for name, value in r.headers:
            n, v = name.encode(), value.encode("utf-8", "surrogatepass")
            parts += [f"{len(n)} {len(v)}\n".encode(), n, v]
        yield b"".join(parts)


def run_modsecurity(samples: list[Sample], workdir: Path) -> list[Outcome]:
    driver = workdir / "modsec_driver"
    subprocess.run(
        ["gcc", "-O2", "-o", str(driver), str(HERE / "modsec_driver.c"), "-lmodsecurity"],
        check=True,
    )
    conf = workdir / "main.conf"
    conf.write_text(MODSEC_CONF.format(setup=CRS_SETUP, rules=CRS_RULES))
    requests = workdir / "requests.bin"
    with requests.open("wb") as out:
        for record in _records(samples[:300]):  # warm up like Mamori, results discarded
            out.write(record)
        for record in _records(samples):
            out.write(record)
    with requests.open("rb") as stdin:
        result = subprocess.run(
            [str(driver), str(conf)], stdin=stdin, capture_output=True, check=False
        )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.decode(errors="replace").strip()[-2000:])
    lines = result.stdout.decode().splitlines()[min(300, len(samples)) :]
    out_list = []
    for line in lines:
        _, status, nanos, ids = line.split(" ", 3)
        detected = status != "200"
        out_list.append(Outcome(detected, int(nanos), ids if ids != "-" else ""))
    if len(out_list) != len(samples):
        raise RuntimeError(f"driver answered {len(out_list)} of {len(samples)} requests")
    return out_list


# -- reporting -----------------------------------------------------------------------------------


def _pct(hits: int, total: int) -> str:
    return f"{100 * hits / total:.1f}%" if total else "-"


def _rate(rows: list[tuple[Sample, list[Outcome]]], engine: int) -> tuple[int, int]:
    return sum(o[engine].detected for _, o in rows), len(rows)


def print_detection(
    results: list[tuple[Sample, list[Outcome]]],
    engines: list[str],
    key: Callable[[Sample], str],
    title: str,
) -> None:
    groups: dict[str, list[tuple[Sample, list[Outcome]]]] = defaultdict(list)
    for sample, outcomes in results:
        groups[key(sample)].append((sample, outcomes))
    rows = [[title, "n", *engines]]
    for name in sorted(groups):
        rows.append(
            [name, str(len(groups[name]))]
            + [_pct(*_rate(groups[name], i)) for i in range(len(engines))]
        )
    rows.append(
        ["all", str(len(results))] + [_pct(*_rate(results, i)) for i in range(len(engines))]
    )
    table(rows, left_first=True)
    print()


def _percentile(ordered: list[int], q: float) -> str:
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6:.3f}"


def print_latency(results: list[tuple[Sample, list[Outcome]]], engines: list[str]) -> None:
    rows = [["engine", "requests", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms"]]
    for i, engine in enumerate(engines):
        for part in ("all", "attack", "benign", "hard"):
            times = sorted(o[i].nanoseconds for s, o in results if part in ("all", s.kind))
            mean = sum(times) / len(times) / 1e6
            rows.append(
                [engine, part, str(len(times))]
                + [_percentile(times, q) for q in (0.5, 0.9, 0.99)]
                + [f"{times[-1] / 1e6:.3f}", f"{mean:.3f}"]
            )
    table(rows, left_first=True)
    print()


def _show(sample: Sample) -> str:
    r = sample.request
    body = r.body[:90].decode("utf-8", "replace")
    text = f"{r.method} {r.uri[:110]}" + (f"  body={body!r}" if body else "")
    if sample.placement in ("header", "user_agent", "cookie"):
        extra = [f"{k}: {v[:90]}" for k, v in r.headers if k in ("User-Agent", "Referer",
                 "X-Api-Version", "Cookie")]  # fmt: skip
        text += "  " + " | ".join(extra)
    return f"[{sample.label}/{sample.source}/{sample.placement}/{sample.encoding}] {text}"


def print_examples(
    results: list[tuple[Sample, list[Outcome]]], engines: list[str], count: int
) -> None:
    attacks = [(s, o) for s, o in results if s.kind == "attack"]
    benign = [(s, o) for s, o in results if s.kind != "attack"]
    if len(engines) == 2:
        for i, j in ((0, 1), (1, 0)):
            missed = [(s, o) for s, o in attacks if o[j].detected and not o[i].detected]
            print(f"Attacks {engines[j]} caught and {engines[i]} missed: {len(missed)}")
            by_class = Counter(s.label for s, _ in missed)
            print("  by class: " + ", ".join(f"{k} {v}" for k, v in by_class.most_common()))
            for s, o in missed[:: max(1, len(missed) // count)][:count]:
                print(f"  {_show(s)}  <- {o[j].why[:60]}")
            print()
    for i, engine in enumerate(engines):
        false = [(s, o) for s, o in benign if o[i].detected]
        print(f"{engine} false positives: {len(false)} of {len(benign)} benign and hard requests")
        reasons = Counter(why for _, o in false for why in o[i].why.split(",") if why)
        print("  rules: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common(12)))
        seen: set[str] = set()
        for s, o in false:
            if len(seen) >= count:
                break
            if s.label + o[i].why not in seen:
                seen.add(s.label + o[i].why)
                print(f"  {_show(s)}  <- {o[i].why[:70]}")
        print()
    slow = sorted(results, key=lambda so: so[1][0].nanoseconds, reverse=True)[:count]
    print(f"{engines[0]}'s slowest requests:")
    for s, o in slow:
        print(f"  {o[0].nanoseconds / 1e6:.2f} ms  {_show(s)[:200]}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benign", type=int, default=4000, help="generated benign requests")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--examples", type=int, default=8, help="examples per list")
    parser.add_argument("--no-peer", action="store_true", help="Mamori alone")
    args = parser.parse_args()

    samples = corpus(seed=args.seed, benign_count=args.benign)
    acl, build_s = managed_web_acl()
    print(f"WAF accuracy and speed, {cpu_model()}, one process, one thread per engine")
    print(
        f"Corpus (seed {args.seed}): {sum(s.kind == 'attack' for s in samples)} attacks, "
        f"{sum(s.kind == 'benign' for s in samples)} benign, "
        f"{sum(s.kind == 'hard' for s in samples)} hard benign requests"
    )
    print(
        f"Mamori: {len(CATALOGUE)} managed groups, {acl.capacity} WCU, built in "
        f"{build_s * 1000:.0f} ms"
    )
    engines = ["Mamori"]
    outcomes = [run_mamori(acl, samples)]
    missing = None if not args.no_peer else "not asked for (--no-peer)"
    missing = missing or peer_missing()
    if missing is None:
        try:
            with tempfile.TemporaryDirectory(prefix="waf-bench-") as tmp:
                outcomes.append(run_modsecurity(samples, Path(tmp)))
            engines.append("ModSec+CRS")
            print(f"Peer: ModSecurity v3 + OWASP CRS, paranoia level 1 ({crs_version()})")
        except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
            missing = f"ModSecurity failed: {exc}"
    if missing:
        print(f"Peer not run: {missing}")
    print()
    results = [(s, [o[i] for o in outcomes]) for i, s in enumerate(samples)]
    attacks = [r for r in results if r[0].kind == "attack"]
    print("Detection rate by attack class and payload source")
    print_detection(attacks, engines, lambda s: s.label, "class")
    own_fray = [f"{e} {src}" for e in engines for src in ("own", "fray")]
    _print_by_source(attacks, engines, own_fray)
    print_detection(attacks, engines, lambda s: s.placement, "placement")
    print_detection(attacks, engines, lambda s: s.encoding, "encoding")
    print("False positive rate (benign traffic, then the hard benign cases)")
    print_detection([r for r in results if r[0].kind == "benign"], engines,
                    lambda s: s.label, "benign")  # fmt: skip
    print_detection([r for r in results if r[0].kind == "hard"], engines,
                    lambda s: s.label, "hard benign")  # fmt: skip
    print("Per-request latency, in-process")
    print_latency(results, engines)
    print_examples(results, engines, args.examples)


def _print_by_source(
    attacks: list[tuple[Sample, list[Outcome]]], engines: list[str], header: list[str]
) -> None:
    rows = [["class", "n own", "n fray", *header]]
    labels = sorted({s.label for s, _ in attacks})
    for label in [*labels, "all"]:
        own = [r for r in attacks if r[0].source == "own" and label in ("all", r[0].label)]
        fray = [r for r in attacks if r[0].source == "fray" and label in ("all", r[0].label)]
        cells = [_pct(*_rate(part, i)) for i in range(len(engines)) for part in (own, fray)]
        rows.append([label, str(len(own)), str(len(fray)), *cells])
    table(rows, left_first=True)
    print()


if __name__ == "__main__":
    main()
