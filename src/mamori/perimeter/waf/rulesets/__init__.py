"""Mamori's detection content for AWS's managed rule group names.

Importing this package registers the groups (`managed.find_managed` imports it on first use):
the rule names, labels, default actions and capacities are AWS's, as the AWS WAF developer guide
documents them; the patterns are Mamori's own. `CATALOGUE` describes every group and rule, and
docs/waf-managed.md is generated from it.
"""

from typing import Any

from mamori.perimeter.waf.rulesets import baseline, reputation, usecase
from mamori.perimeter.waf.rulesets._dsl import CATALOGUE, GroupSpec, RuleSpec

__all__ = [
    "CATALOGUE", "GroupSpec", "RuleSpec", "baseline", "reputation", "usecase", "web_acl_document",
]  # fmt: skip


def web_acl_document(
    groups: list[str] | None = None, name: str = "managed", default: str = "Allow"
) -> dict[str, Any]:
    """A WebACL (as `get-web-acl` prints it) running the named managed groups in catalogue
    order (all of them by default), each with OverrideAction None."""
    chosen = list(CATALOGUE) if groups is None else groups
    visibility: dict[str, Any] = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True}
    rules = [
        {
            "Name": group,
            "Priority": i,
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}},
            "OverrideAction": {"None": {}},
            "VisibilityConfig": {**visibility, "MetricName": group},
        }
        for i, group in enumerate(chosen)
    ]
    return {
        "WebACL": {
            "Name": name,
            "Id": "00000000-0000-4000-8000-000000000000",
            "ARN": f"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/{name}/"
            "00000000-0000-4000-8000-000000000000",
            "DefaultAction": {default: {}},
            "Rules": rules,
            "VisibilityConfig": {**visibility, "MetricName": name},
        }
    }
