"""RDS scenarios: a well-configured and a default instance, each check's twin pair."""

from __future__ import annotations

from typing import Any

from tests.posture.harness import Env, scenario

_SAFE: dict[str, Any] = {
    "StorageEncrypted": True,
    "AutoMinorVersionUpgrade": True,
    "PubliclyAccessible": False,
    "DeletionProtection": True,
    "MultiAZ": True,
    "BackupRetentionPeriod": 7,
}
# What each check's failing twin changes from the safe settings.
_UNSAFE: dict[str, dict[str, Any]] = {
    "rds.instance_storage_encrypted": {"StorageEncrypted": False},
    "rds.instance_auto_minor_upgrade": {"AutoMinorVersionUpgrade": False},
    "rds.instance_not_public": {"PubliclyAccessible": True},
    "rds.instance_deletion_protection": {"DeletionProtection": False},
    "rds.instance_multi_az": {"MultiAZ": False},
    "rds.instance_backup_enabled": {"BackupRetentionPeriod": 1},
}


def _instance(env: Env, name: str, **settings: Any) -> str:
    answer = env.client("rds").create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-secret-1",
        **settings,
    )
    return str(answer["DBInstance"]["DBInstanceArn"])


def _twins(check_id: str) -> None:
    @scenario(check_id)
    def twins(env: Env) -> None:
        env.passes(_instance(env, "safe-db", **_SAFE))
        env.fails(_instance(env, "unsafe-db", **{**_SAFE, **_UNSAFE[check_id]}))


for _check_id in _UNSAFE:
    _twins(_check_id)


@scenario("rds.snapshot_not_public")
def public_snapshot(env: Env) -> None:
    rds = env.client("rds")
    _instance(env, "source-db", **_SAFE)
    arns = {}
    for name in ("public-snap", "shared-snap", "private-snap"):
        snap = rds.create_db_snapshot(DBInstanceIdentifier="source-db", DBSnapshotIdentifier=name)[
            "DBSnapshot"
        ]
        arns[name] = snap["DBSnapshotArn"]
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="public-snap", AttributeName="restore", ValuesToAdd=["all"]
    )
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="shared-snap", AttributeName="restore", ValuesToAdd=["210987654321"]
    )
    env.fails(arns["public-snap"])
    env.passes(arns["shared-snap"])
    env.passes(arns["private-snap"])
