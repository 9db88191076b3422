"""The kinds of entity in the investigation graph, and how a value is recognised as one.

An entity is a (kind, id) pair. Ids are the text the logs carry, with two normalisations so that
the same thing has one id wherever it is named: an S3 bucket is its name (CloudTrail names it by
ARN, by object ARN or in the request; detections by name), an EC2 instance its `i-` id (flow and
DNS logs name it so; ARNs are cut down to it); IP addresses are lower-cased.

Values are classified once, in SQL (`CLASSIFY_MACROS`), both when the logs are aggregated and
when findings are linked to entities, so the two can never disagree about what a value is.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum

from mamori.core import InputError


class Kind(StrEnum):
    ACCOUNT = "account"
    USER = "user"  # an IAM user (its ARN)
    ROLE = "role"  # an IAM role (its ARN), the issuer of role sessions
    SESSION = "session"  # an assumed-role session (arn:aws:sts::...:assumed-role/role/name)
    ROOT = "root"  # an account's root user
    PRINCIPAL = "principal"  # another principal with an ARN (federated user, ...)
    SERVICE = "service"  # an AWS service calling on the account's behalf (invokedBy)
    ACCESS_KEY = "access_key"
    IP = "ip"
    USER_AGENT = "user_agent"
    INSTANCE = "instance"  # an EC2 instance (i-...)
    INTERFACE = "interface"  # a network interface whose instance the flow log does not name
    BUCKET = "bucket"  # an S3 bucket (its name)
    DOMAIN = "domain"  # a registrable domain resolved through Route 53 Resolver
    RESOURCE = "resource"  # any other resource (its ARN or id)
    FINDING = "finding"  # a finding of the hub (its id)


# Kinds that make API calls: they have an activity time series and "new behaviour".
ACTORS = frozenset(
    {
        Kind.USER,
        Kind.ROLE,
        Kind.SESSION,
        Kind.ROOT,
        Kind.PRINCIPAL,
        Kind.SERVICE,
        Kind.ACCESS_KEY,
        Kind.IP,
    }
)
PRINCIPALS = frozenset({Kind.USER, Kind.SESSION, Kind.ROOT, Kind.PRINCIPAL, Kind.SERVICE})

MAX_ID = 4096  # longer is no id of AWS's; CloudTrail cuts user agents at 1 KB
_ACCESS_KEY = re.compile(r"[A-Z0-9]{16,128}")

_ARN = r"arn:[a-z-]+"
_ACCT = r"[0-9]{12}"
# Each macro binds its argument once through a one-element list, as the detection macros do.
CLASSIFY_MACROS = [
    rf"""CREATE OR REPLACE MACRO inv_kind(value) AS list_transform([CAST(value AS VARCHAR)],
    lambda v: CASE
        WHEN v IS NULL OR v = '' THEN NULL
        WHEN regexp_full_match(v, '{_ACCT}') THEN 'account'
        WHEN is_ip(v) THEN 'ip'
        WHEN regexp_full_match(v, '(AKIA|ASIA)[A-Z0-9]{{12,124}}') THEN 'access_key'
        WHEN regexp_full_match(v, 'i-[0-9a-f]{{8,17}}') THEN 'instance'
        WHEN NOT starts_with(v, 'arn:') THEN 'resource'
        WHEN regexp_full_match(v, '{_ARN}:iam::{_ACCT}:user/.+') THEN 'user'
        WHEN regexp_full_match(v, '{_ARN}:iam::{_ACCT}:role/.+') THEN 'role'
        WHEN regexp_full_match(v, '{_ARN}:iam::{_ACCT}:root') THEN 'root'
        WHEN regexp_full_match(v, '{_ARN}:sts::{_ACCT}:assumed-role/.+') THEN 'session'
        WHEN regexp_full_match(v, '{_ARN}:sts::{_ACCT}:.+') THEN 'principal'
        WHEN regexp_full_match(v, '{_ARN}:s3:::[^/]+(/.*)?') THEN 'bucket'
        WHEN regexp_full_match(v, '{_ARN}:ec2:[^:]*:[0-9]*:instance/i-[0-9a-f]+') THEN 'instance'
        ELSE 'resource' END)[1]""",
    # The id of a value of that kind: buckets by name, instances by id, addresses lower-case.
    rf"""CREATE OR REPLACE MACRO inv_id(value, kind) AS list_transform(
    [CAST(value AS VARCHAR)], lambda v: CASE
        WHEN kind = 'bucket' AND starts_with(v, 'arn:')
            THEN regexp_extract(v, '^{_ARN}:s3:::([^/]+)', 1)
        WHEN kind = 'instance' AND starts_with(v, 'arn:')
            THEN regexp_extract(v, '(i-[0-9a-f]+)$', 1)
        WHEN kind = 'ip' THEN lower(v)
        ELSE v END)[1]""",
]

# Finding resource types that say what a bare id is (a bucket name is no shape of its own).
RESOURCE_TYPE_KINDS = {
    "AwsS3Bucket": Kind.BUCKET,
    "AwsEc2Instance": Kind.INSTANCE,
    "AwsIamAccessKey": Kind.ACCESS_KEY,
    "AwsIamUser": Kind.USER,
    "AwsIamRole": Kind.ROLE,
    "AwsAccount": Kind.ACCOUNT,
}


def parse_kind(text: str) -> Kind:
    try:
        return Kind(text.strip().lower().replace("-", "_"))
    except ValueError:
        raise InputError(
            f"unknown entity kind {text!r} (expected one of: {', '.join(k.value for k in Kind)})"
        ) from None


def checked_id(kind: Kind, value: str) -> str:
    """A user's id for an entity of `kind`, validated and normalised as the graph keeps it."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"an empty {kind.value} id")
    text = value.strip() if kind is not Kind.USER_AGENT else value
    if len(text) > MAX_ID:
        raise InputError(f"{kind.value} id of {len(text)} characters: at most {MAX_ID}")
    if kind is Kind.IP:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise InputError(f"{text!r} is not an IPv4 or IPv6 address") from None
    if kind is Kind.ACCESS_KEY and not _ACCESS_KEY.fullmatch(text):
        raise InputError(
            f"{text!r} is not an access key id (16 to 128 capital letters and digits, "
            "such as AKIA... or ASIA...)"
        )
    if kind is Kind.ACCOUNT and not re.fullmatch(r"[0-9]{12}", text):
        raise InputError(f"{text!r} is not a 12-digit AWS account id")
    if kind in (Kind.USER, Kind.ROLE, Kind.SESSION, Kind.ROOT) and not text.startswith("arn:"):
        raise InputError(f"{text!r}: a {kind.value} is named by its ARN")
    return text


def label(kind: str, entity_id: str) -> str:
    """A short name to show: the last part of an ARN, the id itself otherwise."""
    if kind in (Kind.USER, Kind.ROLE) and "/" in entity_id:
        return entity_id.rsplit("/", 1)[1]
    if kind == Kind.SESSION and "assumed-role/" in entity_id:
        return entity_id.split("assumed-role/", 1)[1]
    if kind == Kind.ROOT:
        return f"root ({entity_id.split(':')[4]})" if entity_id.count(":") >= 5 else "root"
    if kind == Kind.USER_AGENT and len(entity_id) > 60:
        return entity_id[:57] + "..."
    return entity_id


def node_key(kind: str, entity_id: str) -> str:
    """One string naming an entity (for graph nodes): kind, a colon, the id."""
    return f"{kind}:{entity_id}"
