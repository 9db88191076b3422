"""EC2 and VPC: instances, EBS volumes and snapshots, AMIs, launch templates, security groups,
VPCs with their flow logs, network ACLs, internet gateways and route tables, and the region's
EBS encryption-by-default setting.

Snapshots and AMIs carry who they are shared with (CreateVolumePermissions, LaunchPermissions).
Launch templates carry their default version's LaunchTemplateData without UserData, replaced by
`_has_user_data`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mamori.inventory.collectors._items import without_user_data
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable, unavailable

# Instance attributes worth keeping: what posture, identity and exposure analyses read.
# The full DescribeInstances answer is large and mostly launch details.
_INSTANCE_KEYS = (
    "InstanceId",
    "InstanceType",
    "ImageId",
    "LaunchTime",
    "State",
    "VpcId",
    "SubnetId",
    "PrivateIpAddress",
    "PublicIpAddress",
    "PublicDnsName",
    "Ipv6Address",
    "IamInstanceProfile",
    "SecurityGroups",
    "MetadataOptions",
    "NetworkInterfaces",
    "Placement",
    "Platform",
    "Tags",
)


_Enrich = Callable[[CollectContext, dict[str, Any]], None]


@dataclass(frozen=True)
class _Listing:
    """One resource list: which call returns it, and how its items are named in ARNs."""

    key: str  # snapshot key
    method: str
    result_key: str
    id_field: str
    arn_type: str  # the resource-type part of the ARN, e.g. "volume"
    params: dict[str, Any] = field(default_factory=dict)
    enrich: _Enrich | None = None  # per-item reads that the listing does not answer


def _shared_with(method: str, attribute: str, id_field: str, key: str) -> _Enrich:
    """Who a snapshot or an image is shared with. Only this attribute tells, one resource at a
    time: DescribeSnapshots has no field for it, and DescribeImages only says "Public"."""

    def enrich(ctx: CollectContext, item: dict[str, Any]) -> None:
        perms = ctx.call("ec2", method, pick=key, Attribute=attribute, **{id_field: item[id_field]})
        # An unshared resource may come back without the list at all: "shared with nobody".
        item[key] = perms if perms is not None else []

    return enrich


_LISTINGS = (
    _Listing("volumes", "describe_volumes", "Volumes", "VolumeId", "volume"),
    # Only the account's own snapshots and images: "self" excludes the public catalogue.
    _Listing(
        "snapshots",
        "describe_snapshots",
        "Snapshots",
        "SnapshotId",
        "snapshot",
        {"OwnerIds": ["self"]},
        _shared_with(
            "describe_snapshot_attribute",
            "createVolumePermission",
            "SnapshotId",
            "CreateVolumePermissions",
        ),
    ),
    _Listing(
        "images",
        "describe_images",
        "Images",
        "ImageId",
        "image",
        {"Owners": ["self"]},
        _shared_with(
            "describe_image_attribute", "launchPermission", "ImageId", "LaunchPermissions"
        ),
    ),
    _Listing(
        "security_groups",
        "describe_security_groups",
        "SecurityGroups",
        "GroupId",
        "security-group",
    ),
    _Listing("vpcs", "describe_vpcs", "Vpcs", "VpcId", "vpc"),
    _Listing("flow_logs", "describe_flow_logs", "FlowLogs", "FlowLogId", "vpc-flow-log"),
    _Listing("network_acls", "describe_network_acls", "NetworkAcls", "NetworkAclId", "network-acl"),
    _Listing(
        "internet_gateways",
        "describe_internet_gateways",
        "InternetGateways",
        "InternetGatewayId",
        "internet-gateway",
    ),
    _Listing("route_tables", "describe_route_tables", "RouteTables", "RouteTableId", "route-table"),
)
_LAUNCH_TEMPLATES = _Listing(
    "launch_templates",
    "describe_launch_templates",
    "LaunchTemplates",
    "LaunchTemplateId",
    "launch-template",
)


@collector(
    "ec2",
    scope="regional",
    calls=[
        "ec2.describe_instances",
        "ec2.describe_volumes",
        "ec2.describe_snapshots",
        "ec2.describe_snapshot_attribute",
        "ec2.describe_images",
        "ec2.describe_image_attribute",
        "ec2.describe_launch_templates",
        "ec2.describe_launch_template_versions",
        "ec2.describe_security_groups",
        "ec2.describe_vpcs",
        "ec2.describe_flow_logs",
        "ec2.describe_network_acls",
        "ec2.describe_internet_gateways",
        "ec2.describe_route_tables",
        "ec2.get_ebs_encryption_by_default",
    ],
)
def collect_ec2(ctx: CollectContext) -> None:
    ctx.put(
        "ebs_default_encryption",
        ctx.call("ec2", "get_ebs_encryption_by_default", pick="EbsEncryptionByDefault"),
    )
    ctx.put("instances", _instances(ctx))
    for listing in _LISTINGS:
        ctx.put(listing.key, _listed(ctx, listing))
    ctx.put(_LAUNCH_TEMPLATES.key, _launch_templates(ctx))


def _listed(ctx: CollectContext, listing: _Listing) -> Any:
    items = ctx.paginate("ec2", listing.method, listing.result_key, **listing.params)
    if is_unavailable(items):
        return items
    for item in items:
        _label(ctx, item, item[listing.id_field], listing.arn_type)
    enrich = listing.enrich
    if enrich is not None:
        ctx.map(lambda item: enrich(ctx, item), items)
    return items


def _instances(ctx: CollectContext) -> Any:
    reservations = ctx.paginate("ec2", "describe_instances", "Reservations")
    if is_unavailable(reservations):
        return reservations
    out = []
    for reservation in reservations:
        for raw in reservation.get("Instances", []):
            inst = {k: raw[k] for k in _INSTANCE_KEYS if k in raw}
            _label(ctx, inst, inst["InstanceId"], "instance")
            out.append(inst)
    return out


def _launch_templates(ctx: CollectContext) -> Any:
    templates = _listed(ctx, _LAUNCH_TEMPLATES)
    if is_unavailable(templates) or not templates:
        return templates
    # Without a template id or name, one paginated call answers every template's default
    # version, instead of one call per template.
    versions = ctx.paginate(
        "ec2", "describe_launch_template_versions", "LaunchTemplateVersions", Versions=["$Default"]
    )
    defaults: dict[str, Any] = {}
    if not is_unavailable(versions):
        defaults = {v.get("LaunchTemplateId"): v for v in versions if v.get("DefaultVersion")}
    for template in templates:
        template["_name"] = template.get("LaunchTemplateName") or template["_name"]
        version = defaults.get(template["LaunchTemplateId"])
        if is_unavailable(versions):
            template["LaunchTemplateData"] = versions
        elif version is None:
            # Created after the versions were read: unknown, not empty.
            template["LaunchTemplateData"] = unavailable("Missing", "no default version read")
        else:
            template["LaunchTemplateData"] = without_user_data(
                version.get("LaunchTemplateData") or {}
            )
    return templates


def _label(ctx: CollectContext, item: dict[str, Any], rid: str, arn_type: str) -> None:
    tags = {t["Key"]: t.get("Value", "") for t in item.get("Tags") or [] if "Key" in t}
    item["_arn"] = ctx.arn("ec2", f"{arn_type}/{rid}")
    item["_tags"] = tags
    item["_name"] = tags.get("Name") or rid
