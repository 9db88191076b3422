"""A realistic `aws iam get-account-authorization-details` answer, written for these tests,
and small helpers the identity model tests share.

Documents are URL-encoded the way the AWS CLI prints them, except where a test needs another
form (a plain JSON string, a JSON object). Users are in groups, a policy has two versions,
one user has a permissions boundary, a role has an instance profile, and two AWS managed
policies are attached but missing from Policies (the CLI's --filter left them out).
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote

from mamori.identity.model import PolicyDoc
from mamori.inventory import GLOBAL, Snapshot

ACCOUNT = "111122223333"
IAM = f"arn:aws:iam::{ACCOUNT}"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SUPPORT_ARN = "arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy"
DEPLOY_ARN = f"{IAM}:policy/DeployApp"
BOUNDARY_ARN = f"{IAM}:policy/boundaries/DevBoundary"
PROFILE_ARN = f"{IAM}:instance-profile/app-server"
CREATED = "2023-04-01T09:30:00Z"


def _allow(actions: list[str], resource: str = "*") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }


def encoded(doc: dict[str, Any]) -> str:
    """A document as the AWS CLI prints GAAD documents (RFC 3986 percent-encoding)."""
    return quote(json.dumps(doc), safe="")


ADMIN_DOC = _allow(["*"])
DEPLOY_V1 = _allow(["iam:*", "s3:*"])
DEPLOY_V2 = _allow(["cloudformation:*", "s3:PutObject"], "arn:aws:s3:::deploy-artifacts/*")
BOUNDARY_DOC = _allow(["s3:*", "cloudformation:*", "logs:*"])
ALICE_INLINE = _allow(["iam:ChangePassword", "iam:CreateAccessKey"], f"{IAM}:user/alice")
BOB_INLINE = _allow(["sqs:SendMessage"])
# Plain JSON text with a literal percent sign: it must not be URL-decoded.
CAROL_INLINE = _allow(["s3:GetObject"], "arn:aws:s3:::reports/100%25-done/*")
DEV_GROUP_INLINE = _allow(["s3:ListBucket"], "arn:aws:s3:::dev-*")
APP_INLINE = _allow(["dynamodb:GetItem", "dynamodb:PutItem"])
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
CROSS_ACCOUNT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "build-42"}},
        }
    ],
}
SUPPORT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "support.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _attached(*arns: str) -> list[dict[str, str]]:
    return [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in arns]


def _user(name: str, uid: str, **extra: Any) -> dict[str, Any]:
    return {
        "Path": "/",
        "UserName": name,
        "UserId": uid,
        "Arn": f"{IAM}:user/{name}",
        "CreateDate": CREATED,
        "UserPolicyList": [],
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "Tags": [],
        **extra,
    }


def _group(name: str, gid: str, **extra: Any) -> dict[str, Any]:
    return {
        "Path": "/",
        "GroupName": name,
        "GroupId": gid,
        "Arn": f"{IAM}:group/{name}",
        "CreateDate": CREATED,
        "GroupPolicyList": [],
        "AttachedManagedPolicies": [],
        **extra,
    }


def _role(name: str, rid: str, trust: dict[str, Any], path: str = "/", **extra: Any) -> dict:
    return {
        "Path": path,
        "RoleName": name,
        "RoleId": rid,
        "Arn": f"{IAM}:role{path}{name}",
        "CreateDate": CREATED,
        "AssumeRolePolicyDocument": encoded(trust),
        "InstanceProfileList": [],
        "RolePolicyList": [],
        "AttachedManagedPolicies": [],
        "Tags": [],
        "RoleLastUsed": {},
        **extra,
    }


def _policy(arn: str, pid: str, versions: list[tuple[str, Any]], default: str, **extra: Any):
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "PolicyId": pid,
        "Arn": arn,
        "Path": arn.split(":policy", 1)[1].rsplit("/", 1)[0] + "/",
        "DefaultVersionId": default,
        "AttachmentCount": 1,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": CREATED,
        "UpdateDate": CREATED,
        "PolicyVersionList": [
            {
                "Document": doc,
                "VersionId": vid,
                "IsDefaultVersion": vid == default,
                "CreateDate": CREATED,
            }
            for vid, doc in versions
        ],
        **extra,
    }


_SAMPLE: dict[str, Any] = {
    "UserDetailList": [
        _user(
            "alice",
            "AIDAALICE00000000001",
            GroupList=["admins", "developers"],
            UserPolicyList=[{"PolicyName": "self-manage", "PolicyDocument": encoded(ALICE_INLINE)}],
            Tags=[{"Key": "team", "Value": "platform"}, {"Key": "cost-center", "Value": "42"}],
        ),
        _user(
            "bob",
            "AIDABOB0000000000002",
            GroupList=["developers", "auditors"],
            UserPolicyList=[{"PolicyName": "queue", "PolicyDocument": encoded(BOB_INLINE)}],
            AttachedManagedPolicies=_attached(DEPLOY_ARN),
            PermissionsBoundary={
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": BOUNDARY_ARN,
            },
        ),
        _user(
            "carol",
            "AIDACAROL00000000003",
            Path="/contractors/",
            UserPolicyList=[{"PolicyName": "reports", "PolicyDocument": json.dumps(CAROL_INLINE)}],
        ),
    ],
    "GroupDetailList": [
        _group("admins", "AGPAADMINS0000000001", AttachedManagedPolicies=_attached(ADMIN_ARN)),
        _group(
            "developers",
            "AGPADEVS00000000002",
            GroupPolicyList=[{"PolicyName": "dev-s3", "PolicyDocument": encoded(DEV_GROUP_INLINE)}],
            AttachedManagedPolicies=_attached(DEPLOY_ARN),
        ),
        _group("auditors", "AGPAAUDIT0000000003", AttachedManagedPolicies=_attached(READONLY_ARN)),
    ],
    "RoleDetailList": [
        _role(
            "app-server",
            "AROAAPP0000000000001",
            EC2_TRUST,
            InstanceProfileList=[
                {
                    "Path": "/",
                    "InstanceProfileName": "app-server",
                    "InstanceProfileId": "AIPAAPP000000000001",
                    "Arn": PROFILE_ARN,
                    "CreateDate": CREATED,
                    "Roles": [],
                }
            ],
            RolePolicyList=[{"PolicyName": "table", "PolicyDocument": encoded(APP_INLINE)}],
            PermissionsBoundary={
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": BOUNDARY_ARN,
            },
            RoleLastUsed={"LastUsedDate": "2024-11-02T17:05:11Z", "Region": "eu-west-1"},
            Tags=[{"Key": "app", "Value": "shop"}],
        ),
        _role(
            "ci-deployer",
            "AROACI00000000000002",
            CROSS_ACCOUNT_TRUST,
            AttachedManagedPolicies=_attached(DEPLOY_ARN),
        ),
        _role(
            "AWSServiceRoleForSupport",
            "AROASUPPORT000000003",
            SUPPORT_TRUST,
            path="/aws-service-role/support.amazonaws.com/",
            AttachedManagedPolicies=_attached(SUPPORT_ARN),
        ),
    ],
    "Policies": [
        _policy(
            DEPLOY_ARN,
            "ANPADEPLOY000000001",
            [("v2", encoded(DEPLOY_V2)), ("v1", encoded(DEPLOY_V1))],
            "v2",
        ),
        _policy(BOUNDARY_ARN, "ANPABOUNDARY0000002", [("v1", encoded(BOUNDARY_DOC))], "v1"),
        # The JSON-object form some tools write.
        _policy(ADMIN_ARN, "ANPAADMIN0000000003", [("v1", ADMIN_DOC)], "v1"),
    ],
    "IsTruncated": False,
}


def sample() -> dict[str, Any]:
    """A fresh copy: tests may mutate it."""
    return copy.deepcopy(_SAMPLE)


def as_pages(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The same answer as two pages, as a user concatenates `--max-items` output."""
    first = {key: value[:1] for key, value in doc.items() if isinstance(value, list)}
    second = {key: value[1:] for key, value in doc.items() if isinstance(value, list)}
    return [{**first, "IsTruncated": True, "Marker": "page-2"}, {**second, "IsTruncated": False}]


def gaad_snapshot() -> Snapshot:
    """The sample stored the way the IAM collector stores it, in an account named "shop"."""
    doc = sample()
    snapshot = Snapshot()
    snapshot.add_account(ACCOUNT, "shop")
    snapshot.put_service(
        ACCOUNT,
        "iam",
        GLOBAL,
        {
            "users": doc["UserDetailList"],
            "groups": doc["GroupDetailList"],
            "roles": doc["RoleDetailList"],
            "policies": doc["Policies"],
            "credential_report": [],
        },
    )
    return snapshot


def statement(effect: str, action: str) -> str:
    """A one-statement policy as JSON text (the form Organizations and boto3 calls take)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}],
        }
    )


def policy_names(level: list[PolicyDoc]) -> list[str]:
    return sorted(doc.name for doc in level)


# -- small builders for tests that need only a few principals ------------------------------------


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def user_entry(
    name: str, *documents: dict[str, Any], managed: tuple[str, ...] = (), encode: bool = False
) -> dict[str, Any]:
    """A UserDetailList entry with inline documents (URL-encoded as the AWS CLI prints them
    when `encode`) and attached managed policies."""
    return _user(
        name,
        f"AIDA{name.upper()}",
        CreateDate=CREATED,
        AttachedManagedPolicies=_attached(*managed),
        UserPolicyList=[
            {"PolicyName": f"p{i}", "PolicyDocument": quote(json.dumps(d)) if encode else d}
            for i, d in enumerate(documents)
        ],
    )


def role_entry(name: str, trust: dict[str, Any], *documents: dict[str, Any]) -> dict[str, Any]:
    """A RoleDetailList entry with its trust policy URL-encoded, as the AWS CLI prints it."""
    return {
        "RoleName": name,
        "RoleId": f"AROA{name.upper()}",
        "Arn": f"{IAM}:role/{name}",
        "Path": "/",
        "AssumeRolePolicyDocument": quote(json.dumps(trust)),
        "RolePolicyList": [
            {"PolicyName": f"p{i}", "PolicyDocument": d} for i, d in enumerate(documents)
        ],
        "AttachedManagedPolicies": [],
        "InstanceProfileList": [],
    }
