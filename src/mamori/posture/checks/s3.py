"""S3 checks."""

from __future__ import annotations

from mamori.inventory.snapshot import Res
from mamori.posture.policy import denies_insecure_transport, public_statements
from mamori.posture.registry import ACCOUNT, CheckContext, Verdict, check, failed, passed, verdict

_PAB_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_S3_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"


def _pab_all_on(config: object) -> bool:
    return isinstance(config, dict) and all(config.get(k) is True for k in _PAB_KEYS)


@check(
    id="s3.account_public_access_block",
    service="s3",
    over=ACCOUNT,
    severity="high",
    title="S3 Block Public Access should be enabled at the account level",
    resource_type="AwsAccount",
    description="The account-level S3 Block Public Access settings override any bucket policy "
    "or ACL that would make data public.",
    remediation="Turn on all four Block Public Access settings for the account.",
    remediation_cli="aws s3control put-public-access-block --account-id <account> "
    "--public-access-block-configuration BlockPublicAcls=true,"
    "IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
    references=[_S3_DOC + "access-control-block-public-access.html"],
)
def account_public_access_block(ctx: CheckContext) -> Verdict:
    config = ctx.data("s3", "account_public_access_block")
    return verdict(
        _pab_all_on(config),
        "all four account-level settings are on",
        "account-level Block Public Access is off or incomplete",
        settings=config,
    )


@check(
    id="s3.bucket_public_access_block",
    service="s3",
    over="buckets",
    severity="high",
    title="S3 buckets should have Block Public Access enabled",
    resource_type="AwsS3Bucket",
    description="Bucket-level Block Public Access prevents public ACLs and policies on the "
    "bucket; the account-level setting also satisfies it.",
    remediation="Turn on all four Block Public Access settings for the bucket (or the account).",
    remediation_cli="aws s3api put-public-access-block --bucket <bucket> "
    "--public-access-block-configuration BlockPublicAcls=true,"
    "IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
    references=[_S3_DOC + "configuring-block-public-access-bucket.html"],
)
def bucket_public_access_block(bucket: Res, ctx: CheckContext) -> Verdict:
    if _pab_all_on(ctx.data("s3", "account_public_access_block")):
        return passed("blocked by the account-level settings")
    config = bucket["PublicAccessBlock"]
    return verdict(
        _pab_all_on(config),
        "all four bucket-level settings are on",
        "bucket-level Block Public Access is off or incomplete",
        settings=config,
    )


@check(
    id="s3.bucket_policy_not_public",
    service="s3",
    over="buckets",
    severity="critical",
    title="S3 bucket policies should not allow public access",
    resource_type="AwsS3Bucket",
    description="A bucket policy that allows any principal without a restricting condition "
    "exposes the bucket's data to the internet.",
    remediation='Remove or restrict the statements that allow Principal "*".',
    references=[_S3_DOC + "access-policy-language-overview.html"],
)
def bucket_policy_not_public(bucket: Res, ctx: CheckContext) -> Verdict:
    policy = bucket["Policy"]
    if policy is None:
        return passed("no bucket policy")
    sids = public_statements(policy, f"bucket policy of {bucket.name}")
    if not sids:
        return passed("no statement allows anonymous access")
    if _pab_all_on(ctx.data("s3", "account_public_access_block")) or _pab_all_on(
        bucket["PublicAccessBlock"]
    ):
        return passed(
            "policy allows public access but Block Public Access overrides it", statements=sids
        )
    return failed(f"statement(s) {', '.join(sids)} allow anyone", statements=sids)


@check(
    id="s3.bucket_acl_not_public",
    service="s3",
    over="buckets",
    severity="critical",
    title="S3 bucket ACLs should not grant access to everyone or any AWS user",
    resource_type="AwsS3Bucket",
    description="ACL grants to AllUsers or AuthenticatedUsers make the bucket public.",
    remediation="Remove the AllUsers and AuthenticatedUsers grants, or enable Block Public "
    "Access (IgnorePublicAcls).",
    remediation_cli="aws s3api put-bucket-acl --bucket <bucket> --acl private",
    references=[_S3_DOC + "acl-overview.html"],
)
def bucket_acl_not_public(bucket: Res, ctx: CheckContext) -> Verdict:
    grants = [
        g
        for g in bucket["Acl"].get("Grants", [])
        if g.get("Grantee", {}).get("URI") in _PUBLIC_GROUPS
    ]
    if not grants:
        return passed("no public grants")
    ignore = [
        c.get("IgnorePublicAcls") is True
        for c in (ctx.data("s3", "account_public_access_block"), bucket["PublicAccessBlock"])
        if isinstance(c, dict)
    ]
    if any(ignore):
        return passed("public grants are ignored by Block Public Access")
    perms = sorted({g.get("Permission", "?") for g in grants})
    return failed(f"ACL grants {', '.join(perms)} to a public group", permissions=perms)


@check(
    id="s3.bucket_ssl_requests_only",
    service="s3",
    over="buckets",
    severity="medium",
    title="S3 bucket policies should deny requests that do not use SSL",
    resource_type="AwsS3Bucket",
    description="Without a Deny on aws:SecureTransport=false, clients may read and write the "
    "bucket over plain HTTP.",
    remediation="Add a Deny statement for all principals with Condition "
    "Bool aws:SecureTransport false.",
    references=[_S3_DOC + "security-best-practices.html"],
)
def bucket_ssl_requests_only(bucket: Res, ctx: CheckContext) -> Verdict:
    policy = bucket["Policy"]
    ok = policy is not None and denies_insecure_transport(
        policy, bucket.arn, f"bucket policy of {bucket.name}"
    )
    return verdict(
        ok, "policy denies non-TLS requests", "no policy statement denies requests without TLS"
    )


@check(
    id="s3.bucket_default_encryption",
    service="s3",
    over="buckets",
    severity="medium",
    title="S3 buckets should have default server-side encryption configured",
    resource_type="AwsS3Bucket",
    description="Default encryption ensures that every object written is encrypted at rest.",
    remediation="Configure default encryption with SSE-S3 or SSE-KMS.",
    remediation_cli="aws s3api put-bucket-encryption --bucket <bucket> "
    "--server-side-encryption-configuration "
    '\'{"Rules":[{"ApplyServerSideEncryptionByDefault":'
    '{"SSEAlgorithm":"aws:kms"}}]}\'',
    references=[_S3_DOC + "default-bucket-encryption.html"],
)
def bucket_default_encryption(bucket: Res, ctx: CheckContext) -> Verdict:
    config = bucket["Encryption"] or {}
    algos = [
        r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
        for r in config.get("Rules", [])
    ]
    algos = [a for a in algos if a]
    return verdict(
        bool(algos),
        f"default encryption {', '.join(algos)}",
        "no default encryption configured",
        algorithms=algos,
    )


@check(
    id="s3.bucket_versioning_enabled",
    service="s3",
    over="buckets",
    severity="low",
    title="S3 buckets should have versioning enabled",
    resource_type="AwsS3Bucket",
    description="Versioning keeps prior versions of objects so that overwrites and deletions "
    "(accidental or ransomware) can be undone.",
    remediation="Enable versioning on the bucket.",
    remediation_cli="aws s3api put-bucket-versioning --bucket <bucket> "
    "--versioning-configuration Status=Enabled",
    references=[_S3_DOC + "Versioning.html"],
)
def bucket_versioning_enabled(bucket: Res, ctx: CheckContext) -> Verdict:
    status = bucket["Versioning"].get("Status")
    return verdict(status == "Enabled", "versioning is enabled", f"versioning is {status}")


@check(
    id="s3.bucket_mfa_delete_enabled",
    service="s3",
    over="buckets",
    severity="low",
    title="S3 buckets should have MFA Delete enabled",
    resource_type="AwsS3Bucket",
    description="MFA Delete requires a second factor to change versioning or permanently "
    "delete object versions.",
    remediation="As the root user with MFA, enable MFA Delete with put-bucket-versioning.",
    remediation_cli="aws s3api put-bucket-versioning --bucket <bucket> --versioning-configuration"
    " Status=Enabled,MFADelete=Enabled --mfa '<serial> <code>'",
    references=[_S3_DOC + "MultiFactorAuthenticationDelete.html"],
)
def bucket_mfa_delete_enabled(bucket: Res, ctx: CheckContext) -> Verdict:
    mfa = bucket["Versioning"].get("MFADelete")
    return verdict(mfa == "Enabled", "MFA Delete is enabled", "MFA Delete is not enabled")


@check(
    id="s3.bucket_access_logging",
    service="s3",
    over="buckets",
    severity="low",
    title="S3 buckets should have server access logging enabled",
    resource_type="AwsS3Bucket",
    description="Server access logs record every request made to the bucket, for audits and "
    "incident investigation.",
    remediation="Enable server access logging to a separate log bucket.",
    remediation_cli="aws s3api put-bucket-logging --bucket <bucket> --bucket-logging-status "
    '\'{"LoggingEnabled":{"TargetBucket":"<log-bucket>",'
    '"TargetPrefix":"<bucket>/"}}\'',
    references=[_S3_DOC + "ServerLogs.html"],
)
def bucket_access_logging(bucket: Res, ctx: CheckContext) -> Verdict:
    target = (bucket["Logging"] or {}).get("TargetBucket")
    return verdict(bool(target), f"access logs go to {target}", "server access logging is off")
