"""Tiny log files in AWS's delivery layouts, written by the tests themselves."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson

ACCOUNT = "111122223333"
REGION = "eu-west-1"
VPC = "vpc-0abc1234def567890"

CT_DIR = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2024/03/05"
FLOW_DIR = f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2024/03/05"
DNS_DIR = f"AWSLogs/{ACCOUNT}/vpcdnsquerylogs/{VPC}/2024/03/05"
WEB_ACL = "shop-acl"
WAF_DIR = f"AWSLogs/{ACCOUNT}/WAFLogs/{REGION}/{WEB_ACL}/2024/03/05/10/00"

FLOW_V2_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
FLOW_V2_LINES = [
    f"2 {ACCOUNT} eni-0a1 10.0.1.5 203.0.113.9 44321 443 6 10 8400 1709600000 1709600060 ACCEPT OK",
    f"2 {ACCOUNT} eni-0a1 198.51.100.7 10.0.1.5 51515 22 6 3 180 1709600001 1709600061 REJECT OK",
    f"2 {ACCOUNT} eni-0a2 - - - - - - - 1709600002 1709600062 - NODATA",
]
FLOW_V5_HEADER = (
    "instance-id interface-id flow-direction srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport "
    "dstport protocol bytes packets start end action tcp-flags log-status vpc-id traffic-path "
    "version"
)
FLOW_V5_LINES = [
    "i-0123 eni-0b1 egress 10.0.2.8 52.94.1.1 10.0.2.8 52.94.1.1 40000 443 6 5200 12 "
    f"1709600100 1709600160 ACCEPT 19 OK {VPC} 8 5",
    "i-0123 eni-0b1 ingress 52.94.1.1 10.0.2.8 192.0.2.77 10.0.2.8 443 40000 6 900 4 "
    f"1709600100 1709600160 ACCEPT 18 OK {VPC} - 5",
]


def assumed_role_call(index: int = 0, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/alice",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEKEY000001",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/Deployer",
                    "accountId": ACCOUNT,
                    "userName": "Deployer",
                },
                "attributes": {"creationDate": "2024-03-05T09:00:00Z", "mfaAuthenticated": "true"},
            },
        },
        "eventTime": f"2024-03-05T10:{index % 60:02d}:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "AttachRolePolicy",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {
            "roleName": "Deployer",
            "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
        },
        "responseElements": None,
        "eventID": f"evt-{index}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    record.update(extra)
    return record


def s3_data_event() -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/bob",
            "accountId": ACCOUNT,
            "userName": "bob",
            "accessKeyId": "AKIAEXAMPLEKEY000002",
        },
        "eventTime": "2024-03-05T11:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.20",
        "requestParameters": {"bucketName": "payroll", "key": "2024/salaries.csv"},
        "eventID": "evt-s3",
        "readOnly": True,
        "resources": [
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::payroll/2024/salaries.csv"},
            {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::payroll"},
        ],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Data",
        "vpcEndpointId": "vpce-0123",
    }


def dns_entry(name: str = "Example.COM.", **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "version": "1.100000",
        "account_id": ACCOUNT,
        "region": REGION,
        "vpc_id": VPC,
        "query_timestamp": "2024-03-05T12:00:01Z",
        "query_name": name,
        "query_type": "A",
        "query_class": "IN",
        "rcode": "NOERROR",
        "answers": [{"Rdata": "93.184.216.34", "Type": "A", "Class": "IN"}],
        "srcaddr": "10.0.1.5",
        "srcport": "53211",
        "transport": "UDP",
        "srcids": {"instance": "i-0123"},
    }
    entry.update(extra)
    return entry


def waf_entry(**extra: Any) -> dict[str, Any]:
    """A WAF log record as AWS writes it: a request the web ACL let through."""
    entry: dict[str, Any] = {
        "timestamp": 1709632800123,
        "formatVersion": 1,
        "webaclId": f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/{WEB_ACL}/0a1b-2c3d",
        "terminatingRuleId": "Default_Action",
        "terminatingRuleType": "REGULAR",
        "action": "ALLOW",
        "terminatingRuleMatchDetails": [],
        "httpSourceName": "ALB",
        "httpSourceId": f"{ACCOUNT}-app/shop-alb/50dc6c495c0c9188",
        "ruleGroupList": [],
        "rateBasedRuleList": [],
        "nonTerminatingMatchingRules": [],
        "requestHeadersInserted": None,
        "responseCodeSent": None,
        "httpRequest": {
            "clientIp": "198.51.100.7",
            "country": "DE",
            "headers": [
                {"name": "Host", "value": "Shop.Example.com:443"},
                {"name": "user-agent", "value": "curl/8.5.0"},
                {"name": "Referer", "value": "https://example.org/"},
            ],
            "uri": "/products",
            "args": "id=7",
            "httpVersion": "HTTP/2.0",
            "httpMethod": "GET",
            "requestId": "1-65e6f0a0-0123456789abcdef01234567",
        },
        "labels": [{"name": "awswaf:managed:aws:core-rule-set:NoUserAgent_Header"}],
        "ja3Fingerprint": "2aef69b4ba1938c3a400de4188743185",
    }
    entry.update(extra)
    return entry


def cloudtrail_bytes(records: list[Any]) -> bytes:
    return gzip.compress(orjson.dumps({"Records": records}))


def lines_bytes(lines: list[str], *, compress: bool = True) -> bytes:
    data = ("\n".join(lines) + "\n").encode()
    return gzip.compress(data) if compress else data


def dns_bytes(entries: list[dict[str, Any]]) -> bytes:
    return gzip.compress(b"\n".join(orjson.dumps(e) for e in entries) + b"\n")


def put(root: Path, relative: str, data: bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_tree(root: Path) -> dict[str, int]:
    """One small file of each kind in its layout; returns the record count per table."""
    put(
        root,
        f"{CT_DIR}/{ACCOUNT}_CloudTrail_{REGION}_20240305T1000Z_a.json.gz",
        cloudtrail_bytes([assumed_role_call(0), assumed_role_call(1), s3_data_event()]),
    )
    put(
        root,
        f"{FLOW_DIR}/{ACCOUNT}_vpcflowlogs_{REGION}_fl-01_20240305T1000Z_b.log.gz",
        lines_bytes([FLOW_V2_HEADER, *FLOW_V2_LINES]),
    )
    put(
        root,
        f"{DNS_DIR}/{ACCOUNT}_vpcdnsquerylogs_{VPC}_20240305T1000Z_c.log.gz",
        dns_bytes([dns_entry(), dns_entry("evil.example.NET.")]),
    )
    put(
        root,
        f"{WAF_DIR}/{ACCOUNT}_waflogs_{REGION}_{WEB_ACL}_20240305T1000Z_d.log.gz",
        dns_bytes([waf_entry(), waf_entry(action="BLOCK")]),
    )
    return {"events": 3, "flows": 3, "dns": 2, "waf": 2}


def small_world(
    root: Path,
    start: Any,
    scenarios: list[str] | None,
    *,
    days: int = 2,
    events_per_day: int = 150,
    flows_per_day: int = 50,
    dns_per_day: int = 30,
) -> Path:
    """Generated logs of one account and region with `scenarios` planted (None: all of them)."""
    from mamori.detect.generator import generate

    generate(
        root,
        accounts=["111111111111"],
        regions=["us-east-1"],
        start=start,
        days=days,
        events_per_day=events_per_day,
        flows_per_day=flows_per_day,
        dns_per_day=dns_per_day,
        scenarios=scenarios,
    )
    return root
