"""EC2 and VPC checks: network exposure (security groups, network ACLs), instance metadata,
EBS and AMI sharing, encryption at rest, VPC flow logs."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mamori.inventory.snapshot import Res
from mamori.posture.registry import REGION, CheckContext, Verdict, check, passed, verdict

_ALL = "-1"
# AWS reports the common protocols by name in security groups and by number in network ACLs.
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": _ALL}
_TCP = frozenset({"tcp"})
_TCP_UDP = frozenset({"tcp", "udp"})

# Remote administration: SSH and RDP. CIS 5.1-5.3 name both TCP and UDP (RDP has a UDP
# transport), and protocol -1 (all traffic).
_ADMIN_PORTS: Mapping[int, frozenset[str]] = {22: _TCP_UDP, 3389: _TCP_UDP}
# Database and cache engines that should never face the internet (Security Hub EC2.19 set).
_DB_PORTS: Mapping[int, frozenset[str]] = {
    1433: _TCP,  # SQL Server
    1521: _TCP,  # Oracle
    3306: _TCP,  # MySQL / MariaDB
    5432: _TCP,  # PostgreSQL
    6379: _TCP,  # Redis
    9200: _TCP,  # Elasticsearch / OpenSearch
    11211: _TCP_UDP,  # Memcached (its UDP listener is an amplification vector too)
    27017: _TCP,  # MongoDB
}
_IPV4 = (4,)
_IPV6 = (6,)
_BOTH = (4, 6)

_EC2_DOC = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/"
_VPC_DOC = "https://docs.aws.amazon.com/vpc/latest/userguide/"
_EBS_DOC = "https://docs.aws.amazon.com/ebs/latest/userguide/"
_CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"


# -- shared rule evaluation -----------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """One ingress rule from the whole internet, normalised across security groups and NACLs."""

    protocol: str  # "tcp", "udp", ..., or _ALL
    low: int
    high: int
    family: int  # 4 or 6
    allow: bool = True

    def covers(self, port: int, protocol: str) -> bool:
        if self.protocol == _ALL:
            return True
        return self.protocol == protocol and self.low <= port <= self.high

    @property
    def all_traffic(self) -> bool:
        if self.protocol == _ALL:
            return True
        # Only TCP and UDP have ports; an ICMP rule's -1 "ports" are message types.
        return self.protocol in _TCP_UDP and self.low <= 0 and self.high >= 65535

    @property
    def scope(self) -> str:
        return "all protocols" if self.protocol == _ALL else f"all {self.protocol.upper()} ports"


def _protocol(value: Any) -> str:
    text = str(value).lower()
    return _PROTOCOL_NAMES.get(text, text)


def _world_family(cidr: Any) -> int | None:
    """4 or 6 when the CIDR is the whole address space (any source on the internet)."""
    try:
        net = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return None
    return net.version if net.prefixlen == 0 else None


def _port_bounds(low: Any, high: Any) -> tuple[int, int]:
    # A TCP/UDP rule without ports (or -1 as in ICMP-style answers) admits every port.
    if low is None or high is None or int(low) < 0:
        return 0, 65535
    return int(low), int(high)


def _sg_world_rules(group: Res) -> Iterator[_Rule]:
    for perm in group["IpPermissions"]:
        protocol = _protocol(perm.get("IpProtocol"))
        low, high = _port_bounds(perm.get("FromPort"), perm.get("ToPort"))
        sources = [r.get("CidrIp") for r in perm.get("IpRanges", [])]
        sources += [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges", [])]
        for family in {f for f in map(_world_family, sources) if f is not None}:
            yield _Rule(protocol, low, high, family)


def _exposed(
    rules: Iterable[_Rule], ports: Mapping[int, frozenset[str]], families: Iterable[int]
) -> list[int]:
    """Ports reachable from the internet: in each family, the first world rule that matches
    the port decides (security-group rules are all ALLOW, so there any match opens it)."""
    ordered = list(rules)
    return sorted(
        {
            port
            for family in families
            for port, protocols in ports.items()
            for protocol in protocols
            if _first_match_allows(ordered, family, port, protocol)
        }
    )


def _first_match_allows(rules: list[_Rule], family: int, port: int, protocol: str) -> bool:
    first = next((r for r in rules if r.family == family and r.covers(port, protocol)), None)
    return first is not None and first.allow


def _exposure(
    rules: Iterable[_Rule], ports: Mapping[int, frozenset[str]], families: Iterable[int], what: str
) -> Verdict:
    found = _exposed(rules, ports, families)
    listed = ", ".join(map(str, found))
    return verdict(
        not found,
        f"no {what} port is open to the internet",
        f"{what} port(s) {listed} open to the internet",
        ports=found,
    )


def _nacl_world_rules(acl: Res) -> list[_Rule]:
    """Inbound entries from the whole internet in evaluation order (lowest RuleNumber first).

    Entries for narrower sources do not decide for "any address": a narrower DENY still leaves
    the rest of the internet to the later world-wide ALLOW, a narrower ALLOW is not world
    access. So only world-wide entries are kept, and their order is what shadows."""
    rules = []
    for entry in sorted(acl["Entries"], key=lambda e: int(e.get("RuleNumber", 32767))):
        if entry.get("Egress"):
            continue
        family = _world_family(entry.get("CidrBlock") or entry.get("Ipv6CidrBlock"))
        if family is None:
            continue
        span = entry.get("PortRange") or {}
        low, high = _port_bounds(span.get("From"), span.get("To"))
        rules.append(
            _Rule(
                _protocol(entry.get("Protocol")),
                low,
                high,
                family,
                allow=str(entry.get("RuleAction", "")).lower() == "allow",
            )
        )
    return rules


# -- checks ------------------------------------------------------------------------------------


@check(
    id="ec2.ebs_default_encryption",
    service="ec2",
    over=REGION,
    severity="medium",
    title="EBS default encryption should be enabled",
    resource_type="AwsAccount",
    description=(
        "With encryption by default, every new EBS volume and snapshot copy in the "
        "region is encrypted, whoever creates it (CIS 2.2.1)."
    ),
    remediation="Enable EBS encryption by default in every region in use.",
    remediation_cli="aws ec2 enable-ebs-encryption-by-default --region <region>",
    references=[_EBS_DOC + "encryption-by-default.html", _CIS],
)
def ebs_default_encryption(ctx: CheckContext) -> Verdict:
    enabled = ctx.data("ec2", "ebs_default_encryption")
    return verdict(
        enabled is True, "EBS encryption by default is on", "EBS encryption by default is off"
    )


@check(
    id="ec2.vpc_flow_logs_enabled",
    service="ec2",
    over="vpcs",
    severity="medium",
    title="VPC flow logging should be enabled in all VPCs",
    resource_type="AwsEc2Vpc",
    description=(
        "Flow logs of at least rejected traffic show probing and blocked connections, "
        "and are the evidence needed to investigate an intrusion (CIS 3.7)."
    ),
    remediation="Create a flow log for the VPC capturing REJECT (or ALL) traffic.",
    remediation_cli=(
        "aws ec2 create-flow-logs --resource-type VPC --resource-ids <vpc-id> "
        "--traffic-type REJECT --log-destination-type s3 "
        "--log-destination arn:aws:s3:::<bucket>"
    ),
    references=[_VPC_DOC + "flow-logs.html", _CIS],
)
def vpc_flow_logs_enabled(vpc: Res, ctx: CheckContext) -> Verdict:
    vpc_id = vpc["VpcId"]
    logs = [
        fl
        for fl in ctx.resources("ec2", "flow_logs")
        if fl.get("ResourceId") == vpc_id and fl.get("FlowLogStatus", "ACTIVE") == "ACTIVE"
    ]
    traffic = sorted({str(fl.get("TrafficType")) for fl in logs})
    ok = any(t in ("REJECT", "ALL") for t in traffic)
    return verdict(
        ok,
        f"flow log captures {', '.join(traffic)} traffic",
        "no active flow log captures rejected traffic",
        traffic_types=traffic,
    )


@check(
    id="ec2.nacl_no_admin_ports_open",
    service="ec2",
    over="network_acls",
    severity="medium",
    title=(
        "Network ACLs should not allow ingress from 0.0.0.0/0 or ::/0 to remote "
        "administration ports"
    ),
    resource_type="AwsEc2NetworkAcl",
    description=(
        "An inbound ALLOW entry from anywhere to SSH (22) or RDP (3389) that no "
        "lower-numbered DENY entry overrides leaves the subnets' administration ports "
        "to their security groups alone (CIS 5.1)."
    ),
    remediation=(
        "Replace the entry with one for known source ranges, or add a lower-numbered "
        "DENY entry for ports 22 and 3389 from 0.0.0.0/0 and ::/0."
    ),
    remediation_cli=(
        "aws ec2 replace-network-acl-entry --network-acl-id <acl-id> --ingress "
        "--rule-number <n> --protocol tcp --port-range From=22,To=22 "
        "--cidr-block <trusted-cidr> --rule-action allow"
    ),
    references=[_VPC_DOC + "vpc-network-acls.html", _CIS],
)
def nacl_no_admin_ports_open(acl: Res, ctx: CheckContext) -> Verdict:
    return _exposure(_nacl_world_rules(acl), _ADMIN_PORTS, _BOTH, "administration")


@check(
    id="ec2.sg_no_admin_ports_open_ipv4",
    service="ec2",
    over="security_groups",
    severity="high",
    title="Security groups should not allow ingress from 0.0.0.0/0 to remote administration ports",
    resource_type="AwsEc2SecurityGroup",
    description=(
        "SSH (22) and RDP (3389) open to any IPv4 address are brute-forced within "
        "minutes of exposure (CIS 5.2)."
    ),
    remediation=(
        "Remove the rule, or restrict its source to known ranges; prefer Session "
        "Manager to open administration ports."
    ),
    remediation_cli=(
        "aws ec2 revoke-security-group-ingress --group-id <sg-id> --protocol tcp "
        "--port 22 --cidr 0.0.0.0/0"
    ),
    references=[_EC2_DOC + "security-group-rules.html", _CIS],
)
def sg_no_admin_ports_open_ipv4(group: Res, ctx: CheckContext) -> Verdict:
    return _exposure(_sg_world_rules(group), _ADMIN_PORTS, _IPV4, "administration")


@check(
    id="ec2.sg_no_admin_ports_open_ipv6",
    service="ec2",
    over="security_groups",
    severity="high",
    title="Security groups should not allow ingress from ::/0 to remote administration ports",
    resource_type="AwsEc2SecurityGroup",
    description=(
        "SSH (22) and RDP (3389) open to any IPv6 address are as exposed as over IPv4 (CIS 5.3)."
    ),
    remediation="Remove the rule, or restrict its source to known ranges.",
    remediation_cli=(
        "aws ec2 revoke-security-group-ingress --group-id <sg-id> "
        "--ip-permissions IpProtocol=tcp,FromPort=22,ToPort=22,"
        "Ipv6Ranges=[{CidrIpv6=::/0}]"
    ),
    references=[_EC2_DOC + "security-group-rules.html", _CIS],
)
def sg_no_admin_ports_open_ipv6(group: Res, ctx: CheckContext) -> Verdict:
    return _exposure(_sg_world_rules(group), _ADMIN_PORTS, _IPV6, "administration")


@check(
    id="ec2.sg_no_db_ports_open",
    service="ec2",
    over="security_groups",
    severity="high",
    title="Security groups should not allow ingress from the internet to database ports",
    resource_type="AwsEc2SecurityGroup",
    description=(
        "Database and cache engines (SQL Server, Oracle, MySQL, PostgreSQL, Redis, "
        "Elasticsearch, Memcached, MongoDB) reachable from anywhere are found by "
        "scanners and attacked directly."
    ),
    remediation="Restrict the rule to the application's security group or private ranges.",
    remediation_cli=(
        "aws ec2 revoke-security-group-ingress --group-id <sg-id> --protocol tcp "
        "--port <port> --cidr 0.0.0.0/0"
    ),
    references=[_EC2_DOC + "security-group-rules.html"],
)
def sg_no_db_ports_open(group: Res, ctx: CheckContext) -> Verdict:
    return _exposure(_sg_world_rules(group), _DB_PORTS, _BOTH, "database")


@check(
    id="ec2.sg_no_unrestricted_all_traffic",
    service="ec2",
    over="security_groups",
    severity="high",
    title="Security groups should not allow all traffic from the internet",
    resource_type="AwsEc2SecurityGroup",
    description=(
        "A rule admitting every protocol, or every port, from 0.0.0.0/0 or ::/0 "
        "exposes whatever listens on the attached resources."
    ),
    remediation="Replace the rule with rules for the specific ports the service needs.",
    remediation_cli=(
        "aws ec2 revoke-security-group-ingress --group-id <sg-id> --protocol all --cidr 0.0.0.0/0"
    ),
    references=[_EC2_DOC + "security-group-rules.html"],
)
def sg_no_unrestricted_all_traffic(group: Res, ctx: CheckContext) -> Verdict:
    wide = sorted(
        {
            f"{r.scope} from any IPv{r.family} address"
            for r in _sg_world_rules(group)
            if r.all_traffic
        }
    )
    return verdict(
        not wide,
        "no rule admits all traffic from the internet",
        f"rule(s) admit {'; '.join(wide)}",
        rules=wide,
    )


@check(
    id="ec2.default_sg_restricts_all",
    service="ec2",
    over="security_groups",
    severity="medium",
    title="The default security group of every VPC should restrict all traffic",
    resource_type="AwsEc2SecurityGroup",
    description=(
        "Resources launched without a chosen security group land in the VPC's default "
        "group; with no rules, that mistake does not open them (CIS 5.4)."
    ),
    remediation=(
        "Remove every inbound and outbound rule from the default security group, and "
        "attach purpose-made groups to resources."
    ),
    remediation_cli=(
        "aws ec2 revoke-security-group-egress --group-id <sg-id> "
        "--ip-permissions IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]"
    ),
    references=[_VPC_DOC + "default-security-group.html", _CIS],
)
def default_sg_restricts_all(group: Res, ctx: CheckContext) -> Verdict | None:
    if group.get("GroupName") != "default":
        return None
    inbound, outbound = len(group["IpPermissions"]), len(group["IpPermissionsEgress"])
    return verdict(
        inbound + outbound == 0,
        "the default group has no rules",
        f"the default group has {inbound} inbound and {outbound} outbound rule(s)",
        inbound=inbound,
        outbound=outbound,
    )


def _live(instance: Res) -> bool:
    # Terminated instances stay listed for about an hour; nothing about them can be fixed.
    return instance["State"].get("Name") not in ("terminated", "shutting-down")


@check(
    id="ec2.instance_imdsv2_required",
    service="ec2",
    over="instances",
    severity="high",
    title="EC2 instances should require IMDSv2",
    resource_type="AwsEc2Instance",
    description=(
        "IMDSv1 answers any GET request from the instance, so a server-side request "
        "forgery in an application hands out the instance role's credentials; IMDSv2 "
        "requires a session token (CIS 5.6)."
    ),
    remediation="Set HttpTokens to required (or disable the metadata endpoint if unused).",
    remediation_cli=(
        "aws ec2 modify-instance-metadata-options --instance-id <id> "
        "--http-tokens required --http-endpoint enabled"
    ),
    references=[_EC2_DOC + "configuring-instance-metadata-service.html", _CIS],
)
def instance_imdsv2_required(instance: Res, ctx: CheckContext) -> Verdict | None:
    if not _live(instance):
        return None
    options = instance["MetadataOptions"]
    if options.get("HttpEndpoint") == "disabled":
        return passed("the metadata endpoint is disabled")
    tokens = options.get("HttpTokens")
    return verdict(
        tokens == "required",
        "IMDSv2 is required",
        f"IMDSv1 is allowed (HttpTokens {tokens})",
        http_tokens=tokens,
    )


@check(
    id="ec2.instance_no_public_ip",
    service="ec2",
    over="instances",
    severity="medium",
    title="EC2 instances should not have a public IPv4 address",
    resource_type="AwsEc2Instance",
    description=(
        "An instance with a public address is reachable from the internet wherever its "
        "security groups allow; put it behind a load balancer or NAT instead."
    ),
    remediation=(
        "Launch into private subnets (no auto-assigned public IP) and release Elastic "
        "IPs from instances that do not serve the internet directly."
    ),
    references=[_EC2_DOC + "using-instance-addressing.html"],
)
def instance_no_public_ip(instance: Res, ctx: CheckContext) -> Verdict | None:
    if not _live(instance):
        return None
    address = instance.get("PublicIpAddress")
    state = instance["State"].get("Name")
    # A stopped instance only keeps a public address when an Elastic IP is attached, which
    # makes it reachable again as soon as it starts: that is reported too.
    return verdict(
        not address,
        "no public IPv4 address",
        f"{state} instance has public IPv4 address {address}",
        public_ip=address,
    )


@check(
    id="ec2.ebs_snapshot_not_public",
    service="ec2",
    over="snapshots",
    severity="critical",
    title="EBS snapshots should not be publicly restorable",
    resource_type="AwsEc2Snapshot",
    description=(
        "Anyone with an AWS account can create a volume from a public snapshot and "
        "read every byte of it."
    ),
    remediation="Remove the createVolumePermission for group all.",
    remediation_cli=(
        "aws ec2 modify-snapshot-attribute --snapshot-id <id> "
        "--attribute createVolumePermission --operation-type remove "
        "--group-names all"
    ),
    references=[_EBS_DOC + "ebs-modifying-snapshot-permissions.html"],
)
def ebs_snapshot_not_public(snap: Res, ctx: CheckContext) -> Verdict:
    perms = snap["CreateVolumePermissions"]
    accounts = sorted(str(p["UserId"]) for p in perms if p.get("UserId"))
    public = any(p.get("Group") == "all" for p in perms)
    return verdict(
        not public,
        "not public",
        "the snapshot is restorable by any AWS account",
        shared_with=accounts,
    )


@check(
    id="ec2.ami_not_public",
    service="ec2",
    over="images",
    severity="high",
    title="AMIs should not be public",
    resource_type="AwsEc2Image",
    description=(
        "A public AMI can be launched by anyone, exposing whatever was baked into it "
        "(keys, credentials, data)."
    ),
    remediation="Remove the launch permission for group all.",
    remediation_cli=(
        "aws ec2 modify-image-attribute --image-id <id> --launch-permission 'Remove=[{Group=all}]'"
    ),
    references=[_EC2_DOC + "sharingamis-intro.html"],
)
def ami_not_public(image: Res, ctx: CheckContext) -> Verdict:
    return verdict(image["Public"] is not True, "not public", "the AMI is public")


@check(
    id="ec2.ebs_volume_encrypted",
    service="ec2",
    over="volumes",
    severity="medium",
    title="EBS volumes should be encrypted at rest",
    resource_type="AwsEc2Volume",
    description=(
        "Encrypted volumes protect data at rest, in snapshots made from them and on "
        "the host's storage."
    ),
    remediation=(
        "Copy the data to an encrypted volume (through an encrypted snapshot copy) and "
        "enable EBS encryption by default."
    ),
    references=[_EBS_DOC + "ebs-encryption.html"],
)
def ebs_volume_encrypted(volume: Res, ctx: CheckContext) -> Verdict:
    return verdict(
        volume["Encrypted"] is True,
        "the volume is encrypted",
        "the volume is not encrypted",
        kms_key=volume.get("KmsKeyId"),
    )
