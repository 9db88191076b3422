"""What external-access analysis reads: every resource-based policy of a Snapshot (and of the
model's roles), and the sharing that is not a policy (S3 ACL grants, shared EBS snapshots, AMIs
and RDS snapshots).

Collectors are read defensively. A service that was not collected for an account is skipped;
a listing or a resource whose policy could not be read becomes an `Unreadable`, so that the
analysis reports it as NOT_AVAILABLE and never as "not shared".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mamori.core import DataUnavailable
from mamori.identity.model import IdentityModel
from mamori.inventory import GLOBAL, Res, Snapshot, is_unavailable

_PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}
# The S3 log delivery group writes access logs on S3's behalf: not an outside party.
_LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"


@dataclass(frozen=True, slots=True)
class _PolicyPlace:
    """Where one kind of resource policy is in the snapshot."""

    service: str
    key: str
    resource_type: str  # ASFF resource type
    path: tuple[str, ...]  # to the policy document inside the item


_POLICY_PLACES = (
    _PolicyPlace("kms", "keys", "AwsKmsKey", ("Policy",)),
    _PolicyPlace("sqs", "queues", "AwsSqsQueue", ("Attributes", "Policy")),
    _PolicyPlace("sns", "topics", "AwsSnsTopic", ("Attributes", "Policy")),
    _PolicyPlace("lambda", "functions", "AwsLambdaFunction", ("Policy",)),
    _PolicyPlace("lambda", "layers", "AwsLambdaLayerVersion", ("Policy",)),
    _PolicyPlace("secretsmanager", "secrets", "AwsSecretsManagerSecret", ("ResourcePolicy",)),
    _PolicyPlace("ecr", "repositories", "AwsEcrRepository", ("policyText",)),
    _PolicyPlace("efs", "file_systems", "AwsEfsFileSystem", ("Policy",)),
)


@dataclass(frozen=True, slots=True)
class Located:
    """A resource: what every source and every gap names."""

    arn: str
    name: str
    resource_type: str
    account: str
    region: str


@dataclass(frozen=True, slots=True)
class BucketGuard:
    """S3 Block Public Access as it applies to one bucket (account or bucket level)."""

    restrict_public_buckets: bool = False
    ignore_public_acls: bool = False
    unknown: tuple[str, ...] = ()  # settings that could not be read (then taken as off)
    owner_id: str | None = None  # the bucket owner's canonical user id, from its ACL


@dataclass(frozen=True, slots=True)
class PolicySource:
    where: Located
    document: Any  # the policy as collected: an object or JSON text
    kind: str = "resource"  # "resource" or "trust"
    guard: BucketGuard | None = None  # S3 buckets only


@dataclass(frozen=True, slots=True)
class Share:
    """One grant that is not a policy statement: an ACL grant or a sharing attribute."""

    where: Located
    grantee: str  # "*" (public), an account id, "organization:<id>", "ou:<arn>", ...
    action: str  # as AWS names it: "ACL READ", "createVolumePermission", "restore"
    via: str  # the attribute it comes from, for the evidence
    guard: BucketGuard | None = None


@dataclass(frozen=True, slots=True)
class Unreadable:
    where: Located
    reason: str


@dataclass(slots=True)
class Sources:
    policies: list[PolicySource] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    bucket_owners: dict[str, str] = field(default_factory=dict)  # bucket name -> account


def read_sources(model: IdentityModel, snapshot: Snapshot | None) -> Sources:
    out = Sources()
    for account in model.accounts.values():
        for role in account.roles.values():
            where = Located(role.arn, role.name, "AwsIamRole", account.account_id, GLOBAL)
            out.policies.append(PolicySource(where, role.trust, kind="trust"))
    if snapshot is not None:
        for account_id in sorted(snapshot.accounts):
            _Reader(snapshot, account_id, out).read()
    return out


class _Reader:
    def __init__(self, snapshot: Snapshot, account: str, out: Sources) -> None:
        self.snapshot = snapshot
        self.account = account
        self.out = out
        self.partition = snapshot.partition

    def read(self) -> None:
        self._buckets()
        for place in _POLICY_PLACES:
            for item, where in self._items(place.service, place.key, place.resource_type):
                try:
                    document = _dig(item, place.path)
                except DataUnavailable as exc:
                    self._gap(where, f"its policy could not be read ({exc})")
                    continue
                if document is not None:
                    self.out.policies.append(PolicySource(where, document))
        self._attribute_shares()

    # -- listing -------------------------------------------------------------------------------

    def _items(self, service: str, key: str, rtype: str) -> Iterator[tuple[Res, Located]]:
        for region in self.snapshot.regions_of(self.account, service):
            scope = Located(
                f"arn:{self.partition}:{service}:{region}:{self.account}:{key}",
                f"{service}.{key} in {region}",
                "AwsAccount",
                self.account,
                region,
            )
            try:
                items = self.snapshot.resources(self.account, service, region, key)
            except DataUnavailable as exc:
                self._gap(scope, f"the list could not be read ({exc})")
                continue
            for index, item in enumerate(items):
                arn = item.raw.get("_arn") if not item.malformed else None
                if not isinstance(arn, str) or not arn:
                    label = f"{service}.{key}[{index}] in {region}"
                    self._gap(
                        Located(f"{scope.arn}/{index}", label, rtype, self.account, region),
                        "the entry is malformed or has no ARN",
                    )
                    continue
                item_region = item.raw.get("_region")
                where = Located(
                    arn,
                    item.name,
                    rtype,
                    self.account,
                    item_region if isinstance(item_region, str) and item_region else region,
                )
                yield item, where

    def _gap(self, where: Located, reason: str) -> None:
        self.out.unreadable.append(Unreadable(where, reason))

    # -- S3 --------------------------------------------------------------------------------------

    def _buckets(self) -> None:
        account_block = self._account_block()
        for item, where in self._items("s3", "buckets", "AwsS3Bucket"):
            self.out.bucket_owners[where.arn.rsplit(":", 1)[-1]] = self.account
            guard = self._guard(item, account_block)
            try:
                policy = item.get("Policy")
            except DataUnavailable as exc:
                self._gap(where, f"its bucket policy could not be read ({exc})")
            else:
                if policy is not None:
                    self.out.policies.append(PolicySource(where, policy, guard=guard))
            self._acl(item, where, guard)

    def _account_block(self) -> tuple[dict[str, Any] | None, str | None]:
        try:
            block = self.snapshot.data(self.account, "s3", GLOBAL, "account_public_access_block")
        except DataUnavailable as exc:
            return None, str(exc)
        return (block if isinstance(block, dict) else None), None

    def _guard(self, item: Res, account: tuple[dict[str, Any] | None, str | None]) -> BucketGuard:
        unknown: list[str] = []
        blocks: list[dict[str, Any]] = []
        account_block, account_problem = account
        if account_problem:
            unknown.append(f"account-level Block Public Access ({account_problem})")
        elif account_block is not None:
            blocks.append(account_block)
        try:
            bucket_block = item.get("PublicAccessBlock")
        except DataUnavailable as exc:
            unknown.append(f"bucket-level Block Public Access ({exc})")
        else:
            if isinstance(bucket_block, dict):
                blocks.append(bucket_block)
        owner = None
        acl = item.raw.get("Acl")
        if isinstance(acl, dict) and not is_unavailable(acl):
            owner_id = (
                (acl.get("Owner") or {}).get("ID") if isinstance(acl.get("Owner"), dict) else None
            )
            owner = owner_id if isinstance(owner_id, str) else None
        return BucketGuard(
            restrict_public_buckets=any(b.get("RestrictPublicBuckets") is True for b in blocks),
            ignore_public_acls=any(b.get("IgnorePublicAcls") is True for b in blocks),
            unknown=tuple(unknown),
            owner_id=owner,
        )

    def _acl(self, item: Res, where: Located, guard: BucketGuard) -> None:
        try:
            acl = item.get("Acl")
        except DataUnavailable as exc:
            self._gap(where, f"its ACL could not be read ({exc})")
            return
        if acl is None:
            return
        grants = acl.get("Grants") if isinstance(acl, dict) else None
        if not isinstance(grants, list):
            self._gap(where, "its ACL is malformed (no list of Grants)")
            return
        for grant in grants:
            grantee = grant.get("Grantee") if isinstance(grant, dict) else None
            permission = grant.get("Permission") if isinstance(grant, dict) else None
            if not isinstance(grantee, dict) or not isinstance(permission, str):
                self._gap(where, "its ACL has a malformed grant")
                continue
            who = _acl_grantee(grantee, guard.owner_id)
            if who is not None:
                self.out.shares.append(
                    Share(where, who, f"ACL {permission}", "bucket ACL", guard=guard)
                )

    # -- snapshots and images ----------------------------------------------------------------

    def _attribute_shares(self) -> None:
        for key, rtype, attribute, action in (
            ("snapshots", "AwsEc2Snapshot", "CreateVolumePermissions", "createVolumePermission"),
            ("images", "AwsEc2Image", "LaunchPermissions", "launchPermission"),
        ):
            for item, where in self._items("ec2", key, rtype):
                try:
                    perms = item.get(attribute)
                    public = item.get("Public") is True if key == "images" else False
                except DataUnavailable as exc:
                    self._gap(where, f"who it is shared with could not be read ({exc})")
                    continue
                if public:
                    self.out.shares.append(Share(where, "*", action, "Public"))
                for perm in perms if isinstance(perms, list) else []:
                    who = _launch_grantee(perm)
                    if who is not None:
                        self.out.shares.append(Share(where, who, action, attribute))
                if perms is not None and not isinstance(perms, list):
                    self._gap(where, f"{attribute} is not a list")
        for item, where in self._items("rds", "snapshots", "AwsRdsDbSnapshot"):
            try:
                attributes = item.get("Attributes")
            except DataUnavailable as exc:
                self._gap(where, f"who may restore it could not be read ({exc})")
                continue
            for attr in attributes if isinstance(attributes, list) else []:
                if isinstance(attr, dict) and attr.get("AttributeName") == "restore":
                    for value in attr.get("AttributeValues") or []:
                        who = "*" if value == "all" else str(value)
                        self.out.shares.append(Share(where, who, "restore", "restore attribute"))


def _dig(item: Res, path: tuple[str, ...]) -> Any:
    """The value at `path`; raises DataUnavailable where a step holds an unavailable marker.
    A missing step reads as None (AWS omits a policy that does not exist)."""
    value: Any = item.get(path[0])
    for step, key in enumerate(path[1:], start=1):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
        if is_unavailable(value):
            raise DataUnavailable(
                ".".join(path[: step + 1]), "Unavailable", str(value["__unavailable__"])
            )
    return value


def _acl_grantee(grantee: dict[str, Any], owner_id: str | None) -> str | None:
    uri = grantee.get("URI")
    if isinstance(uri, str):
        if uri in _PUBLIC_GROUPS:
            return "*"
        return None if uri == _LOG_DELIVERY else f"group:{uri}"
    canonical = grantee.get("ID")
    if isinstance(canonical, str) and canonical:
        return None if canonical == owner_id else f"canonical:{canonical}"
    email = grantee.get("EmailAddress")
    if isinstance(email, str) and email:
        return f"email:{email}"
    return None


def _launch_grantee(perm: Any) -> str | None:
    if not isinstance(perm, dict):
        return None
    if perm.get("Group") == "all":
        return "*"
    for key, prefix in (
        ("UserId", ""),
        ("OrganizationArn", "org:"),
        ("OrganizationalUnitArn", "ou:"),
    ):
        value = perm.get(key)
        if isinstance(value, str) and value:
            return prefix + value
    return None
