"""Lambda scenarios."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.posture.harness import Env, scenario

_HANDLER = "def handler(event, context):\n    return {'statusCode': 200}\n"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", _HANDLER)
    return buf.getvalue()


def _role(env: Env) -> str:
    iam = env.client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    try:
        return str(iam.get_role(RoleName="fn-role")["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(
            iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        )


def _function(env: Env, name: str, runtime: str = "python3.12") -> str:
    answer = env.client("lambda").create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=_role(env),
        Handler="index.handler",
        Code={"ZipFile": _zip()},
    )
    return str(answer["FunctionArn"])


def _allow(env: Env, name: str, sid: str, **extra: str) -> None:
    env.client("lambda").add_permission(
        FunctionName=name, StatementId=sid, Principal=extra.pop("Principal", "*"), **extra
    )


def _url_auth_as_condition(parsed: dict[str, Any], params: dict[str, Any]) -> None:
    """moto keeps AddPermission's FunctionUrlAuthType as a bare statement field; AWS turns it
    into a condition, which is the shape GetPolicy answers with."""
    if "Policy" not in parsed:  # a function without a policy answers with an error
        return
    policy = json.loads(parsed["Policy"])
    for stmt in policy["Statement"]:
        auth = stmt.pop("FunctionUrlAuthType", None)
        if auth is not None:
            stmt.setdefault("Condition", {}).setdefault("StringEquals", {})[
                "lambda:FunctionUrlAuthType"
            ] = auth
    parsed["Policy"] = json.dumps(policy)


@scenario("lambda.function_not_public")
def public_function(env: Env) -> None:
    env.amend("lambda", "GetPolicy", _url_auth_as_condition)
    # The pair of statements AWS adds for a function URL with auth type NONE: the auth-type
    # condition restricts nothing, anyone on the internet may call.
    env.fails(_function(env, "open-url"))
    _allow(
        env,
        "open-url",
        "FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        FunctionUrlAuthType="NONE",
    )
    env.fails(_function(env, "open-invoke"))
    _allow(env, "open-invoke", "AnyoneInvokes", Action="lambda:InvokeFunction")

    env.passes(_function(env, "iam-url"))
    _allow(
        env,
        "iam-url",
        "SignedCallers",
        Action="lambda:InvokeFunctionUrl",
        FunctionUrlAuthType="AWS_IAM",
    )
    env.passes(_function(env, "s3-trigger"))
    _allow(
        env,
        "s3-trigger",
        "FromMyBucket",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::my-upload-bucket",
        SourceAccount=env.account(),
    )
    env.passes(_function(env, "no-policy"))


@scenario("lambda.function_url_auth_required")
def url_auth(env: Env) -> None:
    lam = env.client("lambda")
    env.fails(_function(env, "open-url"))
    lam.create_function_url_config(FunctionName="open-url", AuthType="NONE")
    env.passes(_function(env, "iam-url"))
    lam.create_function_url_config(FunctionName="iam-url", AuthType="AWS_IAM")
    _function(env, "no-url")  # no URL: the check does not apply


@scenario("lambda.supported_runtime")
def runtimes(env: Env) -> None:
    env.passes(_function(env, "current", runtime="python3.12"))
    env.passes(_function(env, "java8-on-al2", runtime="java8.al2"))
    env.fails(_function(env, "legacy-py", runtime="python3.7"))
    env.fails(_function(env, "legacy-node", runtime="nodejs16.x"))
