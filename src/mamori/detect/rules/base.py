"""The detection rule type, its registry, the SQL macros rules rely on and the shared SQL tail.

A rule is metadata plus one DuckDB query over the normalised tables of `mamori.detect.schema`
(and the intel tables the engine registers). Every query returns the same columns (`COLUMNS`),
one row per finding; the engine aggregates rows by finding type, resource and actor.

Rules are written as a "matched records" query with standard column names, wrapped by
`finding_sql`, so that the GROUP BY / evidence / detail tail is written once.
"""

# ruff: noqa: S608 - rule SQL is assembled from constants written here, never from user input

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mamori.core import InputError

DATA_SOURCES = ("cloudtrail", "s3-data", "vpc-flow", "dns", "waf")
COLUMNS = (
    "account_id",
    "region",
    "resource_id",
    "actor",
    "first_seen",
    "last_seen",
    "event_count",
    "evidence_ids",
    "detail",
)
EVIDENCE_LIMIT = 20
# ThreatPurpose:ResourceType/ThreatFamily[.Mechanism][!Artifact]
_FINDING_TYPE = re.compile(
    r"^[A-Za-z]+:[A-Za-z0-9]+/[A-Za-z0-9&]+(\.[A-Za-z0-9]+)*(![A-Za-z0-9]+)?$"
)
_TACTIC = re.compile(r"^TA\d{4} [A-Z][A-Za-z ]+$")
_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")


@dataclass(frozen=True)
class Rule:
    finding_type: str  # GuardDuty-style, e.g. "Stealth:IAMUser/CloudTrailLoggingDisabled"
    severity: float  # GuardDuty's 1.0-10.0 scale
    data_source: str  # "cloudtrail" | "s3-data" | "vpc-flow" | "dns" | "waf"
    tactic: str  # MITRE ATT&CK tactic, e.g. "TA0005 Defense Evasion"
    technique_id: str  # e.g. "T1562.008"
    technique: str  # e.g. "Impair Defenses: Disable Cloud Logs"
    title: str
    description: str
    remediation: str
    sql: str  # DuckDB SQL returning COLUMNS
    resource_type: str  # ASFF resource type of resource_id
    # Remediation worked out for one finding from its detail (e.g. a WAF rule to paste),
    # appended to `remediation`; None, or an empty text, adds nothing.
    remediate: Callable[[Any], str | None] | None = None

    def __post_init__(self) -> None:
        problems = []
        if not _FINDING_TYPE.match(self.finding_type):
            problems.append("finding type is not ThreatPurpose:ResourceType/ThreatFamily...")
        if not 1.0 <= self.severity <= 10.0:
            problems.append(f"severity {self.severity} is outside 1.0-10.0")
        if self.data_source not in DATA_SOURCES:
            problems.append(f"data source {self.data_source!r} is not one of {DATA_SOURCES}")
        if not _TACTIC.match(self.tactic):
            problems.append(f"tactic {self.tactic!r} is not 'TAnnnn Name'")
        if not _TECHNIQUE.match(self.technique_id):
            problems.append(f"technique id {self.technique_id!r} is not Tnnnn[.nnn]")
        for name in ("technique", "title", "description", "remediation", "sql", "resource_type"):
            if not getattr(self, name).strip():
                problems.append(f"{name} is empty")
        if problems:
            raise InputError(f"rule {self.finding_type!r}: " + "; ".join(problems))


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add a rule to the registry; a second rule with the same finding type is an error."""
    if rule.finding_type in RULES:
        raise InputError(f"rule {rule.finding_type!r} is registered twice")
    RULES[rule.finding_type] = rule
    return rule


def rules(ids: Iterable[str] | None = None) -> list[Rule]:
    """The registered rules (all, sorted by finding type, or the named ones in the given order)."""
    _load_builtin()
    if ids is None:
        return [RULES[k] for k in sorted(RULES)]
    chosen: list[Rule] = []
    for rule_id in ids:
        rule = RULES.get(rule_id)
        if rule is None:
            close = difflib.get_close_matches(rule_id, list(RULES), n=5, cutoff=0.5)
            hint = f"; did you mean: {', '.join(close)}" if close else ""
            raise InputError(f"unknown detection rule {rule_id!r}{hint}")
        chosen.append(rule)
    return chosen


def _load_builtin() -> None:
    # Importing the package imports every source module, each registering its rules.
    import mamori.detect.rules  # noqa: F401


# ---------------------------------------------------------------------------------------------
# SQL macros (DuckDB). The engine runs these on its connection before any rule. A Spark run
# needs equivalent UDFs under the same names.

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"

MACROS: list[str] = [
    # IPv4 text -> its number; NULL for anything else (IPv6, a service name, garbage).
    # The text is split once (a one-element list bound to a lambda), not once per octet: flow
    # rules call this on every record and four split_part calls cost twice as much.
    f"""CREATE OR REPLACE MACRO ip4_num(ip) AS CASE
        WHEN regexp_full_match(CAST(ip AS VARCHAR), '{_IPV4}') THEN
            list_transform([string_split(CAST(ip AS VARCHAR), '.')], lambda ip4_parts_:
                CAST(ip4_parts_[1] AS BIGINT) * 16777216 + CAST(ip4_parts_[2] AS BIGINT) * 65536
                + CAST(ip4_parts_[3] AS BIGINT) * 256 + CAST(ip4_parts_[4] AS BIGINT))[1]
        END""",
    # An IP inside an intel/trusted entry: numeric range for IPv4, exact text for IPv6.
    """CREATE OR REPLACE MACRO in_net(ip, network, lo, hi) AS CASE
        WHEN lo IS NOT NULL THEN coalesce(ip4_num(ip) BETWEEN lo AND hi, false)
        ELSE lower(CAST(ip AS VARCHAR)) = lower(network)
        END""",
    "CREATE OR REPLACE MACRO is_ip(ip) AS (ip4_num(ip) IS NOT NULL"
    " OR regexp_full_match(CAST(ip AS VARCHAR), '[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*'))",
    # Private, loopback, link-local, carrier-grade NAT (IPv4) and ULA / link-local / loopback (v6).
    # ip4_num is computed once and bound to a lambda: macros expand textually, and DuckDB did
    # not share the seven copies (8x slower on flows).
    """CREATE OR REPLACE MACRO is_private_ip(ip) AS list_transform([ip4_num(ip)], lambda ip4_n_:
        CASE WHEN ip4_n_ IS NOT NULL THEN
            ip4_n_ BETWEEN 167772160 AND 184549375
            OR ip4_n_ BETWEEN 2886729728 AND 2887778303
            OR ip4_n_ BETWEEN 3232235520 AND 3232301055
            OR ip4_n_ BETWEEN 2130706432 AND 2147483647
            OR ip4_n_ BETWEEN 2851995648 AND 2852061183
            OR ip4_n_ BETWEEN 1681915904 AND 1686110207
        ELSE regexp_matches(lower(CAST(ip AS VARCHAR)), '^(f[cd][0-9a-f]{2}:|fe80:|::1$)')
        END)[1]""",
    # The /24 network of an IPv4 address (the "place" of a login); other text as itself.
    r"""CREATE OR REPLACE MACRO net24(ip) AS CASE
        WHEN ip4_num(ip) IS NOT NULL
            THEN regexp_extract(ip, '^([0-9]+\.[0-9]+\.[0-9]+)\.', 1) || '.0/24'
        ELSE lower(CAST(ip AS VARCHAR))
        END""",
    # "a.b.example.com" -> "example.com"; keeps three labels under common two-level suffixes.
    """CREATE OR REPLACE MACRO registrable_domain(name) AS CASE
        WHEN regexp_matches(name, '\\.(co|com|net|org|gov|ac|edu|ne|or|go)\\.[a-z]{2}$')
            THEN regexp_extract(name, '([^.]+\\.[^.]+\\.[^.]+)$', 1)
        WHEN contains(name, '.') THEN regexp_extract(name, '([^.]+\\.[^.]+)$', 1)
        ELSE name
        END""",
    # "a.b.example.com" -> ["a.b.example.com", "b.example.com", "example.com", "com"].
    """CREATE OR REPLACE MACRO dns_suffixes(name) AS list_transform(
        range(1, len(string_split(name, '.')) + 1),
        lambda i: array_to_string(string_split(name, '.')[i:], '.'))""",
    # Shannon entropy of a string in bits per character.
    """CREATE OR REPLACE MACRO str_entropy(s) AS CASE WHEN coalesce(length(s), 0) = 0 THEN 0.0
        ELSE list_sum(list_transform(list_distinct(string_split(s, '')),
            lambda c: -((length(s) - length(replace(s, c, ''))) / length(s))
                * log2((length(s) - length(replace(s, c, ''))) / length(s))))
        END""",
    # The start of the width_us-microsecond window holding t (t itself on a boundary), as
    # date_trunc gives for an hour or a UTC day; integer arithmetic, where date_trunc on a
    # TIMESTAMPTZ goes through the time zone library (7x slower over millions of flows).
    """CREATE OR REPLACE MACRO time_floor(t, width_us) AS make_timestamptz(
        epoch_us(t) - ((epoch_us(t) % width_us) + width_us) % width_us)""",
    # The kind of threat an intel entry names, from its threat label or else its list name.
    """CREATE OR REPLACE MACRO intel_kind(list_name, threat) AS CASE
        WHEN regexp_matches(lower(coalesce(threat, '') || ' ' || coalesce(list_name, '')),
            'guardduty-test') THEN NULL
        WHEN regexp_matches(lower(coalesce(threat, '') || ' ' || coalesce(list_name, '')),
            '(^|[^a-z])tor([^a-z]|exit|$)') THEN 'tor'
        WHEN regexp_matches(lower(coalesce(threat, '') || ' ' || coalesce(list_name, '')),
            'min(ing|er)|crypto|bitcoin|coin') THEN 'mining'
        WHEN regexp_matches(lower(coalesce(threat, '') || ' ' || coalesce(list_name, '')),
            'c2|c&c|command|botnet|backdoor') THEN 'c2'
        WHEN regexp_matches(lower(coalesce(threat, '') || ' ' || coalesce(list_name, '')),
            'phish') THEN 'phishing'
        WHEN regexp_matches(lower(coalesce(threat, '') || ' ' || coalesce(list_name, '')),
            'drop') THEN 'droppoint'
        ELSE 'malicious'
        END""",
]


# ---------------------------------------------------------------------------------------------
# SQL building helpers


def sql_str(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_list(items: Iterable[str]) -> str:
    """`('a', 'b')` for an IN clause."""
    return "(" + ", ".join(sql_str(i) for i in items) + ")"


def not_trusted(ip_column: str) -> str:
    """A condition: the IP is not inside any trusted network (trusted IPs beat threat lists).
    The column must be one of those whose addresses run_tables looks up (`ip_trusted`)."""
    return f"NOT EXISTS (SELECT 1 FROM ip_trusted t WHERE t.ip = {ip_column})"


@dataclass(frozen=True)
class Screen:
    """A necessary condition of a rule's `having`, cheap to test: records are kept only where
    the records among them that pass `where`, grouped by `keys` (coarser than the rule's groups
    or the same), pass `having`. Exact as long as every group that fires passes it, e.g. "at
    least ten REJECT records" for a scan whose groups need twenty records, half rejected."""

    where: str
    keys: tuple[str, ...]
    having: str

    def applied(self, matched: str, ctes: str) -> tuple[str, str]:
        """(ctes, matched) with the screened records as a CTE: few, read by both passes."""
        keys = ", ".join(self.keys)
        on = " AND ".join(f"s.{key} IS NOT DISTINCT FROM c.{key}" for key in self.keys)
        screened = (
            f"screen_keys_ AS (SELECT {keys} FROM ({matched}) r WHERE {self.where}"
            f" GROUP BY {keys} HAVING {self.having}),"
            f" screened_ AS (SELECT s.* FROM ({matched}) s JOIN screen_keys_ c ON {on})"
        )
        return (f"{ctes}, {screened}" if ctes else screened), "SELECT * FROM screened_"


def finding_sql(
    matched: str,
    detail: Mapping[str, str],
    *,
    ctes: str = "",
    having: str | None = None,
    group: Iterable[str] = (),
    prefilter: bool = False,
    distinct: str | None = None,
    pre: Mapping[str, str] | None = None,
    evidence: str = "evidence_id",
    screen: Screen | None = None,
) -> str:
    """Wrap a query of matched records into the contract's columns.

    `matched` must select `account_id, region, resource_id, actor, ts, evidence_id` and any
    columns `detail` (JSON key -> aggregate expression over them) and `having` use; or, instead
    of `evidence_id`, the columns of an `evidence` expression, then built only for the records
    of findings. Extra
    `group` expressions split findings further (e.g. a time window) without being returned;
    with `prefilter` they must be column names of `matched`.

    `prefilter` (with `having`) first finds the groups that pass `having`, then builds evidence
    and detail for those groups only: the same rows, far cheaper when most groups fail (flow
    rules have hundreds of thousands of groups and a handful of findings).

    `distinct` (with `prefilter`) makes that key pass two-level: rows are first reduced to one
    per group and value of the `distinct` column, with the `pre` aggregates (name -> expression)
    beside it, and `having` is written over that: `count(*)` counts distinct values. Exact, and
    about half the time of `count(DISTINCT ...)` over millions of flow records.

    `screen` (with `prefilter`) first keeps only the records whose coarser group passes a
    cheaper test that every firing group passes too (see Screen).
    """
    keys = ["account_id", "region", "resource_id", "actor", *group]
    if screen and having and prefilter:
        ctes, matched = screen.applied(matched, ctes)
    facts = ", ".join(f"{key} := {expr}" for key, expr in detail.items())
    detail_sql = f"to_json(struct_pack({facts}))" if facts else "'{}'"
    if having and prefilter:
        # `matched` is repeated as two subqueries, not one CTE read twice: DuckDB materialises
        # a CTE with two readers, evidence strings and all, while the key pass needs only a few
        # columns. NULL keys form groups too, so the join back matches them null-safely.
        on = " AND ".join(f"m0.{key} IS NOT DISTINCT FROM hk.{key}" for key in keys)
        key_list = ", ".join(keys)
        source = f"({matched}) k"
        if distinct:
            extra = "".join(f", {expr} AS {name}" for name, expr in (pre or {}).items())
            source = (
                f"(SELECT {key_list}, {distinct}{extra} FROM ({matched}) d"
                f" GROUP BY {key_list}, {distinct}) k"
            )
        matched = (
            f"SELECT m0.* FROM ({matched}) m0 JOIN (SELECT {key_list} FROM {source}"
            f" GROUP BY {key_list} HAVING {having}) hk ON {on}"
        )
        having = None
    with_sql = f"WITH {ctes + ', ' if ctes else ''}m AS ({matched})"
    return (
        f"{with_sql}\n"
        "SELECT account_id, region, resource_id, actor,"
        " min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS event_count,"
        # Ties in time are broken by id: the same evidence on every run and every engine.
        f" list_slice(array_agg({evidence} ORDER BY ts ASC NULLS LAST,"
        f" {evidence} ASC NULLS LAST), 1, {EVIDENCE_LIMIT}) AS evidence_ids,"
        f" CAST({detail_sql} AS VARCHAR) AS detail\n"
        f"FROM m GROUP BY {', '.join(keys)}" + (f"\nHAVING {having}" if having else "")
    )


_WINDOW_US = {"minute": 60_000_000, "hour": 3_600_000_000, "day": 86_400_000_000}


def window_start(expr: str, window: str) -> str:
    """The start of the UTC minute, hour or day holding the timestamp `expr`."""
    return f"time_floor({expr}, {_WINDOW_US[window]})"


def distinct_list(expr: str, limit: int = 10) -> str:
    """Detail helper: up to `limit` distinct non-null values, sorted."""
    return f"list_slice(list_sort(list_distinct(array_agg({expr}))), 1, {limit})"


LEARNING_WINDOW = "INTERVAL 1 DAY"
# Baseline rules stay silent during the first day of the data: they have nothing to compare with.
LEARNED = f"(SELECT min(event_time) FROM events) + {LEARNING_WINDOW}"
# The accounts whose logs are being read: the organisation, as far as the data can tell. Granting
# one of them access is internal; any other account is outside.
OWN_ACCOUNTS = "(SELECT list(DISTINCT o.account_id) FROM events o WHERE o.account_id IS NOT NULL)"


def outside_accounts(ids: str) -> str:
    """A condition: the list expression `ids` names an account that is not one of OWN_ACCOUNTS."""
    return f"NOT list_has_all(coalesce({OWN_ACCOUNTS}, []), {ids})"


ACTOR = "coalesce(e.principal_arn, e.principal_name, e.access_key_id, 'unknown')"
RP = "e.request_parameters"


def requested(field: str) -> str:
    """The request's top-level parameter `field` (the resource a call names), else the account:
    a change the request names nothing for is account-wide."""
    return f"coalesce(json_extract_string({RP}, '$.{field}'), e.account_id)"


SUCCESS = "e.error_code IS NULL"


def events_matched(
    where: str,
    resource: str,
    extra: Mapping[str, str] | None = None,
    *,
    source: str = "events e",
) -> str:
    """Matched-records SELECT over CloudTrail `events e`, with the standard columns."""
    cols = "".join(f", {expr} AS {name}" for name, expr in (extra or {}).items())
    return (
        "SELECT e.account_id AS account_id, e.region AS region,"
        f" CAST({resource} AS VARCHAR) AS resource_id, {ACTOR} AS actor, e.event_time AS ts,"
        f" e.event_id AS evidence_id, e.event_name AS event_name, e.source_ip AS source_ip,"
        f" e.user_agent AS user_agent{cols}\nFROM {source}\nWHERE {where}"
    )


EVENT_DETAIL = {
    "event_names": distinct_list("event_name"),
    "source_ips": distinct_list("source_ip"),
    "user_agents": distinct_list("user_agent", 3),
}


def event_rule(
    finding_type: str,
    *,
    where: str,
    resource: str,
    detail: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
    data_source: str = "cloudtrail",
    **meta: Any,
) -> Rule:
    """Register a rule that reports each matching CloudTrail record, grouped per resource."""
    sql = finding_sql(events_matched(where, resource, extra), {**EVENT_DETAIL, **(detail or {})})
    return register(Rule(finding_type=finding_type, data_source=data_source, sql=sql, **meta))


def burst_sql(
    matched: str,
    *,
    metric: str,
    threshold: int,
    detail: Mapping[str, str],
    window: str = "hour",
) -> str:
    """Findings for (resource, actor) time windows whose `metric` reaches `threshold`, unless the
    same actor did about as much on the same resource at least half a day earlier (its
    baseline) or the window falls in the learning period. `matched` is as for `finding_sql`."""
    keys = "account_id, region, resource_id, actor, win"
    ctes = (
        f"r AS (SELECT *, {window_start('ts', window)} AS win FROM ({matched}) x),"
        f" w AS (SELECT {keys}, {metric} AS metric FROM r GROUP BY {keys}),"
        f" hot AS (SELECT * FROM w WHERE w.metric >= {threshold} AND w.win >= {LEARNED}"
        " AND NOT EXISTS (SELECT 1 FROM w p WHERE p.account_id = w.account_id"
        " AND p.resource_id = w.resource_id AND p.actor = w.actor"
        f" AND p.win <= w.win - INTERVAL 12 HOUR AND p.metric >= {max(1, threshold // 2)}))"
    )
    return finding_sql(
        "SELECT r.* FROM r JOIN hot USING (account_id, region, resource_id, actor, win)",
        detail,
        ctes=ctes,
        group=["win"],
    )
