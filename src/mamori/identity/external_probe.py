"""Asking the evaluator whom a resource policy lets in from outside the resource's account.

A statement names its grantees; conditions decide how far the grant reaches, and other
statements (a Deny, an RCP) may take it back. So instead of reading conditions by their names,
each grantee becomes a *party* (who would call) and the evaluator decides the statement's
actions for that party, with a request context that says truthfully who the party is:

- anonymous: no context keys at all (Principal "*" also admits unauthenticated callers);
- an AWS principal of some account: aws:PrincipalAccount, aws:PrincipalArn, kms:CallerAccount
  and, when the account is in a known organisation, aws:PrincipalOrgID / PrincipalOrgPaths;
- an AWS service acting for some account: aws:SourceAccount / SourceOwner / SourceOrgID and,
  where the policy names resources of that account, aws:SourceArn.

Such a party's identity policies are unknown, so they are taken to allow everything: the
question is what the resource's side lets through. Keys that describe the request rather than
the caller (aws:SourceIp, aws:SourceVpce, sts:ExternalId, tags...) are *free*: the engine tries
values taken from the policy itself (first "neutral" values that carry no special standing, then
the policy's own), so that a grant that needs a particular network or value is still found and
reported as restricted by it. A key is *restricting* when the grant holds for the value found
but for no neutral value. Keys any caller sets at will (aws:SecureTransport, request tags, the
S3 ACL header, a function URL's auth type) never restrict.

Approximations: an action written with a wildcard is decided as written ("s3:Get*"), so a Deny
of one of the actions it covers does not take the grant back; a NotAction statement is decided
for the action "*"; at most _MAX_COMBINATIONS contexts are tried per action.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from mamori.identity.context import ContextValue, RequestContext
from mamori.identity.evaluate import Decision, PolicySet, Request, evaluate
from mamori.identity.policy import CompiledPolicy, Statement, StatementRef, compile_policy
from mamori.identity.principals import Caller

PartyKind = Literal["anonymous", "aws", "service"]

NETWORK_KEYS = frozenset(
    {"aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip", "aws:sourcevpcarn"}
)
# Set by how a request is made, so satisfied by anyone who wants to.
_REQUEST_KEYS = frozenset(
    {
        "aws:securetransport",
        "aws:requestedregion",
        "aws:tagkeys",
        "lambda:functionurlauthtype",
        "s3:x-amz-acl",
        "s3:x-amz-server-side-encryption",
        "s3:signatureversion",
        "s3:authtype",
        "s3:tlsversion",
        "s3:prefix",
        "s3:delimiter",
        "s3:max-keys",
    }
)
_REQUEST_PREFIXES = ("aws:requesttag/",)
ACCOUNT_KEYS = frozenset(
    {"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner", "kms:calleraccount"}
)
ORG_KEYS = frozenset({"aws:principalorgid", "aws:sourceorgid"})
ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})
SOURCE_KEYS = frozenset(
    {
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
    }
)
# Who the party is, and when: always set from the party, never searched.
_FIXED_KEYS = (
    ACCOUNT_KEYS
    | ORG_KEYS
    | frozenset(
        {
            "aws:principaltype",
            "aws:principalisawsservice",
            "aws:principalservicename",
            "aws:resourceaccount",
            "aws:resourceorgid",
            "aws:resourceorgpaths",
            "aws:currenttime",
            "aws:epochtime",
        }
    )
)
_MAX_COMBINATIONS = 64
_MAX_RESOURCES = 4
_PROBE_NAME = "mamori-probe"
_NEUTRAL_IP = "203.0.113.7"  # TEST-NET-3: an address no policy means
_ACCOUNT = re.compile(r"^\d{12}$")
_ALLOW_ALL = compile_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    name="(the outside principal's own policies, taken to allow everything)",
    kind="identity",
)


@dataclass(frozen=True, slots=True)
class Party:
    """Who a probe stands for. `account` None: an account that nobody named."""

    kind: PartyKind
    account: str | None = None
    org: str | None = None
    org_path: str | None = None
    principal: str | None = None  # an AWS principal ARN the policy names, or the service


@dataclass(slots=True)
class Outcome:
    party: Party
    actions: list[str] = field(default_factory=list)
    restricting: list[str] = field(default_factory=list)  # condition keys as written
    statements: list[int] = field(default_factory=list)  # indexes in the resource policy


@dataclass(frozen=True, slots=True)
class Environment:
    """What every probe of one analysis shares."""

    partition: str
    now: datetime
    unknown_account: str  # an account id that is in no input
    org_id: str | None  # the resource account's organisation
    org_paths: dict[str, str]  # account -> "o-.../r-.../ou-.../"
    bucket_owners: dict[str, str]  # S3 bucket name -> account


@dataclass(frozen=True, slots=True)
class _Space:
    """The values tried for one free key: neutral ones first (None: the key is absent)."""

    neutral: tuple[str | None, ...]
    candidates: tuple[str | None, ...]


class Prober:
    """Decides one resource policy's statements for parties outside its account."""

    def __init__(
        self,
        policy: CompiledPolicy,
        resource_arn: str,
        account: str,
        env: Environment,
        rcps: Sequence[Sequence[CompiledPolicy]] | None = None,
        in_management_account: bool = False,
    ) -> None:
        self.policy = policy
        self.resource_arn = resource_arn
        self.account = account
        self.env = env
        self.rcps = rcps
        self.in_management = in_management_account
        self._values: dict[str, list[tuple[str, str]]] = {}
        self.key_names: dict[str, str] = {}
        for raw_policy in [policy, *(p for level in rcps or () for p in level)]:
            for st in raw_policy.statements:
                for op, key, value in condition_entries(st):
                    self._values.setdefault(key.lower(), []).append((op, value))
                    self.key_names.setdefault(key.lower(), key)

    # -- public --------------------------------------------------------------------------------

    def run(self, st: Statement, party: Party) -> Outcome | None:
        caller, fixed = self._identity(party)
        out = Outcome(party)
        resources = self._resources(st)
        found: list[dict[str, str | None]] = []  # contexts that worked, tried first next time
        for action in self._actions(st):
            hit = self._search(action, resources, caller, fixed, party, found)
            if hit is None:
                continue
            assignment, resource, decision, spaces = hit
            out.actions.append(action)
            for key in self._restricting(action, resource, caller, fixed, assignment, spaces):
                name = self.key_names.get(key, key)
                if name not in out.restricting:
                    out.restricting.append(name)
            for ref in decision.decided_by:
                if (
                    isinstance(ref, StatementRef)
                    and ref.policy == self.policy.name
                    and ref.index not in out.statements
                ):
                    out.statements.append(ref.index)
        return out if out.actions else None

    def named_accounts(self, st: Statement) -> list[str]:
        """Accounts a statement's conditions pin callers to (values of account and ARN keys)."""
        out: list[str] = []
        for _, key, value in condition_entries(st):
            lowered = key.lower()
            account = None
            if lowered in ACCOUNT_KEYS and _ACCOUNT.match(value):
                account = value
            elif lowered in ("aws:principalarn", "aws:sourcearn"):
                account = self._account_of_arn(_synthesize_string(value))
            if account and account not in out:
                out.append(account)
        return out

    def named_orgs(self, st: Statement) -> list[str]:
        out: list[str] = []
        for _, key, value in condition_entries(st):
            lowered = key.lower()
            org = (
                value
                if lowered in ORG_KEYS
                else (value.split("/", 1)[0] if lowered in ORG_PATH_KEYS else None)
            )
            if org and org.startswith("o-") and "*" not in org and org not in out:
                out.append(org)
        return out

    # -- parties -------------------------------------------------------------------------------

    def _identity(self, party: Party) -> tuple[Caller | None, dict[str, ContextValue]]:
        env = self.env
        fixed: dict[str, ContextValue] = {
            "aws:CurrentTime": (env.now.strftime("%Y-%m-%dT%H:%M:%SZ"),),
            "aws:EpochTime": (str(int(env.now.timestamp())),),
        }
        if party.kind == "anonymous":
            return Caller("anonymous", "Anonymous", ""), fixed
        account = party.account or env.unknown_account
        fixed["aws:ResourceAccount"] = (self.account,)
        if env.org_id and self.account in env.org_paths:
            fixed["aws:ResourceOrgID"] = (env.org_id,)
            fixed["aws:ResourceOrgPaths"] = (env.org_paths[self.account],)
        if party.kind == "service":
            service = party.principal or "service.amazonaws.com"
            fixed.update(
                {
                    "aws:PrincipalIsAWSService": ("true",),
                    "aws:PrincipalServiceName": (service,),
                    "aws:SourceAccount": (account,),
                    "aws:SourceOwner": (account,),
                }
            )
            if party.org:
                fixed["aws:SourceOrgID"] = (party.org,)
            return Caller(service, "Service", account, partition=env.partition), fixed
        caller = self._aws_caller(account, party.principal)
        fixed.update(
            {
                "aws:PrincipalAccount": (account,),
                "kms:CallerAccount": (account,),
                "aws:PrincipalIsAWSService": ("false",),
                "aws:PrincipalType": ({"IAMUser": "User"}.get(caller.type, caller.type),),
            }
        )
        if party.org:
            fixed["aws:PrincipalOrgID"] = (party.org,)
        return caller, fixed

    def _aws_caller(self, account: str, arn: str | None) -> Caller:
        p = self.env.partition
        parts = arn.split(":", 5) if arn else []
        resource = parts[5] if len(parts) == 6 else ""
        if resource.startswith("role/"):
            name = resource.rsplit("/", 1)[-1]
            session = f"arn:{p}:sts::{account}:assumed-role/{name}/{_PROBE_NAME}"
            return Caller(session, "AssumedRole", account, role_arn=arn, partition=p)
        if resource.startswith("assumed-role/") and resource.count("/") >= 2:
            name = resource.split("/")[1]
            role = f"arn:{p}:iam::{account}:role/{name}"
            return Caller(str(arn), "AssumedRole", account, role_arn=role, partition=p)
        if resource.startswith("federated-user/"):
            return Caller(str(arn), "FederatedUser", account, partition=p)
        if resource.startswith("user/"):
            return Caller(str(arn), "IAMUser", account, partition=p)
        return Caller(f"arn:{p}:iam::{account}:user/{_PROBE_NAME}", "IAMUser", account, partition=p)

    # -- the search ----------------------------------------------------------------------------

    def _actions(self, st: Statement) -> list[str]:
        if "NotAction" in st.raw:
            return ["*"]
        raw = st.raw.get("Action")
        items = raw if isinstance(raw, list) else [raw]
        return list(dict.fromkeys(str(a).strip() for a in items if isinstance(a, str)))

    def _resources(self, st: Statement) -> list[str]:
        raw = st.raw.get("Resource")
        items = raw if isinstance(raw, list) else [raw]
        written = [r for r in items if isinstance(r, str) and r not in ("*", "") and "${" not in r]
        return list(dict.fromkeys(written))[:_MAX_RESOURCES] or [self.resource_arn]

    def _spaces(
        self, action: str, caller: Caller | None, fixed: dict[str, ContextValue], party: Party
    ) -> dict[str, _Space]:
        keys: set[str] = set()
        for policy in [self.policy, *(p for level in self.rcps or () for p in level)]:
            for st in policy.for_action(action):
                if st.condition is not None:
                    keys.update(st.condition.keys)
        fixed_lower = {k.lower() for k in fixed}
        spaces: dict[str, _Space] = {}
        for key in sorted(keys):
            if key in _FIXED_KEYS or key in fixed_lower:
                continue
            space = self._space(key, caller, party)
            if space is not None:
                spaces[key] = space
        return spaces

    def _space(self, key: str, caller: Caller | None, party: Party) -> _Space | None:
        values = self._values.get(key, [])
        if key == "aws:principalarn":
            if party.kind != "aws" or caller is None:
                return None
            own = caller.role_arn or caller.arn
            return _Space((own,), (own, *self._belonging(values, party)))
        if key == "aws:sourcearn":
            if party.kind != "service":
                return None
            return _Space((None,), (None, *self._belonging(values, party)))
        if key in ORG_PATH_KEYS:
            wanted = "aws:principalorgpaths" if party.kind == "aws" else "aws:sourceorgpaths"
            if key != wanted or not party.org:
                return None
            start: tuple[str | None, ...] = (party.org_path,) if party.org_path else (None,)
            paths = [
                p for op, v in values for p in _synthesize(op, v) if p.startswith(party.org + "/")
            ]
            return _Space(start, tuple(dict.fromkeys([*start, *paths])))
        neutral: list[str | None] = [None]
        families = {_family(op) for op, _ in values}
        if "ip" in families:
            neutral.append(_NEUTRAL_IP)
        elif "arn" in families:
            neutral.append(f"arn:{self.env.partition}:mamori::{self.env.unknown_account}:probe")
        elif families & {"string", "null"} or not families:
            neutral.append(_PROBE_NAME)
        synthesized = [s for op, v in values for s in _synthesize(op, v)]
        return _Space(tuple(neutral), tuple(dict.fromkeys([*neutral, *synthesized])))

    def _belonging(self, values: Iterable[tuple[str, str]], party: Party) -> list[str]:
        """Synthesized ARNs that a party may truthfully present: those of its own account and
        those whose account cannot be told (an S3 bucket of an account not scanned)."""
        out = []
        for op, value in values:
            for arn in _synthesize(op, value):
                owner = self._account_of_arn(arn)
                if owner is None or owner == party.account:
                    out.append(arn)
        return out

    def _account_of_arn(self, arn: str) -> str | None:
        parts = arn.split(":", 5)
        if len(parts) != 6:
            return None
        if _ACCOUNT.match(parts[4]):
            return parts[4]
        if parts[2] == "s3" and not parts[4]:
            return self.env.bucket_owners.get(parts[5].split("/", 1)[0])
        return None

    def _decide(
        self, caller: Caller | None, ctx: RequestContext, action: str, resource: str
    ) -> Decision:
        assert caller is not None
        policies = PolicySet(
            identity=[_ALLOW_ALL] if caller.is_aws_principal else (),
            resource=self.policy,
            resource_account=self.account,
            rcps=self.rcps,
            resource_in_management_account=self.in_management,
        )
        return evaluate(caller, policies, Request(action, resource, ctx))

    def _search(
        self,
        action: str,
        resources: list[str],
        caller: Caller | None,
        fixed: dict[str, ContextValue],
        party: Party,
        found: list[dict[str, str | None]],
    ) -> tuple[dict[str, str | None], str, Decision, dict[str, _Space]] | None:
        spaces = self._spaces(action, caller, fixed, party)
        keys = list(spaces)
        known = [{k: a.get(k, spaces[k].neutral[0]) for k in keys} for a in found]
        generated = (
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(spaces[k].candidates for k in keys))
        )
        for assignment in itertools.islice(
            itertools.chain(known, generated), len(known) + _MAX_COMBINATIONS
        ):
            ctx = _context(fixed, assignment)
            for resource in resources:
                decision = self._decide(caller, ctx, action, resource)
                if decision.allowed:
                    if assignment not in found:
                        found.append(assignment)
                    return assignment, resource, decision, spaces
        return None

    def _restricting(
        self,
        action: str,
        resource: str,
        caller: Caller | None,
        fixed: dict[str, ContextValue],
        assignment: dict[str, str | None],
        spaces: dict[str, _Space],
    ) -> list[str]:
        out = []
        for key, value in assignment.items():
            space = spaces[key]
            if value in space.neutral or _caller_sets(key):
                continue
            if not any(
                self._decide(
                    caller, _context(fixed, {**assignment, key: n}), action, resource
                ).allowed
                for n in space.neutral
            ):
                out.append(key)
        return out


def condition_entries(st: Statement) -> list[tuple[str, str, str]]:
    """(operator, key, value) for every value of a statement's Condition, as written."""
    raw = st.raw.get("Condition")
    out: list[tuple[str, str, str]] = []
    if not isinstance(raw, dict):
        return out
    for op, block in raw.items():
        if not isinstance(block, dict):
            continue
        for key, values in block.items():
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, bool):
                    out.append((str(op), str(key), "true" if value else "false"))
                elif isinstance(value, str | int | float):
                    out.append((str(op), str(key), str(value)))
    return out


def _caller_sets(key: str) -> bool:
    return key in _REQUEST_KEYS or key.startswith(_REQUEST_PREFIXES)


def is_network_key(key: str) -> bool:
    return key.lower() in NETWORK_KEYS


def _context(fixed: dict[str, ContextValue], assignment: dict[str, str | None]) -> RequestContext:
    values = dict(fixed)
    for key, value in assignment.items():
        if value is not None:
            values[key] = (value,)
    return RequestContext(values)


def _family(op: str) -> str:
    base = op.rsplit(":", 1)[-1]
    base = base.removesuffix("IfExists")
    if base.endswith("IpAddress"):
        return "ip"
    if base.startswith("Arn"):
        return "arn"
    if base.startswith("Numeric"):
        return "numeric"
    if base.startswith("Date"):
        return "date"
    if base == "Bool":
        return "bool"
    if base == "Null":
        return "null"
    return "string"


def _synthesize(op: str, value: str) -> list[str]:
    """Request values that a policy value would match (a wildcard filled in, a network's first
    address, a number and its neighbours)."""
    if "${" in value:
        return []
    family = _family(op)
    if family == "ip":
        try:
            return [str(ipaddress.ip_network(value, strict=False).network_address)]
        except ValueError:
            return []
    if family == "bool":
        return ["true", "false"]
    if family == "null":
        return []
    if family == "numeric":
        try:
            number = Decimal(value)
        except InvalidOperation:
            return []
        if not number.is_finite():
            return []
        return [str(number), str(number + 1), str(number - 1)]
    if family == "date":
        return [value]
    return [_synthesize_string(value)]


def _synthesize_string(value: str) -> str:
    return value.replace("*", "x").replace("?", "x")
