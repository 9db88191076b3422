"""External access: who outside an account, or outside its organisation, can reach a resource
(the job of IAM Access Analyzer's external-access analyzer).

Every resource-based policy of the snapshot and every role trust policy of the model is
compiled and its Allow statements are decided by the evaluator for synthetic callers of each
grantee (see `external_probe`), so that conditions, Deny statements and resource control
policies count. Sharing that is not a policy is read too: S3 ACL grants, EBS snapshots, AMIs
and RDS snapshots shared with accounts or with everyone.

Scopes:

- "public": anyone, with no condition that restricts who or from where (Principal "*",
  AllUsers/AuthenticatedUsers ACL grants, snapshots and AMIs shared with "all");
- "external": an account outside the organisation (or any account, when the organisation is
  not known), "*" restricted only by network or other conditions, AWS services acting for any
  account, federated identities and other organisations;
- "organization": another account of the resource's own organisation. Reported as
  INFORMATIONAL findings with a PASSED compliance status: sharing inside the zone of trust is
  expected, but worth seeing.

Access within the resource's own account is not reported, nor are AWS services acting only for
it (a service principal whose aws:SourceAccount/SourceArn is pinned to the account), nor
service principals in role trust policies (a service can only use a role for the account that
passes it). S3 Block Public Access is applied as S3 applies it: RestrictPublicBuckets leaves
only service principals in a bucket whose policy is public, IgnorePublicAcls drops public ACL
grants.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mamori.core import (
    Compliance,
    ComplianceStatus,
    Finding,
    Mitre,
    Remediation,
    Resource,
    Severity,
    SeverityLabel,
    utcnow,
)
from mamori.identity.external_grants import ACCOUNT_ID, AccessReport, Grant, Scope, find_grants
from mamori.identity.external_sources import Unreadable
from mamori.identity.model import IdentityModel
from mamori.identity.reporting import BEST_PRACTICES, identity_finding, not_available
from mamori.inventory import Snapshot

__all__ = ["GENERATOR", "AccessReport", "Grant", "Scope", "external_access", "external_findings"]

GENERATOR = "identity.external-access"
_READ_PREFIXES = (
    "get",
    "list",
    "describe",
    "head",
    "view",
    "search",
    "lookup",
    "batchget",
    "select",
    "query",
    "scan",
    "receive",
    "download",
)
_READ_SHARES = frozenset(
    {"ACL READ", "ACL READ_ACP", "createVolumePermission", "launchPermission", "restore"}
)
_ACCESS_ANALYZER_DOC = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings-remediate.html"
)
_REMEDIATION = {
    "AwsS3Bucket": (
        "Remove the statements or ACL grants that let outside principals in, or "
        "turn on S3 Block Public Access.",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
        "access-control-block-public-access.html",
    ),
    "AwsIamRole": (
        "Restrict the trust policy to the principals that must assume the role; "
        "for a third party, require sts:ExternalId.",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
    ),
    "AwsEc2Snapshot": (
        "Remove the createVolumePermission for 'all' and for accounts that "
        "should not copy the snapshot.",
        "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-modifying-snapshot-permissions.html",
    ),
    "AwsEc2Image": (
        "Remove the launch permission for 'all' and for accounts that should not launch the image.",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-intro.html",
    ),
    "AwsRdsDbSnapshot": (
        "Remove 'all' and unexpected accounts from the snapshot's restore attribute.",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html",
    ),
}
_DEFAULT_REMEDIATION = (
    "Remove or narrow the resource policy statements that grant access to "
    "principals outside the account or organisation.",
    _ACCESS_ANALYZER_DOC,
)


def external_access(
    model: IdentityModel, snapshot: Snapshot | None, *, now: datetime | None = None
) -> AccessReport:
    """Every grant to principals outside the resource's account, for every resource policy and
    sharing attribute in `snapshot` and every role trust policy of `model`; the report's
    `unavailable` lists what could not be read or parsed. `now` decides time conditions."""
    return find_grants(model, snapshot, now or utcnow())


# -- findings ------------------------------------------------------------------------------------


def external_findings(
    grants: Sequence[Grant],
    unavailable: Sequence[Unreadable] | None = None,
    *,
    partition: str = "aws",
) -> list[Finding]:
    """One finding per resource and grantee class (public, each outside account or party, the
    organisation), then a NOT_AVAILABLE finding per resource that could not be judged.
    `unavailable` defaults to the report's own when `grants` is an AccessReport."""
    if unavailable is None:
        unavailable = grants.unavailable if isinstance(grants, AccessReport) else []
    groups: dict[tuple[str, str, str], list[Grant]] = {}
    for grant in grants:
        who = grant.grantee if grant.scope != "organization" else "organization"
        groups.setdefault((grant.resource_arn, grant.scope, who), []).append(grant)
    out = [_finding(group, partition) for group in groups.values()]
    out.extend(_unavailable_finding(u, partition) for u in unavailable)
    return out


def _is_read(action: str) -> bool:
    if action in _READ_SHARES:
        return True
    _, _, name = action.lower().partition(":")
    return bool(name) and name != "*" and name.startswith(_READ_PREFIXES)


def _severity(group: list[Grant]) -> SeverityLabel:
    first = group[0]
    writes = any(not _is_read(a) for g in group for a in g.actions)
    if first.scope == "organization":
        return SeverityLabel.INFORMATIONAL
    if first.scope == "public":
        return SeverityLabel.CRITICAL if writes else SeverityLabel.HIGH
    if first.principal_type == "service":
        return SeverityLabel.MEDIUM if writes else SeverityLabel.LOW
    if any(g.restricted_by for g in group) or not writes:
        return SeverityLabel.MEDIUM
    return SeverityLabel.HIGH


def _who(grant: Grant) -> str:
    grantee = grant.grantee
    if grant.scope == "public":
        return "anyone"
    if grant.scope == "organization":
        return "other accounts of its organisation"
    if grantee == "*":
        return "any principal meeting its conditions"
    if ACCOUNT_ID.match(grantee):
        return f"account {grantee}"
    kind, _, name = grantee.partition(":")
    return {
        "service": f"the AWS service {name} acting for any account",
        "federated": f"identities of the federated provider {name}",
        "organization": f"organisation {name}",
        "canonical": f"the S3 canonical user {name}",
    }.get(kind, grantee)


def _finding(group: list[Grant], partition: str) -> Finding:
    first = group[0]
    actions = list(dict.fromkeys(a for g in group for a in g.actions))
    restricted = list(dict.fromkeys(r for g in group for r in g.restricted_by))
    label = _severity(group)
    name = first.resource_name or first.resource_arn
    who = _who(first)
    description = f"{first.resource_type} {name} lets {who} do: {', '.join(actions)}."
    if restricted:
        description += f" Only when: {', '.join(restricted)}."
    notes = list(dict.fromkeys(n for g in group for n in g.notes))
    if notes:
        description += " " + "; ".join(notes) + "."
    text, url = _REMEDIATION.get(first.resource_type, _DEFAULT_REMEDIATION)
    is_role = first.resource_type == "AwsIamRole"
    types = [f"{BEST_PRACTICES}/External Access Granted"]
    if first.scope == "public":
        types.append("Effects/Data Exposure")
    mitre = (
        Mitre(
            tactic="TA0001 Initial Access",
            technique_id="T1078.004",
            technique="Valid Accounts: Cloud Accounts",
        )
        if is_role
        else Mitre(
            tactic="TA0010 Exfiltration",
            technique_id="T1537",
            technique="Transfer Data to Cloud Account",
        )
    )
    passed = first.scope == "organization"
    grantee_key = "organization" if passed else first.grantee
    return identity_finding(
        generator_id=GENERATOR,
        key=f"{first.resource_arn}#{first.scope}:{grantee_key}",
        resources=[
            Resource(
                type=first.resource_type,
                id=first.resource_arn,
                partition=partition,
                region=first.region,
            )
        ],
        account_id=first.account,
        region=first.region,
        types=types,
        severity=Severity.of(label),
        title=f"{name} is {'public' if first.scope == 'public' else 'shared with ' + who}",
        description=description,
        remediation=Remediation(text=text, url=url),
        compliance=Compliance(
            status=ComplianceStatus.PASSED if passed else ComplianceStatus.FAILED,
            status_reasons=[description[:1000]],
        ),
        evidence={
            "scope": first.scope,
            "grantees": list(dict.fromkeys(g.grantee for g in group)),
            "principals": list(dict.fromkeys(p for g in group for p in g.principals)),
            "actions": actions,
            "restricted_by": restricted,
            "statements": list(dict.fromkeys(s for g in group for s in g.statements)),
            "conditions": [c for g in group for c in g.conditions],
            "notes": notes,
        },
        mitre=[] if passed else [mitre],
        references=[_ACCESS_ANALYZER_DOC],
    )


def _unavailable_finding(gap: Unreadable, partition: str) -> Finding:
    where = gap.where
    return not_available(
        generator_id=GENERATOR,
        key=f"{where.arn}#not-available:{gap.reason[:80]}",
        resources=[
            Resource(
                type=where.resource_type, id=where.arn, partition=partition, region=where.region
            )
        ],
        account_id=where.account,
        region=where.region,
        title=f"External access of {where.name} could not be determined",
        reason=f"{where.resource_type} {where.name}: {gap.reason}",
        remediation=Remediation(
            text="Grant the scanner read access to the resource's policy (see the collector's "
            "required permissions) or fix the malformed policy, then scan again.",
            url=_ACCESS_ANALYZER_DOC,
        ),
    )
