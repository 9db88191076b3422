"""Organizations checks. They run on the management account's view of the organisation;
in every other account the collector stores no member accounts, so they do not apply."""

from __future__ import annotations

from typing import Any

from mamori.core import DataUnavailable
from mamori.inventory.snapshot import Res
from mamori.posture.policy import allows_full_admin, statements
from mamori.posture.registry import CheckContext, Verdict, check, failed, passed

_ORG_DOC = "https://docs.aws.amazon.com/organizations/latest/userguide/"
_SCP = "SERVICE_CONTROL_POLICY"


def _scps_enabled(ctx: CheckContext) -> bool:
    """SCPs take effect only with all features on and the policy type enabled on the root."""
    org = ctx.data("organizations", "organization")
    if org.get("FeatureSet") != "ALL":
        return False
    return any(
        t.get("Type") == _SCP and t.get("Status") == "ENABLED"
        for root in ctx.resources("organizations", "roots")
        for t in root.get("PolicyTypes") or []
    )


def _is_guardrail(content: Any, what: str) -> bool:
    """An SCP restricts something unless it only allows every action (as FullAWSAccess, or
    a copy of it, does)."""
    if any(s["Effect"] == "Deny" for s in statements(content, what)):
        return True
    return not allows_full_admin(content, what)


def _guardrails_applying(scope: set[str], ctx: CheckContext) -> list[str]:
    """Names of guardrail SCPs attached to any of `scope`. An SCP that could not be read only
    matters when no readable one applies, so it is raised after the others are looked at."""
    names: list[str] = []
    missing: DataUnavailable | None = None
    for scp in ctx.resources("organizations", "scps"):
        try:
            targets = {str(t.get("TargetId")) for t in scp["Targets"]}
            if scope & targets and _is_guardrail(scp["Content"], f"SCP {scp.name}"):
                names.append(scp.name)
        except DataUnavailable as exc:
            missing = exc
    if not names and missing is not None:
        raise missing
    return sorted(names)


@check(
    id="organizations.scp_guardrails_attached",
    service="organizations",
    over="accounts",
    severity="medium",
    title="Member accounts should be governed by service control policies",
    resource_type="AwsAccount",
    description=(
        "Service control policies set the maximum permissions in member accounts: "
        "guardrails such as denying LeaveOrganization, denying CloudTrail changes or "
        "limiting regions hold even for the account's own administrators. An account "
        "under FullAWSAccess alone has no such guardrail."
    ),
    remediation="Attach an SCP with guardrails to the account, its OU or the root.",
    remediation_cli=(
        "aws organizations attach-policy --policy-id <policy-id> --target-id <ou-or-account-id>"
    ),
    references=[
        _ORG_DOC + "orgs_manage_policies_scps.html",
        _ORG_DOC + "orgs_manage_policies_scps_examples.html",
    ],
)
def scp_guardrails_attached(account: Res, ctx: CheckContext) -> Verdict | None:
    org = ctx.data("organizations", "organization")
    # SCPs never restrict the management account, and closed accounts run nothing.
    # Organizations is replacing the account's Status field with State.
    state = account.get("State") or account.get("Status") or "ACTIVE"
    if account["Id"] == org.get("MasterAccountId") or state != "ACTIVE":
        return None
    if not _scps_enabled(ctx):
        return failed("service control policies are not enabled in the organization")
    parents = account["Parents"]
    scope = {str(account["Id"]), *(str(p.get("Id")) for p in parents)}
    names = _guardrails_applying(scope, ctx)
    if names:
        return passed(f"guardrail SCP(s) apply: {', '.join(names)}", policies=names)
    return failed(
        "no SCP other than full access applies to the account or its OUs",
        parents=[p.get("Id") for p in parents],
    )
