"""The scanner's least-privilege IAM policy, generated from what the collectors declare."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name

from mamori.inventory.framework import Call, CollectorSpec

# IAM action prefixes that differ from the boto3 client name.
_PREFIX = {
    "s3control": "s3",
    "accessanalyzer": "access-analyzer",
    "efs": "elasticfilesystem",
    "elbv2": "elasticloadbalancing",
}
# Operations whose IAM action is not named after the API operation.
_ACTION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    # API Gateway's control-plane actions are the HTTP method on the resource path.
    ("apigateway", "GetRestApis"): "apigateway:GET",
    ("apigateway", "GetStages"): "apigateway:GET",
}


@cache
def _operations(service: str) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


def iam_action(call: Call) -> str:
    ops = _operations(call.service)
    if call.method not in ops:
        raise ValueError(f"{call.service} has no operation {call.method!r}")
    op = ops[call.method]
    if (call.service, op) in _ACTION:
        return _ACTION[(call.service, op)]
    return f"{_PREFIX.get(call.service, call.service)}:{op}"


def scanner_policy(collectors: Iterable[CollectorSpec]) -> dict[str, Any]:
    actions = sorted(
        {iam_action(c) for spec in collectors for c in spec.calls}
        | {"sts:GetCallerIdentity", "ec2:DescribeRegions"}
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "MamoriReadOnlyInventory",
                "Effect": "Allow",
                "Action": actions,
                "Resource": "*",
            }
        ],
    }


def org_fanout_policy(role_name: str) -> dict[str, Any]:
    """What the identity that starts an --org scan needs in the management account."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListOrganisationAccounts",
                "Effect": "Allow",
                "Action": ["organizations:ListAccounts"],
                "Resource": "*",
            },
            {
                "Sid": "AssumeAuditRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:aws:iam::*:role/{role_name}",
            },
        ],
    }
