"""Lambda checks: who may invoke a function, and whether its runtime still gets fixes."""

from __future__ import annotations

from datetime import date
from typing import Any

from mamori.core import utcnow
from mamori.inventory.snapshot import Res
from mamori.posture.policy import as_list, parse_policy, public_statements
from mamori.posture.registry import CheckContext, Verdict, check, failed, passed, verdict

_LAMBDA_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/"
_URL_AUTH_KEY = "lambda:functionurlauthtype"
# Operators under which lambda:FunctionUrlAuthType = AWS_IAM really demands a signed caller.
# The IfExists and negated forms also match calls that carry no URL auth type at all.
_EQUALS_OPS = ("StringEquals", "StringEqualsIgnoreCase", "StringLike")

# Runtime -> the day AWS deprecated it (no more security patches), from the Lambda runtimes
# page. A future day announces a planned deprecation; the check fails from that day on.
_DEPRECATED: dict[str, date] = {
    "python2.7": date(2021, 7, 15),
    "python3.6": date(2022, 7, 18),
    "python3.7": date(2023, 12, 4),
    "python3.8": date(2024, 10, 14),
    "python3.9": date(2025, 12, 15),
    "nodejs": date(2016, 10, 31),
    "nodejs4.3": date(2020, 3, 5),
    "nodejs4.3-edge": date(2019, 4, 30),
    "nodejs6.10": date(2019, 8, 12),
    "nodejs8.10": date(2020, 3, 6),
    "nodejs10.x": date(2021, 7, 30),
    "nodejs12.x": date(2023, 3, 31),
    "nodejs14.x": date(2023, 12, 4),
    "nodejs16.x": date(2024, 6, 12),
    "nodejs18.x": date(2025, 9, 1),
    "nodejs20.x": date(2026, 4, 30),
    "java8": date(2024, 1, 8),  # java8.al2 is a different, later-supported runtime
    "dotnetcore1.0": date(2019, 7, 30),
    "dotnetcore2.0": date(2019, 5, 30),
    "dotnetcore2.1": date(2022, 1, 5),
    "dotnetcore3.1": date(2023, 4, 3),
    "dotnet5.0": date(2022, 5, 10),
    "dotnet6": date(2024, 12, 20),
    "dotnet7": date(2024, 5, 14),
    "dotnet8": date(2026, 11, 10),
    "ruby2.5": date(2021, 7, 30),
    "ruby2.7": date(2023, 12, 7),
    "ruby3.2": date(2026, 3, 31),
    "go1.x": date(2023, 12, 31),
    "provided": date(2023, 12, 31),
}


def _iam_url_auth_only(op: str, value: Any) -> bool:
    values = as_list(value)
    return op in _EQUALS_OPS and bool(values) and all(str(v).upper() == "AWS_IAM" for v in values)


def _without_open_url_auth(condition: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for op, block in condition.items():
        if not isinstance(block, dict):
            out[op] = block
            continue
        kept = {
            k: v
            for k, v in block.items()
            if str(k).lower() != _URL_AUTH_KEY or _iam_url_auth_only(op, v)
        }
        if kept:
            out[op] = kept
    return out


def _as_lambda_sees_it(doc: Any, what: str) -> dict[str, Any]:
    """The policy with lambda:FunctionUrlAuthType kept as a restriction only where it
    requires AWS_IAM. The generic reader counts the key as restricting whatever its value,
    but "NONE" is exactly the statement AWS adds to open a function URL to the internet."""
    policy = parse_policy(doc, what)
    stmts = [
        {**s, "Condition": _without_open_url_auth(s["Condition"])}
        if isinstance(s, dict) and isinstance(s.get("Condition"), dict)
        else s
        for s in as_list(policy.get("Statement"))
    ]
    return {**policy, "Statement": stmts}


@check(
    id="lambda.function_not_public",
    service="lambda",
    over="functions",
    severity="critical",
    title="Lambda function policies should not allow invocation by everyone",
    resource_type="AwsLambdaFunction",
    description=(
        "A resource-based policy statement that allows any principal without a "
        "restricting condition lets anyone invoke the function (through its URL with "
        "auth type NONE, or from any AWS account), running its code with its role."
    ),
    remediation=(
        "Remove the public statement, or limit it with aws:SourceArn / "
        "aws:SourceAccount, aws:PrincipalOrgID, or a function URL that requires "
        "AWS_IAM auth."
    ),
    remediation_cli="aws lambda remove-permission --function-name <function> --statement-id <sid>",
    references=[_LAMBDA_DOC + "access-control-resource-based.html", _LAMBDA_DOC + "urls-auth.html"],
)
def function_not_public(fn: Res, ctx: CheckContext) -> Verdict:
    policy = fn["Policy"]
    if policy is None:
        return passed("no resource-based policy")
    what = f"resource policy of {fn.name}"
    sids = public_statements(_as_lambda_sees_it(policy, what), what)
    if sids:
        return failed(f"statement(s) {', '.join(sids)} allow anyone to invoke", statements=sids)
    return passed("no statement allows anonymous invocation")


@check(
    id="lambda.function_url_auth_required",
    service="lambda",
    over="functions",
    severity="high",
    title="Lambda function URLs should require IAM authentication",
    resource_type="AwsLambdaFunction",
    description=(
        "A function URL with auth type NONE is an HTTPS endpoint that anyone on the "
        "internet can call without credentials."
    ),
    remediation=(
        "Set the function URL's auth type to AWS_IAM, or put the function behind API "
        "Gateway or CloudFront with authentication."
    ),
    remediation_cli=(
        "aws lambda update-function-url-config --function-name <function> --auth-type AWS_IAM"
    ),
    references=[_LAMBDA_DOC + "urls-auth.html"],
)
def function_url_auth_required(fn: Res, ctx: CheckContext) -> Verdict | None:
    url = fn["UrlConfig"]
    if url is None:
        return None
    auth = url.get("AuthType")
    return verdict(
        auth == "AWS_IAM",
        "function URL requires IAM authentication",
        f"function URL auth type is {auth}",
        auth_type=auth,
        url=url.get("FunctionUrl"),
    )


@check(
    id="lambda.supported_runtime",
    service="lambda",
    over="functions",
    severity="medium",
    title="Lambda functions should use supported runtimes",
    resource_type="AwsLambdaFunction",
    description=(
        "AWS stops applying security patches to a runtime when it is deprecated, and "
        "later blocks updates to functions that use it."
    ),
    remediation="Move the function to a supported runtime version and redeploy it.",
    remediation_cli=(
        "aws lambda update-function-configuration --function-name <function> --runtime <runtime>"
    ),
    references=[_LAMBDA_DOC + "lambda-runtimes.html"],
)
def supported_runtime(fn: Res, ctx: CheckContext) -> Verdict | None:
    # Container images bring their own runtime, which AWS does not patch either way.
    if fn.get("PackageType") == "Image":
        return None
    runtime = fn.get("Runtime")
    if not runtime:
        return None
    deprecated_on = _DEPRECATED.get(str(runtime))
    if deprecated_on is None:
        return passed(f"runtime {runtime} is supported", runtime=runtime)
    details = {"runtime": runtime, "deprecation_date": deprecated_on.isoformat()}
    if deprecated_on <= utcnow().date():
        return failed(f"runtime {runtime} is deprecated since {deprecated_on}", **details)
    return passed(f"runtime {runtime} is supported until {deprecated_on}", **details)
