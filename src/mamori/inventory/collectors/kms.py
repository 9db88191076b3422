"""KMS: keys with their metadata, key policy and rotation status; aliases."""

from __future__ import annotations

from typing import Any

from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

# Key states in which AWS answers GetKeyRotationStatus; in the others (pending deletion or
# import, unavailable custom key store) the call fails and would only record noise.
_ROTATION_STATES = ("Enabled", "Disabled")


@collector(
    "kms",
    scope="regional",
    calls=[
        "kms.list_keys",
        "kms.describe_key",
        "kms.get_key_rotation_status",
        "kms.get_key_policy",
        "kms.list_aliases",
    ],
)
def collect_kms(ctx: CollectContext) -> None:
    aliases = ctx.paginate("kms", "list_aliases", "Aliases")
    if not is_unavailable(aliases):
        aliases = [
            {**a, "_arn": a["AliasArn"], "_name": a.get("AliasName")}
            for a in aliases
            if a.get("AliasArn")
        ]
    ctx.put("aliases", aliases)

    listing = ctx.paginate("kms", "list_keys", "Keys")
    if is_unavailable(listing):
        ctx.put("keys", listing)
        return
    names = _alias_names(aliases)
    ctx.put("keys", ctx.map(lambda k: _key(ctx, k["KeyId"], k.get("KeyArn"), names), listing))


def _alias_names(aliases: Any) -> dict[str, str]:
    """KeyId -> its first alias name, for readable findings (aliases may be unavailable)."""
    out: dict[str, str] = {}
    if is_unavailable(aliases):
        return out
    for alias in sorted(aliases, key=lambda a: str(a.get("AliasName", ""))):
        target = alias.get("TargetKeyId")
        if target and target not in out:
            out[target] = str(alias.get("AliasName"))
    return out


def _rotation_applies(meta: dict[str, Any]) -> bool:
    """AWS rotates key material automatically only for customer-managed symmetric
    encryption keys whose material KMS generated (not imported, not in a custom key store).
    SYMMETRIC_DEFAULT is the spec of exactly those encryption keys (HMAC keys have their own
    specs), so it also settles KeyUsage ENCRYPT_DECRYPT."""
    return (
        meta.get("KeyManager") == "CUSTOMER"
        and meta.get("KeySpec", meta.get("CustomerMasterKeySpec")) == "SYMMETRIC_DEFAULT"
        and meta.get("Origin", "AWS_KMS") == "AWS_KMS"
    )


def _key(
    ctx: CollectContext, key_id: str, key_arn: str | None, names: dict[str, str]
) -> dict[str, Any]:
    arn = key_arn or ctx.arn("kms", f"key/{key_id}")
    out: dict[str, Any] = {"KeyId": key_id, "_arn": arn, "_name": names.get(key_id, key_id)}
    meta = ctx.call("kms", "describe_key", pick="KeyMetadata", KeyId=key_id)
    if is_unavailable(meta):
        # Without the metadata nothing about the key can be judged: every field is unknown.
        for field in ("KeyManager", "KeyState", "KeySpec", "KeyUsage", "Origin"):
            out[field] = meta
    else:
        out.update(meta)
        out["_arn"] = meta.get("Arn") or arn
    out["Policy"] = ctx.call(
        "kms", "get_key_policy", pick="Policy", KeyId=key_id, PolicyName="default"
    )
    out["Rotation"] = _rotation(ctx, key_id, meta)
    return out


def _rotation(ctx: CollectContext, key_id: str, meta: Any) -> Any:
    """The rotation status, None where rotation does not apply, or the unavailable marker."""
    if is_unavailable(meta):
        return meta
    if not _rotation_applies(meta) or meta.get("KeyState") not in _ROTATION_STATES:
        return None
    answer = ctx.call("kms", "get_key_rotation_status", KeyId=key_id)
    if is_unavailable(answer):
        return answer
    return {k: v for k, v in answer.items() if k not in ("ResponseMetadata", "KeyId")}
