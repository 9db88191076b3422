"""Organizations: the organisation this account belongs to and, when it is the management
account, every member account with its place in the OU tree, the roots, and the service
control policies ("scps") and resource control policies ("rcps") with where they are attached.
"""

from __future__ import annotations

from typing import Any

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable, unavailable

_NOT_IN_USE = ("AWSOrganizationsNotInUseException",)
# OUs nest at most five deep under a root; a longer chain means a malformed answer.
_MAX_DEPTH = 8
# Snapshot key -> the policy type as ListPolicies filters it. Both kinds are read the same way:
# an API that refuses a filter gives an unavailable marker, never an empty list.
_POLICY_KINDS = {"scps": "SERVICE_CONTROL_POLICY", "rcps": "RESOURCE_CONTROL_POLICY"}


@collector(
    "organizations",
    scope="global",
    calls=[
        "organizations.describe_organization",
        "organizations.list_accounts",
        "organizations.list_roots",
        "organizations.list_policies",
        "organizations.describe_policy",
        "organizations.list_targets_for_policy",
        "organizations.list_parents",
    ],
)
def collect_organizations(ctx: CollectContext) -> None:
    org = ctx.call(
        "organizations", "describe_organization", absent=_NOT_IN_USE, pick="Organization"
    )
    ctx.put("organization", org)
    if is_unavailable(org):
        ctx.put("accounts", org)
        return
    if org is None or org.get("MasterAccountId") != ctx.account_id:
        # Only the management account sees the whole organisation; the checks over its
        # accounts then run once, in the management account's data.
        ctx.put("accounts", [])
        return

    roots = ctx.paginate("organizations", "list_roots", "Roots")
    ctx.put("roots", roots if is_unavailable(roots) else [_labelled(r) for r in roots])
    for key, kind in _POLICY_KINDS.items():
        ctx.put(key, _policies(ctx, kind))
    accounts = ctx.paginate("organizations", "list_accounts", "Accounts")
    if not is_unavailable(accounts):
        parents: dict[str, Any] = {}
        accounts = [
            {**_labelled(a), "Parents": _parent_chain(ctx, a["Id"], parents)} for a in accounts
        ]
    ctx.put("accounts", accounts)


def _labelled(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "_arn": item["Arn"], "_name": item.get("Name") or item.get("Id")}


def _policies(ctx: CollectContext, kind: str) -> Any:
    listing = ctx.paginate("organizations", "list_policies", "Policies", Filter=kind)
    if is_unavailable(listing):
        return listing
    out = []
    for summary in listing:
        policy_id = summary["Id"]
        policy = ctx.call("organizations", "describe_policy", pick="Policy", PolicyId=policy_id)
        out.append(
            {
                **_labelled(summary),
                "Content": policy if is_unavailable(policy) else (policy or {}).get("Content"),
                "Targets": ctx.paginate(
                    "organizations", "list_targets_for_policy", "Targets", PolicyId=policy_id
                ),
            }
        )
    return out


def _parent_chain(ctx: CollectContext, child_id: str, known: dict[str, Any]) -> Any:
    """[{Id, Type}] from the direct parent up to the root; `known` caches OU lookups that
    accounts share."""
    chain: list[dict[str, Any]] = []
    current = child_id
    for _ in range(_MAX_DEPTH):
        if current not in known:
            parents = ctx.paginate("organizations", "list_parents", "Parents", ChildId=current)
            known[current] = parents if is_unavailable(parents) else (parents or [None])[0]
        parent = known[current]
        if is_unavailable(parent):
            return parent
        if not isinstance(parent, dict) or "Id" not in parent:
            break
        chain.append({"Id": parent["Id"], "Type": parent.get("Type")})
        if parent.get("Type") == "ROOT":
            return chain
        current = parent["Id"]
    return unavailable("Malformed", f"no root found above {child_id}")
