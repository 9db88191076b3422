"""Seeding the demo's workloads: RDS databases and snapshots, Lambda functions and
internet-facing load balancers with or without a web ACL."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from mamori.demo import catalogue as cat
from mamori.demo.seeding import Seed, aws_policy

_HANDLER = "def handler(event, context):\n    return {'statusCode': 200}\n"


# -- RDS and Lambda ------------------------------------------------------------------------------


def seed_databases(s: Seed) -> None:
    for db in cat.DATABASES:
        rds, hard = s.c("rds", db.account, db.where), db.hardened
        extra: dict[str, Any] = {"KmsKeyId": s.keys[db.key]} if db.key else {}
        if db.group:
            extra["VpcSecurityGroupIds"] = [s.ids[db.group]]
        arn = rds.create_db_instance(
            DBInstanceIdentifier=db.name,
            Engine=db.engine,
            DBInstanceClass="db.t3.medium",
            AllocatedStorage=100,
            MasterUsername="acme_admin",
            MasterUserPassword="demo-only-secret-42",
            StorageEncrypted=hard,
            PubliclyAccessible=not hard,
            BackupRetentionPeriod=14 if hard else 0,
            DeletionProtection=hard,
            AutoMinorVersionUpgrade=hard,
            MultiAZ=hard,
            Tags=[{"Key": "owner", "Value": "acme"}],
            **extra,
        )["DBInstance"]["DBInstanceArn"]
        snapshot_id = f"{db.name}-manual-export"
        snapshot = rds.create_db_snapshot(
            DBInstanceIdentifier=db.name, DBSnapshotIdentifier=snapshot_id
        )["DBSnapshot"]["DBSnapshotArn"]
        if not hard:
            rds.modify_db_snapshot_attribute(
                DBSnapshotIdentifier=snapshot_id, AttributeName="restore", ValuesToAdd=["all"]
            )
        s.record(db.plant, db.account, arn, db.where)
        s.record(db.snapshot_plant, db.account, snapshot, db.where)


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", _HANDLER)
    return buffer.getvalue()


def seed_functions(s: Seed) -> None:
    code = _package()
    for f in cat.FUNCTIONS:
        iam, lam = s.c("iam", f.account), s.c("lambda", f.account)
        role = iam.create_role(
            RoleName=f"{f.name}-lambda", AssumeRolePolicyDocument=cat.service_trust("lambda")
        )["Role"]["Arn"]
        iam.attach_role_policy(
            RoleName=f"{f.name}-lambda",
            PolicyArn=aws_policy("service-role/AWSLambdaBasicExecutionRole"),
        )
        arn = lam.create_function(
            FunctionName=f.name,
            Runtime=f.runtime,
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code},
            Tags={"owner": "acme"},
        )["FunctionArn"]
        if f.url_auth:
            lam.create_function_url_config(FunctionName=f.name, AuthType=f.url_auth)
        if f.invoker:
            through_url = {"Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": f.url_auth}
            lam.add_permission(
                FunctionName=f.name,
                StatementId="invoke",
                Principal=f.invoker,
                **(through_url if f.url_auth else {"Action": "lambda:InvokeFunction"}),
            )
        s.record(f.plant, f.account, arn, "home")


def _managed_rule(name: str, priority: int) -> dict[str, Any]:
    return {
        "Name": name,
        "Priority": priority,
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
        "OverrideAction": {"None": {}},
        "VisibilityConfig": _waf_metrics(name),
    }


def _waf_metrics(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def seed_load_balancers(s: Seed) -> None:
    for lb in cat.LOAD_BALANCERS:
        ec2, elb = s.c("ec2", lb.account), s.c("elbv2", lb.account)
        default = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
        arn = elb.create_load_balancer(
            Name=lb.name,
            Subnets=[sub["SubnetId"] for sub in default["Subnets"][:2]],
            Scheme="internet-facing",
            Type="application",
            Tags=[{"Key": "owner", "Value": "acme"}],
        )["LoadBalancers"][0]["LoadBalancerArn"]
        if lb.web_acl:
            waf = s.c("wafv2", lb.account)
            acl = waf.create_web_acl(
                Name=lb.web_acl,
                Scope="REGIONAL",
                DefaultAction={"Allow": {}},
                VisibilityConfig=_waf_metrics(lb.web_acl),
                Rules=[
                    _managed_rule("AWSManagedRulesCommonRuleSet", 0),
                    _managed_rule("AWSManagedRulesKnownBadInputsRuleSet", 1),
                ],
            )["Summary"]["ARN"]
            waf.associate_web_acl(WebACLArn=acl, ResourceArn=arn)
        s.record(lb.plant, lb.account, arn, "home")
