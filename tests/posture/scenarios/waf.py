"""AWS WAF coverage scenarios: load balancers, REST API stages, distributions, web ACLs.

Also the builders the Shield scenarios reuse (an ALB, a distribution)."""

from __future__ import annotations

from typing import Any

from tests.posture.harness import Env, scenario

COMMON = "AWSManagedRulesCommonRuleSet"
BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"


def _visibility(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def managed(name: str, priority: int, *, count: bool = False) -> dict[str, Any]:
    """A rule running AWS's managed group `name` (overridden to Count when `count`)."""
    return {
        "Name": name,
        "Priority": priority,
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
        "OverrideAction": {"Count": {}} if count else {"None": {}},
        "VisibilityConfig": _visibility(name),
    }


def web_acl(
    env: Env, name: str, *rules: dict[str, Any], scope: str = "REGIONAL", label: str = "main"
) -> str:
    """A web ACL (CLOUDFRONT scope is created in us-east-1, as AWS requires); its ARN."""
    summary = env.client("wafv2", label).create_web_acl(
        Name=name,
        Scope=scope,
        DefaultAction={"Allow": {}},
        VisibilityConfig=_visibility(name),
        Rules=list(rules),
    )["Summary"]
    return str(summary["ARN"])


def alb(
    env: Env,
    name: str,
    *,
    scheme: str = "internet-facing",
    label: str = "main",
    tags: dict[str, str] | None = None,
) -> str:
    """An Application Load Balancer in the default VPC's subnets; its ARN."""
    subnets = [s["SubnetId"] for s in env.client("ec2", label).describe_subnets()["Subnets"]][:2]
    extra: dict[str, Any] = {}
    if tags:
        extra["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    made = env.client("elbv2", label).create_load_balancer(
        Name=name, Subnets=subnets, Scheme=scheme, Type="application", **extra
    )
    return str(made["LoadBalancers"][0]["LoadBalancerArn"])


def distribution(
    env: Env,
    ref: str,
    *,
    web_acl_id: str = "",
    label: str = "main",
    tags: dict[str, str] | None = None,
) -> str:
    """A CloudFront distribution in front of a custom origin; its ARN."""
    config: dict[str, Any] = {
        "CallerReference": ref,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "origin",
                    "DomainName": f"{ref}.example.com",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "origin",
            "ViewerProtocolPolicy": "https-only",
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0,
        },
        "Comment": ref,
        "Enabled": True,
        "WebACLId": web_acl_id,
    }
    cloudfront = env.client("cloudfront", label)
    if tags:
        made = cloudfront.create_distribution_with_tags(
            DistributionConfigWithTags={
                "DistributionConfig": config,
                "Tags": {"Items": [{"Key": k, "Value": v} for k, v in tags.items()]},
            }
        )
    else:
        made = cloudfront.create_distribution(DistributionConfig=config)
    return str(made["Distribution"]["ARN"])


def _stage(env: Env, name: str, endpoint: str = "REGIONAL") -> str:
    """A REST API with one deployed stage "prod"; the stage's ARN."""
    api = env.client("apigateway")
    api_id = api.create_rest_api(name=name, endpointConfiguration={"types": [endpoint]})["id"]
    root = api.get_resources(restApiId=api_id)["items"][0]["id"]
    api.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    api.create_deployment(restApiId=api_id, stageName="prod")
    return f"arn:aws:apigateway:us-east-1::/restapis/{api_id}/stages/prod"


@scenario("waf.alb_internet_facing_has_web_acl")
def alb_web_acl(env: Env) -> None:
    acl = web_acl(env, "edge", managed(COMMON, 0))
    guarded = alb(env, "guarded")
    env.client("wafv2").associate_web_acl(WebACLArn=acl, ResourceArn=guarded)
    env.passes(guarded)
    env.fails(alb(env, "open"))
    alb(env, "inside", scheme="internal")  # not internet-facing: not evaluated


@scenario("waf.apigateway_stage_has_web_acl")
def stage_web_acl(env: Env) -> None:
    acl = web_acl(env, "api", managed(COMMON, 0))
    guarded = _stage(env, "guarded")
    env.client("wafv2").associate_web_acl(WebACLArn=acl, ResourceArn=guarded)
    env.passes(guarded)
    env.fails(_stage(env, "open"))
    env.fails(_stage(env, "edge-optimised", endpoint="EDGE"))
    _stage(env, "private", endpoint="PRIVATE")  # reachable only through VPC endpoints


@scenario("waf.cloudfront_distribution_has_web_acl")
def distribution_web_acl(env: Env) -> None:
    acl = web_acl(env, "cdn", managed(COMMON, 0), scope="CLOUDFRONT")
    env.passes(distribution(env, "guarded", web_acl_id=acl))
    env.fails(distribution(env, "open"))


@scenario("waf.web_acl_has_required_rule_groups")
def required_rule_groups(env: Env) -> None:
    env.passes(web_acl(env, "full", managed(COMMON, 0), managed(BAD_INPUTS, 1)))
    env.fails(web_acl(env, "common-only", managed(COMMON, 0)))
    env.fails(web_acl(env, "empty"))
    env.passes(
        web_acl(env, "cdn-full", managed(BAD_INPUTS, 0), managed(COMMON, 1), scope="CLOUDFRONT")
    )
    # Present but overridden to Count: it blocks nothing.
    env.fails(
        web_acl(
            env,
            "cdn-counting",
            managed(COMMON, 0),
            managed(BAD_INPUTS, 1, count=True),
            scope="CLOUDFRONT",
        )
    )


@scenario("waf.web_acl_logging_enabled")
def web_acl_logging(env: Env) -> None:
    logged = web_acl(env, "logged", managed(COMMON, 0))
    env.client("wafv2").put_logging_configuration(
        LoggingConfiguration={
            "ResourceArn": logged,
            "LogDestinationConfigs": [
                f"arn:aws:logs:us-east-1:{env.account()}:log-group:aws-waf-logs-edge"
            ],
        }
    )
    env.passes(logged)
    env.fails(web_acl(env, "silent", managed(COMMON, 0)))
    env.fails(web_acl(env, "cdn-silent", managed(COMMON, 0), scope="CLOUDFRONT"))
