"""From compiled resource policies and sharing attributes to Grants: the statements' grantees
become parties that the evaluator decides for (see `external_probe`), and each allowed party
becomes a Grant with the scope its account has (see `external` for the scopes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from mamori.core import DataUnavailable
from mamori.identity.errors import PolicyError
from mamori.identity.external_probe import (
    SOURCE_KEYS,
    Environment,
    Outcome,
    Party,
    Prober,
    condition_entries,
    is_network_key,
)
from mamori.identity.external_sources import (
    BucketGuard,
    Located,
    PolicySource,
    Share,
    Unreadable,
    read_sources,
)
from mamori.identity.model import IdentityModel
from mamori.identity.policy import CompiledPolicy, Statement, compile_policy
from mamori.inventory import Snapshot

Scope = Literal["public", "external", "organization"]
ACCOUNT_ID = re.compile(r"^\d{12}$")
_ORG_ID = re.compile(r"\bo-[a-z0-9]{10,32}\b")
# Keys whose fixed values make a bucket policy non-public for S3 ("The meaning of public").
_S3_NON_PUBLIC_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:userid",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
    }
)
_NO_EXTERNAL_ID = (
    "the trust policy does not require sts:ExternalId: if this account belongs to a third "
    "party, any of its customers could make it assume this role (confused deputy)"
)


@dataclass(slots=True)
class Grant:
    """Access that one resource gives one grantee outside its account."""

    resource_arn: str
    resource_type: str  # ASFF resource type
    account: str
    region: str
    scope: Scope
    grantee: str  # "*", an account id, "organization:<id>", "service:<name>", ...
    actions: list[str]  # as written in the policy (or the ACL permission, the attribute)
    restricted_by: list[str]  # "network (aws:SourceIp)", "conditional (sts:ExternalId)"
    statements: list[str]  # Sid, or "#<index>", or the attribute the share comes from
    resource_name: str = ""
    principal_type: str = "aws"  # anonymous | aws | service | federated | canonical | share
    principals: list[str] = field(default_factory=list)  # as the policy names them
    restricting_keys: list[str] = field(default_factory=list)
    conditions: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.resource_arn, self.scope, self.grantee)

    def merge(self, other: Grant) -> None:
        unrestricted = not self.restricted_by or not other.restricted_by
        for mine, theirs in (
            (self.actions, other.actions),
            (self.statements, other.statements),
            (self.principals, other.principals),
            (self.notes, other.notes),
            (self.restricted_by, other.restricted_by),
            (self.restricting_keys, other.restricting_keys),
        ):
            mine.extend(x for x in theirs if x not in mine)
        self.conditions.extend(c for c in other.conditions if c not in self.conditions)
        if unrestricted:  # one unconditional path is enough to reach the resource
            self.restricted_by.clear()
            self.restricting_keys.clear()


class AccessReport(list[Grant]):
    """The grants, plus the resources whose policy or sharing could not be read or parsed."""

    def __init__(self, grants: Iterable[Grant] = (), unavailable: Iterable[Unreadable] = ()):
        super().__init__(grants)
        self.unavailable: list[Unreadable] = list(unavailable)


def find_grants(model: IdentityModel, snapshot: Snapshot | None, now: datetime) -> AccessReport:
    """See `mamori.identity.external.external_access`."""
    sources = read_sources(model, snapshot)
    partition = snapshot.partition if snapshot is not None else model.partition
    analysis = _Analysis(model, partition, now, sources.bucket_owners)
    for source in sources.policies:
        analysis.policy(source)
    for share in sources.shares:
        analysis.share(share)
    merged: dict[tuple[str, str, str], Grant] = {}
    for grant in analysis.grants:
        known = merged.get(grant.key)
        if known is None:
            merged[grant.key] = grant
        else:
            known.merge(grant)
    return AccessReport(merged.values(), [*sources.unreadable, *analysis.unreadable])


class _Analysis:
    def __init__(
        self, model: IdentityModel, partition: str, now: datetime, bucket_owners: dict[str, str]
    ) -> None:
        self.model = model
        self.grants: list[Grant] = []
        self.unreadable: list[Unreadable] = []
        org = model.organization
        self.org_id = org.id if org is not None and org.id else None
        self.org_accounts = set(org.accounts) if org is not None else set()
        # A member account's scan sees the organisation's id but not its accounts.
        self.org_listed = (
            bool(self.org_accounts) and org is not None and ("accounts" not in org.unavailable)
        )
        paths: dict[str, str] = {}
        if org is not None and org.id:
            for acct, member in org.accounts.items():
                paths[acct] = "/".join([org.id, *member.parents]) + "/"
        taken = set(model.accounts) | self.org_accounts
        unknown = next(str(n) for n in range(999999999999, 0, -1) if str(n) not in taken)
        self.env = Environment(partition, now, unknown, self.org_id, paths, bucket_owners)
        self._rcps: dict[str, tuple[list[list[CompiledPolicy]] | None, str | None]] = {}

    # -- classification --------------------------------------------------------------------

    def in_org(self, account: str) -> bool | None:
        """Whether `account` is in the organisation; None when that cannot be told."""
        if self.org_id is None:
            return False
        if self.org_listed:
            return account in self.org_accounts
        return True if account in self.model.accounts else None

    def org_of(self, account: str) -> str | None:
        """The organisation an account is known to be in (for its requests' context)."""
        return self.org_id if self.in_org(account) else None

    def home_org(self, owner: str) -> str | None:
        """The organisation of the resource's account: the zone of trust beyond the account."""
        return self.org_id if self.in_org(owner) is not False else None

    def classify(self, account: str, owner: str) -> tuple[Scope | None, list[str]]:
        if account == owner:
            return None, []
        if self.home_org(owner) is None:
            return "external", []
        member = self.in_org(account)
        if member:
            return "organization", []
        if member is None:
            return "external", [
                f"whether account {account} is in organisation {self.org_id} "
                "is not known (its accounts were not read)"
            ]
        return "external", []

    def _org_party(self, owner: str) -> Party | None:
        if self.home_org(owner) is None:
            return None
        others = sorted(a for a in self.org_accounts if a != owner)
        member = others[0] if others else str(int(self.env.unknown_account) - 1).zfill(12)
        return Party("aws", member, org=self.org_id, org_path=self.env.org_paths.get(member))

    def rcps(self, account: str) -> tuple[list[list[CompiledPolicy]] | None, str | None]:
        """The RCP levels that apply to resources of `account` (None: none apply), and why
        they could not be applied when they are unknown."""
        hit = self._rcps.get(account)
        if hit is not None:
            return hit
        org = self.model.organization
        result: tuple[list[list[CompiledPolicy]] | None, str | None] = (None, None)
        if org is not None and self.in_org(account):
            try:
                levels = org.levels(account, "rcp")
                # Enabling RCPs attaches RCPFullAWSAccess, which cannot be detached, to every
                # root, OU and account: a level with no RCP means RCPs are not enabled.
                if levels is not None and all(levels):
                    result = (
                        [
                            [
                                compile_policy(d.document, name=d.arn or d.name, kind="rcp")
                                for d in level
                            ]
                            for level in levels
                        ],
                        None,
                    )
            except (DataUnavailable, PolicyError) as exc:
                result = (None, f"resource control policies not applied: {exc}")
        self._rcps[account] = result
        return result

    # -- policies --------------------------------------------------------------------------

    def policy(self, source: PolicySource) -> None:
        where = source.where
        try:
            compiled = compile_policy(source.document, name=where.arn, kind=source.kind)
        except PolicyError as exc:
            self.unreadable.append(Unreadable(where, f"its policy could not be parsed: {exc}"))
            return
        rcps, rcp_note = self.rcps(where.account)
        org = self.model.organization
        prober = Prober(
            compiled,
            where.arn,
            where.account,
            self.env,
            rcps,
            in_management_account=org is not None and org.management_account == where.account,
        )
        grants: list[Grant] = []
        for st in compiled.statements:
            if st.allow and st.principals is not None:
                grants.extend(self._statement(prober, st, source))
        if source.guard is not None:
            grants = _guarded(grants, source.guard)
        for grant in grants:
            if rcp_note and grant.principal_type in ("aws", "anonymous", "service"):
                grant.notes.append(rcp_note)
            if (
                source.kind == "trust"
                and grant.scope == "external"
                and grant.principal_type == "aws"
                and "sts:externalid"
                not in {
                    k.lower()
                    for c in grant.conditions
                    for b in c.values()
                    if isinstance(b, dict)
                    for k in b
                }
            ):
                grant.notes.append(_NO_EXTERNAL_ID)
        self.grants.extend(grants)

    def _statement(self, prober: Prober, st: Statement, source: PolicySource) -> list[Grant]:
        principals = st.principals
        assert principals is not None
        owner = source.where.account
        out: list[Grant] = []
        if st.not_principal or principals.any:
            out.extend(self._anyone(prober, st, source))
        for arn in sorted(principals.aws):
            account = _account_of(arn)
            if account is None or account == owner:
                continue  # a unique id of a deleted principal, or the account itself
            scope, notes = self.classify(account, owner)
            is_root = arn.endswith(":root")
            party = Party(
                "aws",
                account,
                org=self.org_of(account),
                org_path=self.env.org_paths.get(account),
                principal=None if is_root else arn,
            )
            out.extend(self._grants(prober, st, source, party, scope, account, [arn], notes))
        if source.kind == "resource":
            for service in sorted(principals.services):
                out.extend(self._service(prober, st, source, service))
        for provider in sorted(principals.federated):
            out.append(self._unprobed(st, source, f"federated:{provider}", "federated", provider))
        guard_owner = source.guard.owner_id if source.guard else None
        for canonical in sorted(principals.canonical - {guard_owner or ""}):
            out.append(self._unprobed(st, source, f"canonical:{canonical}", "canonical", canonical))
        return out

    def _anyone(self, prober: Prober, st: Statement, source: PolicySource) -> list[Grant]:
        owner = source.where.account
        outcomes = [o for p in (Party("anonymous"), Party("aws")) if (o := prober.run(st, p))]
        if outcomes:
            best = min(outcomes, key=lambda o: len(o.restricting))
            scope: Scope = "external" if best.restricting else "public"
            return [self._grant(prober, st, source, best, scope, "*", ["*"], [])]
        out: list[Grant] = []
        party = self._org_party(owner)
        if party is not None and self.org_id is not None:
            out.extend(
                self._grants(prober, st, source, party, "organization", self.org_id, ["*"], [])
            )
        uses_source = any(k.lower() in SOURCE_KEYS for _, k, _ in condition_entries(st))
        for account in prober.named_accounts(st):
            named, notes = self.classify(account, owner)
            org = self.org_of(account)
            path = self.env.org_paths.get(account)
            parties = [Party("aws", account, org=org, org_path=path)]
            if uses_source:
                parties.append(Party("service", account, org=org, org_path=path))
            for p in parties:
                out.extend(self._grants(prober, st, source, p, named, account, ["*"], notes))
        for org_id in prober.named_orgs(st):
            if org_id != self.home_org(owner):
                out.extend(
                    self._grants(
                        prober,
                        st,
                        source,
                        Party("aws", None, org=org_id),
                        "external",
                        f"organization:{org_id}",
                        ["*"],
                        [],
                    )
                )
        return out

    def _service(
        self, prober: Prober, st: Statement, source: PolicySource, service: str
    ) -> list[Grant]:
        anyone = prober.run(st, Party("service", None, principal=service))
        if anyone is not None:
            grant = self._grant(
                prober, st, source, anyone, "external", f"service:{service}", [service], []
            )
            grant.notes.append(f"{service} may use this access on behalf of any account")
            return [grant]
        out: list[Grant] = []
        for account in prober.named_accounts(st):
            scope, notes = self.classify(account, source.where.account)
            party = Party(
                "service",
                account,
                principal=service,
                org=self.org_of(account),
            )
            out.extend(self._grants(prober, st, source, party, scope, account, [service], notes))
        return out

    def _grants(
        self,
        prober: Prober,
        st: Statement,
        source: PolicySource,
        party: Party,
        scope: Scope | None,
        grantee: str,
        principals: list[str],
        notes: list[str],
    ) -> list[Grant]:
        if scope is None:
            return []
        outcome = prober.run(st, party)
        if outcome is None:
            return []
        return [self._grant(prober, st, source, outcome, scope, grantee, principals, notes)]

    def _grant(
        self,
        prober: Prober,
        st: Statement,
        source: PolicySource,
        outcome: Outcome,
        scope: Scope,
        grantee: str,
        principals: list[str],
        notes: list[str],
    ) -> Grant:
        statements = [prober.policy.statements[i] for i in outcome.statements]
        return Grant(
            *_base(source.where),
            resource_name=source.where.name,
            scope=scope,
            grantee=grantee,
            actions=_actions_written(st) if "NotAction" in st.raw else list(outcome.actions),
            restricted_by=[_restriction(k) for k in outcome.restricting],
            statements=[_label(st) for st in statements],
            principal_type=outcome.party.kind,
            principals=list(principals),
            restricting_keys=list(outcome.restricting),
            conditions=[
                st.raw["Condition"]
                for st in statements
                if isinstance(st.raw.get("Condition"), dict)
            ],
            notes=list(notes),
        )

    def _unprobed(
        self, st: Statement, source: PolicySource, grantee: str, kind: str, principal: str
    ) -> Grant:
        """Federated identities and S3 canonical users: callers the evaluator has no form for,
        so only the statement's own conditions say how far the grant reaches."""
        keys = [
            k
            for k in dict.fromkeys(k for _, k, _ in condition_entries(st))
            if not (kind == "federated" and _audience_only(k))
        ]
        notes = []
        if kind == "federated" and not keys and ":saml-provider/" not in principal:
            notes.append(
                f"no condition on the token's subject: any identity that {principal} issues "
                "tokens for can use this access"
            )
        return Grant(
            *_base(source.where),
            resource_name=source.where.name,
            scope="external",
            grantee=grantee,
            actions=_actions_written(st),
            restricted_by=[_restriction(k) for k in keys],
            statements=[_label(st)],
            principal_type=kind,
            principals=[principal],
            restricting_keys=keys,
            conditions=[st.raw["Condition"]] if isinstance(st.raw.get("Condition"), dict) else [],
            notes=notes,
        )

    # -- sharing attributes ----------------------------------------------------------------

    def share(self, share: Share) -> None:
        where = share.where
        if share.grantee == "*":
            if share.guard is not None and share.guard.ignore_public_acls:
                return
            scope: Scope | None = "public"
            grantee, notes = "*", list(share.guard.unknown if share.guard else ())
        elif ACCOUNT_ID.match(share.grantee):
            scope, notes = self.classify(share.grantee, where.account)
            grantee = share.grantee
        else:
            org = (
                _ORG_ID.search(share.grantee) if share.grantee.startswith(("org:", "ou:")) else None
            )
            if org is not None and org.group(0) == self.home_org(where.account):
                scope, grantee, notes = "organization", org.group(0), []
            else:
                scope, notes = "external", []
                grantee = f"organization:{org.group(0)}" if org else share.grantee
        if scope is None:
            return
        self.grants.append(
            Grant(
                *_base(where),
                resource_name=where.name,
                scope=scope,
                grantee=grantee,
                actions=[share.action],
                restricted_by=[],
                statements=[share.via],
                principal_type="share",
                principals=[share.grantee],
                notes=notes,
            )
        )


def _base(where: Located) -> tuple[str, str, str, str]:
    return (where.arn, where.resource_type, where.account, where.region)


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and ACCOUNT_ID.match(parts[4]) else None


def _label(st: Statement) -> str:
    return st.ref.sid or f"#{st.ref.index}"


def _actions_written(st: Statement) -> list[str]:
    key = "NotAction" if "NotAction" in st.raw else "Action"
    raw = st.raw.get(key)
    items = [a for a in (raw if isinstance(raw, list) else [raw]) if isinstance(a, str)]
    return [f"NotAction: {', '.join(items)}"] if key == "NotAction" else items


def _audience_only(key: str) -> bool:
    """An OIDC token's audience names the client (for GitHub Actions, "sts.amazonaws.com" for
    everyone), not who the identity is; a Cognito identity pool id does restrict."""
    lowered = key.lower()
    return lowered.endswith(":aud") and not lowered.startswith("cognito-identity.")


def _restriction(key: str) -> str:
    return f"{'network' if is_network_key(key) else 'conditional'} ({key})"


def _guarded(grants: list[Grant], guard: BucketGuard) -> list[Grant]:
    """S3's RestrictPublicBuckets: a bucket whose policy is public (in S3's sense) keeps only
    the access of AWS service principals and of its own account."""
    public = any(
        g.grantee == "*" and not {k.lower() for k in g.restricting_keys} & _S3_NON_PUBLIC_KEYS
        for g in grants
    )
    if public and guard.restrict_public_buckets:
        grants = [g for g in grants if g.principal_type == "service"]
    for grant in grants:
        grant.notes.extend(f"{what} could not be read; taken as off" for what in guard.unknown)
    return grants
