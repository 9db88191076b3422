"""Seeding the demo's EC2 and VPC resources: default VPCs routed to the internet, networks,
security groups, network ACLs, instances, volumes and snapshots."""

from __future__ import annotations

from typing import Any

from mamori.demo import catalogue as cat
from mamori.demo.planted import (
    WORLD4,
)
from mamori.demo.seeding import Seed, tags

# -- EC2 / VPC -----------------------------------------------------------------------------------


def _route_to_internet(ec2: Any, vpc: str) -> None:
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main, DestinationCidrBlock=WORLD4, GatewayId=igw)


def _seed_default_vpcs(s: Seed) -> None:
    """Real default VPCs route 0.0.0.0/0 to an internet gateway; moto's have neither."""
    for role in s.accounts:
        for where in s.regions:
            ec2 = s.c("ec2", role, where)
            default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
            for vpc in default["Vpcs"]:
                _route_to_internet(ec2, vpc["VpcId"])


def _seed_network(s: Seed, net: cat.Network) -> None:
    ec2 = s.c("ec2", net.account)
    vpc = ec2.create_vpc(CidrBlock=net.cidr, TagSpecifications=tags("vpc", net.vpc))["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(
        VpcId=vpc,
        CidrBlock=net.subnet,
        AvailabilityZone=f"{s.regions['home']}a",
        TagSpecifications=tags("subnet", f"{net.vpc}-a"),
    )["Subnet"]["SubnetId"]
    s.ids[(net.vpc, "vpc")], s.ids[(net.vpc, "subnet")] = vpc, subnet
    if net.public:
        _route_to_internet(ec2, vpc)
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    if net.flow_logs:
        ec2.create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="s3",
            LogDestination=f"arn:aws:s3:::{cat.FLOW_LOG_BUCKET}",
        )
    default = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]
    if net.lock_default_group:
        for rules, revoke in (
            (default["IpPermissions"], ec2.revoke_security_group_ingress),
            (default["IpPermissionsEgress"], ec2.revoke_security_group_egress),
        ):
            if rules:
                revoke(GroupId=default["GroupId"], IpPermissions=rules)
    s.record(net.vpc_plant, net.account, s.ec2_arn(net.account, "vpc", vpc), "home")
    s.record(
        net.default_group_plant,
        net.account,
        s.ec2_arn(net.account, "security-group", default["GroupId"]),
        "home",
    )


def _permission(rule: cat.Rule, group_ids: dict[tuple[str, str], str], vpc: str) -> dict[str, Any]:
    ports = (
        {"IpProtocol": "-1"}
        if rule.port is None
        else {"IpProtocol": "tcp", "FromPort": rule.port, "ToPort": rule.port}
    )
    return {
        **ports,
        "IpRanges": [{"CidrIp": c} for c in rule.v4],
        "Ipv6Ranges": [{"CidrIpv6": c} for c in rule.v6],
        "UserIdGroupPairs": [{"GroupId": group_ids[(vpc, rule.group)]}] if rule.group else [],
    }


def _seed_security_groups(s: Seed) -> None:
    for g in cat.SECURITY_GROUPS:
        ec2 = s.c("ec2", g.account)
        group = ec2.create_security_group(
            GroupName=g.name,
            Description=g.description,
            VpcId=s.ids[(g.vpc, "vpc")],
            TagSpecifications=tags("security-group", g.name),
        )["GroupId"]
        s.ids[(g.vpc, g.name)] = group
        ec2.authorize_security_group_ingress(
            GroupId=group, IpPermissions=[_permission(r, s.ids, g.vpc) for r in g.rules]
        )
        s.record(g.plant, g.account, s.ec2_arn(g.account, "security-group", group), "home")


def _seed_nacls(s: Seed) -> None:
    for n in cat.NACLS:
        ec2 = s.c("ec2", n.account)
        nacl = ec2.create_network_acl(
            VpcId=s.ids[(n.vpc, "vpc")], TagSpecifications=tags("network-acl", n.name)
        )["NetworkAcl"]["NetworkAclId"]
        for number, egress, cidr, ports, action in n.entries:
            protocol = (
                {"Protocol": "-1"}
                if ports is None
                else {"Protocol": "6", "PortRange": {"From": ports[0], "To": ports[1]}}
            )
            ec2.create_network_acl_entry(
                NetworkAclId=nacl,
                RuleNumber=number,
                Egress=egress,
                CidrBlock=cidr,
                RuleAction=action,
                **protocol,
            )
        s.record(n.plant, n.account, s.ec2_arn(n.account, "network-acl", nacl), "home")


def _seed_servers(s: Seed) -> None:
    for sv in cat.SERVERS:
        ec2 = s.c("ec2", sv.account)
        image = ec2.register_image(
            Name=sv.image,
            Architecture="x86_64",
            RootDeviceName="/dev/xvda",
            VirtualizationType="hvm",
            TagSpecifications=tags("image", sv.image),
        )["ImageId"]
        if sv.image_public:
            ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]})
        tokens = "required" if sv.imds_v2_only else "optional"
        instance = ec2.run_instances(
            ImageId=image,
            InstanceType="t3.small",
            MinCount=1,
            MaxCount=1,
            SubnetId=s.ids[(sv.vpc, "subnet")],
            SecurityGroupIds=[s.ids[(sv.vpc, sv.group)]],
            MetadataOptions={"HttpTokens": tokens, "HttpEndpoint": "enabled"},
            TagSpecifications=tags("instance", sv.name),
        )["Instances"][0]["InstanceId"]
        s.record(sv.image_plant, sv.account, s.ec2_arn(sv.account, "image", image), "home")
        s.record(sv.plant, sv.account, s.ec2_arn(sv.account, "instance", instance), "home")


def _seed_volumes(s: Seed) -> None:
    for v in cat.VOLUMES:
        ec2 = s.c("ec2", v.account)
        encryption = {"Encrypted": True, "KmsKeyId": s.keys[v.key]} if v.key else {}
        volume = ec2.create_volume(
            AvailabilityZone=f"{s.regions['home']}a",
            Size=100,
            VolumeType="gp3",
            TagSpecifications=tags("volume", v.name),
            **encryption,
        )["VolumeId"]
        snapshot = ec2.create_snapshot(
            VolumeId=volume,
            Description=f"{v.name} nightly",
            TagSpecifications=tags("snapshot", f"{v.name}-nightly"),
        )["SnapshotId"]
        if v.public_snapshot:
            ec2.modify_snapshot_attribute(
                SnapshotId=snapshot,
                Attribute="createVolumePermission",
                OperationType="add",
                GroupNames=["all"],
            )
        s.record(v.plant, v.account, s.ec2_arn(v.account, "volume", volume), "home")
        s.record(v.snapshot_plant, v.account, s.ec2_arn(v.account, "snapshot", snapshot), "home")


def seed_ec2(s: Seed) -> None:
    _seed_default_vpcs(s)
    for net in cat.NETWORKS:
        _seed_network(s, net)
    _seed_security_groups(s)
    _seed_nacls(s)
    _seed_servers(s)
    _seed_volumes(s)
