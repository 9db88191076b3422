"""External access, continued: services, KMS, Lambda, ECR, RCPs, S3 Block Public Access and
ACLs, shared snapshots and images, unreadable data, and a snapshot collected from moto."""

from __future__ import annotations

import json
from typing import Any

import boto3

from mamori.core import ComplianceStatus, SeverityLabel
from mamori.identity.external import external_access, external_findings
from mamori.identity.model import model_from_snapshot
from mamori.inventory import Snapshot, collect
from mamori.inventory.snapshot import unavailable
from tests.identity.test_external import (
    BUCKET,
    MEMBER,
    NOW,
    OBJECTS,
    ORG,
    OUTSIDER,
    OWN,
    REGION_A,
    allow,
    analyse,
    bucket,
    doc,
    grants_of,
    world,
)
from tests.inventory.collecting import ACCOUNT as MOTO_ACCOUNT
from tests.inventory.collecting import REGION, moto_account

# -- services, KMS, queues, topics ---------------------------------------------------------------


def topic(policy: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    arn = f"arn:aws:sns:{REGION_A}:{OWN}:alerts"
    return {
        ("sns", REGION_A): {
            "topics": [
                {
                    "TopicArn": arn,
                    "_arn": arn,
                    "_name": "alerts",
                    "Attributes": {"Policy": json.dumps(policy)},
                }
            ]
        }
    }


TOPIC = f"arn:aws:sns:{REGION_A}:{OWN}:alerts"


def test_service_pinned_to_the_own_account_is_internal() -> None:
    pinned = doc(
        allow(
            {"Service": "s3.amazonaws.com"},
            "sns:Publish",
            TOPIC,
            Condition={"StringEquals": {"aws:SourceAccount": OWN}},
        )
    )
    assert list(analyse(world(regional=topic(pinned)))) == []


def test_service_acting_for_any_account_is_external() -> None:
    loose = doc(allow({"Service": "s3.amazonaws.com"}, "sns:Publish", TOPIC))
    grant = grants_of(analyse(world(regional=topic(loose))), TOPIC)[
        ("external", "service:s3.amazonaws.com")
    ]
    assert grant.principal_type == "service"
    [finding] = external_findings([grant])
    assert finding.severity.label is SeverityLabel.MEDIUM


def test_source_account_names_the_account_a_service_may_act_for() -> None:
    other = doc(
        allow(
            {"Service": "s3.amazonaws.com"},
            "sns:Publish",
            TOPIC,
            Condition={
                "ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"},
                "StringEquals": {"aws:SourceAccount": OUTSIDER},
            },
        )
    )
    grants = grants_of(analyse(world(regional=topic(other))), TOPIC)
    assert set(grants) == {("external", OUTSIDER)}
    assert grants[("external", OUTSIDER)].principals == ["s3.amazonaws.com"]


def test_source_arn_of_a_scanned_bucket_of_the_own_account_is_internal() -> None:
    pinned = doc(
        allow(
            {"Service": "s3.amazonaws.com"},
            "sns:Publish",
            TOPIC,
            Condition={"ArnLike": {"aws:SourceArn": BUCKET}},
        )
    )
    snap = world(buckets=[bucket("data")], regional=topic(pinned))
    assert grants_of(analyse(snap), TOPIC) == {}
    unscanned = world(regional=topic(pinned))
    assert set(grants_of(analyse(unscanned), TOPIC)) == {("external", "service:s3.amazonaws.com")}


KEY_ARN = f"arn:aws:kms:{REGION_A}:{OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def kms_world(policy: dict[str, Any]) -> Snapshot:
    return world(
        regional={
            ("kms", REGION_A): {
                "keys": [
                    {
                        "KeyId": "1234",
                        "_arn": KEY_ARN,
                        "_name": "alias/app",
                        "Policy": json.dumps(policy),
                    }
                ]
            }
        }
    )


def test_kms_via_service_for_the_own_account_is_internal_but_another_account_is_not() -> None:
    def policy(account: str) -> dict[str, Any]:
        return doc(
            allow({"AWS": f"arn:aws:iam::{OWN}:root"}, "kms:*"),
            allow(
                {"AWS": "*"},
                ["kms:Decrypt", "kms:GenerateDataKey*"],
                Condition={
                    "StringEquals": {
                        "kms:CallerAccount": account,
                        "kms:ViaService": f"s3.{REGION_A}.amazonaws.com",
                    }
                },
            ),
        )

    assert list(analyse(kms_world(policy(OWN)))) == []
    grant = grants_of(analyse(kms_world(policy(OUTSIDER))), KEY_ARN)[("external", OUTSIDER)]
    assert grant.actions == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert grant.restricted_by == ["conditional (kms:ViaService)"]


FUNCTION = f"arn:aws:lambda:{REGION_A}:{OWN}:function:api"


def lambda_world(policy: dict[str, Any]) -> Snapshot:
    return world(
        regional={
            ("lambda", REGION_A): {
                "functions": [
                    {
                        "FunctionName": "api",
                        "FunctionArn": FUNCTION,
                        "_arn": FUNCTION,
                        "_name": "api",
                        "Policy": json.dumps(policy),
                    }
                ],
                "layers": [],
            }
        }
    )


def test_function_url_without_auth_is_public_but_an_s3_trigger_of_the_account_is_not() -> None:
    url = allow(
        "*",
        "lambda:InvokeFunctionUrl",
        FUNCTION,
        Condition={"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
    )
    trigger = allow(
        {"Service": "s3.amazonaws.com"},
        "lambda:InvokeFunction",
        FUNCTION,
        Condition={
            "StringEquals": {"AWS:SourceAccount": OWN},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"},
        },
    )
    assert set(grants_of(analyse(lambda_world(doc(url, trigger))), FUNCTION)) == {("public", "*")}
    assert grants_of(analyse(lambda_world(doc(trigger))), FUNCTION) == {}


def test_ecr_repository_and_lambda_layer_policies_are_read() -> None:
    repo = f"arn:aws:ecr:{REGION_A}:{OWN}:repository/app"
    layer = f"arn:aws:lambda:{REGION_A}:{OWN}:layer:common"
    pull = doc(
        allow(
            {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        )
    )
    use = doc(allow("*", "lambda:GetLayerVersion", f"{layer}:3"))
    snap = world(
        regional={
            ("ecr", REGION_A): {
                "repositories": [
                    {
                        "repositoryName": "app",
                        "_arn": repo,
                        "_name": "app",
                        "policyText": json.dumps(pull),
                    }
                ]
            },
            ("lambda", REGION_A): {
                "functions": [],
                "layers": [
                    {
                        "LayerName": "common",
                        "_arn": layer,
                        "_name": "common",
                        "Policy": json.dumps(use),
                    }
                ],
            },
        }
    )
    report = analyse(snap)
    assert set(grants_of(report, repo)) == {("external", OUTSIDER)}
    assert set(grants_of(report, layer)) == {("public", "*")}
    types = {f.resource.id: f.resource.type for f in external_findings(report)}
    assert types == {repo: "AwsEcrRepository", layer: "AwsLambdaLayerVersion"}


def test_a_resource_control_policy_limits_access_to_the_organisation() -> None:
    # Enabling RCPs attaches RCPFullAWSAccess to every level; the guard sits at the root.
    full = {
        "Id": "p-full",
        "Name": "RCPFullAWSAccess",
        "Arn": "arn:aws:organizations::x:policy/f",
        "Targets": [{"TargetId": t} for t in ("r-ab12", "ou-ab12-11111111", OWN, MEMBER)],
        "Content": json.dumps(
            doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
        ),
    }
    guard = {
        "Id": "p-rcp1",
        "Name": "org-only",
        "Arn": "arn:aws:organizations::x:policy/p-rcp1",
        "Targets": [{"TargetId": "r-ab12"}],
        "Content": json.dumps(
            doc(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": "*",
                    "Condition": {
                        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                    },
                },
            )
        ),
    }
    queue_arn = f"arn:aws:sqs:{REGION_A}:{MEMBER}:jobs"
    policy = doc(allow({"AWS": OUTSIDER}, "sqs:SendMessage", queue_arn))
    snap = world(rcps=[full, guard])
    member_block = {
        "queues": [
            {
                "QueueUrl": "u",
                "_arn": queue_arn,
                "_name": "jobs",
                "Attributes": {"QueueArn": queue_arn, "Policy": json.dumps(policy)},
            }
        ]
    }
    snap.put_service(MEMBER, "sqs", REGION_A, member_block)
    assert grants_of(analyse(snap), queue_arn) == {}
    for rcps in ([full], []):  # only the default RCP, or RCPs not enabled
        without = world(rcps=rcps)
        without.put_service(MEMBER, "sqs", REGION_A, member_block)
        assert set(grants_of(analyse(without), queue_arn)) == {("external", OUTSIDER)}


# -- S3 Block Public Access and ACLs -------------------------------------------------------------


def test_restrict_public_buckets_neutralises_a_public_policy() -> None:
    policy = doc(
        allow("*", "s3:GetObject", OBJECTS), allow({"AWS": OUTSIDER}, "s3:PutObject", OBJECTS)
    )
    blocked = world(buckets=[bucket("data", policy)], account_block={"RestrictPublicBuckets": True})
    assert grants_of(analyse(blocked), BUCKET) == {}
    bucket_level = world(buckets=[bucket("data", policy, block={"RestrictPublicBuckets": True})])
    assert grants_of(analyse(bucket_level), BUCKET) == {}
    open_ = world(buckets=[bucket("data", policy, block={"RestrictPublicBuckets": False})])
    assert set(grants_of(analyse(open_), BUCKET)) == {("public", "*"), ("external", OUTSIDER)}


def test_restrict_public_buckets_leaves_a_non_public_policy_alone() -> None:
    policy = doc(allow({"AWS": OUTSIDER}, "s3:GetObject", OBJECTS))
    snap = world(buckets=[bucket("data", policy)], account_block={"RestrictPublicBuckets": True})
    assert set(grants_of(analyse(snap), BUCKET)) == {("external", OUTSIDER)}


ALL_USERS = {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}


def test_public_acl_grant_and_ignore_public_acls() -> None:
    grants = [
        {"Grantee": ALL_USERS, "Permission": "READ"},
        {
            "Grantee": {"Type": "CanonicalUser", "ID": "owner-canonical-id"},
            "Permission": "FULL_CONTROL",
        },
    ]
    report = analyse(world(buckets=[bucket("data", grants=grants)]))
    grant = grants_of(report, BUCKET)[("public", "*")]
    assert grant.actions == ["ACL READ"] and grant.statements == ["bucket ACL"]
    ignored = world(buckets=[bucket("data", grants=grants, block={"IgnorePublicAcls": True})])
    assert grants_of(analyse(ignored), BUCKET) == {}


def test_unreadable_block_public_access_is_taken_as_off_and_noted() -> None:
    policy = doc(allow("*", "s3:GetObject", OBJECTS))
    snap = world(buckets=[bucket("data", policy, block=unavailable("AccessDenied", "no"))])
    grant = grants_of(analyse(snap), BUCKET)[("public", "*")]
    assert any("Block Public Access" in note for note in grant.notes)


# -- snapshots and images -----------------------------------------------------------------------


def test_shared_snapshots_images_and_db_snapshots() -> None:
    ebs = f"arn:aws:ec2:{REGION_A}:{OWN}:snapshot/snap-1"
    ebs_private = f"arn:aws:ec2:{REGION_A}:{OWN}:snapshot/snap-2"
    ami = f"arn:aws:ec2:{REGION_A}:{OWN}:image/ami-1"
    rds = f"arn:aws:rds:{REGION_A}:{OWN}:snapshot:db-1"
    snap = world(
        regional={
            ("ec2", REGION_A): {
                "snapshots": [
                    {
                        "SnapshotId": "snap-1",
                        "_arn": ebs,
                        "_name": "snap-1",
                        "CreateVolumePermissions": [{"Group": "all"}],
                    },
                    {
                        "SnapshotId": "snap-2",
                        "_arn": ebs_private,
                        "_name": "snap-2",
                        "CreateVolumePermissions": [{"UserId": MEMBER}],
                    },
                ],
                "images": [
                    {
                        "ImageId": "ami-1",
                        "_arn": ami,
                        "_name": "ami-1",
                        "Public": False,
                        "LaunchPermissions": [
                            {"UserId": OUTSIDER},
                            {"OrganizationArn": f"arn:aws:organizations::{OWN}:organization/{ORG}"},
                        ],
                    }
                ],
            },
            ("rds", REGION_A): {
                "snapshots": [
                    {
                        "_arn": rds,
                        "_name": "db-1",
                        "Attributes": [
                            {"AttributeName": "restore", "AttributeValues": ["all", OUTSIDER]}
                        ],
                    }
                ]
            },
        }
    )
    report = analyse(snap)
    assert set(grants_of(report, ebs)) == {("public", "*")}
    assert set(grants_of(report, ebs_private)) == {("organization", MEMBER)}
    assert set(grants_of(report, ami)) == {("external", OUTSIDER), ("organization", ORG)}
    assert set(grants_of(report, rds)) == {("public", "*"), ("external", OUTSIDER)}
    public_ebs = next(f for f in external_findings(report) if f.resource.id == ebs)
    assert public_ebs.severity.label is SeverityLabel.HIGH  # a read: copying the data


# -- what could not be read ----------------------------------------------------------------------


def test_malformed_and_unreadable_policies_are_not_available_never_passed() -> None:
    queue = f"arn:aws:sqs:{REGION_A}:{OWN}:q"
    snap = world(
        buckets=[
            bucket("data", "{not json"),
            bucket("locked", unavailable("AccessDenied", "s3:GetBucketPolicy denied")),
        ],
        regional={
            ("sqs", REGION_A): {
                "queues": [
                    {
                        "QueueUrl": "u",
                        "_arn": queue,
                        "_name": "q",
                        "Attributes": {"Policy": json.dumps(doc(allow("*", "SendMessage", queue)))},
                    }
                ]
            },
            ("sns", REGION_A): {"topics": unavailable("AccessDenied", "sns:ListTopics denied")},
        },
    )
    report = analyse(snap)
    assert list(report) == []
    findings = external_findings(report)
    by_resource = {f.resource.id: f for f in findings}
    assert {f.compliance.status for f in findings if f.compliance} == {
        ComplianceStatus.NOT_AVAILABLE
    }
    assert "not valid JSON" in by_resource[BUCKET].description
    assert "AccessDenied" in by_resource["arn:aws:s3:::locked"].description
    assert "'SendMessage' is not 'service:action'" in by_resource[queue].description
    assert f"arn:aws:sns:{REGION_A}:{OWN}:topics" in by_resource
    assert len({f.id for f in findings}) == len(findings)


def test_finding_ids_are_stable_across_runs() -> None:
    snap = world(
        buckets=[bucket("data", doc(allow({"AWS": [MEMBER, OUTSIDER]}, "s3:GetObject", OBJECTS)))]
    )
    first = sorted(f.id for f in external_findings(analyse(snap)))
    second = sorted(f.id for f in external_findings(analyse(snap)))
    assert first == second and len(set(first)) == 2


# -- on moto -------------------------------------------------------------------------------------


def test_collected_from_moto() -> None:
    with moto_account() as session:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="public-site")
        s3.put_bucket_policy(
            Bucket="public-site",
            Policy=json.dumps(doc(allow("*", "s3:GetObject", "arn:aws:s3:::public-site/*"))),
        )
        s3.create_bucket(Bucket="org-only")
        s3.put_bucket_policy(
            Bucket="org-only",
            Policy=json.dumps(
                doc(
                    allow(
                        "*",
                        "s3:GetObject",
                        "arn:aws:s3:::org-only/*",
                        Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}},
                    )
                )
            ),
        )
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        queue_arn = f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:jobs"
        sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={
                "Policy": json.dumps(doc(allow({"AWS": OUTSIDER}, "sqs:SendMessage", queue_arn)))
            },
        )
        snap = collect([session], [REGION], services=["iam", "s3", "sqs"], workers=1)
    report = external_access(model_from_snapshot(snap), snap, now=NOW)
    assert ("public", "*") in grants_of(report, "arn:aws:s3:::public-site")
    # Not in an organisation: the condition pins a foreign organisation.
    assert set(grants_of(report, "arn:aws:s3:::org-only")) == {("external", f"organization:{ORG}")}
    assert set(grants_of(report, queue_arn)) == {("external", OUTSIDER)}
