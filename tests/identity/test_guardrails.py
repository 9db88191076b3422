"""SCP guardrails: the ceiling an account's SCPs leave, and Control Tower's preventive controls
found by probes (present, missing, present with an exempted administration role)."""

from __future__ import annotations

from typing import Any

import pytest

from mamori.core import ComplianceStatus, SeverityLabel
from mamori.identity.catalog import catalog
from mamori.identity.guardrail_controls import CONTROLS
from mamori.identity.guardrails import AccountGuardrails, guardrail_findings, guardrails
from mamori.identity.model import (
    IdentityModel,
    OrgAccount,
    Organization,
    PolicyDoc,
    model_from_snapshot,
)
from mamori.inventory import GLOBAL, Snapshot
from mamori.inventory.snapshot import unavailable

MGMT, DEV, PROD = "111111111111", "222222222222", "333333333333"
ROOT, OU = "r-ab12", "ou-ab12-workload"
ADMIN_ROLE = "arn:aws:iam::*:role/PlatformAdmin"
FEW = [
    "s3:GetObject",
    "s3:PutObject",
    "ec2:RunInstances",
    "iam:CreateUser",
    "iam:PassRole",
    "organizations:LeaveOrganization",
    "sts:AssumeRole",
]


def scp(name: str, *statements: dict[str, Any]) -> PolicyDoc:
    arn = f"arn:aws:organizations::{MGMT}:policy/o-abc/service_control_policy/p-{name}"
    return PolicyDoc(
        arn, name, arn, "scp", {"Version": "2012-10-17", "Statement": list(statements)}
    )


def deny(actions: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resource, **extra}


FULL = scp("FullAWSAccess", {"Effect": "Allow", "Action": "*", "Resource": "*"})
EXEMPT_ADMIN = {"ArnNotLike": {"aws:PrincipalArn": ADMIN_ROLE}}


def model(*ou_policies: PolicyDoc, **org_fields: Any) -> IdentityModel:
    """Management account at the root; DEV and PROD in one OU carrying `ou_policies`."""
    accounts = {
        MGMT: OrgAccount(MGMT, "management", [ROOT], is_management=True),
        DEV: OrgAccount(DEV, "dev", [ROOT, OU]),
        PROD: OrgAccount(PROD, "prod", [ROOT, OU]),
    }
    targets = {ROOT: [FULL], OU: [FULL, *ou_policies], DEV: [FULL], PROD: [FULL]}
    org = Organization("o-abc", MGMT, accounts=accounts, scps_by_target=targets, **org_fields)
    return IdentityModel(organization=org)


def report(m: IdentityModel, account: str = DEV, **kwargs: Any) -> AccountGuardrails:
    kwargs.setdefault("actions", FEW)
    return {r.account: r for r in guardrails(m, **kwargs)}[account]


def control(r: AccountGuardrails, control_id: str) -> Any:
    return {c.control_id: c for c in r.controls}[control_id]


def never(r: AccountGuardrails) -> set[str]:
    return {a for actions in r.never_allowed.values() for a in actions}


# --- the ceiling ---------------------------------------------------------------------------------


def test_an_allow_list_at_the_ou_leaves_only_its_services() -> None:
    allow_list = scp("OnlyS3Ec2", {"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"})
    m = model()
    assert m.organization is not None
    m.organization.scps_by_target[OU] = [allow_list]
    r = report(m, actions=None)
    assert "iam:CreateUser" in r.never_allowed["iam"]
    assert "organizations:LeaveOrganization" in never(r)
    assert not {"s3", "ec2"} & set(r.never_allowed)
    assert r.conditionally_denied == []
    known = catalog()
    allowed = len(known.actions("s3")) + len(known.actions("ec2"))
    assert sum(r.never_allowed_counts().values()) == len(known.actions()) - allowed
    assert r.never_allowed["iam"] == sorted(r.never_allowed["iam"])


def test_an_unconditional_deny_is_never_allowed_and_others_stay_open() -> None:
    r = report(model(scp("NoLeave", deny("organizations:LeaveOrganization"))))
    assert never(r) == {"organizations:LeaveOrganization"}
    assert r.conditionally_denied == []


def test_a_region_deny_is_conditional_and_names_its_keys() -> None:
    region_deny = scp(
        "Regions",
        {
            "Effect": "Deny",
            "NotAction": ["iam:*", "organizations:*", "sts:*"],
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
                **EXEMPT_ADMIN,
            },
        },
    )
    r = report(model(region_deny))
    conditional = dict(r.conditionally_denied)
    assert conditional["ec2:RunInstances"] == ("aws:PrincipalArn", "aws:RequestedRegion")
    assert conditional["s3:GetObject"] == ("aws:PrincipalArn", "aws:RequestedRegion")
    assert "iam:CreateUser" not in conditional and "sts:AssumeRole" not in conditional
    assert sorted(r.conditionally_denied_by_service()) == ["ec2", "s3"]
    assert never(r) == set()
    assert r.home_region == "eu-central-1"


def test_a_deny_that_only_a_probe_triggers_is_found() -> None:
    # With an empty context this Deny does not apply; a probe with the named Region does.
    one_region = scp(
        "NoHongKong", deny("s3:*", Condition={"StringEquals": {"aws:RequestedRegion": "ap-east-1"}})
    )
    r = report(model(one_region))
    assert dict(r.conditionally_denied) == {
        "s3:GetObject": ("aws:RequestedRegion",),
        "s3:PutObject": ("aws:RequestedRegion",),
    }


def test_a_conditional_allow_makes_a_level_conditional() -> None:
    m = model()
    assert m.organization is not None
    m.organization.scps_by_target[OU] = [
        scp(
            "MfaOnly",
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            },
        )
    ]
    r = report(m)
    assert dict(r.conditionally_denied)["iam:CreateUser"] == ("aws:MultiFactorAuthPresent",)
    assert never(r) == set()


def test_accounts_with_the_same_scps_share_one_ceiling() -> None:
    reports = {
        r.account: r
        for r in guardrails(
            model(scp("NoLeave", deny("organizations:LeaveOrganization"))), actions=FEW
        )
    }
    assert reports[DEV].never_allowed == reports[PROD].never_allowed
    assert reports[DEV].never_allowed is not reports[PROD].never_allowed


# --- controls ------------------------------------------------------------------------------------

ROOT_ARN = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}
# A hand-written SCP statement enforcing each control (user controls exempt nobody here).
ENFORCING: dict[str, dict[str, Any]] = {
    "AWS-GR_RESTRICT_ROOT_USER_ACCESS_KEYS": deny("iam:CreateAccessKey", Condition=ROOT_ARN),
    "AWS-GR_RESTRICT_ROOT_USER": deny("*", Condition=ROOT_ARN),
    "AWS-GR_CLOUDTRAIL_CHANGE_PROHIBITED": deny(
        [
            "cloudtrail:StopLogging",
            "cloudtrail:DeleteTrail",
            "cloudtrail:UpdateTrail",
            "cloudtrail:PutEventSelectors",
        ],
        "arn:aws:cloudtrail:*:*:trail/aws-controltower-*",
    ),
    "AWS-GR_CONFIG_CHANGE_PROHIBITED": deny(
        [
            "config:DeleteConfigurationRecorder",
            "config:StopConfigurationRecorder",
            "config:DeleteDeliveryChannel",
        ]
    ),
    "MAMORI-GUARDDUTY_CHANGE_PROHIBITED": deny(
        ["guardduty:DeleteDetector", "guardduty:Disassociate*"]
    ),
    "MAMORI-SECURITYHUB_CHANGE_PROHIBITED": deny(
        ["securityhub:DisableSecurityHub", "securityhub:Disassociate*"]
    ),
    "MAMORI-LEAVE_ORGANIZATION_PROHIBITED": deny("organizations:LeaveOrganization"),
    "AWS-GR_REGION_DENY": {
        "Effect": "Deny",
        "NotAction": ["iam:*", "organizations:*"],
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
    },
    "AWS-GR_IAM_ROLE_CHANGE_PROHIBITED": deny(
        ["iam:AttachRolePolicy", "iam:DeleteRole", "iam:PutRolePolicy"],
        "arn:aws:iam::*:role/aws-controltower-*",
    ),
}
USER_CONTROLS = [c.id for c in CONTROLS if c.principal == "user"]


def _with_exemption(statement: dict[str, Any]) -> dict[str, Any]:
    condition = {**statement.get("Condition", {})}
    condition.setdefault("ArnNotLike", {})["aws:PrincipalArn"] = ADMIN_ROLE
    return {**statement, "Condition": condition}


def test_every_control_has_an_enforcing_statement_here() -> None:
    assert set(ENFORCING) == {c.id for c in CONTROLS}


@pytest.mark.parametrize("control_id", sorted(ENFORCING))
def test_control_present(control_id: str) -> None:
    r = report(model(scp("Guard", ENFORCING[control_id])))
    result = control(r, control_id)
    assert result.present, result.evidence
    assert all(p["decision"] != "Allow" for p in result.evidence["probes"])
    others = [c.control_id for c in r.controls if c.present and c.control_id != control_id]
    # One control's SCP must not make unrelated controls look enforced (the root-user deny
    # covers root access keys too, and is allowed to).
    assert set(others) <= {"AWS-GR_RESTRICT_ROOT_USER_ACCESS_KEYS"}


@pytest.mark.parametrize("control_id", sorted(ENFORCING))
def test_control_missing(control_id: str) -> None:
    result = control(report(model()), control_id)
    assert not result.present
    assert result.evidence["allowed_actions"]


@pytest.mark.parametrize("control_id", sorted(USER_CONTROLS))
def test_control_exempting_an_admin_role_still_counts(control_id: str) -> None:
    r = report(model(scp("Guard", _with_exemption(ENFORCING[control_id]))))
    result = control(r, control_id)
    assert result.present
    assert result.evidence["exempted_principals"] == [
        {"pattern": ADMIN_ROLE, "probe_allowed": True}
    ]
    assert "still counts as present" in result.evidence["note"]


def test_a_partial_cloudtrail_deny_is_missing_and_says_what_is_allowed() -> None:
    r = report(model(scp("Partial", deny("cloudtrail:StopLogging"))))
    result = control(r, "AWS-GR_CLOUDTRAIL_CHANGE_PROHIBITED")
    assert not result.present
    assert result.evidence["allowed_actions"] == [
        "cloudtrail:DeleteTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
    ]


def test_a_deny_for_iam_users_does_not_stop_the_root_user() -> None:
    users_only = deny(
        "iam:CreateAccessKey", Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}
    )
    r = report(model(scp("UsersOnly", users_only)))
    assert not control(r, "AWS-GR_RESTRICT_ROOT_USER_ACCESS_KEYS").present


def test_the_root_user_deny_says_it_is_root_specific() -> None:
    r = report(model(scp("Root", ENFORCING["AWS-GR_RESTRICT_ROOT_USER"])))
    assert control(r, "AWS-GR_RESTRICT_ROOT_USER").evidence["also_denied_for_iam_user"] is False


def test_region_deny_probes_outside_the_allowed_regions() -> None:
    r = report(model(scp("Regions", ENFORCING["AWS-GR_REGION_DENY"])))
    evidence = control(r, "AWS-GR_REGION_DENY").evidence
    assert evidence["allowed_region"] == "eu-west-1"
    assert evidence["region_probed_outside"] not in ("eu-west-1",)
    # Root probes run in the allowed Region, so the Region deny alone does not stop root.
    assert not control(r, "AWS-GR_RESTRICT_ROOT_USER").present


# --- accounts the SCPs do not apply to, or could not be read for ---------------------------------


def test_the_management_account_is_out_of_scope() -> None:
    r = report(model(), MGMT)
    assert not r.scps_apply and r.controls == [] and r.never_allowed == {}
    findings = guardrail_findings([r])
    assert len(findings) == len(CONTROLS)
    for f in findings:
        assert f.compliance is not None
        assert f.compliance.status is ComplianceStatus.NOT_AVAILABLE
        assert "management account" in f.description


def test_unreadable_scps_are_not_available_never_passed() -> None:
    r = report(model(unavailable={"scp": "organizations.scps: AccessDenied"}))
    assert r.error is not None and "AccessDenied" in r.error and not r.available
    statuses = {f.compliance.status for f in guardrail_findings([r]) if f.compliance}
    assert statuses == {ComplianceStatus.NOT_AVAILABLE}


def test_a_malformed_scp_makes_the_account_not_available() -> None:
    broken = PolicyDoc(
        "scp:broken",
        "broken",
        None,
        "scp",
        {"Statement": [{"Effect": "Perhaps", "Action": "*", "Resource": "*"}]},
    )
    r = report(model(broken))
    assert r.error is not None and "broken" in r.error
    assert all(
        f.compliance and f.compliance.status is ComplianceStatus.NOT_AVAILABLE
        for f in guardrail_findings([r])
    )


def test_no_organisation_no_reports() -> None:
    assert guardrails(IdentityModel()) == []


# --- findings ------------------------------------------------------------------------------------


def test_findings_pass_and_fail_per_account_and_control() -> None:
    m = model(scp("Guard", _with_exemption(ENFORCING["AWS-GR_CLOUDTRAIL_CHANGE_PROHIBITED"])))
    findings = guardrail_findings(guardrails(m, actions=FEW))
    assert len(findings) == 3 * len(CONTROLS)
    assert len({f.id for f in findings}) == len(findings)
    by = {(f.account_id, f.generator_id): f for f in findings}
    passed = by[(DEV, "identity.guardrail.AWS-GR_CLOUDTRAIL_CHANGE_PROHIBITED")]
    assert passed.compliance is not None
    assert passed.compliance.status is ComplianceStatus.PASSED
    assert passed.severity.label is SeverityLabel.INFORMATIONAL
    assert passed.compliance.controls == {
        "aws-control-tower": ["AWS-GR_CLOUDTRAIL_CHANGE_PROHIBITED"]
    }
    assert "PlatformAdmin" in passed.description
    assert passed.resource.type == "AwsAccount"
    assert passed.resource.id == f"AWS::::Account:{DEV}"
    failed = by[(PROD, "identity.guardrail.MAMORI-LEAVE_ORGANIZATION_PROHIBITED")]
    assert failed.compliance is not None
    assert failed.compliance.status is ComplianceStatus.FAILED
    assert failed.severity.label is SeverityLabel.MEDIUM
    assert failed.mitre and failed.mitre[0].technique_id == "T1666"
    assert "organizations:LeaveOrganization" in failed.description
    root_keys = by[(DEV, "identity.guardrail.AWS-GR_RESTRICT_ROOT_USER_ACCESS_KEYS")]
    assert root_keys.severity.label is SeverityLabel.HIGH


# --- from a snapshot -----------------------------------------------------------------------------


def _org_policy(name: str, content: dict[str, Any], *targets: str) -> dict[str, Any]:
    return {
        "Id": f"p-{name}",
        "Arn": f"arn:aws:organizations::{MGMT}:policy/o-abc/service_control_policy/p-{name}",
        "Name": name,
        "Content": content,
        "Targets": [{"TargetId": t, "Type": "ROOT"} for t in targets],
    }


def _snapshot(scps: Any) -> Snapshot:
    snapshot = Snapshot()
    snapshot.put_service(
        MGMT,
        "organizations",
        GLOBAL,
        {
            "organization": {"Id": "o-abc", "MasterAccountId": MGMT},
            "roots": [{"Id": ROOT}],
            "accounts": [
                {"Id": MGMT, "Name": "management", "Parents": [{"Id": ROOT, "Type": "ROOT"}]},
                {
                    "Id": DEV,
                    "Name": "dev",
                    "Parents": [
                        {"Id": OU, "Type": "ORGANIZATIONAL_UNIT"},
                        {"Id": ROOT, "Type": "ROOT"},
                    ],
                },
            ],
            "scps": scps,
        },
    )
    return snapshot


def test_from_a_snapshot_with_control_tower_like_scps() -> None:
    full = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    guard = {
        "Version": "2012-10-17",
        "Statement": [
            _with_exemption(ENFORCING["AWS-GR_CONFIG_CHANGE_PROHIBITED"]),
            ENFORCING["AWS-GR_RESTRICT_ROOT_USER_ACCESS_KEYS"],
        ],
    }
    m = model_from_snapshot(
        _snapshot(
            [
                _org_policy("FullAWSAccess", full, ROOT, OU, DEV),
                _org_policy("Guard", guard, OU),
            ]
        )
    )
    reports = {r.account: r for r in guardrails(m, actions=FEW)}
    dev = reports[DEV]
    assert dev.name == "dev" and dev.available
    present = {c.control_id for c in dev.controls if c.present}
    assert present == {"AWS-GR_CONFIG_CHANGE_PROHIBITED", "AWS-GR_RESTRICT_ROOT_USER_ACCESS_KEYS"}
    assert not reports[MGMT].scps_apply


def test_from_a_snapshot_whose_scps_were_denied() -> None:
    m = model_from_snapshot(_snapshot(unavailable("AccessDeniedException", "not allowed")))
    dev = {r.account: r for r in guardrails(m, actions=FEW)}[DEV]
    assert dev.error is not None
    assert {f.compliance.status for f in guardrail_findings([dev]) if f.compliance} == {
        ComplianceStatus.NOT_AVAILABLE
    }


def test_a_wildcard_region_list_still_gets_a_home_region() -> None:
    eu_only = {
        "Effect": "Deny",
        "NotAction": ["iam:*"],
        "Resource": "*",
        "Condition": {"StringNotLike": {"aws:RequestedRegion": ["eu-*"]}},
    }
    r = report(model(scp("Europe", eu_only)))
    assert r.home_region is not None and r.home_region.startswith("eu-")
    region = control(r, "AWS-GR_REGION_DENY")
    assert region.present
    assert not region.evidence["region_probed_outside"].startswith("eu-")
    # Probes run in a European Region, so the Region deny does not pass for other controls.
    assert not control(r, "MAMORI-LEAVE_ORGANIZATION_PROHIBITED").present


def test_a_region_deny_cannot_be_told_when_ec2_is_denied_everywhere() -> None:
    r = report(model(scp("NoEc2", deny("ec2:*"))))
    evidence = control(r, "AWS-GR_REGION_DENY").evidence
    assert evidence["allowed_region"] is None
    assert "every Region" in evidence["region_note"]
