"""CloudWatch monitoring scenarios (CIS 4.1 to 4.15): one setup serves all fifteen checks."""

from __future__ import annotations

from mamori.posture.checks.cloudwatch import CONTROLS
from tests.posture.harness import Env, scenario
from tests.posture.scenarios.cloudtrail import trail

_GROUP = "cloudtrail/management"
# 4.5 as an operator might type it: other spacing, quotes, order. It must still count.
_HAND_WRITTEN = {
    "alarm_cloudtrail_changes": '{($.eventName="StopLogging")||($.eventName="DeleteTrail")||'
    '($.eventName="UpdateTrail")||($.eventName="CreateTrail")||'
    '($.eventName="StartLogging")}',
}


def _monitored_trail(env: Env, label: str, *, multi: bool = True) -> None:
    """A logging trail (multi-region unless told) that delivers to a CloudWatch Logs group."""
    env.client("logs", label).create_log_group(logGroupName=_GROUP)
    account = env.account(label)
    trail(
        env,
        "management-events",
        label,
        multi=multi,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{account}:log-group:{_GROUP}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{account}:role/cloudtrail-to-logs",
    )


def _filters_and_alarms(env: Env, label: str, *, subscribed: bool) -> None:
    sns = env.client("sns", label)
    topic = sns.create_topic(Name="security-alerts")["TopicArn"]
    if subscribed:
        queue = env.client("sqs", label).create_queue(QueueName="security-alerts")["QueueUrl"]
        queue_arn = env.client("sqs", label).get_queue_attributes(
            QueueUrl=queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    logs = env.client("logs", label)
    cloudwatch = env.client("cloudwatch", label)
    for control in CONTROLS:
        logs.put_metric_filter(
            logGroupName=_GROUP,
            filterName=control.name,
            filterPattern=_HAND_WRITTEN.get(control.name, control.pattern),
            metricTransformations=[
                {"metricName": control.name, "metricValue": "1", "metricNamespace": "CISBenchmark"}
            ],
        )
        cloudwatch.put_metric_alarm(
            AlarmName=control.name,
            MetricName=control.name,
            Namespace="CISBenchmark",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topic],
        )


def _near_misses(env: Env, label: str) -> None:
    """Filters that look right but miss a term, each with a notifying alarm."""
    logs = env.client("logs", label)
    patterns = {
        # CreatePolicyVersion is not CreatePolicy, and DetachGroupPolicy is missing.
        "iam": "{ ($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || "
        "($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || "
        "($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || "
        "($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicy) || "
        "($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || "
        "($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || "
        "($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) }",
        # Root sign-ins only, with the field negated.
        "root": '{ $.userIdentity.type != "Root" }',
    }
    for name, pattern in patterns.items():
        logs.put_metric_filter(
            logGroupName=_GROUP,
            filterName=name,
            filterPattern=pattern,
            metricTransformations=[
                {"metricName": name, "metricValue": "1", "metricNamespace": "CISBenchmark"}
            ],
        )


@scenario(*(f"cloudwatch.{c.name}" for c in CONTROLS))
def monitoring(env: Env) -> None:
    _monitored_trail(env, "main")
    _filters_and_alarms(env, "main", subscribed=True)
    env.passes(env.account_arn("main"))
    # The trail feeds the log group, but nothing watches it (save near misses).
    _monitored_trail(env, "other")
    _near_misses(env, "other")
    env.fails(env.account_arn("other"), "other")
    # Filters and alarms all in place, but the alarms' topic reaches nobody.
    _monitored_trail(env, "unsubscribed")
    _filters_and_alarms(env, "unsubscribed", subscribed=False)
    env.fails(env.account_arn("unsubscribed"), "unsubscribed")
    # Everything in place, but the trail is a single-region one.
    _monitored_trail(env, "single", multi=False)
    _filters_and_alarms(env, "single", subscribed=True)
    env.fails(env.account_arn("single"), "single")
