"""Policy documents the demo attaches: identity, trust, bucket and key policies."""

from __future__ import annotations

import json
from typing import Any


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def trust(principal: dict[str, Any] | str, condition: dict[str, Any] | None = None) -> str:
    assume = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return document({**assume, "Condition": condition} if condition else assume)


def service_trust(service: str) -> str:
    return trust({"Service": f"{service}.amazonaws.com"})


def statement(
    sid: str,
    effect: str,
    principal: Any,
    action: str | list[str],
    resource: str | list[str],
    *,
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out = {
        "Sid": sid,
        "Effect": effect,
        "Principal": principal,
        "Action": action,
        "Resource": resource,
    }
    return {**out, "Condition": condition} if condition else out


def bucket_statements(kind: str, bucket: str, account: str) -> list[dict[str, Any]]:
    arn, trail = f"arn:aws:s3:::{bucket}", {"Service": "cloudtrail.amazonaws.com"}
    insecure = {"Bool": {"aws:SecureTransport": "false"}}
    owner_acl = {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}
    return {
        "tls": [
            statement(
                "DenyInsecureTransport", "Deny", "*", "s3:*", [arn, f"{arn}/*"], condition=insecure
            )
        ],
        "public-read": [statement("PublicRead", "Allow", "*", "s3:GetObject", f"{arn}/*")],
        "cloudtrail": [
            statement("AWSCloudTrailAclCheck", "Allow", trail, "s3:GetBucketAcl", arn),
            statement(
                "AWSCloudTrailWrite",
                "Allow",
                trail,
                "s3:PutObject",
                f"{arn}/AWSLogs/{account}/*",
                condition=owner_acl,
            ),
        ],
    }[kind]


def key_policy(kind: str, account: str) -> str | None:
    """None: KMS's default policy (the account's own principals, through IAM)."""
    if kind == "owner":
        return None
    owner = statement(
        "EnableIAMPolicies", "Allow", {"AWS": f"arn:aws:iam::{account}:root"}, "kms:*", "*"
    )
    context = {
        "StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"
        }
    }
    extra = {
        "cloudtrail": statement(
            "AllowCloudTrailToEncrypt",
            "Allow",
            {"Service": "cloudtrail.amazonaws.com"},
            "kms:GenerateDataKey*",
            "*",
            condition=context,
        ),
        "public": statement(
            "PartnerDecrypt", "Allow", {"AWS": "*"}, ["kms:Decrypt", "kms:DescribeKey"], "*"
        ),
    }[kind]
    return document(owner, extra)


INLINE_POLICIES = {
    "admin": document(allow("*")),
    "developer-tools": document(allow(["codecommit:Git*", "logs:Get*", "logs:FilterLogEvents"])),
    "athena-queries": document(allow(["athena:StartQueryExecution", "athena:GetQueryResults"])),
    "payments-table": document(
        allow(["dynamodb:GetItem", "dynamodb:PutItem"], "arn:aws:dynamodb:*:*:table/payments")
    ),
    # Identity analysis: escalation paths and the twins that block them.
    "self-attach": document(allow("iam:AttachUserPolicy", "arn:aws:iam::*:user/intern-*")),
    "self-attach-role": document(allow("iam:AttachRolePolicy", "arn:aws:iam::*:role/intern-*")),
    "lambda-deployer": document(
        allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"])
    ),
    "lambda-deployer-ec2-only": document(
        allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        },
    ),
    "admin-keys": document(allow("iam:CreateAccessKey", "arn:aws:iam::*:user/alice.admin")),
    "own-keys": document(allow("iam:CreateAccessKey", "arn:aws:iam::*:user/${aws:username}")),
}
CUSTOMER_POLICIES = {
    "acme-invoices-read": document(
        allow(
            ["s3:GetObject", "s3:ListBucket"],
            ["arn:aws:s3:::acme-prod-invoices", "arn:aws:s3:::acme-prod-invoices/*"],
        )
    ),
    "acme-legacy-admin": document(allow("*")),
    # A permissions boundary: developer tools only, nothing of IAM.
    "developer-boundary": document(allow(["codecommit:*", "logs:*", "s3:Get*", "s3:List*"])),
}
