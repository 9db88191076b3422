"""KMS scenarios."""

from __future__ import annotations

import json

from tests.posture.harness import Env, scenario


def _key(env: Env, **params: object) -> str:
    return str(env.client("kms").create_key(**params)["KeyMetadata"]["Arn"])


def _id(arn: str) -> str:
    # moto's DisableKey and ScheduleKeyDeletion take the key id only, not the ARN that AWS
    # also accepts.
    return arn.rsplit("/", 1)[1]


def _policy(env: Env, grant: dict[str, object]) -> str:
    """The account-root admin statement every key policy starts with, plus `grant`."""
    admin = {
        "Sid": "EnableIamPolicies",
        "Effect": "Allow",
        "Action": "kms:*",
        "Resource": "*",
        "Principal": {"AWS": f"arn:aws:iam::{env.account()}:root"},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [admin, grant]})


@scenario("kms.cmk_rotation_enabled")
def rotation(env: Env) -> None:
    kms = env.client("kms")
    rotated = _key(env, Description="rotated")
    kms.enable_key_rotation(KeyId=rotated)
    env.passes(rotated)
    env.fails(_key(env, Description="never rotated"))
    # AWS cannot rotate asymmetric keys, and a disabled key is not in use: neither is judged.
    _key(env, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    kms.disable_key(KeyId=_id(_key(env, Description="disabled")))


@scenario("kms.key_policy_not_public")
def key_policy(env: Env) -> None:
    env.fails(
        _key(
            env,
            Policy=_policy(
                env,
                {
                    "Sid": "AnyoneDecrypts",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*",
                },
            ),
        )
    )
    # The form AWS uses for service integrations: anyone, but only via S3 in this account.
    env.passes(
        _key(
            env,
            Policy=_policy(
                env,
                {
                    "Sid": "ViaS3",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": env.account(),
                            "kms:ViaService": "s3.us-east-1.amazonaws.com",
                        }
                    },
                },
            ),
        )
    )
    env.passes(_key(env, Description="default policy"))


@scenario("kms.key_not_pending_deletion")
def pending_deletion(env: Env) -> None:
    doomed = _key(env, Description="doomed")
    env.client("kms").schedule_key_deletion(KeyId=_id(doomed), PendingWindowInDays=7)
    env.fails(doomed)
    env.passes(_key(env, Description="kept"))
