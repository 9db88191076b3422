"""IAM Access Analyzer checks."""

from __future__ import annotations

from mamori.posture.registry import REGION, CheckContext, Verdict, check, verdict

# Analyzer types that report access from outside the zone of trust, which is what CIS 1.20
# asks for; unused-access and internal-access analyzers answer other questions.
_EXTERNAL_ACCESS = ("ACCOUNT", "ORGANIZATION")


@check(
    id="accessanalyzer.enabled_in_region",
    service="accessanalyzer",
    over=REGION,
    severity="low",
    title="IAM Access Analyzer should be enabled in every region",
    resource_type="AwsAccount",
    description="An external access analyzer reports resources in its region (buckets, keys, "
    "roles, queues...) shared with principals outside the account or organization; "
    "it sees only its own region (CIS AWS Foundations 1.20).",
    remediation="Create an account or organization analyzer in the region.",
    remediation_cli="aws accessanalyzer create-analyzer --analyzer-name default "
    "--type ACCOUNT --region <region>",
    references=[
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-getting-started.html"
    ],
)
def enabled_in_region(ctx: CheckContext) -> Verdict:
    analyzers = ctx.resources("accessanalyzer", "analyzers")
    active = [
        a.name for a in analyzers if a["status"] == "ACTIVE" and a["type"] in _EXTERNAL_ACCESS
    ]
    others = [f"{a.name} ({a['type']}, {a['status']})" for a in analyzers if a.name not in active]
    return verdict(
        bool(active),
        f"active analyzer(s): {', '.join(active)}",
        "no active external access analyzer" + (f"; only {', '.join(others)}" if others else ""),
        analyzers=active,
        others=others,
    )
