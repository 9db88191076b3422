"""CloudTrail detections: each rule finds its attack among benign rows and stays silent on a
look-alike."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.detect.rules_support import (
    ACCOUNT,
    ALICE,
    DAY1,
    DAY3,
    OFFICE_IP,
    OTHER_ACCOUNT,
    ev,
    role_ev,
    run,
    summary,
    warmup,
)

CT = "cloudtrail.amazonaws.com"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
TOR_IP = "192.0.2.66"
BAD_IP = "192.0.2.99"
INTEL = [
    {"network": "192.0.2.64/28", "list_name": "tor-exits", "threat": None},
    {"network": BAD_IP, "list_name": "custom-bad", "threat": "malicious-host"},
]
INSTANCE = "i-0123456789abcdef0"
BENIGN = [warmup(), ev("ListUsers", read_only=True), ev("GetUser", read_only=True)]


def _admin_attach(user: str, **kw: Any) -> dict[str, Any]:
    return ev(
        "AttachUserPolicy",
        request_parameters={
            "userName": user,
            "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
        },
        **kw,
    )


def _reads(n: int, when: Any, principal: str = ALICE) -> list[dict[str, Any]]:
    return [
        ev(
            "GetSecretValue",
            "secretsmanager.amazonaws.com",
            request_parameters={"secretId": f"prod/db-{i}"},
            event_time=when + timedelta(minutes=i),
            principal_arn=principal,
        )
        for i in range(n)
    ]


def _denied(n: int, when: Any) -> list[dict[str, Any]]:
    names = ["ListBuckets", "DescribeInstances", "ListUsers", "ListRoles", "GetAccountSummary"]
    return [
        ev(names[i % 5], error_code="AccessDenied", event_time=when + timedelta(minutes=i))
        for i in range(n)
    ]


def _sg(cidr: str, port: int) -> dict[str, Any]:
    return ev(
        "AuthorizeSecurityGroupIngress",
        "ec2.amazonaws.com",
        request_parameters={
            "groupId": "sg-0abc",
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": port,
                        "toPort": port,
                        "ipRanges": {"items": [{"cidrIp": cidr}]},
                    }
                ]
            },
        },
    )


def _login(ip: str, when: Any, mfa: str = "Yes") -> dict[str, Any]:
    return ev(
        "ConsoleLogin",
        "signin.amazonaws.com",
        event_type="AwsConsoleSignIn",
        source_ip=ip,
        event_time=when,
        response_elements={"ConsoleLogin": "Success"},
        additional_event_data={"MFAUsed": mfa},
    )


def _instance_call(ip: str, when: Any) -> dict[str, Any]:
    return role_ev("DescribeInstances", "app-role", INSTANCE, source_ip=ip, event_time=when)


# (finding type, attack rows, expected (resource, actor, count), look-alike rows, extra tables)
CASES: list[tuple[str, list[dict[str, Any]], list[tuple[str, str, int]], list[Any], dict]] = [
    (
        "Stealth:IAMUser/CloudTrailLoggingDisabled",
        [ev("StopLogging", CT, request_parameters={"name": "org-trail"})],
        [("org-trail", ALICE, 1)],
        [ev("UpdateTrail", CT, request_parameters={"name": "org-trail", "s3KeyPrefix": "x"})],
        {},
    ),
    (
        "Stealth:IAMUser/CloudTrailConfigurationWeakened",
        [
            ev(
                "PutEventSelectors",
                CT,
                request_parameters={
                    "trailName": "org-trail",
                    "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": False}],
                },
            )
        ],
        [("org-trail", ALICE, 1)],
        [
            ev(
                "PutEventSelectors",
                CT,
                request_parameters={
                    "trailName": "org-trail",
                    "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": True}],
                },
            ),
            ev("UpdateTrail", CT, request_parameters={"name": "org-trail", "s3KeyPrefix": "y"}),
        ],
        {},
    ),
    (
        "Stealth:IAMUser/FlowLogsDeleted",
        [
            ev(
                "DeleteFlowLogs",
                "ec2.amazonaws.com",
                request_parameters={"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0a1b"}}},
            )
        ],
        [("fl-0a1b", ALICE, 1)],
        [ev("DescribeFlowLogs", "ec2.amazonaws.com", read_only=True)],
        {},
    ),
    (
        "Stealth:IAMUser/DNSQueryLoggingDeleted",
        [
            ev(
                "DeleteResolverQueryLogConfig",
                "route53resolver.amazonaws.com",
                request_parameters={"resolverQueryLogConfigId": "rqlc-0abc12"},
            )
        ],
        [("rqlc-0abc12", ALICE, 1)],
        [ev("CreateResolverQueryLogConfig", "route53resolver.amazonaws.com")],
        {},
    ),
    (
        "Stealth:IAMUser/GuardDutyDisabled",
        [ev("DeleteDetector", "guardduty.amazonaws.com", request_parameters={"detectorId": "d1"})],
        [("d1", ALICE, 1)],
        [
            ev(
                "UpdateDetector",
                "guardduty.amazonaws.com",
                request_parameters={"detectorId": "d1", "enable": True},
            )
        ],
        {},
    ),
    (
        "Stealth:IAMUser/SecurityHubDisabled",
        [ev("DisableSecurityHub", "securityhub.amazonaws.com")],
        [(ACCOUNT, ALICE, 1)],
        [ev("EnableSecurityHub", "securityhub.amazonaws.com")],
        {},
    ),
    (
        "Stealth:IAMUser/ConfigRecorderStopped",
        [
            ev(
                "StopConfigurationRecorder",
                "config.amazonaws.com",
                request_parameters={"configurationRecorderName": "default"},
            )
        ],
        [("default", ALICE, 1)],
        [ev("StopConfigurationRecorder", "config.amazonaws.com", error_code="AccessDenied")],
        {},
    ),
    (
        "Stealth:IAMUser/PasswordPolicyChange",
        [ev("UpdateAccountPasswordPolicy", request_parameters={"minimumPasswordLength": 6})],
        [(ACCOUNT, ALICE, 1)],
        [
            ev(
                "UpdateAccountPasswordPolicy",
                request_parameters={
                    "minimumPasswordLength": 16,
                    "requireSymbols": True,
                    "requireNumbers": True,
                    "requireUppercaseCharacters": True,
                    "requireLowercaseCharacters": True,
                },
            )
        ],
        {},
    ),
    (
        "Stealth:IAMUser/LogGroupDeleted",
        [ev("DeleteLogGroup", "logs.amazonaws.com", request_parameters={"logGroupName": "/app"})],
        [("/app", ALICE, 1)],
        [ev("CreateLogGroup", "logs.amazonaws.com", request_parameters={"logGroupName": "/app"})],
        {},
    ),
    (
        "Policy:IAMUser/RootCredentialUsage",
        [ev("ListBuckets", "s3.amazonaws.com", principal_type="Root", principal_arn=ROOT)],
        [(ROOT, ROOT, 1)],
        [
            ev(
                "Decrypt",
                "kms.amazonaws.com",
                principal_type="Root",
                principal_arn=ROOT,
                invoked_by="cloudtrail.amazonaws.com",
            )
        ],
        {},
    ),
    (
        "Policy:IAMUser/ConsoleLoginWithoutMFA",
        [_login(OFFICE_IP, DAY3, mfa="No")],
        [(ALICE, ALICE, 1)],
        [_login(OFFICE_IP, DAY3, mfa="Yes")],
        {},
    ),
    (
        "InitialAccess:IAMUser/AnomalousBehavior",
        [_login(OFFICE_IP, DAY1), _login(OFFICE_IP, DAY3), _login("203.0.113.50", DAY3)],
        [(ALICE, ALICE, 1)],
        # Same /24 as before: not a new place; a first-ever login has no baseline.
        [_login(OFFICE_IP, DAY1), _login("198.51.100.77", DAY3)],
        {},
    ),
    (
        "UnauthorizedAccess:IAMUser/TorIPCaller",
        [ev("ListRoles", source_ip=TOR_IP), ev("ListUsers", source_ip=TOR_IP)],
        [(ALICE, ALICE, 2)],
        [ev("ListRoles", source_ip="192.0.2.200")],
        {"intel_ip": INTEL},
    ),
    (
        "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
        [ev("ListRoles", source_ip=BAD_IP)],
        [(ALICE, ALICE, 1)],
        [ev("ListRoles", source_ip=TOR_IP)],  # Tor has its own type
        {"intel_ip": INTEL},
    ),
    (
        "PenTest:IAMUser/KaliLinux",
        [ev("ListUsers", user_agent="aws-cli/2.9 Python/3.11 Linux/6.0.0-kali3-amd64")],
        [(ALICE, ALICE, 1)],
        [ev("ListUsers", user_agent="Boto3/1.34 md/Botocore#1.34 ua/2.0 os/linux#kalium")],
        {},
    ),
    (
        "PenTest:IAMUser/ParrotLinux",
        [ev("ListUsers", user_agent="aws-cli/2.9 Linux/6.1 distrib#parrot.5")],
        [(ALICE, ALICE, 1)],
        [ev("ListUsers", user_agent="aws-cli/2.9 Linux/6.1 distrib#parrotfish")],
        {},
    ),
    (
        "PenTest:IAMUser/PentooLinux",
        [ev("ListUsers", user_agent="aws-cli/2.9 Linux/6.1-pentoo")],
        [(ALICE, ALICE, 1)],
        [ev("ListUsers", user_agent="aws-cli/2.9 Linux/6.1-gentoo")],
        {},
    ),
    (
        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
        [
            _instance_call("54.1.2.3", DAY3),
            _instance_call("54.1.2.3", DAY3 + timedelta(minutes=5)),
            _instance_call("203.0.113.9", DAY3 + timedelta(minutes=9)),
        ],
        [
            (
                f"ASIA{INSTANCE.upper()[:12]}",
                f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/{INSTANCE}",
                1,
            )
        ],
        # Its own IP, then a private address (a VPC endpoint path): not outside.
        [_instance_call("54.1.2.3", DAY3), _instance_call("10.0.3.4", DAY3 + timedelta(minutes=3))],
        {},
    ),
    (
        "Persistence:IAMUser/UserPermissions",
        [
            ev("CreateAccessKey", request_parameters={"userName": "bob"}),
            ev("CreateUser", request_parameters={"userName": "backdoor"}),
            _admin_attach("backdoor"),
            ev(
                "UpdateAssumeRolePolicy",
                request_parameters={
                    "roleName": "ops",
                    "policyDocument": json.dumps(
                        {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                                    "Action": "sts:AssumeRole",
                                }
                            ]
                        }
                    ),
                },
            ),
        ],
        [
            (f"arn:aws:iam::{ACCOUNT}:role/ops", ALICE, 1),
            (f"arn:aws:iam::{ACCOUNT}:user/backdoor", ALICE, 1),
            (f"arn:aws:iam::{ACCOUNT}:user/bob", ALICE, 1),
        ],
        [
            ev("CreateAccessKey", request_parameters={"userName": "alice"}),
            ev(
                "UpdateAssumeRolePolicy",
                request_parameters={
                    "roleName": "ops",
                    "policyDocument": json.dumps(
                        {"Statement": [{"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
                    ),
                },
            ),
        ],
        {},
    ),
    (
        "PrivilegeEscalation:IAMUser/AdministrativePermissions",
        [_admin_attach("carol")],
        [("arn:aws:iam::aws:policy/AdministratorAccess", ALICE, 1)],
        [
            ev(
                "AttachUserPolicy",
                request_parameters={
                    "userName": "carol",
                    "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                },
            )
        ],
        {},
    ),
    (
        "CredentialAccess:IAMUser/AnomalousBehavior",
        _reads(12, DAY3),
        [(ALICE, ALICE, 12)],
        # The same volume every day (a batch job) is its baseline.
        [*_reads(12, DAY1 + timedelta(hours=1)), *_reads(12, DAY3)],
        {},
    ),
    (
        "Exfiltration:IAMUser/AnomalousBehavior",
        [
            ev(
                "ModifySnapshotAttribute",
                "ec2.amazonaws.com",
                request_parameters={
                    "snapshotId": "snap-0abc",
                    "createVolumePermission": {"add": {"items": [{"userId": OTHER_ACCOUNT}]}},
                },
            ),
            ev(
                "ModifyDBSnapshotAttribute",
                "rds.amazonaws.com",
                request_parameters={
                    "dBSnapshotIdentifier": "db-snap",
                    "attributeName": "restore",
                    "valuesToAdd": ["all"],
                },
            ),
        ],
        [("db-snap", ALICE, 1), ("snap-0abc", ALICE, 1)],
        [
            ev(
                "ModifySnapshotAttribute",
                "ec2.amazonaws.com",
                request_parameters={
                    "snapshotId": "snap-0abc",
                    "createVolumePermission": {"remove": {"items": [{"userId": OTHER_ACCOUNT}]}},
                },
            )
        ],
        {},
    ),
    (
        "Policy:EC2/SecurityGroupOpenToWorld",
        [_sg("0.0.0.0/0", 22)],
        [("sg-0abc", ALICE, 1)],
        [_sg("0.0.0.0/0", 443), _sg("10.0.0.0/8", 22)],
        {},
    ),
    (
        "Discovery:IAMUser/AnomalousBehavior",
        _denied(25, DAY3),
        [(ALICE, ALICE, 25)],
        [ev("GetObject", error_code="AccessDenied")] * 30,  # one call retried
        {},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule_finds_the_attack(case: tuple) -> None:
    finding_type, attack, expected, _lookalike, extra = case
    rows = run(finding_type, events=[*BENIGN, *attack], **extra)
    assert summary(rows) == expected
    assert all(r["account_id"] == ACCOUNT and r["first_seen"] <= r["last_seen"] for r in rows)
    assert all(0 < len(r["evidence_ids"]) <= 20 and json.loads(r["detail"]) for r in rows)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule_ignores_the_lookalike(case: tuple) -> None:
    finding_type, _attack, _expected, lookalike, extra = case
    assert run(finding_type, events=[*BENIGN, *lookalike], **extra) == []


def test_trusted_ip_beats_threat_list() -> None:
    rows = run(
        "UnauthorizedAccess:IAMUser/TorIPCaller",
        events=[*BENIGN, ev("ListRoles", source_ip=TOR_IP)],
        intel_ip=INTEL,
        trusted=[{"network": "192.0.2.64/30", "list_name": "pentest-firm"}],
    )
    assert rows == []


def test_evidence_ids_are_capped_at_twenty() -> None:
    rows = run(
        "Stealth:IAMUser/LogGroupDeleted",
        events=[
            ev("DeleteLogGroup", "logs.amazonaws.com", request_parameters={"logGroupName": "/a"})
            for _ in range(30)
        ],
    )
    assert rows[0]["event_count"] == 30
    assert len(rows[0]["evidence_ids"]) == 20
