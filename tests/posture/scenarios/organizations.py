"""Organizations scenarios, built in the management account ("main")."""

from __future__ import annotations

import json
from typing import Any

from tests.posture.harness import Env, scenario

_DENY_LEAVE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StayInOrg",
                "Effect": "Deny",
                "Action": "organizations:LeaveOrganization",
                "Resource": "*",
            }
        ],
    }
)
# A hand-made copy of FullAWSAccess restricts nothing, whatever its name.
_ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def _account(org: Any, name: str) -> tuple[str, str]:
    status = org.create_account(AccountName=name, Email=f"{name}@example.com")
    account_id = status["CreateAccountStatus"]["AccountId"]
    return account_id, org.describe_account(AccountId=account_id)["Account"]["Arn"]


def _scp(org: Any, name: str, content: str, target: str) -> None:
    policy = org.create_policy(
        Name=name, Description=name, Content=content, Type="SERVICE_CONTROL_POLICY"
    )["Policy"]["PolicySummary"]
    org.attach_policy(PolicyId=policy["Id"], TargetId=target)


@scenario("organizations.scp_guardrails_attached")
def guardrails(env: Env) -> None:
    org = env.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    workloads = org.create_organizational_unit(ParentId=root, Name="Workloads")
    prod = org.create_organizational_unit(
        ParentId=workloads["OrganizationalUnit"]["Id"], Name="Prod"
    )["OrganizationalUnit"]["Id"]
    _scp(org, "DenyLeaveOrg", _DENY_LEAVE, workloads["OrganizationalUnit"]["Id"])

    # Guarded through its grandparent OU.
    nested, nested_arn = _account(org, "prod-app")
    org.move_account(AccountId=nested, SourceParentId=root, DestinationParentId=prod)
    env.passes(nested_arn)
    # Guarded by an SCP on the account itself.
    direct, direct_arn = _account(org, "sandbox")
    _scp(org, "SandboxDeny", _DENY_LEAVE, direct)
    env.passes(direct_arn)
    # Under the root with FullAWSAccess and a copy of it only.
    bare, bare_arn = _account(org, "forgotten")
    _scp(org, "AllowEverything", _ALLOW_ALL, bare)
    env.fails(bare_arn)
