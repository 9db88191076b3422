"""S3: buckets with their access controls, encryption, versioning and logging; the
account-level public access block."""

from __future__ import annotations

from typing import Any

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

_NO_POLICY = ("NoSuchBucketPolicy",)
_NO_PAB = ("NoSuchPublicAccessBlockConfiguration",)


@collector(
    "s3",
    scope="global",
    calls=[
        "s3.list_buckets",
        "s3.get_bucket_location",
        "s3.get_bucket_policy",
        "s3.get_bucket_acl",
        "s3.get_public_access_block",
        "s3.get_bucket_encryption",
        "s3.get_bucket_versioning",
        "s3.get_bucket_logging",
        "s3.get_bucket_tagging",
        "s3control.get_public_access_block",
    ],
)
def collect_s3(ctx: CollectContext) -> None:
    ctx.put(
        "account_public_access_block",
        ctx.call(
            "s3control",
            "get_public_access_block",
            absent=_NO_PAB,
            pick="PublicAccessBlockConfiguration",
            AccountId=ctx.account_id,
        ),
    )

    listing = ctx.call("s3", "list_buckets")
    if is_unavailable(listing):
        ctx.put("buckets", listing)
        return
    ctx.put("buckets", ctx.map(lambda b: _bucket(ctx, b), listing.get("Buckets", [])))


def _bucket(ctx: CollectContext, summary: dict[str, Any]) -> dict[str, Any]:
    name = summary["Name"]
    out: dict[str, Any] = {
        "Name": name,
        "CreationDate": summary.get("CreationDate"),
        "_arn": f"arn:{ctx.partition}:s3:::{name}",
        "_name": name,
    }
    loc = ctx.call("s3", "get_bucket_location", Bucket=name)
    if not is_unavailable(loc):
        # us-east-1 answers with an empty LocationConstraint; "EU" is eu-west-1's old alias.
        raw = (loc or {}).get("LocationConstraint") or "us-east-1"
        out["_region"] = {"EU": "eu-west-1"}.get(raw, raw)

    out["Policy"] = ctx.call(
        "s3", "get_bucket_policy", absent=_NO_POLICY, pick="Policy", Bucket=name
    )
    acl = ctx.call("s3", "get_bucket_acl", Bucket=name)
    out["Acl"] = (
        acl if is_unavailable(acl) else {"Owner": acl.get("Owner"), "Grants": acl.get("Grants", [])}
    )
    out["PublicAccessBlock"] = ctx.call(
        "s3",
        "get_public_access_block",
        absent=_NO_PAB,
        pick="PublicAccessBlockConfiguration",
        Bucket=name,
    )
    out["Encryption"] = ctx.call(
        "s3",
        "get_bucket_encryption",
        absent=("ServerSideEncryptionConfigurationNotFoundError",),
        pick="ServerSideEncryptionConfiguration",
        Bucket=name,
    )
    ver = ctx.call("s3", "get_bucket_versioning", Bucket=name)
    out["Versioning"] = (
        ver
        if is_unavailable(ver)
        else {
            "Status": ver.get("Status", "Disabled"),
            "MFADelete": ver.get("MFADelete", "Disabled"),
        }
    )
    # A bucket without logging answers with no LoggingEnabled key: that reads as None.
    out["Logging"] = ctx.call("s3", "get_bucket_logging", pick="LoggingEnabled", Bucket=name)
    tags = ctx.call("s3", "get_bucket_tagging", absent=("NoSuchTagSet",), Bucket=name)
    if isinstance(tags, dict) and not is_unavailable(tags):
        out["_tags"] = {t["Key"]: t["Value"] for t in tags.get("TagSet", [])}
    return out
