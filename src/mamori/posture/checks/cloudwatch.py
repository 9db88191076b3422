"""CloudWatch monitoring checks: CIS AWS Foundations v3.0.0 controls 4.1 to 4.15.

Each control asks for the same chain: a metric filter on the log group that a multi-Region,
logging CloudTrail trail feeds, whose pattern covers given events; an alarm on the filter's
metric; and an SNS topic of that alarm with a confirmed subscriber. The controls differ only in
the events, so they are one table and one function.

A filter matches the way Prowler and Security Hub judge it: after dropping whitespace and
quotes, its pattern must contain every key term of the control (event names, error codes,
the fields that define the event). Conditions that only narrow the benchmark's pattern (4.1's
exclusion of HeadBucket, eventSource filters) are not required: a broader filter still sees
every event the control is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from mamori.core import DataUnavailable, InputError, parse_arn
from mamori.inventory.snapshot import Res
from mamori.posture.checks.cloudtrail import (
    active_trails,
    describe,
    is_active,
    logs_management_events,
    settle,
    why_inactive,
)
from mamori.posture.registry import ACCOUNT, CheckContext, Verdict, check, failed, passed

_CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
_DOC = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
    "CloudWatch-Alarms-for-CloudTrail.html"
)
_FILTER_DOC = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html"
_NOISE = re.compile(r"[\s\"]+")


def _normal(pattern: str) -> str:
    return _NOISE.sub("", pattern)


@dataclass(frozen=True)
class Control:
    name: str  # the check id after "cloudwatch."
    cis: str
    subject: str  # "... for <subject>"
    pattern: str  # the filter pattern the benchmark recommends
    terms: tuple[str, ...]  # what a filter must contain to count
    severity: str = "medium"

    def missing(self, pattern: str) -> list[str]:
        text = _normal(pattern)
        # A term must end where a name ends: "CreatePolicy" is not in "CreatePolicyVersion".
        return [
            t
            for t in self.terms
            if not re.search(re.escape(_normal(t)) + r"(?![A-Za-z0-9_*])", text)
        ]


def _on_events(name: str, cis: str, subject: str, events: str, source: str = "") -> Control:
    """A control about API calls by name: the benchmark's pattern is `{ [($.eventSource = S)
    &&] (($.eventName = A) || ...) }`, and every event name is a key term."""
    terms = tuple(f"$.eventName = {e}" for e in events.split())
    calls = " || ".join(f"({t})" for t in terms)
    pattern = f"{{ ($.eventSource = {source}) && ({calls}) }}" if source else f"{{ {calls} }}"
    return Control(name, cis, subject, pattern, terms)


CONTROLS: tuple[Control, ...] = (
    Control(
        "alarm_unauthorized_api_calls",
        "4.1",
        "unauthorized API calls",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && '
        '($.sourceIPAddress != "delivered.logs.amazonaws.com") && '
        '($.eventName != "HeadBucket") }',
        ('$.errorCode = "*UnauthorizedOperation"', '$.errorCode = "AccessDenied*"'),
    ),
    Control(
        "alarm_console_login_no_mfa",
        "4.2",
        "Management Console sign-in without MFA",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
        ('$.eventName = "ConsoleLogin"', '$.additionalEventData.MFAUsed != "Yes"'),
    ),
    Control(
        "alarm_root_usage",
        "4.3",
        "usage of the root user",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
        '$.eventType != "AwsServiceEvent" }',
        (
            '$.userIdentity.type = "Root"',
            "$.userIdentity.invokedBy NOT EXISTS",
            '$.eventType != "AwsServiceEvent"',
        ),
        severity="high",
    ),
    _on_events(
        "alarm_iam_policy_changes",
        "4.4",
        "IAM policy changes",
        "DeleteGroupPolicy DeleteRolePolicy DeleteUserPolicy PutGroupPolicy PutRolePolicy "
        "PutUserPolicy CreatePolicy DeletePolicy CreatePolicyVersion DeletePolicyVersion "
        "AttachRolePolicy DetachRolePolicy AttachUserPolicy DetachUserPolicy AttachGroupPolicy "
        "DetachGroupPolicy",
    ),
    _on_events(
        "alarm_cloudtrail_changes",
        "4.5",
        "CloudTrail configuration changes",
        "CreateTrail UpdateTrail DeleteTrail StartLogging StopLogging",
    ),
    Control(
        "alarm_console_auth_failures",
        "4.6",
        "Management Console authentication failures",
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
        ("$.eventName = ConsoleLogin", '$.errorMessage = "Failed authentication"'),
    ),
    _on_events(
        "alarm_cmk_disable_or_deletion",
        "4.7",
        "disabling or scheduled deletion of customer managed keys",
        "DisableKey ScheduleKeyDeletion",
        source="kms.amazonaws.com",
    ),
    _on_events(
        "alarm_s3_bucket_policy_changes",
        "4.8",
        "S3 bucket policy changes",
        "PutBucketAcl PutBucketPolicy PutBucketCors PutBucketLifecycle PutBucketReplication "
        "DeleteBucketPolicy DeleteBucketCors DeleteBucketLifecycle DeleteBucketReplication",
        source="s3.amazonaws.com",
    ),
    _on_events(
        "alarm_config_changes",
        "4.9",
        "AWS Config configuration changes",
        "StopConfigurationRecorder DeleteDeliveryChannel PutDeliveryChannel "
        "PutConfigurationRecorder",
        source="config.amazonaws.com",
    ),
    _on_events(
        "alarm_security_group_changes",
        "4.10",
        "security group changes",
        "AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress RevokeSecurityGroupIngress "
        "RevokeSecurityGroupEgress CreateSecurityGroup DeleteSecurityGroup",
    ),
    _on_events(
        "alarm_nacl_changes",
        "4.11",
        "network ACL changes",
        "CreateNetworkAcl CreateNetworkAclEntry DeleteNetworkAcl DeleteNetworkAclEntry "
        "ReplaceNetworkAclEntry ReplaceNetworkAclAssociation",
    ),
    _on_events(
        "alarm_network_gateway_changes",
        "4.12",
        "network gateway changes",
        "CreateCustomerGateway DeleteCustomerGateway AttachInternetGateway "
        "CreateInternetGateway DeleteInternetGateway DetachInternetGateway",
    ),
    _on_events(
        "alarm_route_table_changes",
        "4.13",
        "route table changes",
        "CreateRoute CreateRouteTable ReplaceRoute ReplaceRouteTableAssociation "
        "DeleteRouteTable DeleteRoute DisassociateRouteTable",
        source="ec2.amazonaws.com",
    ),
    _on_events(
        "alarm_vpc_changes",
        "4.14",
        "VPC changes",
        "CreateVpc DeleteVpc ModifyVpcAttribute AcceptVpcPeeringConnection "
        "CreateVpcPeeringConnection DeleteVpcPeeringConnection RejectVpcPeeringConnection "
        "AttachClassicLinkVpc DetachClassicLinkVpc DisableVpcClassicLink EnableVpcClassicLink",
    ),
    _on_events(
        "alarm_organizations_changes",
        "4.15",
        "AWS Organizations changes",
        "AcceptHandshake AttachPolicy CreateAccount CreateOrganizationalUnit CreatePolicy "
        "DeclineHandshake DeleteOrganization DeleteOrganizationalUnit DeletePolicy DetachPolicy "
        "DisablePolicyType EnablePolicyType InviteAccountToOrganization LeaveOrganization "
        "MoveAccount RemoveAccountFromOrganization UpdatePolicy UpdateOrganizationalUnit",
        source="organizations.amazonaws.com",
    ),
)


# -- the chain trail -> log group -> metric filter -> alarm -> subscribed topic ---------------


def _feeds_logs(trail: Res) -> bool:
    return logs_management_events(trail) and bool(trail.get("CloudWatchLogsLogGroupArn"))


def _why_not(trail: Res) -> str:
    if not is_active(trail):
        return why_inactive(trail)
    if not logs_management_events(trail):
        return "does not record all management events"
    return "no CloudWatch Logs log group"


def _log_group(trail: Res) -> tuple[str, str]:
    """(region, name) of the trail's log group ("arn:...:log-group:<name>:*")."""
    text = str(trail["CloudWatchLogsLogGroupArn"])
    try:
        arn = parse_arn(text)
    except InputError as exc:
        raise DataUnavailable(f"trail {trail.name} log group", "Malformed", str(exc)) from None
    name = arn.resource.removeprefix("log-group:").removesuffix(":*")
    return arn.region, name


def _metrics(flt: Res) -> set[tuple[str, str]]:
    return {
        (str(t.get("metricNamespace")), str(t.get("metricName")))
        for t in flt["metricTransformations"]
    }


def _alarm_metrics(alarm: Res) -> set[tuple[str, str]]:
    found = {(str(alarm.get("Namespace")), str(alarm.get("MetricName")))}
    # Metric math alarms name their metrics in Metrics[].MetricStat.Metric instead.
    for query in alarm.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        found.add((str(metric.get("Namespace")), str(metric.get("MetricName"))))
    return found


def _has_confirmed_subscriber(ctx: CheckContext, topic_arn: str) -> bool:
    try:
        topic = parse_arn(topic_arn)
    except InputError:
        return False
    if topic.account != ctx.account_id:
        raise DataUnavailable(
            f"sns topic {topic_arn}",
            "NotInAccount",
            "the topic belongs to another account; its subscribers are unknown",
        )
    # AWS lists an unconfirmed subscription with "PendingConfirmation" instead of an ARN; CIS
    # asks for a subscription with a real ARN, i.e. one that receives notifications.
    return any(
        s.get("TopicArn") == topic_arn and str(s.get("SubscriptionArn", "")).startswith("arn:")
        for s in ctx.resources("sns", "subscriptions", region=topic.region)
    )


def _notifying(ctx: CheckContext, alarm: Res, unknown: list[str]) -> str | None:
    """The first SNS topic of the alarm that reaches a subscriber, else None (why in `unknown`
    when it could not be told)."""
    if alarm.get("ActionsEnabled") is False:
        return None
    for action in alarm.get("AlarmActions") or []:
        if ":sns:" not in str(action):
            continue
        try:
            if _has_confirmed_subscriber(ctx, str(action)):
                return str(action)
        except DataUnavailable as exc:
            unknown.append(str(exc))
    return None


def _closest(control: Control, filters: list[Res]) -> str:
    if not filters:
        return "the log group has no metric filter"
    best = min(filters, key=lambda f: len(control.missing(str(f.get("filterPattern", "")))))
    lacks = control.missing(str(best.get("filterPattern", "")))
    if len(lacks) == len(control.terms):
        return f"none of its {len(filters)} filter(s) has any of the key terms"
    more = f" and {len(lacks) - 3} more" if len(lacks) > 3 else ""
    return f"closest filter {best.name} lacks {', '.join(lacks[:3])}{more}"


def _evaluate(control: Control, ctx: CheckContext) -> Verdict:
    good, other, unknown = active_trails(ctx, _feeds_logs)
    trails = settle("cloudtrail.trails", good, unknown)
    if not trails:
        return failed(
            "no multi-region, logging trail that records all management events delivers to "
            f"CloudWatch Logs: {describe(other, _why_not)}"
        )
    groups = sorted({_log_group(t) for t in trails})
    shown = ", ".join(name for _, name in groups)
    on_groups = [
        (region, f)
        for region, name in groups
        for f in ctx.resources("logs", "metric_filters", region=region)
        if f.get("logGroupName") == name
    ]
    matching = [
        (region, f)
        for region, f in on_groups
        if not control.missing(str(f.get("filterPattern", "")))
    ]
    if not matching:
        closest = _closest(control, [f for _, f in on_groups])
        return failed(
            f"no metric filter on log group {shown} covers {control.subject} ({closest})",
            log_groups=[n for _, n in groups],
        )
    alarmed = [
        a
        for region, f in matching
        for a in ctx.resources("cloudwatch", "alarms", region=region)
        if _alarm_metrics(a) & _metrics(f)
    ]
    if not alarmed:
        metrics = sorted(f"{ns}/{name}" for _, f in matching for ns, name in _metrics(f))
        return failed(
            f"metric filter {matching[0][1].name} has no alarm on its metric {', '.join(metrics)}",
            filters=[f.name for _, f in matching],
        )
    unclear: list[str] = []
    for alarm in alarmed:
        topic = _notifying(ctx, alarm, unclear)
        if topic:
            return passed(
                f"alarm {alarm.name} on filter of log group {shown} notifies {topic}",
                alarm=alarm.arn,
                topic=topic,
            )
    if unclear:
        raise DataUnavailable("sns.subscriptions", "Incomplete", "; ".join(unclear)[:900])
    names = ", ".join(a.name for a in alarmed)
    muted = [a.name for a in alarmed if a.get("ActionsEnabled") is False]
    note = f" (actions disabled on {', '.join(muted)})" if muted else ""
    return failed(
        f"alarm(s) {names} notify no SNS topic with a confirmed subscription{note}",
        alarms=[a.arn for a in alarmed],
    )


def _register(control: Control) -> None:
    check(
        id=f"cloudwatch.{control.name}",
        service="cloudwatch",
        over=ACCOUNT,
        severity=control.severity,
        requires=["logs", "cloudtrail", "sns"],
        title=f"A log metric filter and alarm should exist for {control.subject}",
        resource_type="AwsAccount",
        description=f"An alarm on a CloudTrail metric filter for {control.subject}, notifying "
        f"a subscribed SNS topic, brings such activity to someone's attention as it "
        f"happens (CIS {control.cis}).",
        remediation="On the CloudWatch Logs log group of a multi-Region CloudTrail trail, create "
        "a metric filter with the recommended pattern, an alarm on its metric, and "
        "an SNS topic with at least one confirmed subscriber as the alarm action.",
        remediation_cli=(
            f"aws logs put-metric-filter --log-group-name <trail-log-group> "
            f"--filter-name {control.name} --metric-transformations "
            f"metricName={control.name},metricNamespace=CISBenchmark,metricValue=1 "
            f"--filter-pattern '{control.pattern}'"
        ),
        references=[_DOC, _FILTER_DOC, _CIS],
    )(partial(_evaluate, control))


for _control in CONTROLS:
    _register(_control)
