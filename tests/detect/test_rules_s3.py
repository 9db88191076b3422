"""S3 detections: positive cases among benign rows, and look-alikes that stay silent."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.detect.rules_support import ACCOUNT, ALICE, DAY1, DAY3, ev, role_ev, run, summary, warmup

S3 = "s3.amazonaws.com"
BACKUP = f"arn:aws:sts::{ACCOUNT}:assumed-role/backup/nightly"
INTEL = [
    {"network": "192.0.2.64/28", "list_name": "tor-exits", "threat": None},
    {"network": "192.0.2.99", "list_name": "bad", "threat": None},
]


def s3(name: str, bucket: str = "data", **kw: Any) -> dict[str, Any]:
    params = {"bucketName": bucket, **kw.pop("params", {})}
    return ev(name, S3, request_parameters=params, **kw)


def data(name: str, n: int, when: Any, **kw: Any) -> list[dict[str, Any]]:
    return [
        s3(
            name,
            management_event=False,
            event_time=when + timedelta(seconds=20 * i),
            params={"key": f"obj-{i}"},
            **kw,
        )
        for i in range(n)
    ]


def deletes(n: int, when: Any) -> list[dict[str, Any]]:
    return [
        {**r, "principal_arn": BACKUP, "principal_type": "AssumedRole"}
        for r in data("DeleteObject", n, when)
    ]


BPA_OFF = {
    "PublicAccessBlockConfiguration": {
        "BlockPublicAcls": False,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
}
BPA_ON = {
    "PublicAccessBlockConfiguration": dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
}
PUBLIC = {
    "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}
}
SCOPED = {
    "bucketPolicy": {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
            }
        ]
    }
}

CASES: list[tuple[str, list[Any], list[tuple[str, str, int]], list[Any], dict]] = [
    (
        "Policy:S3/BucketBlockPublicAccessDisabled",
        [s3("PutBucketPublicAccessBlock", params=BPA_OFF)],
        [("data", ALICE, 1)],
        [s3("PutBucketPublicAccessBlock", params=BPA_ON)],
        {},
    ),
    (
        "Policy:S3/AccountBlockPublicAccessDisabled",
        [ev("DeleteAccountPublicAccessBlock", S3)],
        [(ACCOUNT, ALICE, 1)],
        [ev("PutAccountPublicAccessBlock", S3, request_parameters=BPA_ON)],
        {},
    ),
    (
        "Policy:S3/BucketAnonymousAccessGranted",
        [s3("PutBucketPolicy", params=PUBLIC)],
        [("data", ALICE, 1)],
        [s3("PutBucketPolicy", params=SCOPED)],
        {},
    ),
    (
        "Policy:S3/BucketPublicAccessGranted",
        [s3("PutBucketAcl", params={"x-amz-acl": ["authenticated-read"]})],
        [("data", ALICE, 1)],
        [s3("PutBucketAcl", params={"x-amz-acl": ["private"]})],
        {},
    ),
    (
        "Stealth:S3/ServerAccessLoggingDisabled",
        [s3("PutBucketLogging", params={"BucketLoggingStatus": {}})],
        [("data", ALICE, 1)],
        [
            s3(
                "PutBucketLogging",
                params={"BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "l"}}},
            )
        ],
        {},
    ),
    (
        "Impact:S3/ObjectDeletion.Unusual",
        deletes(60, DAY3),
        [("data", BACKUP, 60)],
        # The backup role deletes as much every day: its own baseline.
        [*deletes(60, DAY1 + timedelta(hours=2)), *deletes(60, DAY3)],
        {},
    ),
    (
        "Exfiltration:S3/AnomalousBehavior",
        [*data("GetObject", 5, DAY1 + timedelta(hours=1)), *data("GetObject", 120, DAY3)],
        [("data", ALICE, 120)],
        [*data("GetObject", 100, DAY1 + timedelta(hours=1)), *data("GetObject", 120, DAY3)],
        {},
    ),
    (
        "UnauthorizedAccess:S3/TorIPCaller",
        data("GetObject", 2, DAY3, source_ip="192.0.2.70"),
        [("data", ALICE, 2)],
        data("GetObject", 2, DAY3, source_ip="192.0.2.99"),
        {"intel_ip": INTEL},
    ),
    (
        "UnauthorizedAccess:S3/MaliciousIPCaller.Custom",
        data("GetObject", 1, DAY3, source_ip="192.0.2.99"),
        [("data", ALICE, 1)],
        data("GetObject", 1, DAY3, source_ip="192.0.2.70"),
        {"intel_ip": INTEL},
    ),
    (
        "PenTest:S3/KaliLinux",
        data("GetObject", 1, DAY3, user_agent="aws-cli/2 Linux/6.1-kali1"),
        [("data", ALICE, 1)],
        data("GetObject", 1, DAY3, user_agent="aws-cli/2 Linux/6.1"),
        {},
    ),
    (
        "PenTest:S3/ParrotLinux",
        data("GetObject", 1, DAY3, user_agent="boto3 distrib#parrot"),
        [("data", ALICE, 1)],
        data("GetObject", 1, DAY3, user_agent="boto3 distrib#debian"),
        {},
    ),
    (
        "PenTest:S3/PentooLinux",
        data("GetObject", 1, DAY3, user_agent="boto3 pentoo"),
        [("data", ALICE, 1)],
        data("GetObject", 1, DAY3, user_agent="boto3 gentoo"),
        {},
    ),
]
BENIGN = [warmup(), s3("GetBucketAcl", read_only=True), role_ev("ListBuckets", "app", "s1")]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule_finds_the_attack(case: tuple) -> None:
    finding_type, attack, expected, _lookalike, extra = case
    rows = run(finding_type, events=[*BENIGN, *attack], **extra)
    assert summary(rows) == expected
    assert all(json.loads(r["detail"]) for r in rows)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule_ignores_the_lookalike(case: tuple) -> None:
    finding_type, _attack, _expected, lookalike, extra = case
    assert run(finding_type, events=[*BENIGN, *lookalike], **extra) == []
