"""S3 buckets and KMS keys."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.demo.planted import Plant, Role, Where, bad, good


@dataclass(frozen=True)
class Bucket:
    account: Role
    name: str
    where: Where
    plant: Plant | None = None
    encryption: str | None = "AES256"  # "AES256", a KEYS alias (SSE-KMS), or None (off)
    versioned: bool = False
    logs_to: str | None = None  # target bucket of server access logs
    policy: tuple[str, ...] = ()  # kinds of statements, see bucket_statements()
    acl: str | None = None  # a canned ACL, or "log-delivery"
    block_public: bool = False


_BUCKET_GOOD = (
    "s3.bucket_public_access_block", "s3.bucket_policy_not_public", "s3.bucket_ssl_requests_only",
    "s3.bucket_default_encryption", "s3.bucket_versioning_enabled", "s3.bucket_access_logging",
)  # fmt: skip
MGMT_TRAIL_BUCKET = "acme-org-cloudtrail-logs"
DEV_TRAIL_BUCKET = "acme-dev-cloudtrail-logs"
CONFIG_BUCKET = "acme-config-history"
FLOW_LOG_BUCKET = "acme-prod-vpc-flow-logs"

BUCKETS = (
    Bucket("mgmt", "acme-mgmt-s3-access-logs", "home", acl="log-delivery", block_public=True),
    Bucket("mgmt", MGMT_TRAIL_BUCKET, "home", encryption="acme-cloudtrail", versioned=True,
           logs_to="acme-mgmt-s3-access-logs", policy=("cloudtrail", "tls"), block_public=True),
    Bucket("mgmt", CONFIG_BUCKET, "home", versioned=True, policy=("tls",), block_public=True),
    Bucket("prod", "acme-prod-s3-access-logs-eu", "away", acl="log-delivery", block_public=True),
    Bucket("prod", "acme-prod-invoices", "away",
           good("invoices: blocked, TLS-only, SSE-KMS, versioned, logged", *_BUCKET_GOOD),
           encryption="acme-invoices", versioned=True, logs_to="acme-prod-s3-access-logs-eu",
           policy=("tls",), block_public=True),
    Bucket("prod", "acme-prod-marketing-site", "home",
           bad("world-readable policy, no block, plain HTTP allowed, no access logs",
               "s3.bucket_public_access_block", "s3.bucket_policy_not_public",
               "s3.bucket_ssl_requests_only", "s3.bucket_access_logging"),
           policy=("public-read",)),
    Bucket("prod", FLOW_LOG_BUCKET, "home", versioned=True, block_public=True),
    Bucket("dev", "acme-dev-build-artifacts", "away",
           bad("public-read ACL, no default encryption, unversioned", "s3.bucket_acl_not_public",
               "s3.bucket_default_encryption", "s3.bucket_versioning_enabled"),
           encryption=None, acl="public-read"),
    Bucket("dev", "acme-dev-terraform-state", "away",
           good("private ACL, versioned", "s3.bucket_acl_not_public",
                "s3.bucket_versioning_enabled"), versioned=True, block_public=True),
    Bucket("dev", DEV_TRAIL_BUCKET, "away", policy=("cloudtrail", "public-read")),
)  # fmt: skip


@dataclass(frozen=True)
class Key:
    account: Role
    where: Where
    alias: str
    plant: Plant | None = None
    rotate: bool = True
    policy: str = "owner"  # see key_policy()
    pending_deletion: bool = False


KEYS = (
    Key("mgmt", "home", "acme-cloudtrail",
        good("rotated; policy limited to the account and CloudTrail",
             "kms.cmk_rotation_enabled", "kms.key_policy_not_public"), policy="cloudtrail"),
    Key("prod", "away", "acme-invoices"),
    Key("prod", "home", "payments-ledger",
        good("in use by the payments database", "kms.key_not_pending_deletion")),
    Key("prod", "home", "payments-legacy-tokenization",
        bad("automatic rotation off", "kms.cmk_rotation_enabled"), rotate=False),
    Key("prod", "home", "partner-exchange",
        bad("any AWS principal may decrypt", "kms.key_policy_not_public"), policy="public"),
    Key("dev", "away", "analytics-old",
        bad("scheduled for deletion in 7 days", "kms.key_not_pending_deletion"), rotate=False,
        pending_deletion=True),
)  # fmt: skip
