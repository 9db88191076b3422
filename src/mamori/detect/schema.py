"""The normalised tables every reader writes and every detection reads.

One table per kind of log. Columns that detections use are promoted and typed; the source record
is kept whole in `raw` (JSON text) for evidence, and `source_file` names where it came from. All
times are UTC. Reader, rule and engine code refer to these names only, so a rule written against
them runs on DuckDB and (transpiled) on Spark alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Table:
    name: str
    schema: pa.Schema
    time_column: str
    description: str
    # Columns most rules select on by equality with a value few records have (an API name):
    # their Parquet parts carry Bloom filters, so that DuckDB skips the row groups without it.
    lookup_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)


_TS = pa.timestamp("us", tz="UTC")
_STR = pa.string()

EVENTS = Table(
    "events",
    pa.schema(
        [
            ("event_id", _STR),  # eventID
            ("event_time", _TS),  # eventTime
            ("account_id", _STR),  # recipientAccountId
            ("region", _STR),  # awsRegion
            ("event_source", _STR),  # e.g. iam.amazonaws.com
            ("event_name", _STR),  # e.g. CreateAccessKey
            ("event_type", _STR),  # AwsApiCall, AwsConsoleSignIn, AwsServiceEvent...
            ("read_only", pa.bool_()),
            ("management_event", pa.bool_()),  # False for S3 data events
            ("principal_type", _STR),  # userIdentity.type: Root, IAMUser, AssumedRole, ...
            ("principal_arn", _STR),  # userIdentity.arn
            ("principal_account", _STR),  # userIdentity.accountId
            ("principal_name", _STR),  # userName, or the session issuer's userName
            ("session_issuer_arn", _STR),  # role ARN of an AssumedRole session
            ("session_name", _STR),  # the role session name (last part of the assumed-role ARN)
            ("access_key_id", _STR),
            ("mfa_authenticated", pa.bool_()),  # sessionContext.attributes.mfaAuthenticated
            ("invoked_by", _STR),  # userIdentity.invokedBy (an AWS service)
            ("source_ip", _STR),  # sourceIPAddress (an IP, or a service name)
            ("user_agent", _STR),
            ("error_code", _STR),
            ("error_message", _STR),
            ("request_parameters", _STR),  # JSON text
            ("response_elements", _STR),  # JSON text
            ("additional_event_data", _STR),  # JSON text
            ("resources", pa.list_(_STR)),  # ARNs from resources[] and the request
            ("vpc_endpoint_id", _STR),
            ("source_file", _STR),
            ("raw", _STR),  # the whole record, JSON text
        ]
    ),
    "event_time",
    "CloudTrail management and data events (including S3 data events)",
    lookup_columns=("event_name", "event_source", "event_type", "principal_type", "error_code"),
)

FLOWS = Table(
    "flows",
    pa.schema(
        [
            ("version", pa.int16()),
            ("account_id", _STR),
            ("region", _STR),
            ("interface_id", _STR),
            ("vpc_id", _STR),
            ("subnet_id", _STR),
            ("instance_id", _STR),
            ("src_addr", _STR),
            ("dst_addr", _STR),
            ("src_port", pa.int32()),
            ("dst_port", pa.int32()),
            ("protocol", pa.int16()),  # IANA number: 6 TCP, 17 UDP, 1 ICMP
            ("packets", pa.int64()),
            ("bytes", pa.int64()),
            ("start_time", _TS),
            ("end_time", _TS),
            ("action", _STR),  # ACCEPT | REJECT
            ("log_status", _STR),  # OK | NODATA | SKIPDATA
            ("tcp_flags", pa.int32()),
            ("flow_direction", _STR),  # ingress | egress (v5)
            ("pkt_src_addr", _STR),
            ("pkt_dst_addr", _STR),
            # What src_addr / dst_addr are: "private" (RFC 1918, loopback, link-local, CGNAT;
            # IPv6 ULA, link-local, loopback), "public", or NULL for what is not an address.
            # Worked out once at ingest: every network rule asks, and in SQL it cost a regex
            # and a parse per record per rule.
            ("src_scope", _STR),
            ("dst_scope", _STR),
            ("source_file", _STR),
            ("raw", _STR),  # the original line
        ]
    ),
    "start_time",
    "VPC Flow Logs records, versions 2 to 5, in any field order",
)

DNS = Table(
    "dns",
    pa.schema(
        [
            ("query_time", _TS),
            ("account_id", _STR),
            ("region", _STR),
            ("vpc_id", _STR),
            ("query_name", _STR),  # lower-cased, without the trailing dot
            ("query_type", _STR),  # A, AAAA, TXT...
            ("query_class", _STR),
            ("rcode", _STR),  # NOERROR, NXDOMAIN...
            ("answers", pa.list_(_STR)),  # the answers' Rdata
            ("src_addr", _STR),
            ("src_port", pa.int32()),
            ("transport", _STR),
            ("instance_id", _STR),  # srcids.instance
            ("source_file", _STR),
            ("raw", _STR),
        ]
    ),
    "query_time",
    "Route 53 Resolver query logs",
)

WAF = Table(
    "waf",
    pa.schema(
        [
            ("request_time", _TS),  # timestamp (epoch milliseconds)
            ("account_id", _STR),  # from webaclId's ARN, else the delivery path
            ("region", _STR),  # from webaclId's ARN (us-east-1 for CloudFront's global ACLs)
            ("web_acl", _STR),  # the web ACL's name
            ("web_acl_id", _STR),  # webaclId: the web ACL's ARN
            ("source_name", _STR),  # httpSourceName: CF, ALB, APIGW, APPSYNC, COGNITOIDP...
            ("source_id", _STR),  # httpSourceId: the distribution, load balancer or stage
            ("action", _STR),  # ALLOW | BLOCK | CAPTCHA | CHALLENGE
            ("terminating_rule_id", _STR),  # "Default_Action" when no rule terminated
            ("terminating_rule_type", _STR),  # REGULAR | RATE_BASED | GROUP | MANAGED_RULE_GROUP
            ("client_ip", _STR),  # httpRequest.clientIp
            ("country", _STR),  # httpRequest.country (ISO 3166 alpha-2; "-" when unknown)
            ("http_method", _STR),
            ("host", _STR),  # the Host header, lower-cased, without a port
            ("uri", _STR),  # the path, without the query string
            ("args", _STR),  # the query string
            ("http_version", _STR),
            ("user_agent", _STR),  # the User-Agent header
            ("referrer", _STR),  # the Referer header
            ("labels", pa.list_(_STR)),  # labels[].name, e.g. awswaf:managed:aws:sql-database:...
            # Rules that matched with a Count action (the top level's and rule groups'
            # nonTerminatingMatchingRules, and excludedRules), as "ruleId" or "group/ruleId".
            ("counted_rules", pa.list_(_STR)),
            ("response_code", pa.int32()),  # responseCodeSent: set by custom responses only
            ("request_id", _STR),  # httpRequest.requestId
            ("ja3", _STR),  # ja3Fingerprint
            ("source_file", _STR),
            ("raw", _STR),  # the whole record, JSON text
        ]
    ),
    "request_time",
    "AWS WAF web ACL traffic logs",
)

TABLES = {t.name: t for t in (EVENTS, FLOWS, DNS, WAF)}

# Threat-intelligence tables the engine registers beside the logs.
INTEL_IP = pa.schema([("network", _STR), ("list_name", _STR), ("threat", _STR)])
INTEL_DOMAIN = pa.schema([("domain", _STR), ("list_name", _STR), ("threat", _STR)])
TRUSTED_IP = pa.schema([("network", _STR), ("list_name", _STR)])
