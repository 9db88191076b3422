"""Route 53 Resolver query log rules: lookups of domains on threat lists (or any parent of
them) and of the GuardDuty tester's canary domains, DGA-like names and DNS tunnelling."""

# ruff: noqa: S608 - rule SQL is assembled from constants written here, never from user input

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mamori.detect.rules.base import Rule, distinct_list, finding_sql, register, sql_str

# The domains amazon-guardduty-tester queries to produce each finding type (names only).
CANARY_DOMAINS: dict[str, str] = {
    "guarddutyc2activityb.com": "c2",
    "c2.guarddutyc2activityb.com": "c2",
    "crypto.guarddutyc2activityb.com": "mining",
    "abused-rep.guarddutyc2activityb.com": "abused-rep",
    "crypto-rep.guarddutyc2activityb.com": "mining-rep",
    "malicious-rep.guarddutyc2activityb.com": "malicious",
    "suspicious-rep.guarddutyc2activityb.com": "suspicious-rep",
    "guarddutydroppointactivity.com": "droppoint",
    "guarddutyblackholeactivity.com": "blackhole",
    "guarddutyphishingactivity.com": "phishing",
    "guarddutydrivebyactivity.com": "driveby",
    "guarddutydgaactivity.com": "dga",
}
_CANARIES = " UNION ALL ".join(
    f"SELECT {sql_str(d)} AS domain, 'guardduty-tester' AS list_name, {sql_str(k)} AS kind"
    for d, k in CANARY_DOMAINS.items()
)
# Each query name matched to its most specific listed domain (itself or a parent).
_MATCH_CTES = (
    "known AS (SELECT lower(domain) AS domain, list_name, intel_kind(list_name, threat) AS kind"
    f" FROM intel_domain UNION ALL {_CANARIES}),"
    " names AS (SELECT DISTINCT query_name FROM dns WHERE query_name IS NOT NULL),"
    " sfx AS (SELECT n.query_name, s.suffix FROM names n,"
    " unnest(dns_suffixes(n.query_name)) AS s(suffix)),"
    " best AS (SELECT sfx.query_name, arg_max(k.kind, length(k.domain)) AS kind,"
    " arg_max(k.domain, length(k.domain)) AS listed, arg_max(k.list_name, length(k.domain))"
    " AS list_name FROM sfx JOIN known k ON k.domain = sfx.suffix WHERE k.kind IS NOT NULL"
    " GROUP BY sfx.query_name)"
)
_RESOURCE = "coalesce(q.instance_id, q.src_addr)"


def dns_matched(where: str, *, join: str = "", extra: Mapping[str, str] | None = None) -> str:
    cols = "".join(f", {expr} AS {name}" for name, expr in (extra or {}).items())
    return (
        "SELECT q.account_id AS account_id, q.region AS region,"
        f" CAST({_RESOURCE} AS VARCHAR) AS resource_id, q.src_addr AS actor, q.query_time AS ts,"
        " concat(q.src_addr, '?', q.query_name, '/', coalesce(q.query_type, ''), '@',"
        " CAST(q.query_time AS VARCHAR)) AS evidence_id, q.query_name AS query_name,"
        f" registrable_domain(q.query_name) AS domain{cols}\nFROM dns q {join}\nWHERE {where}"
    )


def dns_rule(
    finding_type: str,
    *,
    sql: str,
    **meta: Any,
) -> Rule:
    return register(Rule(finding_type=finding_type, data_source="dns", sql=sql, **meta))


_DETAIL = {"domains": distinct_list("domain"), "queries": distinct_list("query_name", 5)}
_FIX = "Isolate the instance, find the process making the lookups, and rebuild from a clean image."


def _listed(
    finding_type: str, kinds: tuple[str, ...], technique: tuple[str, str, str], **meta: Any
) -> None:
    kind_list = ", ".join(sql_str(k) for k in kinds)
    dns_rule(
        finding_type,
        sql=finding_sql(
            dns_matched(
                f"b.kind IN ({kind_list})",
                join="JOIN best b ON b.query_name = q.query_name",
                extra={"listed": "b.listed", "list_name": "b.list_name"},
            ),
            {**_DETAIL, "listed": distinct_list("listed"), "lists": distinct_list("list_name")},
            ctes=_MATCH_CTES,
        ),
        tactic=technique[0],
        technique_id=technique[1],
        technique=technique[2],
        resource_type="AwsEc2Instance",
        remediation=_FIX,
        **meta,
    )


_C2 = ("TA0011 Command and Control", "T1071.004", "Application Layer Protocol: DNS")
_IMPACT = ("TA0040 Impact", "T1496", "Resource Hijacking")
_listed(
    "Backdoor:EC2/C&CActivity.B!DNS",
    ("c2",),
    _C2,
    severity=8.0,
    title="Instance looked up a command-and-control domain",
    description="An instance queried a domain listed as a command-and-control server.",
)
_listed(
    "CryptoCurrency:EC2/BitcoinTool.B!DNS",
    ("mining",),
    _IMPACT,
    severity=5.0,
    title="Instance looked up a cryptocurrency mining domain",
    description="An instance queried a domain associated with cryptocurrency mining.",
)
_listed(
    "Trojan:EC2/PhishingDomainRequest!DNS",
    ("phishing",),
    _C2,
    severity=8.0,
    title="Instance looked up a phishing domain",
    description="An instance queried a domain involved in phishing.",
)
_listed(
    "Trojan:EC2/DropPoint!DNS",
    ("droppoint",),
    ("TA0010 Exfiltration", "T1041", "Exfiltration Over C2 Channel"),
    severity=5.0,
    title="Instance looked up a malware drop point",
    description="An instance queried a domain known to hold data stolen by malware.",
)
_listed(
    "Trojan:EC2/BlackholeTraffic!DNS",
    ("blackhole",),
    _C2,
    severity=5.0,
    title="Instance looked up a black-holed domain",
    description="An instance queried a domain whose traffic is redirected to a black hole.",
)
_listed(
    "Trojan:EC2/DriveBySourceTraffic!DNS",
    ("driveby",),
    ("TA0001 Initial Access", "T1189", "Drive-by Compromise"),
    severity=5.0,
    title="Instance looked up a drive-by download domain",
    description="An instance queried a domain involved in drive-by download attacks.",
)
_listed(
    "Trojan:EC2/DGADomainRequest.C!DNS",
    ("dga",),
    ("TA0011 Command and Control", "T1568.002", "Dynamic Resolution: Domain Generation Algorithms"),
    severity=8.0,
    title="Instance looked up a listed algorithmically generated domain",
    description="An instance queried a domain listed as generated by malware.",
)
_listed(
    "Impact:EC2/AbusedDomainRequest.Reputation",
    ("abused-rep",),
    _IMPACT,
    severity=5.0,
    title="Instance looked up a domain with an abuse reputation",
    description="An instance queried a low-reputation domain associated with abuse.",
)
_listed(
    "Impact:EC2/BitcoinDomainRequest.Reputation",
    ("mining-rep",),
    _IMPACT,
    severity=8.0,
    title="Instance looked up a low-reputation cryptocurrency domain",
    description="An instance queried a low-reputation domain associated with cryptocurrency.",
)
_listed(
    "Impact:EC2/MaliciousDomainRequest.Reputation",
    ("malicious",),
    _IMPACT,
    severity=8.0,
    title="Instance looked up a domain on a threat list",
    description="An instance queried a domain on a threat list loaded (or with a known "
    "malicious reputation).",
)
_listed(
    "Impact:EC2/SuspiciousDomainRequest.Reputation",
    ("suspicious-rep",),
    _IMPACT,
    severity=2.0,
    title="Instance looked up a suspicious domain",
    description="An instance queried a low-reputation domain that looks suspicious.",
)

# Infrastructure whose names are machine-made by design.
_BENIGN_SUFFIXES = (
    "amazonaws.com",
    "aws",
    "cloudfront.net",
    "akamaiedge.net",
    "akamai.net",
    "azureedge.net",
    "googleusercontent.com",
    "gvt1.com",
    "in-addr.arpa",
    "ip6.arpa",
    "internal",
)
_NOT_INFRA = " AND ".join(
    f"NOT (q.query_name = {sql_str(s)} OR q.query_name LIKE {sql_str('%.' + s)})"
    for s in _BENIGN_SUFFIXES
)
# The label just left of the public suffix, e.g. "xkqjzv7tpl" in "a.xkqjzv7tpl.com".
_LABEL = "split_part(registrable_domain(q.query_name), '.', 1)"
_DGA_LIKE = (
    f"length({_LABEL}) >= 10 AND str_entropy({_LABEL}) >= 3.0 AND ("
    f"length(regexp_replace({_LABEL}, '[aeiouy]', '', 'g')) >= 0.75 * length({_LABEL})"
    f" OR regexp_matches({_LABEL}, '[bcdfghjklmnpqrstvwxz]{{5,}}')"
    f" OR regexp_matches({_LABEL}, '[0-9].*[a-z].*[0-9]'))"
)
dns_rule(
    "Trojan:EC2/DGADomainRequest.B",
    sql=finding_sql(
        dns_matched(f"{_NOT_INFRA} AND {_DGA_LIKE}"), _DETAIL, having="count(DISTINCT domain) >= 3"
    ),
    severity=8.0,
    tactic="TA0011 Command and Control",
    technique_id="T1568.002",
    technique="Dynamic Resolution: Domain Generation Algorithms",
    title="Instance looked up algorithmically generated domains",
    description="An instance queried three or more different domains whose names look "
    "machine-generated (long, high-entropy, few vowels), as malware does to find its server.",
    remediation=_FIX,
    resource_type="AwsEc2Instance",
)

# Data carried in the name: a long high-entropy label, or very many distinct names under one
# domain from one instance.
_SUB = "regexp_replace(q.query_name, '\\.?' || registrable_domain(q.query_name) || '$', '')"
_LONG_LABEL = (
    f"list_max(list_transform(string_split({_SUB}, '.'), lambda l: CASE WHEN length(l) >= 30"
    " AND str_entropy(l) >= 3.5 THEN 1 ELSE 0 END))"
)
dns_rule(
    "Trojan:EC2/DNSDataExfiltration",
    sql=finding_sql(
        dns_matched(_NOT_INFRA, extra={"tunnel": _LONG_LABEL}),
        {**_DETAIL, "distinct_names": "count(DISTINCT query_name)"},
        group=("domain",),
        having="sum(tunnel) >= 5 OR count(DISTINCT query_name) >= 200",
    ),
    severity=8.0,
    tactic="TA0010 Exfiltration",
    technique_id="T1048.003",
    technique="Exfiltration Over Alternative Protocol: Exfiltration Over Unencrypted "
    "Non-C2 Protocol",
    title="Instance sending data in DNS queries",
    description="An instance queried one domain with many long, high-entropy labels or a very "
    "large number of distinct names, the pattern of data encoded into DNS lookups.",
    remediation=_FIX,
    resource_type="AwsEc2Instance",
)
