"""Generated `get-account-authorization-details` (GAAD) output for bench/iam.py: one account
of any number of principals, the same for the same seed (see bench/iam.py for what it holds).

Documents are URL-encoded JSON text, the form the AWS CLI prints and the costlier one to load.
Workloads (functions, instances, build projects, stacks) are not part of GAAD; they are
returned beside it, as Workload fields.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any
from urllib.parse import quote

ACCOUNT = "123456789012"
VENDOR_ACCOUNT = "444455556666"
IAM = f"arn:aws:iam::{ACCOUNT}"
AWS_POLICY = "arn:aws:iam::aws:policy/"
REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1")
CREATED = "2024-01-15T09:30:00Z"
SEED = "mamori-bench-iam-1"

Doc = dict[str, Any]

# -- policy documents ----------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


READ_SERVICES = _words(
    "s3 ec2 dynamodb rds lambda cloudwatch logs sqs sns ecr ecs cloudformation route53 "
    "elasticloadbalancing autoscaling ssm glue athena kinesis elasticache"
)
# ReadOnlyAccess-like: read verbs over many services (AWS's own lists far more actions).
_READ_ONLY_ALL = READ_SERVICES + _words(
    "iam kms cloudtrail config guardduty events states apigateway cloudfront acm "
    "secretsmanager codebuild codepipeline eks redshift es firehose backup organizations"
)
_MFA_EXEMPT = (
    "iam:ChangePassword iam:CreateVirtualMFADevice iam:EnableMFADevice iam:GetUser "
    "iam:ListMFADevices sts:GetSessionToken"
)


def _doc(*statements: Doc) -> Doc:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _st(
    effect: str,
    actions: str,
    resources: Any = "*",
    condition: Doc | None = None,
    *,
    neg: bool = False,
) -> Doc:
    """`actions` space-separated; a single action stays a string, as people write it."""
    names = actions.split()
    key = "NotAction" if neg else "Action"
    st: Doc = {"Effect": effect, key: names[0] if len(names) == 1 else names, "Resource": resources}
    if condition:
        st["Condition"] = condition
    return st


def _allow(actions: str, resources: Any = "*", condition: Doc | None = None) -> Doc:
    return _st("Allow", actions, resources, condition)


def _read(*services: str) -> str:
    return " ".join(f"{svc}:{verb}*" for svc in services for verb in ("Get", "List", "Describe"))


def aws_managed_policies() -> dict[str, list[Doc]]:
    logs = "logs:CreateLogGroup logs:CreateLogStream logs:PutLogEvents"
    return {
        "AdministratorAccess": [_doc(_allow("*"))],
        "ReadOnlyAccess": [_doc(_allow(_read(*_READ_ONLY_ALL)))],
        "service-role/AWSLambdaBasicExecutionRole": [_doc(_allow(logs))],
    }


def customer_policies() -> dict[str, list[Doc]]:
    """Name (with path) -> versions, oldest first; the last is the default."""
    own_user = f"{IAM}:user/${{aws:username}}"
    p = {f"ReadOnly-{svc}": [_doc(_allow(_read(svc)))] for svc in READ_SERVICES}
    for team in range(4):
        objects = "s3:PutObject s3:GetObject s3:DeleteObject"
        p[f"S3Write-team{team}"] = [_doc(_allow(objects, f"arn:aws:s3:::team{team}-*/*"))]
    items = "dynamodb:GetItem dynamodb:PutItem dynamodb:Query dynamodb:UpdateItem"
    p["DynamoAppTables"] = [_doc(_allow(items, f"arn:aws:dynamodb:*:{ACCOUNT}:table/app-*"))]
    p["QueueSend"] = [
        _doc(_allow("sqs:SendMessage sqs:GetQueueUrl", f"arn:aws:sqs:*:{ACCOUNT}:app-*"))
    ]
    via_s3 = {"StringEquals": {"kms:ViaService": [f"s3.{r}.amazonaws.com" for r in REGIONS]}}
    keys = f"arn:aws:kms:*:{ACCOUNT}:key/*"
    p["KmsUseViaS3"] = [_doc(_allow("kms:Decrypt kms:GenerateDataKey", keys, via_s3))]
    p["DeveloperPowerUser"] = [
        _doc(_allow("*")),  # v1: everything, before the review
        _doc(
            _st("Allow", "iam:* organizations:* account:*", neg=True),
            _allow("iam:Get* iam:List* iam:CreateServiceLinkedRole"),
        ),
    ]
    services = ["cloudformation.amazonaws.com", "lambda.amazonaws.com"]
    p["CIDeployer"] = [
        _doc(_allow("iam:* lambda:* cloudformation:*")),
        _doc(_allow("iam:PassRole", f"{IAM}:role/*")),
        _doc(
            _allow(
                "iam:PassRole",
                f"{IAM}:role/deploy/*",
                {"StringEquals": {"iam:PassedToService": services}},
            ),
            _allow("lambda:* cloudformation:*"),
            _allow("s3:*", ["arn:aws:s3:::ci-artifacts", "arn:aws:s3:::ci-artifacts/*"]),
        ),
    ]
    rotate = "iam:CreateAccessKey iam:ListAccessKeys iam:UpdateAccessKey"
    p["KeyRotationHelper"] = [_doc(_allow(rotate))]
    onboard = "iam:CreateUser iam:AttachUserPolicy iam:TagUser"
    p["ContractorOnboarding"] = [_doc(_allow(onboard, f"{IAM}:user/contractors/*"))]
    p["CrossRoleAccess"] = [_doc(_allow("sts:AssumeRole"))]
    dev_only = {"StringEquals": {"aws:ResourceTag/env": "dev"}}
    instances = f"arn:aws:ec2:*:{ACCOUNT}:instance/*"
    p["SupportSessions"] = [
        _doc(
            _allow("ssm:StartSession ssm:SendCommand", instances, dev_only),
            _allow("ssm:DescribeSessions ssm:TerminateSession"),
        )
    ]
    own = "iam:ChangePassword iam:GetUser iam:CreateAccessKey iam:DeleteAccessKey "
    own += "iam:ListAccessKeys iam:*MFADevice"
    p["SelfManageCredentials"] = [_doc(_allow(own, own_user), _allow("iam:ListVirtualMFADevices"))]
    no_mfa = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    p["RequireMFA"] = [_doc(_st("Deny", _MFA_EXEMPT, "*", no_mfa, neg=True))]
    elsewhere = {"StringNotEquals": {"aws:RequestedRegion": list(REGIONS)}}
    global_services = "iam:* sts:* organizations:* support:* cloudfront:*"
    p["RegionLock"] = [_doc(_st("Deny", global_services, "*", elsewhere, neg=True))]
    query = "athena:StartQueryExecution athena:GetQueryResults glue:GetTable s3:GetObject"
    p["DataLakeQuery"] = [_doc(_allow(query))]
    dev = "s3:* dynamodb:* lambda:* logs:* cloudwatch:* sqs:* ec2:Describe* ssm:* iam:Get* "
    dev += "iam:List* sts:AssumeRole"
    escape = "iam:Create* iam:Put* iam:Attach* iam:Delete*Boundary"
    p["boundaries/DeveloperBoundary"] = [_doc(_allow(dev), _st("Deny", escape))]
    workload = "s3:* dynamodb:* sqs:* sns:* logs:* kms:Decrypt"
    p["boundaries/WorkloadBoundary"] = [_doc(_allow(workload))]
    return p


def inline_policy(rng: random.Random, name: str) -> tuple[str, Doc]:
    """(name, document) of a principal's inline policy: some read ${aws:username} or
    ${aws:userid}, some have conditions."""
    choice = rng.randrange(6)
    if choice == 0:
        home = "arn:aws:s3:::home-bucket/${aws:username}/*"
        return "home-prefix", _doc(_allow("s3:GetObject s3:PutObject", home))
    if choice == 1:
        office = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"]}}
        return "office-reports", _doc(
            _allow("s3:GetObject", f"arn:aws:s3:::reports-{name}/*", office)
        )
    if choice == 2:
        mine = {"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}
        instances = f"arn:aws:ec2:*:{ACCOUNT}:instance/*"
        return "own-instances", _doc(
            _allow("ec2:StartInstances ec2:StopInstances", instances, mine)
        )
    if choice == 3:
        region = rng.choice(REGIONS)
        queue = f"arn:aws:sqs:{region}:{ACCOUNT}:jobs-{rng.randrange(50)}"
        here = {"StringEquals": {"aws:RequestedRegion": region}}
        return "queue", _doc(_allow("sqs:SendMessage", queue, here))
    if choice == 4:
        rows = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:userid}"]}}
        table = f"arn:aws:dynamodb:*:{ACCOUNT}:table/users"
        return "table-rows", _doc(_allow("dynamodb:GetItem dynamodb:PutItem", table, rows))
    group = f"arn:aws:logs:*:{ACCOUNT}:log-group:/app/{name}:*"
    return "logs", _doc(_allow("logs:PutLogEvents logs:CreateLogStream", group))


# -- groups and roles ----------------------------------------------------------------------------

_TEAM_SERVICES = ("s3 dynamodb lambda", "ec2 ecs ecr", "sqs sns kinesis", "rds elasticache logs")


def group_specs() -> dict[str, tuple[str, Doc | None]]:
    """Group -> (attached policy names, space-separated, "aws:" for AWS managed ones; an
    inline policy or None)."""
    ro = "ReadOnly-"
    specs: dict[str, tuple[str, Doc | None]] = {
        "admins": ("aws:AdministratorAccess", None),
        "readonly": ("aws:ReadOnlyAccess", None),
        "auditors": ("aws:ReadOnlyAccess RegionLock", None),
        "power-users": ("DeveloperPowerUser RequireMFA", None),
        "ci": ("CIDeployer", None),
        "self-service": ("SelfManageCredentials RequireMFA", None),
        "iam-helpers": ("KeyRotationHelper", None),
        "onboarding": (f"ContractorOnboarding {ro}s3", None),
        "role-switchers": ("CrossRoleAccess", None),
        "contractors": (f"{ro}s3 {ro}ec2", _doc(_st("Deny", "s3:DeleteObject"))),
        "billing": (f"{ro}cloudwatch", _doc(_allow("ce:Get* budgets:View*"))),
        "security": (f"aws:ReadOnlyAccess {ro}logs", None),
        "network": (f"{ro}ec2 {ro}route53 {ro}elasticloadbalancing", None),
        "dba": (f"{ro}rds {ro}dynamodb DynamoAppTables", None),
        "support": (f"{ro}ec2 {ro}ssm SupportSessions", None),
    }
    for team in range(8):
        services = " ".join(ro + s for s in _TEAM_SERVICES[team % 4].split())
        specs[f"team{team}"] = (f"{services} S3Write-team{team % 4} QueueSend", None)
    for k in range(4):
        lake = _doc(_allow("s3:GetObject", f"arn:aws:s3:::lake-zone{k}/*"))
        specs[f"data{k}"] = (f"{ro}glue {ro}athena DataLakeQuery", lake)
    specs["ops0"] = (f"{ro}ec2 {ro}autoscaling {ro}cloudwatch", None)
    specs["ops1"] = (f"{ro}ecs {ro}logs {ro}cloudwatch", None)
    specs["ops2"] = (f"{ro}cloudformation {ro}ssm KmsUseViaS3", None)
    return specs


# Optional groups a user may be added to, with the share of users in each.
EXTRA_GROUPS = {
    "self-service": 0.30,
    "role-switchers": 0.10,
    "power-users": 0.05,
    "readonly": 0.08,
    "iam-helpers": 0.005,
    "onboarding": 0.005,
    "ci": 0.01,
    "support": 0.03,
}
PRIMARY_GROUPS = [
    *(f"team{t}" for t in range(8)),
    *(f"data{k}" for k in range(4)),
    *_words("ops0 ops1 ops2 contractors billing security network dba auditors"),
]
# Role kinds and their share of roles.
ROLE_KINDS = {
    "lambda": 0.35,
    "ec2": 0.20,
    "codebuild": 0.05,
    "deploy": 0.05,
    "account": 0.20,
    "chained": 0.10,
    "vendor": 0.05,
}
_SERVICE_WRITES = ["DynamoAppTables", "QueueSend", "S3Write-team0", "KmsUseViaS3"]
_ACCOUNT_ROLE_POLICIES = [
    ["aws:ReadOnlyAccess"],
    ["DeveloperPowerUser"],
    ["ReadOnly-ec2", "ReadOnly-ssm", "SupportSessions"],
    ["ReadOnly-s3", "S3Write-team1"],
]


def _policy_arn(name: str) -> str:
    return AWS_POLICY + name[4:] if name.startswith("aws:") else f"{IAM}:policy/{name}"


def _trust(principal: Doc, condition: Doc | None = None) -> Doc:
    st: Doc = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        st["Condition"] = condition
    return _doc(st)


def _encoded(doc: Doc) -> str:
    return quote(json.dumps(doc), safe="")


# -- the account ---------------------------------------------------------------------------------


class AccountGenerator:
    """One account of `principals` users and roles (70/30), the same for the same seed."""

    def __init__(self, principals: int, seed: str = SEED) -> None:
        self.rng = random.Random(f"{seed}:{principals}")
        self.users_n = round(principals * 0.7)
        self.roles_n = principals - self.users_n
        self.admins_n = max(3, principals // 2500)
        self.attachments: Counter[str] = Counter()
        self.workloads: list[Doc] = []

    def _attached(self, names: list[str]) -> list[dict[str, str]]:
        self.attachments.update(_policy_arn(n) for n in names)
        return [
            {"PolicyName": n.rsplit("/", 1)[-1].removeprefix("aws:"), "PolicyArn": _policy_arn(n)}
            for n in names
        ]

    def _inline(self, name: str, share: float) -> list[Doc]:
        if self.rng.random() >= share:
            return []
        policy, doc = inline_policy(self.rng, name)
        return [{"PolicyName": policy, "PolicyDocument": _encoded(doc)}]

    def _boundary(self, share: float, name: str) -> Doc:
        if self.rng.random() >= share:
            return {}
        arn = _policy_arn(name)
        self.attachments[arn] += 1
        return {
            "PermissionsBoundary": {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": arn,
            }
        }

    def users(self) -> list[Doc]:
        out = []
        for i in range(self.users_n):
            if i < self.admins_n:
                groups, name, path = ["admins"], f"admin-{i:02d}", "/"
            else:
                groups = [self.rng.choice(PRIMARY_GROUPS)]
                groups += [g for g, share in EXTRA_GROUPS.items() if self.rng.random() < share]
                path = "/contractors/" if "contractors" in groups else "/engineering/"
                name = f"user-{i:05d}"
            direct: list[str] = []
            if self.rng.random() < 0.15:
                direct = self.rng.sample(
                    [f"ReadOnly-{s}" for s in READ_SERVICES], self.rng.randint(1, 2)
                )
            bounded = 0.12 if groups[0].startswith("team") else 0.03
            out.append(
                {
                    "Path": path,
                    "UserName": name,
                    "UserId": f"AIDA{i:016d}",
                    "Arn": f"{IAM}:user{path}{name}",
                    "CreateDate": CREATED,
                    "UserPolicyList": self._inline(name, 0.2),
                    "GroupList": groups,
                    "AttachedManagedPolicies": self._attached(direct),
                    "Tags": [{"Key": "team", "Value": groups[0]}],
                    **self._boundary(bounded, "boundaries/DeveloperBoundary"),
                }
            )
        return out

    def groups(self) -> list[Doc]:
        out = []
        for i, (name, (attached, doc)) in enumerate(group_specs().items()):
            inline = (
                [{"PolicyName": f"{name}-extra", "PolicyDocument": _encoded(doc)}] if doc else []
            )
            out.append(
                {
                    "Path": "/",
                    "GroupName": name,
                    "GroupId": f"AGPA{i:016d}",
                    "Arn": f"{IAM}:group/{name}",
                    "CreateDate": CREATED,
                    "GroupPolicyList": inline,
                    "AttachedManagedPolicies": self._attached(attached.split()),
                }
            )
        return out

    def _role_policies(self, kind: str, index: int) -> tuple[Doc, list[str], str]:
        """(trust policy, attached policy names, path) of a role of `kind`."""
        rng = self.rng
        if kind in ("lambda", "ec2", "codebuild"):
            attached = rng.sample([f"ReadOnly-{s}" for s in READ_SERVICES], 2)
            attached += rng.sample(_SERVICE_WRITES, 1)
            if kind == "lambda":
                attached.append("aws:service-role/AWSLambdaBasicExecutionRole")
            if kind == "codebuild":
                attached = ["CIDeployer", "ReadOnly-ecr"]
            if rng.random() < 0.01:  # the quick fix: a workload role with full access
                attached = ["aws:AdministratorAccess"]
            return _trust({"Service": f"{kind}.amazonaws.com"}), attached, "/service-role/"
        if kind == "deploy":
            trust = _trust({"Service": "cloudformation.amazonaws.com"})
            return trust, ["aws:AdministratorAccess"], "/deploy/"
        if kind == "account":
            mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}} if index % 3 == 0 else None
            trust = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, mfa)
            return trust, list(rng.choice(_ACCOUNT_ROLE_POLICIES)), "/"
        if kind == "chained":
            source = f"{IAM}:role/service-role/ec2-{rng.randrange(max(1, index)):05d}"
            attached = [rng.choice(["ReadOnly-s3", "QueueSend", "DynamoAppTables"])]
            return _trust({"AWS": source}), attached, "/"
        external = {"StringEquals": {"sts:ExternalId": f"vendor-{index}"}}
        trust = _trust({"AWS": f"arn:aws:iam::{VENDOR_ACCOUNT}:root"}, external)
        return trust, ["aws:ReadOnlyAccess"], "/vendors/"

    def _role(self, name: str, rid: str, path: str, trust: Doc, attached: list[str]) -> Doc:
        return {
            "Path": path,
            "RoleName": name,
            "RoleId": rid,
            "Arn": f"{IAM}:role{path}{name}",
            "CreateDate": CREATED,
            "AssumeRolePolicyDocument": _encoded(trust),
            "InstanceProfileList": [],
            "RolePolicyList": [],
            "AttachedManagedPolicies": self._attached(attached),
            "Tags": [],
            "RoleLastUsed": {},
        }

    def roles(self) -> list[Doc]:
        admin_trust = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
        out = [
            self._role(name, f"AROAADMIN{i:011d}", "/", admin_trust, ["aws:AdministratorAccess"])
            for i, name in enumerate(("OrganizationAccountAccessRole", "break-glass"))
        ]
        kinds, weights = list(ROLE_KINDS), list(ROLE_KINDS.values())
        for i in range(2, self.roles_n):
            kind = self.rng.choices(kinds, weights)[0]
            name = f"{kind}-{i:05d}"
            trust, attached, path = self._role_policies(kind, i)
            role = self._role(name, f"AROA{i:016d}", path, trust, attached)
            role["RolePolicyList"] = self._inline(name, 0.2)
            role.update(
                self._boundary(0.25 if kind == "lambda" else 0.0, "boundaries/WorkloadBoundary")
            )
            if kind == "ec2":
                profile = {"InstanceProfileName": name, "InstanceProfileId": f"AIPA{i:016d}"}
                profile.update(Path="/", Arn=f"{IAM}:instance-profile/{name}", CreateDate=CREATED)
                role["InstanceProfileList"] = [{**profile, "Roles": []}]
            self._add_workloads(kind, name, role["Arn"])
            out.append(role)
        return out

    def _add_workloads(self, kind: str, name: str, role_arn: str) -> None:
        rng = self.rng
        counts = {"lambda": rng.randint(1, 3), "ec2": rng.randint(1, 4), "codebuild": 1}
        counts["deploy"] = rng.randint(1, 2)
        for n in range(counts.get(kind, 0)):
            region = rng.choice(REGIONS)
            where = f"{region}:{ACCOUNT}"
            if kind == "lambda":
                wl_kind, arn = "lambda", f"arn:aws:lambda:{where}:function:{name}-{n}"
            elif kind == "ec2":
                wl_kind, arn = "ec2", f"arn:aws:ec2:{where}:instance/i-{rng.getrandbits(68):017x}"
            elif kind == "codebuild":
                wl_kind, arn = "codebuild", f"arn:aws:codebuild:{where}:project/{name}"
            else:
                stack = f"stack/{name}-{n}/{rng.getrandbits(64):016x}"
                wl_kind, arn = "cloudformation", f"arn:aws:cloudformation:{where}:{stack}"
            self.workloads.append(
                {
                    "kind": wl_kind,
                    "arn": arn,
                    "name": f"{name}-{n}",
                    "region": region,
                    "role_arn": role_arn,
                    "account": ACCOUNT,
                }
            )

    def _policies(self, docs: dict[str, list[Doc]], prefix: str) -> list[Doc]:
        out = []
        for i, (name, versions) in enumerate(docs.items()):
            arn = _policy_arn(prefix + name)
            default = f"v{len(versions)}"
            listed = [
                {"Document": _encoded(doc), "VersionId": f"v{v}", "CreateDate": CREATED}
                for v, doc in enumerate(versions, start=1)
            ]
            for version in listed:
                version["IsDefaultVersion"] = version["VersionId"] == default
            out.append(
                {
                    "PolicyName": name.rsplit("/", 1)[-1],
                    "PolicyId": f"ANPA{prefix[:3].upper()}{i:013d}",
                    "Arn": arn,
                    "Path": "/" + name.rsplit("/", 1)[0] + "/" if "/" in name else "/",
                    "DefaultVersionId": default,
                    "AttachmentCount": self.attachments[arn],
                    "PermissionsBoundaryUsageCount": 0,
                    "IsAttachable": True,
                    "CreateDate": CREATED,
                    "UpdateDate": CREATED,
                    "PolicyVersionList": listed,
                }
            )
        return out

    def gaad(self) -> Doc:
        users, groups, roles = self.users(), self.groups(), self.roles()
        policies = self._policies(customer_policies(), "") + self._policies(
            aws_managed_policies(), "aws:"
        )
        lists = {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles}
        return {**lists, "Policies": policies, "IsTruncated": False}
