"""Privilege-escalation results as hub Findings: one per principal that can become an
administrator (with its paths as evidence), one per administrator, and NOT_AVAILABLE for
principals whose policies could not all be read."""

from __future__ import annotations

from mamori.core import (
    Compliance,
    ComplianceStatus,
    Finding,
    Mitre,
    Remediation,
    Resource,
    Severity,
    SeverityLabel,
)
from mamori.identity.paths import PathReport
from mamori.identity.reporting import BEST_PRACTICES, Place, identity_finding, not_available
from mamori.identity.techniques import BY_ID

ESCALATION = "identity.privilege-escalation"
ADMINISTRATOR = "identity.administrator"
INCOMPLETE = "identity.analysis-incomplete"
_TYPES_ESCALATION = ["TTPs/Privilege Escalation", BEST_PRACTICES]
_EVIDENCE_PATHS = 20
_MITRE = [
    Mitre(
        tactic="TA0004 Privilege Escalation", technique_id="T1098", technique="Account Manipulation"
    ),
    Mitre(
        tactic="TA0004 Privilege Escalation",
        technique_id="T1078.004",
        technique="Valid Accounts: Cloud Accounts",
    ),
]


def _resource(arn: str) -> Resource:
    kind = "AwsIamUser" if ":user/" in arn else "AwsIamRole"
    partition = arn.split(":")[1] if arn.startswith("arn:") else "aws"
    return Resource(type=kind, id=arn, partition=partition, region="global")


def _account(arn: str) -> str:
    return arn.split(":")[4]


def _about(principal: str) -> Place:
    """The fields that place a finding on a principal: one finding per principal and kind."""
    return {
        "key": principal,
        "resources": [_resource(principal)],
        "account_id": _account(principal),
        "region": "global",
    }


def path_findings(report: PathReport) -> list[Finding]:
    out: list[Finding] = []
    for principal, paths in sorted(report.by_principal().items()):
        shortest = paths[0]
        one_hop_admin = len(shortest.hops) == 1
        label = SeverityLabel.CRITICAL if one_hop_admin else SeverityLabel.HIGH
        techniques = sorted({p.technique for p in paths})
        names = ", ".join(BY_ID[t].name for t in techniques[:6])
        route = " -> ".join(f"{BY_ID[h.technique].name} ({h.target})" for h in shortest.hops)
        out.append(
            identity_finding(
                generator_id=ESCALATION,
                **_about(principal),
                types=_TYPES_ESCALATION,
                severity=Severity.of(label),
                title=f"{principal.rsplit('/', 1)[-1]} can escalate to administrator "
                f"({len(paths)} path{'s' if len(paths) != 1 else ''})",
                description=(
                    f"{principal} is not an administrator but can become one. Shortest path "
                    f"({len(shortest.hops)} hop{'s' if len(shortest.hops) != 1 else ''}): "
                    f"{route}. Techniques: {names}."
                ),
                remediation=Remediation(
                    text="Remove the permissions each path's first hop relies on (see the "
                    "allowing statements in the evidence), or constrain them with a "
                    "permissions boundary, resource ARNs or conditions; re-run "
                    "`mamori iam paths` to confirm no path remains.",
                    url="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html",
                ),
                compliance=Compliance(status=ComplianceStatus.FAILED),
                evidence={
                    "paths": [p.to_json() for p in paths[:_EVIDENCE_PATHS]],
                    "path_count": len(paths) + report.truncated.get(principal, 0),
                    "techniques": techniques,
                },
                mitre=list(_MITRE),
                product_fields={"Techniques": ",".join(techniques)},
            )
        )
    for admin in sorted(report.admins):
        out.append(
            identity_finding(
                generator_id=ADMINISTRATOR,
                **_about(admin),
                types=[BEST_PRACTICES],
                severity=Severity.of(SeverityLabel.INFORMATIONAL),
                title=f"{admin.rsplit('/', 1)[-1]} is an administrator (effective * on *)",
                description=f"{admin} is allowed every action on every resource after its "
                "permissions boundary, SCPs and Deny statements.",
                remediation=Remediation(
                    text="Keep administrators few, protected by MFA and monitored; prefer "
                    "roles assumed when needed."
                ),
            )
        )
    for principal, problems in sorted(report.problems.items()):
        out.append(
            not_available(
                generator_id=INCOMPLETE,
                **_about(principal),
                title=f"Identity analysis of {principal.rsplit('/', 1)[-1]} is incomplete",
                reason="; ".join(problems)[:2000],
                remediation=Remediation(
                    text="Collect the missing policy documents (AWS managed policies are "
                    "fetched by `mamori inventory`; GAAD output must include them) and re-run."
                ),
            )
        )
    return out
