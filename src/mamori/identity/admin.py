"""Who is an administrator: effective `*` on `*`, not the name AdministratorAccess.

A principal is an administrator when its identity policies hold an unconditional Allow of
every action on every resource, and the evaluator — with its permissions boundary, its
account's SCPs and every Deny — still allows a set of probe requests that an administrator can
make anywhere (rewrite IAM, pass roles, run compute, read data). A conditional Deny (for
example "no MFA, no IAM") keeps a principal from being counted: its credentials alone do not
make it an administrator.
"""

from __future__ import annotations

from collections.abc import Sequence

from mamori.identity.context import ContextValue, RequestContext
from mamori.identity.evaluate import PolicySet, Request, evaluate
from mamori.identity.policy import CompiledPolicy, compile_policy
from mamori.identity.principals import Caller

FULL_ACCESS_DOC = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
FULL_ACCESS = compile_policy(FULL_ACCESS_DOC, name="(any permissions)", kind="identity")
FULL_BOUNDARY = compile_policy(FULL_ACCESS_DOC, name="(AdministratorAccess)", kind="boundary")

ADMIN_PROBES: tuple[str, ...] = (
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:CreateAccessKey",
    "iam:PassRole",
    "iam:CreateRole",
    "sts:GetCallerIdentity",
    "ec2:RunInstances",
    "ec2:CreateSnapshot",
    "s3:GetObject",
    "s3:PutBucketPolicy",
    "lambda:CreateFunction",
    "kms:CreateKey",
    "organizations:DescribeOrganization",
    "cloudtrail:StopLogging",
)


def grants_everything(policies: Sequence[CompiledPolicy]) -> bool:
    for policy in policies:
        for st in policy.statements:
            if (
                st.allow
                and st.condition is None
                and st.resources_everything
                and _all_actions(st.raw.get("Action"))
            ):
                return True
    return False


def _all_actions(value: object) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(isinstance(a, str) and a.strip() in ("*", "*:*") for a in items)


def is_admin(
    caller: Caller,
    identity: Sequence[CompiledPolicy],
    boundary: CompiledPolicy | None,
    scps: Sequence[Sequence[CompiledPolicy]] | None,
    context: dict[str, ContextValue],
) -> bool:
    if caller.type == "Root":
        return scps is None or _probes_allowed(caller, PolicySet(scps=scps), context)
    if not grants_everything(identity):
        return False
    policies = PolicySet(identity=identity, boundary=boundary, scps=scps)
    return _probes_allowed(caller, policies, context)


def _probes_allowed(caller: Caller, policies: PolicySet, context: dict[str, ContextValue]) -> bool:
    ctx = RequestContext(context)
    for action in ADMIN_PROBES:
        if not evaluate(caller, policies, Request(action, "*", ctx)).allowed:
            return False
    return True
