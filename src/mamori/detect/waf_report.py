"""`mamori waf logs`: AWS WAF logs read where they lie, summed up for the WAF's operator (what
was blocked, by which rule, from whom) and put through the WAF detections.

The logs are ingested into the detection data directory exactly as `mamori detect --waf` does
(same readers, same ledger, so a file is read once) and the detections are the same rules, run
by `run_detect` with only the WAF source. The summary is DuckDB SQL over the ingested `waf`
table, scoped to the files under the given inputs (a data directory may hold other logs too).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.core import InputError
from mamori.detect.readers.sources import is_s3

if TYPE_CHECKING:
    import duckdb

    from mamori.detect.run import DetectRun
    from mamori.hub import Store

ACTIONS = ("ALLOW", "BLOCK", "COUNT", "CAPTCHA", "CHALLENGE")
DEFAULT_TOP = 10


@dataclass
class WafSummary:
    requests: int = 0
    first: datetime | None = None
    last: datetime | None = None
    web_acls: list[dict[str, Any]] = field(default_factory=list)  # web_acl, web_acl_id, requests
    by_action: dict[str, int] = field(default_factory=dict)  # every action of ACTIONS, 0 if none
    # rule, rule_type, action, requests: the rule that decided each request
    by_terminating_rule: list[dict[str, Any]] = field(default_factory=list)
    counted_rules: list[dict[str, Any]] = field(default_factory=list)  # rule, requests
    # Blocked requests by client (client_ip, country), uri, country and user agent.
    top_blocked_clients: list[dict[str, Any]] = field(default_factory=list)
    top_blocked_uris: list[dict[str, Any]] = field(default_factory=list)
    top_blocked_countries: list[dict[str, Any]] = field(default_factory=list)
    top_blocked_user_agents: list[dict[str, Any]] = field(default_factory=list)
    top_labels: list[dict[str, Any]] = field(default_factory=list)  # label, requests (all)
    # hour, host, requests, blocked: requests per hour and Host
    hourly: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WafLogReport:
    summary: WafSummary
    run: DetectRun


def waf_rule_ids() -> list[str]:
    """The finding types of the registered rules over WAF logs (what `detect --waf` runs)."""
    from mamori.detect.rules.base import rules

    return [r.finding_type for r in rules() if r.data_source == "waf"]


def _checked(inputs: list[str]) -> list[str]:
    if not inputs:
        raise InputError("give at least one --input (a folder, a file or s3://bucket/prefix/)")
    for location in inputs:
        if not location:
            raise InputError("--input: an empty location")
        if not is_s3(location) and not Path(location).exists():
            raise InputError(f"--input {location}: no such file or folder")
    return inputs


def waf_log_report(
    inputs: list[str],
    *,
    since: datetime | None = None,
    data_dir: Path | None = None,
    store: Store | None = None,
    top: int = DEFAULT_TOP,
) -> WafLogReport:
    """Ingest the WAF logs under `inputs` (new files only), run the WAF detections (their
    findings stored in `store` if one is given) and sum up the inputs' requests."""
    from mamori.detect.engine import connect
    from mamori.detect.run import DetectRequest, run_detect

    if top < 1:
        raise InputError(f"--top must be at least 1, not {top}")
    req = DetectRequest(waf=_checked(inputs), rules=waf_rule_ids(), since=since, data_dir=data_dir)
    run = run_detect(req, store)
    con = connect(run.data_dir, since=since)
    try:
        summary = summarize(con, inputs, top=top)
    finally:
        con.close()
    return WafLogReport(summary, run)


def _scope(con: duckdb.DuckDBPyConnection, inputs: list[str]) -> None:
    """A `scoped` view: the `waf` rows read from files under the inputs (a file is its own
    scope; a folder's files are under its path as given, which is how ingest names them)."""
    con.execute("CREATE TEMP TABLE scope (location VARCHAR, exact BOOLEAN)")
    rows = []
    for location in inputs:
        if is_s3(location) or Path(location).is_dir():
            folder = location if is_s3(location) else location.rstrip("/") + "/"
            rows.append((folder, False))
        else:
            rows.append((location, True))
    con.executemany("INSERT INTO scope VALUES (?, ?)", rows)
    con.execute(
        "CREATE TEMP VIEW scoped AS SELECT w.* FROM waf w WHERE EXISTS (SELECT 1 FROM scope s"
        " WHERE CASE WHEN s.exact THEN w.source_file = s.location"
        " ELSE starts_with(w.source_file, s.location) END)"
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return con.sql(sql, params=params).to_arrow_table().to_pylist()


def _top(con: duckdb.DuckDBPyConnection, expr: str, name: str, top: int) -> list[dict[str, Any]]:
    # `expr` is one of our own column expressions; only `top` varies, and it is bound.
    return _rows(
        con,
        f"SELECT {expr} AS {name}, count(*) AS requests FROM scoped"  # noqa: S608
        f" WHERE action = 'BLOCK' GROUP BY ALL ORDER BY requests DESC, {name} NULLS LAST"
        " LIMIT ?",
        [top],
    )


def summarize(con: duckdb.DuckDBPyConnection, inputs: list[str], *, top: int) -> WafSummary:
    """The operator's view of the `waf` rows from `inputs` on a connection of `engine.connect`."""
    _scope(con, inputs)
    s = WafSummary()
    [(s.requests, s.first, s.last)] = con.execute(
        "SELECT count(*), min(request_time), max(request_time) FROM scoped"
    ).fetchall()
    s.web_acls = _rows(
        con,
        "SELECT web_acl, web_acl_id, count(*) AS requests FROM scoped GROUP BY ALL"
        " ORDER BY requests DESC, web_acl_id",
        [],
    )
    found = dict(con.execute("SELECT action, count(*) FROM scoped GROUP BY action").fetchall())
    s.by_action = {a: int(found.pop(a, 0)) for a in ACTIONS}
    # An action outside AWS's five (or none) is still counted, under its own name.
    s.by_action.update({str(a): int(n) for a, n in found.items()})
    s.by_terminating_rule = _rows(
        con,
        "SELECT terminating_rule_id AS rule, terminating_rule_type AS rule_type, action,"
        " count(*) AS requests FROM scoped GROUP BY ALL"
        " ORDER BY requests DESC, rule NULLS LAST, action LIMIT ?",
        [top],
    )
    s.counted_rules = _rows(
        con,
        "SELECT rule, count(*) AS requests FROM (SELECT unnest(counted_rules) AS rule"
        " FROM scoped) GROUP BY rule ORDER BY requests DESC, rule LIMIT ?",
        [top],
    )
    s.top_blocked_clients = _rows(
        con,
        "SELECT client_ip, any_value(country) AS country, count(*) AS requests FROM scoped"
        " WHERE action = 'BLOCK' GROUP BY client_ip"
        " ORDER BY requests DESC, client_ip NULLS LAST LIMIT ?",
        [top],
    )
    s.top_blocked_uris = _top(con, "uri", "uri", top)
    s.top_blocked_countries = _top(con, "country", "country", top)
    s.top_blocked_user_agents = _top(con, "user_agent", "user_agent", top)
    s.top_labels = _rows(
        con,
        "SELECT label, count(*) AS requests FROM (SELECT unnest(labels) AS label FROM scoped)"
        " GROUP BY label ORDER BY requests DESC, label LIMIT ?",
        [top],
    )
    s.hourly = _rows(
        con,
        "SELECT date_trunc('hour', request_time) AS hour, host, count(*) AS requests,"
        " count(*) FILTER (WHERE action = 'BLOCK') AS blocked FROM scoped"
        " GROUP BY ALL ORDER BY hour, host NULLS LAST",
        [],
    )
    return s
