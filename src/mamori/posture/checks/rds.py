"""RDS checks over DB instances and manual DB snapshots."""

from __future__ import annotations

from mamori.inventory.snapshot import Res
from mamori.posture.registry import CheckContext, Verdict, check, verdict

_RDS_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
_MIN_BACKUP_DAYS = 7


def _flag(instance: Res, key: str, want: bool, good: str, bad: str) -> Verdict:
    """One boolean setting of the instance compared with the safe value."""
    value = instance[key]
    return verdict(value is want, good, bad, **{key: value})


def _cluster_member(instance: Res) -> bool:
    # Aurora, Neptune and DocumentDB instances take backups, deletion protection and
    # Multi-AZ from their DB cluster; the instance's own fields do not say.
    return bool(instance.get("DBClusterIdentifier"))


@check(
    id="rds.instance_storage_encrypted",
    service="rds",
    over="instances",
    severity="medium",
    title="RDS DB instances should have encryption at rest enabled",
    resource_type="AwsRdsDbInstance",
    description=(
        "Encryption at rest protects the instance's storage, automated backups, read "
        "replicas and snapshots (CIS AWS Foundations 2.3.1)."
    ),
    remediation=(
        "Encryption cannot be turned on for an existing instance: copy a snapshot with "
        "encryption enabled, restore it to a new instance and switch over."
    ),
    remediation_cli=(
        "aws rds copy-db-snapshot --source-db-snapshot-identifier <snapshot> "
        "--target-db-snapshot-identifier <snapshot>-encrypted --kms-key-id <key>"
    ),
    references=[_RDS_DOC + "Overview.Encryption.html"],
)
def instance_storage_encrypted(instance: Res, ctx: CheckContext) -> Verdict:
    return _flag(
        instance, "StorageEncrypted", True, "storage is encrypted", "storage is not encrypted"
    )


@check(
    id="rds.instance_auto_minor_upgrade",
    service="rds",
    over="instances",
    severity="low",
    title="RDS DB instances should have automatic minor version upgrade enabled",
    resource_type="AwsRdsDbInstance",
    description=(
        "Minor engine versions carry security fixes; automatic upgrades apply them in "
        "the maintenance window (CIS AWS Foundations 2.3.2)."
    ),
    remediation="Enable auto minor version upgrade on the instance.",
    remediation_cli=(
        "aws rds modify-db-instance --db-instance-identifier <instance> "
        "--auto-minor-version-upgrade --apply-immediately"
    ),
    references=[_RDS_DOC + "USER_UpgradeDBInstance.Maintenance.html"],
)
def instance_auto_minor_upgrade(instance: Res, ctx: CheckContext) -> Verdict:
    return _flag(
        instance,
        "AutoMinorVersionUpgrade",
        True,
        "automatic minor version upgrade is on",
        "automatic minor version upgrade is off",
    )


@check(
    id="rds.instance_not_public",
    service="rds",
    over="instances",
    severity="critical",
    title="RDS DB instances should not be publicly accessible",
    resource_type="AwsRdsDbInstance",
    description=(
        "A publicly accessible instance gets a DNS name that resolves to a public IP "
        "address, so only security groups stand between the database and the "
        "internet (CIS AWS Foundations 2.3.3)."
    ),
    remediation="Turn off public accessibility and reach the database from inside the VPC.",
    remediation_cli=(
        "aws rds modify-db-instance --db-instance-identifier <instance> "
        "--no-publicly-accessible --apply-immediately"
    ),
    references=[_RDS_DOC + "USER_VPC.WorkingWithRDSInstanceinaVPC.html"],
)
def instance_not_public(instance: Res, ctx: CheckContext) -> Verdict:
    return _flag(
        instance,
        "PubliclyAccessible",
        False,
        "not publicly accessible",
        "instance is publicly accessible",
    )


@check(
    id="rds.instance_deletion_protection",
    service="rds",
    over="instances",
    severity="low",
    title="RDS DB instances should have deletion protection enabled",
    resource_type="AwsRdsDbInstance",
    description=(
        "Deletion protection stops the instance being deleted, by mistake or by an "
        "attacker, until the setting is turned off."
    ),
    remediation="Enable deletion protection on the instance.",
    remediation_cli=(
        "aws rds modify-db-instance --db-instance-identifier <instance> "
        "--deletion-protection --apply-immediately"
    ),
    references=[_RDS_DOC + "USER_DeleteInstance.html"],
)
def instance_deletion_protection(instance: Res, ctx: CheckContext) -> Verdict | None:
    if _cluster_member(instance):
        return None
    return _flag(
        instance,
        "DeletionProtection",
        True,
        "deletion protection is on",
        "deletion protection is off",
    )


@check(
    id="rds.instance_multi_az",
    service="rds",
    over="instances",
    severity="low",
    title="RDS DB instances should be configured for multiple Availability Zones",
    resource_type="AwsRdsDbInstance",
    description=(
        "A Multi-AZ deployment keeps a standby in another Availability Zone and fails "
        "over to it, so one zone's outage does not take the database down."
    ),
    remediation="Convert the instance to a Multi-AZ deployment.",
    remediation_cli=(
        "aws rds modify-db-instance --db-instance-identifier <instance> "
        "--multi-az --apply-immediately"
    ),
    references=[_RDS_DOC + "Concepts.MultiAZ.html"],
)
def instance_multi_az(instance: Res, ctx: CheckContext) -> Verdict | None:
    if _cluster_member(instance):
        return None
    return _flag(
        instance, "MultiAZ", True, "Multi-AZ deployment", "single Availability Zone deployment"
    )


@check(
    id="rds.instance_backup_enabled",
    service="rds",
    over="instances",
    severity="medium",
    title="RDS DB instances should keep automated backups for at least 7 days",
    resource_type="AwsRdsDbInstance",
    description=(
        "Automated backups allow point-in-time recovery after data loss, corruption "
        "or ransomware; a retention of less than a week often ends before the damage "
        "is noticed."
    ),
    remediation="Set the backup retention period to 7 days or more.",
    remediation_cli=(
        "aws rds modify-db-instance --db-instance-identifier <instance> "
        "--backup-retention-period 7 --apply-immediately"
    ),
    references=[_RDS_DOC + "USER_WorkingWithAutomatedBackups.html"],
)
def instance_backup_enabled(instance: Res, ctx: CheckContext) -> Verdict | None:
    # Read replicas are recovered from their source, whose backups are judged there.
    if (
        _cluster_member(instance)
        or instance.get("ReadReplicaSourceDBInstanceIdentifier")
        or instance.get("ReadReplicaSourceDBClusterIdentifier")
    ):
        return None
    days = int(instance["BackupRetentionPeriod"])
    bad = "automated backups are off" if days == 0 else f"backups are kept only {days} day(s)"
    return verdict(
        days >= _MIN_BACKUP_DAYS, f"backups are kept {days} days", bad, backup_retention_days=days
    )


@check(
    id="rds.snapshot_not_public",
    service="rds",
    over="snapshots",
    severity="critical",
    title="RDS snapshots should not be public",
    resource_type="AwsRdsDbSnapshot",
    description=(
        'A snapshot whose restore attribute includes "all" can be copied and '
        "restored by every AWS account, with all the data it holds."
    ),
    remediation=(
        'Remove "all" from the snapshot\'s restore attribute; share it with named accounts instead.'
    ),
    remediation_cli=(
        "aws rds modify-db-snapshot-attribute --db-snapshot-identifier <snapshot> "
        "--attribute-name restore --values-to-remove all"
    ),
    references=[_RDS_DOC + "USER_ShareSnapshot.html"],
)
def snapshot_not_public(snapshot: Res, ctx: CheckContext) -> Verdict:
    restore = [
        str(v)
        for attr in snapshot["Attributes"]
        if attr.get("AttributeName") == "restore"
        for v in attr.get("AttributeValues") or []
    ]
    shared = sorted(v for v in restore if v != "all")
    return verdict(
        "all" not in restore,
        f"shared with {len(shared)} named account(s)" if shared else "not shared",
        "snapshot can be restored by any AWS account",
        shared_with=shared,
    )
