"""The graph's tables aggregated from normalised log records, in DuckDB SQL.

Runs over whatever the connection's `events`, `flows` and `dns` views hold (the parts not yet
in the graph); `build` merges the result into the stored tables. Each source is first grouped on
its raw columns (a million CloudTrail events hold some tens of thousands of distinct callers,
keys, addresses, agents and APIs per day), so that the classification, the regexes and the fan
out into entities and edges run over those groups, not over every record.

Who acts in a CloudTrail record (an "actor"): its principal (user, role session, root, other
principal, or the AWS service / account when there is no ARN), the role behind a session, and
the access key. Each gets the record's edges (the address it called from, the agent, the account
it acted in, the resources it touched) and its API calls per day, so an access key, a session
and its role each have a whole profile of their own. The caller's address is an actor too, for
its API calls.
"""

# ruff: noqa: S608 - SQL assembled from constants written here

from __future__ import annotations

import duckdb
import pyarrow as pa

from mamori.investigate.tables import ACTIVITY, EDGES, ENTITIES

_DAY_US = 86_400_000_000

# CloudTrail grouped on what the graph needs of a record.
_EVENTS = f"""
CREATE OR REPLACE TEMP TABLE inv_ev_raw AS
SELECT account_id, principal_type, principal_arn, principal_account, session_issuer_arn,
    access_key_id, invoked_by, source_ip, user_agent, event_source, event_name,
    epoch_us(event_time) // {_DAY_US} AS dayn, count(*) AS records,
    count(error_code) AS failures, min(event_time) AS first_seen, max(event_time) AS last_seen
FROM events
GROUP BY ALL
"""
# The principal of a record: its ARN, else the service acting for it, else its account.
_P_KIND = """CASE
    WHEN coalesce(principal_arn, '') <> '' THEN CASE principal_type
        WHEN 'IAMUser' THEN 'user' WHEN 'AssumedRole' THEN 'session' WHEN 'Root' THEN 'root'
        ELSE 'principal' END
    WHEN coalesce(invoked_by, '') <> '' THEN 'service'
    WHEN coalesce(principal_account, '') <> '' THEN 'account'
    END"""
_P_ID = "coalesce(nullif(principal_arn, ''), nullif(invoked_by, ''), nullif(principal_account, ''))"
# A federated user's session is issued by an IAM user, a role session by its role.
_ISSUER_KIND = "CASE WHEN principal_type = 'FederatedUser' THEN 'user' ELSE 'role' END"
_OWNER = "coalesce(nullif(principal_account, ''), account_id)"

_EVENTS_DERIVED = f"""
CREATE OR REPLACE TEMP TABLE inv_ev AS
WITH ips AS (
    SELECT DISTINCT source_ip, lower(source_ip) AS ip FROM inv_ev_raw WHERE is_ip(source_ip)
)
SELECT e.*, ips.ip, {_P_KIND} AS p_kind, {_P_ID} AS p_id, {_OWNER} AS owner
FROM inv_ev_raw e LEFT JOIN ips USING (source_ip)
"""

# The resources a record names: its resources[] and request ARNs (S3 objects counted as their
# bucket), the instances an EC2 request names, the bucket of an S3 request without resources.
_REQUEST_COLUMNS = (
    "account_id, principal_type, principal_arn, principal_account, session_issuer_arn,"
    " access_key_id, invoked_by, error_code, event_time"
)
_RESOURCES = f"""
CREATE OR REPLACE TEMP TABLE inv_res_raw AS
SELECT account_id, principal_type, principal_arn, principal_account, session_issuer_arn,
    access_key_id, invoked_by, res, count(*) AS records, count(error_code) AS failures,
    min(event_time) AS first_seen, max(event_time) AS last_seen
FROM (
    SELECT {_REQUEST_COLUMNS}, unnest(list_distinct(list_transform(resources, lambda r:
        CASE WHEN r LIKE 'arn:%:s3:::%/%' THEN split_part(r, '/', 1) ELSE r END))) AS res
    FROM events WHERE len(resources) > 0
    UNION ALL
    SELECT {_REQUEST_COLUMNS}, unnest(list_distinct(
        regexp_extract_all(request_parameters, '"(i-[0-9a-f]{{8,17}})"', 1))) AS res
    FROM events
    WHERE event_source = 'ec2.amazonaws.com' AND request_parameters LIKE '%"i-%'
    UNION ALL
    SELECT {_REQUEST_COLUMNS},
        'arn:aws:s3:::' || json_extract_string(request_parameters, '$.bucketName')
    FROM events
    WHERE event_source = 's3.amazonaws.com' AND coalesce(len(resources), 0) = 0
        AND request_parameters LIKE '%"bucketName":"%' AND json_valid(request_parameters)
) r
WHERE coalesce(res, '') NOT IN ('', 'arn:aws:s3:::')
GROUP BY ALL
"""
_RESOURCES_DERIVED = f"""
CREATE OR REPLACE TEMP TABLE inv_res AS
WITH kinds AS (
    SELECT res, k AS r_kind, inv_id(res, k) AS r_id
    FROM (SELECT DISTINCT res, inv_kind(res) AS k FROM inv_res_raw) d
)
SELECT e.*, kinds.r_kind, kinds.r_id, {_P_KIND} AS p_kind, {_P_ID} AS p_id, {_OWNER} AS owner
FROM inv_res_raw e JOIN kinds USING (res)
WHERE coalesce(kinds.r_id, '') <> ''
"""


def _actors(source: str, *, with_ip: bool = False) -> str:
    """One row per actor of each row of `source` (a_kind, a_id, a_account, and the row)."""
    parts = [
        f"SELECT p_kind AS a_kind, p_id AS a_id, owner AS a_account, * FROM {source}"
        " WHERE p_id IS NOT NULL",
        f"SELECT {_ISSUER_KIND}, session_issuer_arn, owner, * FROM {source}"
        " WHERE coalesce(session_issuer_arn, '') <> ''",
        f"SELECT 'access_key', access_key_id, owner, * FROM {source}"
        " WHERE coalesce(access_key_id, '') <> ''",
    ]
    if with_ip:
        parts.append(f"SELECT 'ip', ip, NULL, * FROM {source} WHERE ip IS NOT NULL")
    return " UNION ALL ".join(parts)


_AGG = (
    "min(first_seen) AS first_seen, max(last_seen) AS last_seen,"
    " CAST(sum(records) AS BIGINT) AS records, CAST(sum(failures) AS BIGINT) AS failures"
)


def _edge(
    src: tuple[str, str], relation: str, dst: tuple[str, str], source: str, where: str
) -> str:
    return (
        f"SELECT {src[0]} AS src_kind, {src[1]} AS src_id, '{relation}' AS relation,"
        f" {dst[0]} AS dst_kind, {dst[1]} AS dst_id, {_AGG} FROM {source} WHERE {where}"
        " GROUP BY ALL"
    )


_ACTOR = ("a_kind", "a_id")


def _event_edges() -> list[str]:
    actors = f"({_actors('inv_ev')}) a"
    return [
        _edge(
            ("'access_key'", "access_key_id"),
            "owned_by",
            ("p_kind", "p_id"),
            "inv_ev",
            "coalesce(access_key_id, '') <> '' AND p_id IS NOT NULL",
        ),
        _edge(
            ("p_kind", "p_id"),
            "session_of",
            (_ISSUER_KIND, "session_issuer_arn"),
            "inv_ev",
            "coalesce(session_issuer_arn, '') <> '' AND p_id IS NOT NULL",
        ),
        # Instance profile credentials: the session is named after its instance.
        _edge(
            ("p_kind", "p_id"),
            "on_instance",
            ("'instance'", "regexp_extract(p_id, '/(i-[0-9a-f]{8,17})$', 1)"),
            "inv_ev",
            "principal_type = 'AssumedRole' AND regexp_matches(p_id, '/i-[0-9a-f]{8,17}$')",
        ),
        _edge(_ACTOR, "called_from", ("'ip'", "ip"), actors, "ip IS NOT NULL"),
        _edge(
            _ACTOR,
            "used_agent",
            ("'user_agent'", "user_agent"),
            actors,
            "coalesce(user_agent, '') <> ''",
        ),
        _edge(
            _ACTOR,
            "acted_in",
            ("'account'", "account_id"),
            actors,
            "a_kind <> 'access_key' AND coalesce(account_id, '') <> ''"
            " AND NOT (a_kind = 'account' AND a_id = account_id)",
        ),
        _edge(_ACTOR, "touched", ("r_kind", "r_id"), f"({_actors('inv_res')}) a", "true"),
    ]


# VPC flows grouped on their addresses and the interface that logged them. Which side is the
# interface's own: the direction field (v5), else the private side facing a public one; the
# interface is named by its instance where the log says (v5), else by its id.
_FLOWS = """
CREATE OR REPLACE TEMP TABLE inv_fl AS
WITH g AS (
    SELECT account_id, instance_id, interface_id, src_addr, dst_addr, src_scope, dst_scope,
        flow_direction, count(*) AS records, count(*) FILTER (WHERE action = 'REJECT') AS failures,
        min(start_time) AS first_seen, max(coalesce(end_time, start_time)) AS last_seen
    FROM flows
    WHERE coalesce(src_addr, '') NOT IN ('', '-') AND coalesce(dst_addr, '') NOT IN ('', '-')
        AND coalesce(log_status, 'OK') = 'OK'
    GROUP BY ALL
)
SELECT account_id, lower(src_addr) AS src, lower(dst_addr) AS dst, records, failures,
    first_seen, last_seen,
    CASE WHEN flow_direction = 'ingress' THEN 'dst' WHEN flow_direction = 'egress' THEN 'src'
        WHEN dst_scope = 'private' AND src_scope IS DISTINCT FROM 'private' THEN 'dst'
        WHEN src_scope = 'private' AND dst_scope IS DISTINCT FROM 'private' THEN 'src'
        END AS local_side,
    CASE WHEN instance_id LIKE 'i-%' THEN 'instance'
        WHEN coalesce(interface_id, '') NOT IN ('', '-') THEN 'interface' END AS host_kind,
    CASE WHEN instance_id LIKE 'i-%' THEN instance_id ELSE interface_id END AS host_id
FROM g
"""
_HOST = ("host_kind", "host_id")
_WITH_HOST = "host_kind IS NOT NULL AND local_side"


def _flow_edges() -> list[str]:
    return [
        _edge(("'ip'", "src"), "connected_to", _HOST, "inv_fl", f"{_WITH_HOST} = 'dst'"),
        _edge(_HOST, "connected_to", ("'ip'", "dst"), "inv_fl", f"{_WITH_HOST} = 'src'"),
        _edge(
            ("'ip'", "src"),
            "connected_to",
            ("'ip'", "dst"),
            "inv_fl",
            "host_kind IS NULL OR local_side IS NULL",
        ),
        _edge(
            _HOST,
            "has_address",
            ("'ip'", "CASE local_side WHEN 'dst' THEN dst ELSE src END"),
            "inv_fl",
            f"{_WITH_HOST} IS NOT NULL",
        ),
    ]


# Resolver queries by their asker (the instance where the log names it, else the address) and
# the registrable domain; failures are answers other than NOERROR.
_DNS = """
CREATE OR REPLACE TEMP TABLE inv_dns AS
WITH g AS (
    SELECT account_id, instance_id, src_addr, query_name, count(*) AS records,
        count(*) FILTER (WHERE coalesce(rcode, 'NOERROR') <> 'NOERROR') AS failures,
        min(query_time) AS first_seen, max(query_time) AS last_seen
    FROM dns WHERE coalesce(query_name, '') <> ''
    GROUP BY ALL
), names AS (SELECT DISTINCT query_name, registrable_domain(query_name) AS domain FROM g)
SELECT g.account_id, names.domain, lower(g.src_addr) AS src, g.records, g.failures,
    g.first_seen, g.last_seen,
    CASE WHEN g.instance_id LIKE 'i-%' THEN 'instance' WHEN is_ip(g.src_addr) THEN 'ip' END
        AS host_kind,
    CASE WHEN g.instance_id LIKE 'i-%' THEN g.instance_id ELSE lower(g.src_addr) END AS host_id
FROM g JOIN names USING (query_name)
"""


def _dns_edges() -> list[str]:
    return [
        _edge(_HOST, "queried", ("'domain'", "domain"), "inv_dns", "host_kind IS NOT NULL"),
        _edge(
            _HOST,
            "has_address",
            ("'ip'", "src"),
            "inv_dns",
            "host_kind = 'instance' AND is_ip(src)",
        ),
    ]


def _appearances() -> list[str]:
    """(kind, id, account, first, last, records) for every record an entity appears in."""
    cols = "min(first_seen), max(last_seen), CAST(sum(records) AS BIGINT)"
    return [
        f"SELECT a_kind, a_id, max(a_account), {cols} FROM ({_actors('inv_ev', with_ip=True)}) a"
        " GROUP BY a_kind, a_id",
        f"SELECT 'user_agent', user_agent, NULL, {cols} FROM inv_ev"
        " WHERE coalesce(user_agent, '') <> '' GROUP BY user_agent",
        f"SELECT 'account', account_id, account_id, {cols} FROM inv_ev"
        " WHERE coalesce(account_id, '') <> '' GROUP BY account_id",
        f"SELECT r_kind, r_id, max(account_id), {cols} FROM inv_res GROUP BY r_kind, r_id",
        f"SELECT 'ip', src, NULL, {cols} FROM inv_fl GROUP BY src",
        f"SELECT 'ip', dst, NULL, {cols} FROM inv_fl GROUP BY dst",
        f"SELECT host_kind, host_id, max(account_id), {cols} FROM inv_fl"
        " WHERE host_kind IS NOT NULL GROUP BY ALL",
        f"SELECT 'account', account_id, account_id, {cols} FROM inv_fl"
        " WHERE coalesce(account_id, '') <> '' GROUP BY account_id",
        f"SELECT 'domain', domain, NULL, {cols} FROM inv_dns WHERE domain <> '' GROUP BY domain",
        f"SELECT host_kind, host_id, max(account_id), {cols} FROM inv_dns"
        " WHERE host_kind IS NOT NULL GROUP BY ALL",
        f"SELECT 'account', account_id, account_id, {cols} FROM inv_dns"
        " WHERE coalesce(account_id, '') <> '' GROUP BY account_id",
    ]


_ACTIVITY = f"""
SELECT a_kind AS kind, a_id AS id, DATE '1970-01-01' + CAST(dayn AS INTEGER) AS day,
    event_source AS service, event_name AS api, CAST(sum(records) AS BIGINT) AS calls,
    CAST(sum(failures) AS BIGINT) AS failures, min(first_seen) AS first_seen,
    max(last_seen) AS last_seen
FROM ({_actors("inv_ev", with_ip=True)}) a
GROUP BY ALL
"""


def aggregate(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """Entities, edges and API activity of the records in the connection's log views."""
    for statement in (_EVENTS, _EVENTS_DERIVED, _RESOURCES, _RESOURCES_DERIVED, _FLOWS, _DNS):
        con.execute(statement)
    edges_sql = " UNION ALL ".join([*_event_edges(), *_flow_edges(), *_dns_edges()])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE inv_edges AS SELECT * FROM ({edges_sql}) e"
        " WHERE coalesce(src_id, '') <> '' AND coalesce(dst_id, '') <> ''"
    )
    endpoints = (
        "SELECT src_kind, src_id, NULL, first_seen, last_seen, 0 FROM inv_edges"
        " UNION ALL SELECT dst_kind, dst_id, NULL, first_seen, last_seen, 0 FROM inv_edges"
    )
    seen = " UNION ALL ".join([*_appearances(), endpoints])
    entities = con.sql(
        "SELECT kind, id, max(account_id) AS account_id, min(first_seen) AS first_seen,"
        " max(last_seen) AS last_seen, CAST(sum(records) AS BIGINT) AS records"
        f" FROM ({seen}) s(kind, id, account_id, first_seen, last_seen, records)"
        " WHERE coalesce(id, '') <> '' GROUP BY kind, id"
    ).to_arrow_table()
    result = {
        "entities": entities.cast(ENTITIES),
        "edges": con.table("inv_edges").to_arrow_table().cast(EDGES),
        "activity": con.sql(_ACTIVITY).to_arrow_table().cast(ACTIVITY),
    }
    for name in ("inv_ev_raw", "inv_ev", "inv_res_raw", "inv_res", "inv_fl", "inv_dns"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute("DROP TABLE IF EXISTS inv_edges")
    return result
