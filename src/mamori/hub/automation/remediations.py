"""The remediations Mamori ships, one function each (see `remediate` for the guards).

Each reads the resource's current state first, so that it changes only what is still wrong and
says "nothing to change" when the resource was fixed meanwhile, and records enough in its
result (previous groups, detached policies, deactivated keys) to undo it by hand.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import Field, field_validator

from mamori.core import Finding
from mamori.hub.automation.actions import ActionParams
from mamori.hub.automation.remediate import NothingToDo, Remedy, arn_name, remediation

# -- S3 Block Public Access ------------------------------------------------------------------------

_BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


class BlockPublicAccessParams(ActionParams):
    type: Literal["s3.block_public_access"]
    # "resource": the bucket of a bucket finding (the account for an account finding);
    # "account": the whole account, whatever the finding is about.
    scope: Literal["resource", "account"] = "resource"


def _blocked(get: Any, missing: str, **kwargs: Any) -> bool:
    try:
        config = get(**kwargs)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == missing:
            return False
        raise
    return all(config.get(k) is True for k in _BLOCK_ALL)


@remediation(
    "s3.block_public_access",
    BlockPublicAccessParams,
    summary="Turn on all four S3 Block Public Access settings on the bucket or the account.",
    fixes=(
        "s3.account_public_access_block",
        "s3.bucket_public_access_block",
        "s3.bucket_policy_not_public",
        "s3.bucket_acl_not_public",
    ),
    resource_types=("AwsS3Bucket", "AwsAccount"),
    calls=(
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    ),
)
def block_public_access(f: Finding, p: BlockPublicAccessParams, r: Remedy) -> str:
    if f.resource.type == "AwsAccount" or p.scope == "account":
        s3control = r.client("s3control")
        account = f.account_id
        if _blocked(
            s3control.get_public_access_block,
            "NoSuchPublicAccessBlockConfiguration",
            AccountId=account,
        ):
            raise NothingToDo(f"account {account} already blocks public access")
        r.write(
            s3control,
            "put_public_access_block",
            AccountId=account,
            PublicAccessBlockConfiguration=_BLOCK_ALL,
        )
        return f"blocked public access for account {account}"
    bucket = arn_name(f.resource.id)
    s3 = r.client("s3")
    if _blocked(s3.get_public_access_block, "NoSuchPublicAccessBlockConfiguration", Bucket=bucket):
        raise NothingToDo(f"bucket {bucket} already blocks public access")
    r.write(s3, "put_public_access_block", Bucket=bucket, PublicAccessBlockConfiguration=_BLOCK_ALL)
    return f"blocked public access for bucket {bucket}"


# -- IAM access keys -------------------------------------------------------------------------------

_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_SINGLE_KEY_CHECK = "iam.user_single_active_access_key"


class DeactivateKeyParams(ActionParams):
    type: Literal["iam.deactivate_access_key"]


def _named_keys(f: Finding) -> set[str]:
    """Keys the finding holds at fault: named in its status reasons (which list only the old,
    unused or surplus keys) or its evidence (a threat's access key)."""
    reasons = f.compliance.status_reasons if f.compliance else []
    text = " ".join(reasons) + " " + json.dumps(f.evidence, default=str)
    return set(_KEY_ID.findall(text))


def _key_owner(f: Finding, key_id: str, iam: Any) -> str:
    for res in f.resources[1:]:
        if res.type == "AwsIamUser":
            return arn_name(res.id)
    owner = iam.get_access_key_last_used(AccessKeyId=key_id).get("UserName")
    if not owner:
        raise NothingToDo(f"access key {key_id} belongs to no IAM user")
    return str(owner)


@remediation(
    "iam.deactivate_access_key",
    DeactivateKeyParams,
    summary="Deactivate the IAM access keys a finding names (a user's surplus key: all but "
    "the newest).",
    fixes=(
        _SINGLE_KEY_CHECK,
        "iam.access_key_rotated",
        "iam.user_unused_credentials_disabled",
        "identity.unused-access-key",
    ),
    resource_types=("AwsIamAccessKey", "AwsIamUser"),
    calls=("iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey"),
)
def deactivate_access_key(f: Finding, p: DeactivateKeyParams, r: Remedy) -> str:
    iam = r.client("iam")
    if f.resource.type == "AwsIamAccessKey":
        key_id = f.resource.id
        if key_id.startswith("ASIA"):
            raise NothingToDo(
                f"{key_id} is a temporary (role session) key: revoke the role's sessions instead"
            )
        named, user = {key_id}, _key_owner(f, key_id, iam)
    else:
        named, user = _named_keys(f), arn_name(f.resource.id)
    pages = iam.get_paginator("list_access_keys").paginate(UserName=user)
    active = [k for page in pages for k in page["AccessKeyMetadata"] if k["Status"] == "Active"]
    targets = [k for k in active if k["AccessKeyId"] in named]
    if f.generator_id == _SINGLE_KEY_CHECK and active:
        # The check asks for at most one: the newest key is the one the rotation moved to.
        newest = max(active, key=lambda k: k["CreateDate"])
        targets = [k for k in targets if k is not newest]
    if not targets:
        raise NothingToDo(f"no key the finding names is active for user {user}")
    for key in targets:
        r.write(
            iam,
            "update_access_key",
            UserName=user,
            AccessKeyId=key["AccessKeyId"],
            Status="Inactive",
        )
    ids = ", ".join(k["AccessKeyId"] for k in targets)
    return f"deactivated access key(s) {ids} of user {user}"


# -- security groups -------------------------------------------------------------------------------

_TCP_UDP = ("6", "17", "tcp", "udp")


class RevokeIngressParams(ActionParams):
    type: Literal["ec2.revoke_world_open_ingress"]
    # Revoke world-open rules admitting these ports; default: the ports the finding reports.
    # Rules admitting every protocol or every port are revoked either way.
    ports: list[Annotated[int, Field(ge=0, le=65535)]] | None = Field(default=None, min_length=1)


def _is_world(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


def _admits(perm: dict[str, Any], ports: set[int]) -> bool:
    """Whether an ingress permission admits all traffic or one of `ports`."""
    protocol = str(perm.get("IpProtocol", "")).lower()
    if protocol == "-1":
        return True
    if protocol not in _TCP_UDP:
        return False
    low, high = perm.get("FromPort"), perm.get("ToPort")
    if low is None or high is None or int(low) < 0:
        return True
    if int(low) <= 0 and int(high) >= 65535:
        return True
    return any(int(low) <= port <= int(high) for port in ports)


def _world_part(perm: dict[str, Any]) -> dict[str, Any] | None:
    """The permission reduced to its world-open sources, as RevokeSecurityGroupIngress takes
    it; None when no source is the whole internet."""
    v4 = [{"CidrIp": r["CidrIp"]} for r in perm.get("IpRanges", []) if _is_world(r.get("CidrIp"))]
    v6 = [
        {"CidrIpv6": r["CidrIpv6"]}
        for r in perm.get("Ipv6Ranges", [])
        if _is_world(r.get("CidrIpv6"))
    ]
    if not (v4 or v6):
        return None
    part: dict[str, Any] = {"IpProtocol": perm["IpProtocol"]}
    for key in ("FromPort", "ToPort"):
        if key in perm:
            part[key] = perm[key]
    if v4:
        part["IpRanges"] = v4
    if v6:
        part["Ipv6Ranges"] = v6
    return part


@remediation(
    "ec2.revoke_world_open_ingress",
    RevokeIngressParams,
    summary="Revoke a security group's inbound rules from 0.0.0.0/0 or ::/0 that admit the "
    "flagged ports or all traffic.",
    fixes=(
        "ec2.sg_no_admin_ports_open_ipv4",
        "ec2.sg_no_admin_ports_open_ipv6",
        "ec2.sg_no_db_ports_open",
        "ec2.sg_no_unrestricted_all_traffic",
    ),
    resource_types=("AwsEc2SecurityGroup",),
    calls=("ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress"),
)
def revoke_world_open_ingress(f: Finding, p: RevokeIngressParams, r: Remedy) -> str:
    group_id = arn_name(f.resource.id)
    ec2 = r.client("ec2")
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    reported = f.resource.details.get("ports")
    ports = set(p.ports or (reported if isinstance(reported, list) else []))
    ports = {port for port in ports if isinstance(port, int)}
    revoke = [
        part
        for perm in group.get("IpPermissions", [])
        if _admits(perm, ports) and (part := _world_part(perm)) is not None
    ]
    if not revoke:
        raise NothingToDo(f"no world-open rule of {group_id} admits {sorted(ports) or 'all'}")
    r.write(ec2, "revoke_security_group_ingress", GroupId=group_id, IpPermissions=revoke)
    return f"revoked {len(revoke)} world-open rule(s) of {group_id}"


# -- EBS default encryption, CloudTrail ------------------------------------------------------------


class EbsEncryptionParams(ActionParams):
    type: Literal["ec2.enable_ebs_default_encryption"]


@remediation(
    "ec2.enable_ebs_default_encryption",
    EbsEncryptionParams,
    summary="Turn on EBS encryption by default in the finding's region.",
    fixes=("ec2.ebs_default_encryption",),
    resource_types=("AwsAccount",),
    calls=("ec2:GetEbsEncryptionByDefault", "ec2:EnableEbsEncryptionByDefault"),
)
def enable_ebs_default_encryption(f: Finding, p: EbsEncryptionParams, r: Remedy) -> str:
    ec2 = r.client("ec2")
    if ec2.get_ebs_encryption_by_default().get("EbsEncryptionByDefault") is True:
        raise NothingToDo(f"EBS encryption by default is already on in {r.region}")
    r.write(ec2, "enable_ebs_encryption_by_default")
    return f"turned on EBS encryption by default in {r.region}"


class StartLoggingParams(ActionParams):
    type: Literal["cloudtrail.start_logging"]


@remediation(
    "cloudtrail.start_logging",
    StartLoggingParams,
    summary="Turn a stopped CloudTrail trail's logging back on.",
    fixes=("cloudtrail.trail_logging",),
    resource_types=("AwsCloudTrailTrail",),
    calls=("cloudtrail:GetTrailStatus", "cloudtrail:StartLogging"),
)
def start_logging(f: Finding, p: StartLoggingParams, r: Remedy) -> str:
    arn = f.resource.id
    name = arn_name(arn)
    # A trail is managed from its home region, the region of its ARN.
    home = arn.split(":")[3] or r.region
    cloudtrail = r.client("cloudtrail", home)
    if cloudtrail.get_trail_status(Name=arn).get("IsLogging") is True:
        raise NothingToDo(f"trail {name} is already logging")
    r.write(cloudtrail, "start_logging", Name=arn)
    return f"started logging on trail {name}"


# -- instance quarantine ---------------------------------------------------------------------------

_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,32}$")
_PLACEHOLDER = "<new quarantine group>"


class QuarantineParams(ActionParams):
    type: Literal["ec2.quarantine_instance"]
    # Printable ASCII, and not "sg-..." (AWS reserves it for group ids).
    group_name: str = Field(default="mamori-quarantine", pattern=r"^[ -~]{1,255}$")

    @field_validator("group_name")
    @classmethod
    def _not_an_id(cls, value: str) -> str:
        if value.startswith("sg-"):
            raise ValueError("a security group name may not start with 'sg-'")
        return value


def _instance_id(resource_id: str) -> str:
    ident = arn_name(resource_id) if resource_id.startswith("arn:") else resource_id
    if not _INSTANCE_ID.match(ident):
        raise NothingToDo(f"{resource_id[:200]!r} is not an EC2 instance id")
    return ident


def _isolating_group(ec2: Any, r: Remedy, vpc: str, name: str) -> str:
    """The VPC's quarantine group with no rule left in it, created when missing."""
    found = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [vpc]}]
    )["SecurityGroups"]
    if found:
        group = found[0]
        group_id = str(group["GroupId"])
    else:
        created = r.write(
            ec2,
            "create_security_group",
            GroupName=name,
            VpcId=vpc,
            Description="Mamori quarantine: no inbound or outbound traffic",
            TagSpecifications=[
                {
                    "ResourceType": "security-group",
                    "Tags": [{"Key": "mamori:quarantine", "Value": "true"}],
                }
            ],
        )
        if created is None:  # dry run: AWS would add its default allow-all egress rule
            r.write(
                ec2,
                "revoke_security_group_egress",
                GroupId=_PLACEHOLDER,
                IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            )
            return _PLACEHOLDER
        group_id = str(created["GroupId"])
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    # Whatever rules the group has (AWS's default egress, or ones someone added) go.
    for direction, method in (
        ("IpPermissions", "revoke_security_group_ingress"),
        ("IpPermissionsEgress", "revoke_security_group_egress"),
    ):
        rules = [_without_ids(perm) for perm in group.get(direction, [])]
        if rules:
            r.write(ec2, method, GroupId=group_id, IpPermissions=rules)
    return group_id


def _without_ids(perm: dict[str, Any]) -> dict[str, Any]:
    keep = ("IpProtocol", "FromPort", "ToPort", "IpRanges", "Ipv6Ranges", "PrefixListIds")
    out = {k: perm[k] for k in keep if perm.get(k) not in (None, [])}
    pairs = [
        {"GroupId": g["GroupId"]} for g in perm.get("UserIdGroupPairs", []) if g.get("GroupId")
    ]
    if pairs:
        out["UserIdGroupPairs"] = pairs
    return out


@remediation(
    "ec2.quarantine_instance",
    QuarantineParams,
    summary="Isolate an instance: every network interface moved to a security group with no "
    "inbound or outbound rule (the previous groups are tagged on the instance).",
    fixes=(),
    resource_types=("AwsEc2Instance",),
    calls=(
        "ec2:DescribeInstances",
        "ec2:DescribeSecurityGroups",
        "ec2:CreateSecurityGroup",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:ModifyInstanceAttribute",
        "ec2:ModifyNetworkInterfaceAttribute",
        "ec2:CreateTags",
    ),
)
def quarantine_instance(f: Finding, p: QuarantineParams, r: Remedy) -> str:
    instance_id = _instance_id(f.resource.id)
    ec2 = r.client("ec2")
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    instance = reservations[0]["Instances"][0]
    if instance.get("State", {}).get("Name") in ("terminated", "shutting-down"):
        raise NothingToDo(f"instance {instance_id} is terminated")
    interfaces = instance.get("NetworkInterfaces", [])
    if not interfaces or not instance.get("VpcId"):
        raise NothingToDo(f"instance {instance_id} has no VPC network interface to isolate")
    group = _isolating_group(ec2, r, str(instance["VpcId"]), p.group_name)
    if len(interfaces) == 1:
        before = sorted({g["GroupId"] for g in instance.get("SecurityGroups", [])})
    else:
        before = sorted({g["GroupId"] for eni in interfaces for g in eni.get("Groups", [])})
    if before == [group]:
        raise NothingToDo(f"instance {instance_id} is already in {group}")
    if len(interfaces) == 1:
        # ModifyInstanceAttribute replaces the groups of the instance's (only) interface.
        r.write(ec2, "modify_instance_attribute", InstanceId=instance_id, Groups=[group])
    else:
        for eni in interfaces:
            r.write(
                ec2,
                "modify_network_interface_attribute",
                NetworkInterfaceId=eni["NetworkInterfaceId"],
                Groups=[group],
            )
    r.write(
        ec2,
        "create_tags",
        Resources=[instance_id],
        Tags=[{"Key": "mamori:quarantined-from", "Value": ",".join(before)[:256]}],
    )
    return f"moved instance {instance_id} from {', '.join(before) or 'no group'} to {group}"


# -- managed policies ------------------------------------------------------------------------------

_PRINCIPALS = {
    "AwsIamUser": ("UserName", "list_attached_user_policies", "detach_user_policy"),
    "AwsIamRole": ("RoleName", "list_attached_role_policies", "detach_role_policy"),
    "AwsIamGroup": ("GroupName", "list_attached_group_policies", "detach_group_policy"),
}


class DetachPolicyParams(ActionParams):
    type: Literal["iam.detach_policy"]
    # Only these managed policies (ARNs or names) of a user, role or group; default: all of
    # them. Not used for a policy finding, where the policy is detached from everything.
    policies: list[str] | None = Field(default=None, min_length=1)


def _detach_from_principal(f: Finding, p: DetachPolicyParams, r: Remedy, iam: Any) -> str:
    key, lister, detacher = _PRINCIPALS[f.resource.type]
    name = arn_name(f.resource.id)
    pages = iam.get_paginator(lister).paginate(**{key: name})
    attached = [a for page in pages for a in page["AttachedPolicies"]]
    wanted = set(p.policies or [])
    chosen = [
        a for a in attached if not wanted or a["PolicyArn"] in wanted or a["PolicyName"] in wanted
    ]
    if not chosen:
        raise NothingToDo(f"no managed policy to detach from {name}")
    for policy in chosen:
        r.write(iam, detacher, **{key: name, "PolicyArn": policy["PolicyArn"]})
    return f"detached {', '.join(a['PolicyName'] for a in chosen)} from {name}"


def _detach_everywhere(f: Finding, r: Remedy, iam: Any) -> str:
    arn = f.resource.id
    pages = iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn)
    holders: list[tuple[str, str, str]] = []
    for page in pages:
        holders += [("UserName", u["UserName"], "detach_user_policy") for u in page["PolicyUsers"]]
        holders += [("RoleName", x["RoleName"], "detach_role_policy") for x in page["PolicyRoles"]]
        holders += [
            ("GroupName", g["GroupName"], "detach_group_policy") for g in page["PolicyGroups"]
        ]
    if not holders:
        raise NothingToDo(f"policy {arn_name(arn)} is attached to nothing")
    for key, name, detacher in holders:
        r.write(iam, detacher, **{key: name, "PolicyArn": arn})
    return f"detached {arn_name(arn)} from {', '.join(name for _, name, _ in holders)}"


@remediation(
    "iam.detach_policy",
    DetachPolicyParams,
    summary="Detach managed policies from a user, role or group, or a policy from everything "
    "it is attached to (inline policies are left: they can only be deleted).",
    fixes=("iam.user_no_direct_policies", "iam.policy_no_full_admin"),
    resource_types=("AwsIamUser", "AwsIamRole", "AwsIamGroup", "AwsIamPolicy"),
    calls=(
        "iam:ListAttachedUserPolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedGroupPolicies",
        "iam:ListEntitiesForPolicy",
        "iam:DetachUserPolicy",
        "iam:DetachRolePolicy",
        "iam:DetachGroupPolicy",
    ),
)
def detach_policy(f: Finding, p: DetachPolicyParams, r: Remedy) -> str:
    iam = r.client("iam")
    if f.resource.type == "AwsIamPolicy":
        return _detach_everywhere(f, r, iam)
    return _detach_from_principal(f, p, r, iam)
