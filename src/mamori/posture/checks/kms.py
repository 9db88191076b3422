"""KMS checks. They judge customer-managed keys only: AWS-managed keys' policies, rotation
and lifecycle belong to AWS and no finding on them could be acted on."""

from __future__ import annotations

from mamori.inventory.snapshot import Res
from mamori.posture.policy import public_statements
from mamori.posture.registry import CheckContext, Verdict, check, failed, passed, verdict

_KMS_DOC = "https://docs.aws.amazon.com/kms/latest/developerguide/"
# PendingReplicaDeletion: a multi-Region primary key scheduled for deletion, waiting for
# its replicas to go first.
_DELETING = ("PendingDeletion", "PendingReplicaDeletion")


def _customer_managed(key: Res) -> bool:
    return key["KeyManager"] == "CUSTOMER"


@check(
    id="kms.cmk_rotation_enabled",
    service="kms",
    over="keys",
    severity="medium",
    title="KMS customer managed symmetric keys should have automatic rotation enabled",
    resource_type="AwsKmsKey",
    description=(
        "Automatic rotation replaces the key material on a schedule, limiting how "
        "much data one key version protects and how long a leaked version is useful "
        "(CIS AWS Foundations 3.6)."
    ),
    remediation="Enable automatic key rotation on the key.",
    remediation_cli="aws kms enable-key-rotation --key-id <key-id>",
    references=[_KMS_DOC + "rotate-keys.html"],
)
def cmk_rotation_enabled(key: Res, ctx: CheckContext) -> Verdict | None:
    if not _customer_managed(key) or key["KeyState"] != "Enabled":
        return None
    rotation = key["Rotation"]
    if rotation is None:
        # The collector stores None where AWS cannot rotate automatically: asymmetric and
        # HMAC keys, imported key material, custom key stores.
        return None
    period = rotation.get("RotationPeriodInDays")
    return verdict(
        rotation.get("KeyRotationEnabled") is True,
        f"automatic rotation is on (every {period or 365} days)",
        "automatic key rotation is off",
        rotation_period_days=period,
    )


@check(
    id="kms.key_policy_not_public",
    service="kms",
    over="keys",
    severity="critical",
    title="KMS key policies should not allow access to everyone",
    resource_type="AwsKmsKey",
    description=(
        "A key policy statement that allows any principal without a restricting "
        "condition lets anyone use or manage the key, and so read the data it "
        "protects."
    ),
    remediation=(
        'Replace Principal "*" with the accounts or roles that need the key, or '
        "add a condition such as kms:CallerAccount or aws:PrincipalOrgID."
    ),
    references=[_KMS_DOC + "key-policies.html"],
)
def key_policy_not_public(key: Res, ctx: CheckContext) -> Verdict | None:
    if not _customer_managed(key):
        return None
    sids = public_statements(key["Policy"], f"key policy of {key.name}")
    if sids:
        return failed(f"statement(s) {', '.join(sids)} allow anyone", statements=sids)
    return passed("no statement allows anonymous access")


@check(
    id="kms.key_not_pending_deletion",
    service="kms",
    over="keys",
    severity="medium",
    title="KMS customer managed keys should not be scheduled for deletion",
    resource_type="AwsKmsKey",
    description=(
        "Once the waiting period ends a deleted key is gone for good, and so is every "
        "piece of data encrypted under it; a scheduled deletion that nobody intended "
        "must be cancelled before then."
    ),
    remediation="If the key is still needed, cancel the deletion and re-enable the key.",
    remediation_cli=(
        "aws kms cancel-key-deletion --key-id <key-id> && aws kms enable-key --key-id <key-id>"
    ),
    references=[_KMS_DOC + "deleting-keys.html"],
)
def key_not_pending_deletion(key: Res, ctx: CheckContext) -> Verdict | None:
    if not _customer_managed(key):
        return None
    state = key["KeyState"]
    if state in _DELETING:
        when = key.get("DeletionDate")
        return failed(
            f"key is {state}" + (f" (deletion date {when})" if when else ""),
            key_state=state,
            deletion_date=when,
        )
    return passed(f"key state is {state}", key_state=state)
