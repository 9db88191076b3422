"""Security Hub checks."""

from __future__ import annotations

from mamori.posture.registry import REGION, CheckContext, Verdict, check, verdict


@check(
    id="securityhub.enabled",
    service="securityhub",
    over=REGION,
    severity="medium",
    title="AWS Security Hub should be enabled",
    resource_type="AwsAccount",
    description="Security Hub gathers findings from AWS services and partner tools and runs "
    "the security standards' controls continuously in each Region (CIS 4.16).",
    remediation="Enable Security Hub in the Region (with AWS Organizations, from the delegated "
    "administrator for every member).",
    remediation_cli="aws securityhub enable-security-hub --enable-default-standards",
    references=[
        "https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-settingup.html",
        "https://www.cisecurity.org/benchmark/amazon_web_services",
    ],
)
def enabled(ctx: CheckContext) -> Verdict:
    hub = ctx.data("securityhub", "hub")
    since = (hub or {}).get("SubscribedAt")
    return verdict(
        hub is not None,
        f"enabled since {since}",
        "Security Hub is not enabled",
        hub=(hub or {}).get("HubArn"),
    )
