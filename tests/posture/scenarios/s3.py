"""S3 scenarios."""

from __future__ import annotations

import json

from tests.posture.harness import Env, scenario

_PAB_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _bucket(env: Env, name: str, label: str = "main") -> str:
    env.client("s3", label).create_bucket(Bucket=name)
    return f"arn:aws:s3:::{name}"


@scenario("s3.account_public_access_block")
def account_pab(env: Env) -> None:
    env.client("s3control", "main").put_public_access_block(
        AccountId=env.account("main"), PublicAccessBlockConfiguration=_PAB_ON
    )
    env.passes(env.account_arn("main"))
    env.client("s3control", "other").put_public_access_block(
        AccountId=env.account("other"),
        PublicAccessBlockConfiguration={**_PAB_ON, "RestrictPublicBuckets": False},
    )
    env.fails(env.account_arn("other"), "other")


@scenario("s3.bucket_public_access_block")
def bucket_pab(env: Env) -> None:
    s3 = env.client("s3")
    env.passes(_bucket(env, "blocked-bucket"))
    s3.put_public_access_block(Bucket="blocked-bucket", PublicAccessBlockConfiguration=_PAB_ON)
    env.fails(_bucket(env, "open-bucket"))


def _public_policy(name: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{name}/*",
                }
            ],
        }
    )


@scenario("s3.bucket_policy_not_public")
def bucket_policy_public(env: Env) -> None:
    s3 = env.client("s3")
    env.fails(_bucket(env, "public-site"))
    s3.put_bucket_policy(Bucket="public-site", Policy=_public_policy("public-site"))
    env.passes(_bucket(env, "org-only"))
    s3.put_bucket_policy(
        Bucket="org-only",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::org-only/*",
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
                    }
                ],
            }
        ),
    )
    env.passes(_bucket(env, "no-policy"))


@scenario("s3.bucket_acl_not_public")
def bucket_acl_public(env: Env) -> None:
    s3 = env.client("s3")
    env.fails(_bucket(env, "acl-public"))
    s3.put_bucket_acl(Bucket="acl-public", ACL="public-read")
    env.passes(_bucket(env, "acl-private"))


@scenario("s3.bucket_ssl_requests_only")
def bucket_ssl(env: Env) -> None:
    s3 = env.client("s3")
    env.passes(_bucket(env, "tls-only"))
    s3.put_bucket_policy(
        Bucket="tls-only",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )
    env.fails(_bucket(env, "plain-http"))


@scenario("s3.bucket_default_encryption")
def bucket_encryption(env: Env) -> None:
    s3 = env.client("s3")
    env.passes(_bucket(env, "encrypted"))
    s3.put_bucket_encryption(
        Bucket="encrypted",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    env.fails(_bucket(env, "unencrypted"))
    # moto encrypts new buckets by default, as S3 does since 2023; undo it for the twin.
    s3.delete_bucket_encryption(Bucket="unencrypted")


@scenario("s3.bucket_versioning_enabled")
def bucket_versioning(env: Env) -> None:
    s3 = env.client("s3")
    env.passes(_bucket(env, "versioned"))
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    env.fails(_bucket(env, "unversioned"))


@scenario("s3.bucket_mfa_delete_enabled")
def bucket_mfa_delete(env: Env) -> None:
    s3 = env.client("s3")
    env.passes(_bucket(env, "mfa-delete"))
    s3.put_bucket_versioning(
        Bucket="mfa-delete",
        VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
        MFA="arn:aws:iam::123456789012:mfa/r 123456",
    )
    env.fails(_bucket(env, "no-mfa-delete"))
    s3.put_bucket_versioning(Bucket="no-mfa-delete", VersioningConfiguration={"Status": "Enabled"})

    # moto accepts MFADelete but does not store it; answer as S3 does for such a bucket.
    def mfa_on(parsed: dict[str, object], params: dict[str, object]) -> None:
        if params.get("Bucket") == "mfa-delete":
            parsed["MFADelete"] = "Enabled"

    env.amend("s3", "GetBucketVersioning", mfa_on)


@scenario("s3.bucket_access_logging")
def bucket_logging(env: Env) -> None:
    s3 = env.client("s3")
    _bucket(env, "log-target")
    s3.put_bucket_acl(
        Bucket="log-target",
        GrantWrite="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
        GrantReadACP="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
    )
    env.passes(_bucket(env, "logged"))
    s3.put_bucket_logging(
        Bucket="logged",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "log-target", "TargetPrefix": "logged/"}
        },
    )
    env.fails(_bucket(env, "unlogged"))
