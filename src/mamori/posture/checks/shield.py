"""AWS Shield Advanced coverage, in the manner of Firewall Manager's Shield policies: the
resources a policy names must be protected.

The policy is a tag: a load balancer or CloudFront distribution tagged `mamori:shield=required`
must have a Shield Advanced protection (and so the account a subscription). Untagged resources
are not evaluated.
"""

from __future__ import annotations

from mamori.core import DataUnavailable
from mamori.inventory.snapshot import Res
from mamori.posture.registry import CheckContext, Verdict, check, failed, verdict

TAG_KEY = "mamori:shield"
TAG_VALUE = "required"


@check(
    id="shield.advanced_protection_on_named_resources",
    service="shield",
    over=("elbv2:load_balancers", "cloudfront:distributions"),
    requires=["shield"],
    severity="medium",
    title="Resources tagged mamori:shield=required should have Shield Advanced protection",
    resource_type="AwsElbv2LoadBalancer",
    resource_types={"cloudfront:distributions": "AwsCloudFrontDistribution"},
    description="Shield Advanced adds DDoS detection tuned to the resource, automatic "
    "application-layer mitigation, the Shield Response Team and cost protection; it covers "
    "only the resources given a protection. The tag names the resources that must have one.",
    remediation="Subscribe the account to Shield Advanced (or let a Firewall Manager Shield "
    "policy do it) and create a protection for the resource.",
    remediation_cli="aws shield create-protection --name <name> --resource-arn <resource-arn>",
    references=[
        "https://docs.aws.amazon.com/waf/latest/developerguide/ddos-manage-protected-resources.html",
        "https://docs.aws.amazon.com/waf/latest/developerguide/shield-policies.html",
    ],
)
def advanced_protection_on_named_resources(res: Res, ctx: CheckContext) -> Verdict | None:
    if str(res["_tags"].get(TAG_KEY, "")).strip().lower() != TAG_VALUE:
        return None
    if res.get("Type") not in (None, "application"):
        # Shield protects a Network Load Balancer through its Elastic IPs, not read here.
        raise DataUnavailable(
            f"{res.name}: protection of a {res['Type']} load balancer", "NotCollected"
        )
    if ctx.data("shield", "subscription") is None:
        return failed(
            f"tagged {TAG_KEY}={TAG_VALUE} but the account has no Shield Advanced subscription"
        )
    protected = {p["ResourceArn"] for p in ctx.resources("shield", "protections")}
    return verdict(
        res.arn in protected,
        "Shield Advanced protects it",
        f"tagged {TAG_KEY}={TAG_VALUE} but has no Shield Advanced protection",
    )
