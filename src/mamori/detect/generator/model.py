"""The synthetic organisation the generator writes logs for: its people, roles, instances and
networks, plus the labelled ground truth a scenario leaves behind.

Every address here comes from the documentation ranges (RFC 5737) or private ranges, except the
instances' public IPs, which must look like EC2's so that "called from outside AWS" means
something. Tests and the intel module build their synthetic threat lists from the constants
below, never from the generator's internals.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

Source = Literal["cloudtrail", "vpc-flow", "dns"]
SOURCES: tuple[Source, ...] = ("cloudtrail", "vpc-flow", "dns")


@dataclass(frozen=True)
class Label:
    """Ground truth: one finding the detections must raise, or must not (benign=True)."""

    finding_type: str
    account_id: str
    actor: str  # principal ARN or IP address
    resource: str  # ARN, instance id or bucket the finding is about
    first_seen: datetime
    source: Source
    benign: bool = False  # a look-alike that must NOT be detected
    mamori_type: bool = False  # GuardDuty has no such type; the name is Mamori's own
    scenario: str = ""  # the SCENARIOS id that produced it
    remote_ip: str = ""  # the caller's or peer's address, where it is what gives it away


@dataclass
class Generated:
    root: Path
    labels: list[Label]
    counts: dict[str, int]  # records written per source


# Office egress ranges: where the people of every account work from.
OFFICE_NETWORKS = ("198.51.100.0/26", "203.0.113.0/26", "198.51.100.128/27")
# Synthetic threat intelligence: tests register these on their own lists.
TOR_EXIT_IPS = ("192.0.2.11", "192.0.2.12", "192.0.2.13")
MALICIOUS_IPS = ("192.0.2.66", "192.0.2.67")
MINING_POOL_IPS = ("192.0.2.77",)
# Same /24 as the listed ones but on no list: a caller from here must not be flagged.
UNLISTED_IP = "192.0.2.250"
# Outside addresses that are on no list at all (stolen-key users, brute forcers).
ATTACKER_IPS = ("203.0.113.201", "203.0.113.202", "203.0.113.203", "203.0.113.204")
C2_DOMAINS = ("update-check.badactor.example", "cdn-sync.badactor.example")
MINING_DOMAINS = ("pool.minergate.com", "xmr.pool.minergate.com")
# The names AWS's own GuardDuty tester resolves to trigger its DNS findings.
GUARDDUTY_TESTER_DOMAINS = ("guarddutyc2activityb.com",)
EXFIL_DOMAIN = "tunnel.badactor.example"
# An account outside the organisation that an attacker trusts or shares with.
OUTSIDE_ACCOUNT = "999988887777"

COMMON_DOMAINS = (
    "s3.amazonaws.com",
    "sts.amazonaws.com",
    "secretsmanager.{region}.amazonaws.com",
    "ssm.{region}.amazonaws.com",
    "dynamodb.{region}.amazonaws.com",
    "logs.{region}.amazonaws.com",
    "api.github.com",
    "github.com",
    "pypi.org",
    "files.pythonhosted.org",
    "registry.npmjs.org",
    "repo.maven.apache.org",
    "www.google.com",
    "ntp.ubuntu.com",
    "archive.ubuntu.com",
    "hooks.slack.com",
)

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


def is_account(text: str) -> bool:
    return bool(_ACCOUNT_RE.match(text))


def is_region(text: str) -> bool:
    return bool(_REGION_RE.match(text))


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator stream per purpose, so adding a scenario never shifts the background."""
    return random.Random(":".join([str(seed), *map(str, parts)]))


def hex_id(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def upper_id(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(n))


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def ip_in(rng: random.Random, network: str) -> str:
    base, bits = network.split("/")
    octets = [int(x) for x in base.split(".")]
    host = rng.randrange(1, (1 << (32 - int(bits))) - 1)
    value = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) + host
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


@dataclass
class Actor:
    """A principal with habits: where it calls from, with what, when, and which APIs."""

    kind: Literal["IAMUser", "AssumedRole", "Root", "AWSService"]
    name: str  # user name, role name, or service principal
    account_id: str
    principal_id: str
    access_key: str
    ips: list[str]
    user_agents: list[str]
    habit: str  # key into the background API catalogue
    hours: tuple[int, int] = (8, 19)  # UTC working hours
    mfa: bool = True
    session_name: str = ""
    role_id: str = ""

    @property
    def arn(self) -> str:
        if self.kind == "Root":
            return f"arn:aws:iam::{self.account_id}:root"
        if self.kind == "AssumedRole":
            return f"arn:aws:sts::{self.account_id}:assumed-role/{self.name}/{self.session_name}"
        if self.kind == "IAMUser":
            return f"arn:aws:iam::{self.account_id}:user/{self.name}"
        return self.name

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.name}"


@dataclass
class Vpc:
    vpc_id: str
    cidr_prefix: str  # first two octets, e.g. "10.12"
    flow_log_id: str
    flow_format: Literal["v2", "v5"]
    subnet_id: str


@dataclass
class Instance:
    instance_id: str
    eni_id: str
    private_ip: str
    public_ip: str
    vpc: Vpc
    role: Actor  # the instance profile session


@dataclass
class AccountWorld:
    account_id: str
    region: str  # home region: where the people work and the instances run
    people: list[Actor]
    root: Actor
    ci: Actor
    backup: Actor
    vpcs: list[Vpc]
    instances: list[Instance]
    buckets: list[str]
    secrets: list[str]
    trail_arn: str
    extras: dict[str, str] = field(default_factory=dict)


_DESKTOP_AGENTS = (
    "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/{cmd}",
    "aws-cli/2.13.4 Python/3.11.4 Windows/10 exe/AMD64 prompt/off command/{cmd}",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.3 Safari/605.1.15",
    "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/macos#23.4.0 md/arch#arm64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.51",
)
INSTANCE_AGENTS = (
    "Boto3/1.34.20 md/Botocore#1.34.20 ua/2.0 os/linux#6.1.72-96.166.amzn2023.x86_64 "
    "md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy "
    "Botocore/1.34.20",
    "aws-sdk-java/2.21.29 Linux/5.10.205-195.807.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/"
    "17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
)
CI_AGENT = "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-1016-azure exe/x86_64.ubuntu.22 command/{cmd}"
KALI_AGENT = (
    "aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0-kali5-amd64 exe/x86_64.kali.2023 prompt/off "
    "command/{cmd}"
)
CONSOLE_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36"
)

_PEOPLE = (
    ("alice", "developer", (8, 18)),
    ("bob", "operator", (6, 15)),
    ("carol", "analyst", (9, 17)),
    ("dave", "developer", (11, 21)),
)


def _public_ip(rng: random.Random) -> str:
    # Shaped like EC2 addresses; they stand for "inside AWS" in the generated world.
    return f"{rng.choice((3, 18, 34, 52, 54))}.{rng.randrange(1, 255)}.{rng.randrange(256)}" + (
        f".{rng.randrange(1, 255)}"
    )


def build_world(seed: int, account_id: str, region: str, index: int) -> AccountWorld:
    """The same seed and account always give the same people, keys and instances."""
    rng = rng_for(seed, "world", account_id)
    offices = list(OFFICE_NETWORKS)
    people: list[Actor] = []
    for n, (name, habit, hours) in enumerate(_PEOPLE):
        office = offices[(n + index) % len(offices)]
        people.append(
            Actor(
                "IAMUser",
                name,
                account_id,
                "AIDA" + upper_id(rng, 17),
                "AKIA" + upper_id(rng, 16),
                [ip_in(rng, office) for _ in range(2)],
                rng.sample(_DESKTOP_AGENTS, 2),
                habit,
                hours,
            )
        )
    ops_role = Actor(
        "AssumedRole",
        "OrganizationAccountAccessRole",
        account_id,
        "AROA" + upper_id(rng, 17),
        "ASIA" + upper_id(rng, 16),
        people[1].ips,
        [CONSOLE_AGENT],
        "admin",
        (7, 16),
        session_name="bob",
    )
    ops_role.role_id = ops_role.principal_id
    people.append(ops_role)
    root = Actor(
        "Root",
        "root",
        account_id,
        account_id,
        "ASIA" + upper_id(rng, 16),
        people[0].ips,
        [CONSOLE_AGENT],
        "admin",
    )
    ci = Actor(
        "IAMUser",
        "ci-deploy",
        account_id,
        "AIDA" + upper_id(rng, 17),
        "AKIA" + upper_id(rng, 16),
        [ip_in(rng, "198.51.100.192/28")],
        [CI_AGENT],
        "ci",
        (0, 24),
        mfa=False,
    )
    backup = Actor(
        "AssumedRole",
        "backup-lifecycle",
        account_id,
        "AROA" + upper_id(rng, 17),
        "ASIA" + upper_id(rng, 16),
        ["backup.amazonaws.com"],
        list(INSTANCE_AGENTS[:1]),
        "backup",
        (1, 4),
        mfa=False,
        session_name="AWSBackup-lifecycle",
    )
    backup.role_id = backup.principal_id
    vpcs = [
        Vpc(
            "vpc-" + hex_id(rng, 17),
            f"10.{20 + index % 200}",
            "fl-" + hex_id(rng, 17),
            "v5",
            "subnet-" + hex_id(rng, 17),
        ),
        Vpc(
            "vpc-" + hex_id(rng, 17),
            f"172.{16 + index % 16}",
            "fl-" + hex_id(rng, 17),
            "v2",
            "subnet-" + hex_id(rng, 17),
        ),
    ]
    instances: list[Instance] = []
    role_id = "AROA" + upper_id(rng, 17)
    for n in range(4):
        vpc = vpcs[0] if n < 3 else vpcs[1]
        iid = "i-" + hex_id(rng, 17)
        role = Actor(
            "AssumedRole",
            "app-server-role" if n < 3 else "batch-worker-role",
            account_id,
            role_id,
            "ASIA" + upper_id(rng, 16),
            [],
            list(INSTANCE_AGENTS),
            "instance",
            (0, 24),
            mfa=False,
            session_name=iid,
            role_id=role_id,
        )
        inst = Instance(
            iid,
            "eni-" + hex_id(rng, 17),
            f"{vpc.cidr_prefix}.{n + 1}.{rng.randrange(10, 250)}",
            _public_ip(rng),
            vpc,
            role,
        )
        role.ips = [inst.public_ip]
        instances.append(inst)
    short = account_id[-4:]
    return AccountWorld(
        account_id=account_id,
        region=region,
        people=people,
        root=root,
        ci=ci,
        backup=backup,
        vpcs=vpcs,
        instances=instances,
        buckets=[f"app-data-{short}", f"reports-{short}", f"backups-{short}"],
        secrets=[f"prod/app/{s}" for s in ("db", "api-key", "smtp")]
        + [f"prod/svc-{n:02d}/token" for n in range(45)],
        trail_arn=f"arn:aws:cloudtrail:{region}:{account_id}:trail/org-trail",
    )
