"""VPCs, network ACLs, security groups, instances and volumes (all in the home region)."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.demo.planted import OFFICE_CIDR, WORLD4, WORLD6, Plant, Role, bad, good


@dataclass(frozen=True)
class Network:
    account: Role
    vpc: str
    cidr: str
    subnet: str
    public: bool  # internet gateway, and the subnet gives instances public addresses
    flow_logs: bool
    lock_default_group: bool
    vpc_plant: Plant
    default_group_plant: Plant


@dataclass(frozen=True)
class Rule:
    port: int | None  # None: every protocol and port
    v4: tuple[str, ...] = ()
    v6: tuple[str, ...] = ()
    group: str | None = None  # a security group of the same VPC


@dataclass(frozen=True)
class SecurityGroup:
    account: Role
    vpc: str
    name: str
    description: str
    rules: tuple[Rule, ...]
    plant: Plant | None = None


# (rule number, egress, cidr, tcp port range or None for everything, action)
NaclEntry = tuple[int, bool, str, tuple[int, int] | None, str]


@dataclass(frozen=True)
class Nacl:
    account: Role
    vpc: str
    name: str
    entries: tuple[NaclEntry, ...]
    plant: Plant


@dataclass(frozen=True)
class Server:
    account: Role
    vpc: str
    name: str
    image: str  # registered in the account first; `image_plant` says how it is shared
    image_public: bool
    group: str
    imds_v2_only: bool
    plant: Plant
    image_plant: Plant


@dataclass(frozen=True)
class Volume:
    account: Role
    name: str
    key: str | None  # a KEYS alias; None = unencrypted
    public_snapshot: bool
    plant: Plant
    snapshot_plant: Plant


_ADMIN4, _ADMIN6 = "ec2.sg_no_admin_ports_open_ipv4", "ec2.sg_no_admin_ports_open_ipv6"
_ALL_OPEN, _DB_OPEN = "ec2.sg_no_unrestricted_all_traffic", "ec2.sg_no_db_ports_open"
PROD_VPC, DEV_VPC = "payments-vpc", "dev-sandbox-vpc"

NETWORKS = (
    Network("prod", PROD_VPC, "10.20.0.0/16", "10.20.1.0/24", public=False, flow_logs=True,
            lock_default_group=True,
            vpc_plant=good("all traffic logged to S3", "ec2.vpc_flow_logs_enabled"),
            default_group_plant=good("default group has no rules", "ec2.default_sg_restricts_all")),
    Network("dev", DEV_VPC, "10.30.0.0/16", "10.30.1.0/24", public=True, flow_logs=False,
            lock_default_group=False,
            vpc_plant=bad("no flow logs", "ec2.vpc_flow_logs_enabled"),
            default_group_plant=bad("default group still allows traffic",
                                    "ec2.default_sg_restricts_all")),
)  # fmt: skip

NACLS = (
    Nacl("prod", PROD_VPC, "payments-private-nacl",
         ((100, False, WORLD4, (443, 443), "allow"),
          (110, False, "10.20.0.0/16", (1024, 65535), "allow"),
          (100, True, "10.20.0.0/16", None, "allow")),
         good("only HTTPS from the internet", "ec2.nacl_no_admin_ports_open")),
    Nacl("dev", DEV_VPC, "dev-sandbox-nacl",
         ((100, False, WORLD4, (22, 22), "allow"), (200, False, WORLD4, (443, 443), "allow"),
          (100, True, WORLD4, None, "allow")),
         bad("SSH allowed from anywhere", "ec2.nacl_no_admin_ports_open")),
)  # fmt: skip

SECURITY_GROUPS = (
    SecurityGroup("prod", PROD_VPC, "payments-api-alb", "Public HTTPS for the payments API",
                  (Rule(443, v4=(WORLD4,), v6=(WORLD6,)),),
                  good("only HTTPS open to the world", _ADMIN4, _ADMIN6, _ALL_OPEN)),
    SecurityGroup("prod", PROD_VPC, "payments-api-app", "Payments API tasks",
                  (Rule(8080, group="payments-api-alb"),)),
    SecurityGroup("prod", PROD_VPC, "payments-db", "Postgres from the API only",
                  (Rule(5432, group="payments-api-app"),),
                  good("Postgres only from the API's group", _DB_OPEN)),
    SecurityGroup("prod", PROD_VPC, "corp-bastion-ssh", "SSH from the office",
                  (Rule(22, v4=(OFFICE_CIDR,)),), good("SSH only from the office", _ADMIN4)),
    SecurityGroup("dev", DEV_VPC, "jenkins-ssh-open", "Jenkins",
                  (Rule(22, v4=(WORLD4,)), Rule(8080, v4=(WORLD4,))),
                  bad("SSH open to 0.0.0.0/0", _ADMIN4)),
    SecurityGroup("dev", DEV_VPC, "windows-build-rdp", "RDP to the Windows builder",
                  (Rule(3389, v6=(WORLD6,)),), bad("RDP open to ::/0", _ADMIN6)),
    SecurityGroup("dev", DEV_VPC, "debug-allow-all", "temporary, for debugging",
                  (Rule(None, v4=(WORLD4,)),), bad("everything open to 0.0.0.0/0", _ALL_OPEN)),
    SecurityGroup("dev", DEV_VPC, "analytics-postgres-public", "analysts' laptops",
                  (Rule(5432, v4=(WORLD4,)),), bad("Postgres open to 0.0.0.0/0", _DB_OPEN)),
)  # fmt: skip

SERVERS = (
    Server("prod", PROD_VPC, "payments-api-1", "acme-payments-base-2026.11", False,
           "payments-api-app", imds_v2_only=True,
           plant=good("IMDSv2 only, private subnet", "ec2.instance_imdsv2_required",
                      "ec2.instance_no_public_ip"),
           image_plant=good("private golden image", "ec2.ami_not_public")),
    Server("dev", DEV_VPC, "jenkins-legacy", "jenkins-golden-image", True, "jenkins-ssh-open",
           imds_v2_only=False,
           plant=bad("IMDSv1 allowed, public IP", "ec2.instance_imdsv2_required",
                     "ec2.instance_no_public_ip"),
           image_plant=bad("image launchable by anyone", "ec2.ami_not_public")),
)  # fmt: skip

VOLUMES = (
    Volume("prod", "payments-ledger-data", "payments-ledger", public_snapshot=False,
           plant=good("KMS-encrypted", "ec2.ebs_volume_encrypted"),
           snapshot_plant=good("private snapshot", "ec2.ebs_snapshot_not_public")),
    Volume("dev", "jenkins-home", None, public_snapshot=True,
           plant=bad("unencrypted", "ec2.ebs_volume_encrypted"),
           snapshot_plant=bad("snapshot restorable by anyone", "ec2.ebs_snapshot_not_public")),
)  # fmt: skip
