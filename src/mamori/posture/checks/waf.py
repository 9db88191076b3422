"""AWS WAF coverage, in the manner of Firewall Manager's WAF policies: every internet-facing
Application Load Balancer, REST API stage and CloudFront distribution has a web ACL, every web
ACL runs the required managed rule groups and logs its traffic.

The required rule groups are a policy, not a fact about AWS: AWSManagedRulesCommonRuleSet and
AWSManagedRulesKnownBadInputsRuleSet by default, or the comma-separated list in the
MAMORI_WAF_REQUIRED_RULE_GROUPS environment variable ("Name" for AWS's groups, "Vendor:Name"
for another seller's). An environment variable because checks are pure functions of the
inventory: it reaches every way a scan is started (CLI, snapshot, dashboard, automation)
without new plumbing, and an offline scan of a snapshot applies today's policy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from mamori.core import InputError
from mamori.inventory.snapshot import Res
from mamori.posture.registry import CheckContext, Verdict, check, failed, passed

REQUIRED_ENV = "MAMORI_WAF_REQUIRED_RULE_GROUPS"
DEFAULT_REQUIRED = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
_GROUP = re.compile(r"^(?:([A-Za-z0-9_-]{1,128}):)?([A-Za-z0-9_-]{1,128})$")
_AWS = "AWS"

_WAF_DOC = "https://docs.aws.amazon.com/waf/latest/developerguide/"
_ASSOCIATE_CLI = "aws wafv2 associate-web-acl --web-acl-arn <web-acl-arn> --resource-arn {}"


def required_rule_groups(environ: Mapping[str, str] = os.environ) -> list[tuple[str, str]]:
    """(vendor, name) of every managed rule group the policy requires."""
    raw = environ.get(REQUIRED_ENV, "").strip()
    if not raw:
        return [(_AWS, name) for name in DEFAULT_REQUIRED]
    out: list[tuple[str, str]] = []
    for part in (p.strip() for p in raw.split(",")):
        match = _GROUP.match(part)
        if match is None:
            shown = part[:80].encode("unicode_escape").decode("ascii")
            raise InputError(
                f"{REQUIRED_ENV}: {shown!r} is not a rule group name (Name or Vendor:Name)"
            )
        group = (match.group(1) or _AWS, match.group(2))
        if group not in out:
            out.append(group)
    return out


def _managed_groups(acl: Res) -> Iterator[tuple[tuple[str, str], bool]]:
    """((vendor, name), enforced) for each managed rule group the web ACL runs, including the
    ones a Firewall Manager policy places before and after its own rules."""
    rules = [
        *(acl["Rules"] or []),
        *(acl.get("PreProcessFirewallManagerRuleGroups") or []),
        *(acl.get("PostProcessFirewallManagerRuleGroups") or []),
    ]
    for rule in rules:
        statement = rule.get("Statement") or rule.get("FirewallManagerStatement") or {}
        group = statement.get("ManagedRuleGroupStatement")
        if not isinstance(group, dict):
            continue
        # A group overridden to Count only watches: its matches block nothing.
        enforced = "Count" not in (rule.get("OverrideAction") or {})
        yield (str(group.get("VendorName")), str(group.get("Name"))), enforced


def _label(group: tuple[str, str]) -> str:
    return group[1] if group[0] == _AWS else f"{group[0]}:{group[1]}"


def _association(web_acl: Any, what: str) -> Verdict:
    if web_acl:
        return passed(f"web ACL {web_acl} is associated", web_acl=web_acl)
    return failed(f"no AWS WAF web ACL is associated with the {what}")


@check(
    id="waf.alb_internet_facing_has_web_acl",
    service="waf",
    over="elbv2:load_balancers",
    severity="medium",
    title="Internet-facing Application Load Balancers should be associated with an AWS WAF web ACL",
    resource_type="AwsElbv2LoadBalancer",
    description="An internet-facing ALB without a web ACL passes every request to its targets "
    "unfiltered: injection, known exploit paths and floods reach the application. Firewall "
    "Manager's WAF policies attach a web ACL to each one.",
    remediation="Associate a regional web ACL that runs the required managed rule groups "
    "(or bring the ALB under a Firewall Manager WAF policy).",
    remediation_cli=_ASSOCIATE_CLI.format("<alb-arn>"),
    references=[
        f"{_WAF_DOC}web-acl-associating-aws-resource.html",
        "https://docs.aws.amazon.com/waf/latest/developerguide/fms-chapter.html",
    ],
)
def alb_internet_facing_has_web_acl(lb: Res, ctx: CheckContext) -> Verdict | None:
    # Only ALBs take a web ACL, and an internal one is not reachable from the internet.
    if lb["Type"] != "application" or lb["Scheme"] != "internet-facing":
        return None
    acl = lb["WebACL"]
    return _association(acl.get("Name") if acl else None, "load balancer")


@check(
    id="waf.apigateway_stage_has_web_acl",
    service="waf",
    over="apigateway:stages",
    severity="medium",
    title="API Gateway REST API stages should be associated with an AWS WAF web ACL",
    resource_type="AwsApiGatewayStage",
    description="A public REST API stage without a web ACL is exposed to injection, scanners "
    "and request floods with only API Gateway's throttling in front. Private APIs (reachable "
    "only through VPC endpoints) are not evaluated. HTTP APIs cannot take a web ACL.",
    remediation="Associate a regional web ACL with the stage.",
    remediation_cli=_ASSOCIATE_CLI.format(
        "arn:aws:apigateway:<region>::/restapis/<api-id>/stages/<stage>"
    ),
    references=[
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-aws-waf.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/apigateway-controls.html",
    ],
)
def apigateway_stage_has_web_acl(stage: Res, ctx: CheckContext) -> Verdict | None:
    endpoint = stage.get("restApi_endpointConfiguration") or {}
    if set(endpoint.get("types") or []) == {"PRIVATE"}:
        return None
    return _association(stage.get("webAclArn"), "stage")


@check(
    id="waf.cloudfront_distribution_has_web_acl",
    service="waf",
    over="cloudfront:distributions",
    severity="medium",
    title="CloudFront distributions should be associated with an AWS WAF web ACL",
    resource_type="AwsCloudFrontDistribution",
    description="A distribution without a web ACL forwards every request it does not serve "
    "from cache to the origin; web ACLs at the edge stop attacks before they cost origin "
    "capacity.",
    remediation="Set the distribution's web ACL to a web ACL of scope CLOUDFRONT (created in "
    "us-east-1) that runs the required managed rule groups.",
    remediation_cli="aws cloudfront get-distribution-config --id <id> > dist.json; set "
    "DistributionConfig.WebACLId to the web ACL ARN; aws cloudfront update-distribution --id "
    "<id> --if-match <ETag> --distribution-config file://config.json",
    references=[
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/distribution-web-awswaf.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudfront-controls.html",
    ],
)
def cloudfront_distribution_has_web_acl(dist: Res, ctx: CheckContext) -> Verdict:
    web_acl = str(dist["WebACLId"] or "")
    if web_acl and not web_acl.startswith("arn:"):
        # A bare id is a WAF Classic web ACL: it filters, but Classic is no longer developed.
        return passed(f"WAF Classic web ACL {web_acl} is associated", web_acl=web_acl)
    return _association(web_acl, "distribution")


@check(
    id="waf.web_acl_has_required_rule_groups",
    service="waf",
    over=("wafv2:web_acls", "cloudfront:web_acls"),
    severity="medium",
    title="AWS WAF web ACLs should run the required managed rule groups",
    resource_type="AwsWafv2WebAcl",
    description="The required managed rule groups (by default AWSManagedRulesCommonRuleSet "
    "and AWSManagedRulesKnownBadInputsRuleSet; set MAMORI_WAF_REQUIRED_RULE_GROUPS to change "
    "them) carry the baseline protection a Firewall Manager policy would enforce. A group "
    "overridden to Count detects but blocks nothing, so it does not count as running.",
    remediation="Add each missing managed rule group to the web ACL with override action None, "
    "after testing it in Count mode.",
    remediation_cli="aws wafv2 get-web-acl --name <name> --scope REGIONAL --id <id>; add the "
    "ManagedRuleGroupStatement rules; aws wafv2 update-web-acl ... --lock-token <token>",
    references=[
        f"{_WAF_DOC}aws-managed-rule-groups-baseline.html",
        f"{_WAF_DOC}waf-policies.html",
    ],
)
def web_acl_has_required_rule_groups(acl: Res, ctx: CheckContext) -> Verdict:
    required = required_rule_groups()
    running: dict[tuple[str, str], bool] = {}
    for group, enforced in _managed_groups(acl):
        running[group] = running.get(group, False) or enforced
    missing = [_label(g) for g in required if g not in running]
    counting = [_label(g) for g in required if running.get(g) is False]
    details: dict[str, Any] = {"required": [_label(g) for g in required]}
    if missing or counting:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"{', '.join(counting)} only in Count mode"] if counting else []
        return failed("; ".join(parts), missing=missing, count_only=counting, **details)
    return passed("runs every required managed rule group", **details)


@check(
    id="waf.web_acl_logging_enabled",
    service="waf",
    over=("wafv2:web_acls", "cloudfront:web_acls"),
    severity="low",
    title="AWS WAF web ACL logging should be enabled",
    resource_type="AwsWafv2WebAcl",
    description="Without logging, the requests a web ACL allowed, blocked or counted are lost: "
    "no investigation of an attack, no tuning of false positives, no evidence for an audit.",
    remediation="Send the web ACL's logs to CloudWatch Logs, S3 or Firehose (the destination's "
    "name must start with aws-waf-logs-), redacting authorization headers and cookies.",
    remediation_cli="aws wafv2 put-logging-configuration --logging-configuration "
    "ResourceArn=<web-acl-arn>,LogDestinationConfigs=<aws-waf-logs-destination-arn>",
    references=[
        f"{_WAF_DOC}logging.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/waf-controls.html",
    ],
)
def web_acl_logging_enabled(acl: Res, ctx: CheckContext) -> Verdict:
    config = acl["LoggingConfiguration"]
    if not config:
        return failed("logging is not configured")
    destinations = list(config.get("LogDestinationConfigs") or [])
    return passed(f"logs to {', '.join(destinations)}", destinations=destinations)
