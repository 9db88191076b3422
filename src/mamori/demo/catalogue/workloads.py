"""RDS databases and Lambda functions."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.demo.catalogue.network import PROD_VPC
from mamori.demo.planted import PARTNER_ACCOUNT, Plant, Role, Where, bad, good


@dataclass(frozen=True)
class Database:
    account: Role
    where: Where
    name: str
    engine: str
    hardened: bool  # encrypted, private, backups, deletion protection, minor upgrades, multi-AZ
    plant: Plant
    snapshot_plant: Plant  # a manual snapshot; shared with everyone unless hardened
    key: str | None = None
    group: tuple[str, str] | None = None  # (vpc, name) of a SECURITY_GROUPS entry


_DB_CHECKS = (
    "rds.instance_storage_encrypted", "rds.instance_not_public", "rds.instance_backup_enabled",
    "rds.instance_deletion_protection", "rds.instance_auto_minor_upgrade",
)  # fmt: skip
DATABASES = (
    Database("prod", "home", "payments-db", "postgres", True,
             good("encrypted, private, 14-day backups, deletion protection, minor upgrades",
                  *_DB_CHECKS),
             good("private manual snapshot", "rds.snapshot_not_public"),
             key="payments-ledger", group=(PROD_VPC, "payments-db")),
    Database("dev", "away", "analytics-dev", "mysql", False,
             bad("unencrypted, public, no backups, no deletion protection, no minor upgrades",
                 *_DB_CHECKS),
             bad("snapshot restorable by anyone", "rds.snapshot_not_public")),
)  # fmt: skip


@dataclass(frozen=True)
class Function:
    account: Role
    name: str
    runtime: str
    plant: Plant
    url_auth: str | None = None  # a function URL with this AuthType
    invoker: str | None = None  # a resource-policy principal allowed to invoke it


FUNCTIONS = (
    Function("prod", "payments-webhook", "python3.12",
             good("IAM-authenticated URL for one partner, current runtime",
                  "lambda.function_not_public", "lambda.function_url_auth_required",
                  "lambda.supported_runtime"),
             url_auth="AWS_IAM", invoker=f"arn:aws:iam::{PARTNER_ACCOUNT}:root"),
    Function("dev", "image-resizer", "python3.8",
             bad("unauthenticated function URL, deprecated python3.8",
                 "lambda.function_url_auth_required", "lambda.supported_runtime"),
             url_auth="NONE"),
    Function("dev", "report-export", "python3.12",
             bad("anyone may invoke it", "lambda.function_not_public"), invoker="*"),
)  # fmt: skip


@dataclass(frozen=True)
class LoadBalancer:
    """An internet-facing Application Load Balancer in the default VPC of the home region."""

    account: Role
    name: str
    web_acl: str | None  # the regional web ACL in front of it (managed Common + KnownBadInputs)
    plant: Plant


LOAD_BALANCERS = (
    LoadBalancer("prod", "payments-web", "payments-edge",
                 good("behind a web ACL", "waf.alb_internet_facing_has_web_acl")),
    LoadBalancer("dev", "preview-web", None,
                 bad("internet-facing, no web ACL", "waf.alb_internet_facing_has_web_acl")),
)  # fmt: skip
