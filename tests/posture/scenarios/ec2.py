"""EC2 / VPC scenarios."""

from __future__ import annotations

from typing import Any

from tests.posture.harness import Env, scenario

EAST, WEST = "us-east-1", "eu-west-1"
WORLD4, WORLD6 = "0.0.0.0/0", "::/0"


def _arn(env: Env, kind: str, rid: str, region: str = EAST, label: str = "main") -> str:
    return f"arn:aws:ec2:{region}:{env.account(label)}:{kind}/{rid}"


def _perm(protocol: str, ports: tuple[int, int] | None, cidr: str) -> dict[str, Any]:
    perm: dict[str, Any] = {"IpProtocol": protocol}
    if ports is not None:
        perm["FromPort"], perm["ToPort"] = ports
    ranges = ("Ipv6Ranges", "CidrIpv6") if ":" in cidr else ("IpRanges", "CidrIp")
    perm[ranges[0]] = [{ranges[1]: cidr}]
    return perm


def _sg(env: Env, name: str, *perms: dict[str, Any], region: str = EAST) -> str:
    """A security group in the default VPC with the given ingress rules; returns its ARN."""
    ec2 = env.client("ec2", region=region)
    gid = ec2.create_security_group(GroupName=name, Description=name)["GroupId"]
    if perms:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=list(perms))
    return _arn(env, "security-group", gid, region)


def _vpc(env: Env, region: str = EAST) -> str:
    return env.client("ec2", region=region).create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def _default_vpc(env: Env, region: str = EAST) -> str:
    vpcs = env.client("ec2", region=region).describe_vpcs(
        Filters=[{"Name": "is-default", "Values": ["true"]}]
    )["Vpcs"]
    return str(vpcs[0]["VpcId"])


@scenario("ec2.ebs_default_encryption")
def ebs_default_encryption(env: Env) -> None:
    env.regions = [EAST, WEST]
    env.client("ec2", region=EAST).enable_ebs_encryption_by_default()
    env.passes(env.region_arn("main", EAST))
    env.fails(env.region_arn("main", WEST))


@scenario("ec2.vpc_flow_logs_enabled")
def vpc_flow_logs(env: Env) -> None:
    env.regions = [EAST, WEST]
    env.client("s3").create_bucket(Bucket="flow-log-archive")

    def flow_log(vpc_id: str, traffic: str, region: str = EAST) -> None:
        env.client("ec2", region=region).create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType=traffic,
            LogDestinationType="s3",
            LogDestination="arn:aws:s3:::flow-log-archive",
        )

    rejected, accepted, everything = _vpc(env), _vpc(env), _vpc(env, WEST)
    flow_log(rejected, "REJECT")
    flow_log(accepted, "ACCEPT")
    flow_log(everything, "ALL", WEST)
    env.passes(_arn(env, "vpc", rejected))
    env.passes(_arn(env, "vpc", everything, WEST))
    env.fails(_arn(env, "vpc", accepted))
    env.fails(_arn(env, "vpc", _default_vpc(env, WEST), WEST))


@scenario("ec2.nacl_no_admin_ports_open")
def nacl_admin_ports(env: Env) -> None:
    ec2 = env.client("ec2")
    vpc_id = _vpc(env)

    def acl(*entries: tuple[int, str, str, str, tuple[int, int] | None]) -> str:
        """entries: (rule number, action, protocol, cidr, port range); all inbound."""
        acl_id = ec2.create_network_acl(VpcId=vpc_id)["NetworkAcl"]["NetworkAclId"]
        for number, action, protocol, cidr, ports in entries:
            source = {"Ipv6CidrBlock": cidr} if ":" in cidr else {"CidrBlock": cidr}
            span = {"PortRange": {"From": ports[0], "To": ports[1]}} if ports else {}
            ec2.create_network_acl_entry(
                NetworkAclId=acl_id,
                RuleNumber=number,
                Protocol=protocol,
                RuleAction=action,
                Egress=False,
                **source,
                **span,
            )
        # Outbound rules never open inbound ports.
        ec2.create_network_acl_entry(
            NetworkAclId=acl_id,
            RuleNumber=100,
            Protocol="-1",
            RuleAction="allow",
            Egress=True,
            CidrBlock=WORLD4,
        )
        return _arn(env, "network-acl", acl_id)

    # A lower-numbered DENY for the whole internet shadows the later ALLOW.
    env.passes(
        acl(
            (90, "deny", "6", WORLD4, (22, 22)),
            (100, "allow", "6", WORLD4, (22, 22)),
            (110, "allow", "6", WORLD4, (443, 443)),
            (120, "allow", "6", WORLD6, (443, 443)),
        )
    )
    env.passes(acl((100, "allow", "6", "198.51.100.0/24", (22, 22))))
    # A DENY for part of the internet leaves the rest to the world-wide ALLOW.
    env.fails(
        acl((90, "deny", "6", "203.0.113.0/24", (22, 22)), (100, "allow", "6", WORLD4, (22, 22)))
    )
    # Order is by rule number: the ALLOW comes first and wins.
    env.fails(acl((50, "allow", "6", WORLD4, (3389, 3389)), (60, "deny", "-1", WORLD4, None)))
    env.fails(acl((100, "allow", "6", WORLD6, (3000, 4000))))
    env.fails(acl((100, "allow", "17", WORLD4, (3389, 3389))))
    default_acl = ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [_default_vpc(env)]}]
    )["NetworkAcls"][0]["NetworkAclId"]
    env.fails(_arn(env, "network-acl", default_acl))


@scenario("ec2.sg_no_admin_ports_open_ipv4")
def sg_admin_ipv4(env: Env) -> None:
    env.regions = [EAST, WEST]
    env.fails(_sg(env, "ssh-world", _perm("tcp", (22, 22), WORLD4)))
    env.fails(_sg(env, "rdp-range", _perm("tcp", (3000, 4000), WORLD4), region=WEST))
    env.fails(_sg(env, "everything", _perm("-1", None, WORLD4)))
    env.fails(_sg(env, "rdp-udp", _perm("udp", (3389, 3389), WORLD4)))
    env.passes(_sg(env, "ssh-office", _perm("tcp", (22, 22), "203.0.113.0/24")))
    env.passes(_sg(env, "https", _perm("tcp", (443, 443), WORLD4)))
    env.passes(_sg(env, "ssh-ipv6-only", _perm("tcp", (22, 22), WORLD6)))
    env.passes(_sg(env, "no-rules", region=WEST))


@scenario("ec2.sg_no_admin_ports_open_ipv6")
def sg_admin_ipv6(env: Env) -> None:
    env.fails(_sg(env, "ssh-world6", _perm("tcp", (22, 22), WORLD6)))
    env.fails(_sg(env, "everything6", _perm("-1", None, WORLD6)))
    env.passes(_sg(env, "ssh-ipv4-only", _perm("tcp", (22, 22), WORLD4)))
    env.passes(_sg(env, "rdp-net6", _perm("tcp", (3389, 3389), "2001:db8::/32")))
    env.passes(_sg(env, "https6", _perm("tcp", (443, 443), WORLD6)))


@scenario("ec2.sg_no_unrestricted_all_traffic")
def sg_all_traffic(env: Env) -> None:
    env.fails(_sg(env, "all6", _perm("-1", None, WORLD6)))
    env.fails(_sg(env, "all-tcp", _perm("tcp", (0, 65535), WORLD4)))
    env.passes(_sg(env, "ssh-only", _perm("tcp", (22, 22), WORLD4)))
    env.passes(_sg(env, "all-private", _perm("-1", None, "10.0.0.0/8")))
    env.passes(_sg(env, "ping", _perm("icmp", (-1, -1), WORLD4)))


@scenario("ec2.sg_no_db_ports_open")
def sg_db_ports(env: Env) -> None:
    env.fails(_sg(env, "mysql", _perm("tcp", (3306, 3306), WORLD4)))
    env.fails(_sg(env, "postgres6", _perm("tcp", (5432, 5432), WORLD6)))
    env.fails(_sg(env, "high-ports", _perm("tcp", (9000, 30000), WORLD4)))
    env.passes(_sg(env, "redis-private", _perm("tcp", (6379, 6379), "10.0.0.0/8")))
    env.passes(_sg(env, "web", _perm("tcp", (80, 80), WORLD4), _perm("tcp", (443, 443), WORLD6)))


@scenario("ec2.default_sg_restricts_all")
def default_sg(env: Env) -> None:
    env.regions = [EAST, WEST]
    ec2 = env.client("ec2", region=WEST)

    def default_group(vpc_id: str, region: str) -> dict[str, Any]:
        return env.client("ec2", region=region).describe_security_groups(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "group-name", "Values": ["default"]},
            ]
        )["SecurityGroups"][0]

    # A new VPC's default group, emptied as CIS 5.4 asks.
    closed = default_group(_vpc(env, WEST), WEST)
    if closed["IpPermissions"]:
        ec2.revoke_security_group_ingress(
            GroupId=closed["GroupId"], IpPermissions=closed["IpPermissions"]
        )
    ec2.revoke_security_group_egress(
        GroupId=closed["GroupId"], IpPermissions=closed["IpPermissionsEgress"]
    )
    env.passes(_arn(env, "security-group", closed["GroupId"], WEST))
    # Untouched default groups keep their allow-all egress rule.
    for region in (EAST, WEST):
        group = default_group(_default_vpc(env, region), region)
        env.fails(_arn(env, "security-group", group["GroupId"], region))


def _image(env: Env, region: str = EAST) -> str:
    # No built-in AMIs are loaded in tests; register one to launch from.
    return env.client("ec2", region=region).register_image(
        Name="base-image", RootDeviceName="/dev/sda1"
    )["ImageId"]


def _instance(env: Env, region: str = EAST, **launch: Any) -> str:
    ec2 = env.client("ec2", region=region)
    image = _image(env, region)
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, **launch)["Instances"][0]
    return str(iid["InstanceId"])


@scenario("ec2.instance_imdsv2_required")
def imdsv2(env: Env) -> None:
    env.passes(_arn(env, "instance", _instance(env, MetadataOptions={"HttpTokens": "required"})))
    env.passes(_arn(env, "instance", _instance(env, MetadataOptions={"HttpEndpoint": "disabled"})))
    env.fails(_arn(env, "instance", _instance(env, MetadataOptions={"HttpTokens": "optional"})))
    env.fails(_arn(env, "instance", _instance(env)))


@scenario("ec2.instance_no_public_ip")
def public_ip(env: Env) -> None:
    ec2 = env.client("ec2")
    # The default VPC's subnets assign public addresses on launch, as in AWS.
    env.fails(_arn(env, "instance", _instance(env)))
    private = ec2.create_subnet(VpcId=_vpc(env), CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    env.passes(_arn(env, "instance", _instance(env, SubnetId=private)))


@scenario("ec2.ebs_snapshot_not_public")
def snapshot_public(env: Env) -> None:
    ec2 = env.client("ec2")
    volume = ec2.create_volume(Size=8, AvailabilityZone="us-east-1a")["VolumeId"]

    def snapshot(**share: Any) -> str:
        sid = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
        if share:
            ec2.modify_snapshot_attribute(
                SnapshotId=sid,
                Attribute="createVolumePermission",
                OperationType="add",
                **share,
            )
        return _arn(env, "snapshot", sid)

    env.fails(snapshot(GroupNames=["all"]))
    env.passes(snapshot(UserIds=["210987654321"]))
    env.passes(snapshot())


@scenario("ec2.ami_not_public")
def ami_public(env: Env) -> None:
    ec2 = env.client("ec2")
    public = _image(env)
    ec2.modify_image_attribute(ImageId=public, LaunchPermission={"Add": [{"Group": "all"}]})
    env.fails(_arn(env, "image", public))
    env.passes(_arn(env, "image", _image(env)))


@scenario("ec2.ebs_volume_encrypted")
def volume_encrypted(env: Env) -> None:
    for label, encrypted in (("main", True), ("other", False)):
        vid = env.client("ec2", label).create_volume(
            Size=8, AvailabilityZone="us-east-1a", Encrypted=encrypted
        )["VolumeId"]
        env.expect(
            "PASSED" if encrypted else "FAILED", _arn(env, "volume", vid, label=label), label
        )
