"""Who makes a request (Caller) and how a policy's Principal element names callers.

A resource-based policy can name a caller in several ways, and AWS treats them differently
(see evaluate.py): the exact user, role session or federated user ARN ("direct"), the role a
session belongs to ("role"), the caller's account ("account"), everyone ("any") or an AWS
service ("service"). `PrincipalSet.match` tells which of these applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mamori.core import InputError
from mamori.identity.errors import PolicyError

PRINCIPAL_TYPES = ("IAMUser", "AssumedRole", "FederatedUser", "Root", "Service", "Anonymous")
_ACCOUNT = re.compile(r"^\d{12}$")
_ROOT = re.compile(r"^arn:([\w-]+):iam::(\d{12}):root$")
_PRINCIPAL_KEYS = {"AWS", "Service", "Federated", "CanonicalUser"}

# How strongly a resource policy names the caller; evaluate.py maps each to AWS's rules.
DIRECT = "direct"
ROLE = "role"
ACCOUNT = "account"
ANY = "any"
SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal making the request, in the words of the `--requests` format."""

    arn: str
    type: str
    account: str
    role_arn: str | None = None  # the role of an AssumedRole session
    federating_user_arn: str | None = None
    is_service_linked_role: bool = False
    in_management_account: bool = False
    partition: str = "aws"
    tags: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if self.type not in PRINCIPAL_TYPES:
            raise InputError(
                f"principal {self.arn!r}: type must be one of {', '.join(PRINCIPAL_TYPES)}"
            )
        if self.type == "AssumedRole" and not self.role_arn:
            raise InputError(f"principal {self.arn!r}: an AssumedRole needs role_arn")

    @property
    def account_root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"

    @property
    def is_aws_principal(self) -> bool:
        return self.type not in ("Service", "Anonymous")


def _account_root(value: str, partition: str = "aws") -> str:
    if _ACCOUNT.match(value):
        return f"arn:{partition}:iam::{value}:root"
    return value


class PrincipalSet:
    """A compiled Principal or NotPrincipal element."""

    __slots__ = ("any", "aws", "canonical", "federated", "services")

    def __init__(self) -> None:
        self.any = False
        self.aws: frozenset[str] = frozenset()
        self.services: frozenset[str] = frozenset()
        self.federated: frozenset[str] = frozenset()
        self.canonical: frozenset[str] = frozenset()

    def match(self, caller: Caller) -> str | None:
        """How this element names `caller` (DIRECT, ROLE, ACCOUNT, ANY, SERVICE) or None."""
        if caller.type == "Service":
            if caller.arn in self.services:
                return SERVICE
            return ANY if self.any else None
        if caller.type == "Anonymous":
            return ANY if self.any else None
        if caller.arn in self.aws:
            return ACCOUNT if caller.type == "Root" else DIRECT
        if caller.role_arn and caller.role_arn in self.aws:
            return ROLE
        # Naming the IAM user that made a federated session grants within the session policy,
        # as naming a role does for its sessions.
        if caller.federating_user_arn and caller.federating_user_arn in self.aws:
            return ROLE
        if caller.account_root in self.aws:
            return ACCOUNT
        if self.any:
            return ANY
        return None

    def exempts(self, caller: Caller) -> bool:
        """NotPrincipal: whether the caller is excluded. AWS checks the account, then the role,
        then the session, so the account and the principal (or its role) must both be listed."""
        if caller.type == "Service":
            return caller.arn in self.services or self.any
        if self.any:
            return True
        if caller.account_root not in self.aws:
            return False
        if caller.type == "Root":
            return True
        return caller.arn in self.aws or bool(caller.role_arn and caller.role_arn in self.aws)

    def aws_principals(self) -> frozenset[str]:
        return self.aws

    def external_accounts(self, own_account: str) -> set[str]:
        """Accounts other than `own_account` named by ARN or id ("*" not included)."""
        out = set()
        for arn in self.aws:
            parts = arn.split(":")
            if len(parts) >= 5 and parts[4] and parts[4] != own_account:
                out.add(parts[4])
        return out


def _values(value: Any, where: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PolicyError(f"{where}: an empty list names no principal")
    out = []
    for item in items:
        if not isinstance(item, str) or not item:
            raise PolicyError(f"{where}: principal values must be non-empty strings")
        out.append(item.strip())
    return out


def compile_principal(raw: Any, where: str) -> PrincipalSet:
    """Principal in all its forms: "*", {"AWS": "*" | id | ARN | [...]}, Service, Federated,
    CanonicalUser."""
    out = PrincipalSet()
    if raw == "*":
        out.any = True
        return out
    if not isinstance(raw, dict) or not raw:
        raise PolicyError(f'{where}: must be "*" or an object such as {{"AWS": ...}}')
    unknown = set(raw) - _PRINCIPAL_KEYS
    if unknown:
        raise PolicyError(f"{where}: unknown principal type(s) {', '.join(sorted(unknown))}")
    aws: set[str] = set()
    for value in _values(raw.get("AWS", []), where) if "AWS" in raw else []:
        if value == "*":
            out.any = True
        else:
            aws.add(_account_root(value))
    out.aws = frozenset(aws)
    if "Service" in raw:
        out.services = frozenset(_values(raw["Service"], where))
    if "Federated" in raw:
        out.federated = frozenset(_values(raw["Federated"], where))
    if "CanonicalUser" in raw:
        out.canonical = frozenset(_values(raw["CanonicalUser"], where))
    return out


def caller_from_json(raw: Any, where: str) -> Caller:
    """The `principal` object of a `--requests` line."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: principal must be an object")
    allowed = {
        "arn",
        "type",
        "account",
        "role_arn",
        "federating_user_arn",
        "is_service_linked_role",
        "in_management_account",
        "tags",
    }
    unknown = set(raw) - allowed
    if unknown:
        raise InputError(f"{where}: unknown principal field(s) {', '.join(sorted(unknown))}")
    for key in ("arn", "type"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise InputError(f"{where}: principal.{key} must be a non-empty string")
    arn = raw["arn"]
    account = raw.get("account") or _account_of(arn)
    if not isinstance(account, str):
        raise InputError(f"{where}: principal.account must be a string")
    tags = raw.get("tags") or {}
    if not isinstance(tags, dict):
        raise InputError(f"{where}: principal.tags must be an object")
    return Caller(
        arn=arn,
        type=raw["type"],
        account=account,
        role_arn=raw.get("role_arn"),
        federating_user_arn=raw.get("federating_user_arn"),
        is_service_linked_role=bool(raw.get("is_service_linked_role", False)),
        in_management_account=bool(raw.get("in_management_account", False)),
        partition=arn.split(":")[1] if arn.startswith("arn:") else "aws",
        tags={str(k): str(v) for k, v in tags.items()},
    )


def _account_of(arn: str) -> str:
    match = _ROOT.match(arn)
    if match:
        return match.group(2)
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""
