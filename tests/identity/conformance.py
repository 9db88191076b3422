"""Evaluator conformance cases, each naming the AWS rule it encodes.

Every case is a line of the `--requests` format plus the decision AWS documents for it, so the
same table drives the library test and the CLI test.
"""

from __future__ import annotations

from typing import Any

ACCT = "111122223333"
OTHER = "444455556666"
ALICE = {"arn": f"arn:aws:iam::{ACCT}:user/alice", "type": "IAMUser", "account": ACCT}
ROLE_ARN = f"arn:aws:iam::{ACCT}:role/app/AppRole"
SESSION = {
    "arn": f"arn:aws:sts::{ACCT}:assumed-role/AppRole/s1",
    "type": "AssumedRole",
    "account": ACCT,
    "role_arn": ROLE_ARN,
}
ROOT = {"arn": f"arn:aws:iam::{ACCT}:root", "type": "Root", "account": ACCT}
BOB_OTHER = {"arn": f"arn:aws:iam::{OTHER}:user/bob", "type": "IAMUser", "account": OTHER}
SERVICE = {"arn": "lambda.amazonaws.com", "type": "Service", "account": ""}
SLR = {
    "arn": f"arn:aws:sts::{ACCT}:assumed-role/AWSServiceRoleForX/s",
    "type": "AssumedRole",
    "account": ACCT,
    "role_arn": f"arn:aws:iam::{ACCT}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX",
    "is_service_linked_role": True,
}
OBJ = "arn:aws:s3:::bucket/key"
KEY = f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def st(
    effect: str = "Allow", action: Any = "s3:GetObject", resource: Any = "*", **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect}
    if action is not None:
        out["Action"] = action
    if resource is not None:
        out["Resource"] = resource
    for key, value in extra.items():
        out[key] = value
    return out


def deny(action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return st("Deny", action, resource, **extra)


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version:
        out["Version"] = version
    return out


def res(
    principal: Any,
    effect: str = "Allow",
    action: Any = "s3:GetObject",
    resource: Any = OBJ,
    **extra: Any,
) -> dict[str, Any]:
    """A resource-policy statement."""
    return st(effect, action, resource, Principal=principal, **extra)


CASES: list[tuple[str, str, str, dict[str, Any]]] = []


def case(
    cid: str,
    rule: str,
    expected: str,
    *,
    principal: dict[str, Any] = ALICE,
    identity: tuple[dict[str, Any], ...] = (),
    boundary: dict[str, Any] | None = None,
    session: list[dict[str, Any]] | None = None,
    scps: list[list[dict[str, Any]]] | None = None,
    rcps: list[list[dict[str, Any]]] | None = None,
    resource_policy: dict[str, Any] | None = None,
    resource_account: str | None = None,
    resource_mgmt: bool = False,
    action: str = "s3:GetObject",
    resource: str = OBJ,
    context: dict[str, Any] | None = None,
) -> None:
    line = {
        "id": cid,
        "principal": principal,
        "identity_policies": list(identity),
        "permissions_boundary": boundary,
        "session_policies": session,
        "scps": scps,
        "rcps": rcps,
        "resource_policy": resource_policy,
        "resource_account": resource_account,
        "resource_in_management_account": resource_mgmt,
        "request": {"action": action, "resource": resource, "context": context or {}},
    }
    CASES.append((cid, rule, expected, line))


A, DENY, E = "Allow", "ImplicitDeny", "ExplicitDeny"

# -- identity-based policies and matching ---------------------------------------------------
case("id-none", "By default all requests are implicitly denied", DENY)
case("id-exact", "An Allow in an identity policy allows", A, identity=(doc(st()),))
case(
    "id-service-wild",
    "Action wildcard s3:* matches any S3 action",
    A,
    identity=(doc(st(action="s3:*")),),
)
case(
    "id-prefix-wild",
    "Action wildcard s3:Get* matches GetObject",
    A,
    identity=(doc(st(action="s3:Get*")),),
)
case(
    "id-prefix-miss",
    "s3:Put* does not match GetObject",
    DENY,
    identity=(doc(st(action="s3:Put*")),),
)
case(
    "id-action-case",
    "Action names are case-insensitive",
    A,
    identity=(doc(st(action="S3:getobject")),),
)
case(
    "id-request-case",
    "Action in the request is matched case-insensitively",
    A,
    identity=(doc(st()),),
    action="S3:GETOBJECT",
)
case("id-star", "Action * matches every action", A, identity=(doc(st(action="*")),))
case(
    "id-question",
    "? matches exactly one character in an action",
    A,
    identity=(doc(st(action="s3:GetObjec?")),),
)
case(
    "id-question-miss",
    "? does not match zero characters",
    DENY,
    identity=(doc(st(action="s3:GetObject?")),),
)
case(
    "id-wild-service",
    "A wildcard may span the service prefix",
    A,
    identity=(doc(st(action="s*:GetObject")),),
)
case(
    "id-other-service",
    "An action of another service does not match",
    DENY,
    identity=(doc(st(action="ec2:GetObject")),),
)
case(
    "id-action-list",
    "Any action of an Action list matches",
    A,
    identity=(doc(st(action=["ec2:RunInstances", "s3:GetObject"])),),
)
case(
    "id-notaction-allow",
    "Allow with NotAction allows every action not listed",
    A,
    identity=(doc(st(action=None, NotAction="iam:*")),),
)
case(
    "id-notaction-excluded",
    "NotAction excludes the listed actions",
    DENY,
    identity=(doc(st(action=None, NotAction="s3:*")),),
)
case("id-resource-exact", "Resource ARN matches exactly", A, identity=(doc(st(resource=OBJ)),))
case(
    "id-resource-wild",
    "Resource * within the last segment matches",
    A,
    identity=(doc(st(resource="arn:aws:s3:::bucket/*")),),
)
case(
    "id-resource-case",
    "Resource ARNs are case-sensitive",
    DENY,
    identity=(doc(st(resource="arn:aws:s3:::Bucket/key")),),
)
case(
    "id-resource-question",
    "? in a resource matches one character",
    A,
    identity=(doc(st(resource="arn:aws:s3:::bucke?/key")),),
)
case(
    "id-resource-other",
    "Another bucket does not match",
    DENY,
    identity=(doc(st(resource="arn:aws:s3:::other/*")),),
)
case(
    "id-notresource",
    "NotResource allows every resource not listed",
    A,
    identity=(doc(st(resource=None, NotResource="arn:aws:s3:::secret/*")),),
)
case(
    "id-notresource-excluded",
    "NotResource excludes the listed resources",
    DENY,
    identity=(doc(st(resource=None, NotResource="arn:aws:s3:::bucket/*")),),
)
case(
    "id-statement-object",
    "Statement may be a single object",
    A,
    identity=({"Version": "2012-10-17", "Statement": st()},),
)
case("id-deny-wins", "An explicit Deny overrides any Allow", E, identity=(doc(st(), deny()),))
case(
    "id-deny-other-policy",
    "A Deny in another attached policy overrides an Allow",
    E,
    identity=(doc(st()), doc(deny(action="s3:*"))),
)
case(
    "id-deny-notaction",
    "Deny with NotAction denies every action not listed",
    E,
    identity=(doc(st(), deny(action=None, NotAction="ec2:*")),),
)
case(
    "id-deny-notaction-listed",
    "Deny with NotAction does not deny the listed actions",
    A,
    identity=(doc(st(), deny(action=None, NotAction="s3:*")),),
)
case(
    "id-deny-other-resource",
    "A Deny on another resource does not apply",
    A,
    identity=(doc(st(), deny(resource="arn:aws:s3:::other/*")),),
)
case(
    "id-union",
    "Allows across identity policies are a union",
    A,
    identity=(doc(st(action="ec2:*")), doc(st())),
)
case(
    "id-resource-colon",
    "* at the end of a segment matches beyond colons",
    A,
    identity=(doc(st(action="logs:PutLogEvents", resource=f"arn:aws:logs:us-east-1:{ACCT}:*")),),
    action="logs:PutLogEvents",
    resource=f"arn:aws:logs:us-east-1:{ACCT}:log-group:g:log-stream:s",
)
case(
    "id-resource-star-all",
    "Resource * matches any ARN",
    A,
    identity=(doc(st(action="*", resource="*")),),
    action="iam:CreateUser",
    resource=f"arn:aws:iam::{ACCT}:user/x",
)

# -- conditions in the decision ---------------------------------------------------------------
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
case(
    "cond-mfa-ok",
    "Bool condition true when the key has that value",
    A,
    identity=(doc(st(Condition=MFA)),),
    context={"aws:MultiFactorAuthPresent": "true"},
)
case(
    "cond-mfa-missing",
    "A condition on an absent key is false",
    DENY,
    identity=(doc(st(Condition=MFA)),),
)
case(
    "cond-key-case",
    "Condition key names are case-insensitive",
    A,
    identity=(doc(st(Condition=MFA)),),
    context={"AWS:multifactorauthpresent": True},
)
case(
    "cond-ip-ok",
    "IpAddress matches an address inside the CIDR",
    A,
    identity=(doc(st(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),),
    context={"aws:SourceIp": "203.0.113.9"},
)
case(
    "cond-ip-out",
    "IpAddress does not match an address outside the CIDR",
    DENY,
    identity=(doc(st(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),),
    context={"aws:SourceIp": "198.51.100.1"},
)
case(
    "cond-deny-notip-missing",
    "A negated operator is true when the key is absent",
    E,
    identity=(doc(st(), deny(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),),
)
case(
    "cond-deny-ifexists-missing",
    "...IfExists is true when the key is absent",
    E,
    identity=(doc(st(), deny(Condition={"StringEqualsIfExists": {"s3:prefix": "x"}})),),
)
case(
    "cond-two-operators",
    "Several operators in one Condition are ANDed",
    DENY,
    identity=(doc(st(Condition={**MFA, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),),
    context={"aws:MultiFactorAuthPresent": "true", "aws:SourceIp": "192.0.2.1"},
)
case(
    "cond-values-or",
    "Several values for one key are ORed",
    A,
    identity=(
        doc(st(Condition={"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}})),
    ),
    context={"aws:RequestedRegion": "us-east-1"},
)
case(
    "cond-forall-absent",
    "ForAllValues is true when the key is absent",
    A,
    identity=(doc(st(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}})),),
)
case(
    "cond-foranyvalue-absent",
    "ForAnyValue is false when the key is absent",
    DENY,
    identity=(doc(st(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}})),),
)
case(
    "cond-null-true",
    "Null true: the key must be absent",
    A,
    identity=(doc(st(Condition={"Null": {"aws:TokenIssueTime": "true"}})),),
)
case(
    "var-username",
    "${aws:username} resolves in a Resource (Version 2012-10-17)",
    A,
    identity=(doc(st(resource="arn:aws:s3:::bucket/${aws:username}")),),
    resource="arn:aws:s3:::bucket/alice",
    context={"aws:username": "alice"},
)
case(
    "var-other-user",
    "${aws:username} does not match another user's object",
    DENY,
    identity=(doc(st(resource="arn:aws:s3:::bucket/${aws:username}")),),
    resource="arn:aws:s3:::bucket/bob",
    context={"aws:username": "alice"},
)
case(
    "var-unresolved",
    "An unresolvable variable makes the Resource not match",
    DENY,
    identity=(doc(st(resource="arn:aws:s3:::bucket/${aws:username}")),),
    resource="arn:aws:s3:::bucket/alice",
)
case(
    "var-old-version",
    "Without Version 2012-10-17 ${...} is literal text",
    DENY,
    identity=(doc(st(resource="arn:aws:s3:::bucket/${aws:username}"), version="2008-10-17"),),
    resource="arn:aws:s3:::bucket/alice",
    context={"aws:username": "alice"},
)
case(
    "var-old-version-literal",
    "Without a Version the variable is matched literally",
    A,
    identity=(doc(st(resource="arn:aws:s3:::bucket/${aws:username}"), version=None),),
    resource="arn:aws:s3:::bucket/${aws:username}",
    context={"aws:username": "alice"},
)
case(
    "var-default",
    "A variable's default applies when the key is absent",
    A,
    identity=(doc(st(resource="arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'shared'}/*")),),
    resource="arn:aws:s3:::bucket/shared/x",
)
case(
    "var-literal-star",
    "${*} is a literal * and not a wildcard",
    DENY,
    identity=(doc(st(resource="arn:aws:s3:::bucket/${*}")),),
)

# -- permissions boundaries -------------------------------------------------------------------
case(
    "pb-both",
    "Boundary and identity policy both allow: allowed",
    A,
    identity=(doc(st()),),
    boundary=doc(st(action="s3:*")),
)
case(
    "pb-boundary-silent",
    "The boundary does not allow: implicitly denied",
    DENY,
    identity=(doc(st()),),
    boundary=doc(st(action="ec2:*")),
)
case("pb-boundary-only", "A boundary alone grants nothing", DENY, boundary=doc(st()))
case(
    "pb-boundary-deny",
    "A Deny in the boundary is an explicit deny",
    E,
    identity=(doc(st()),),
    boundary=doc(st(action="*"), deny()),
)
case(
    "pb-resource-user",
    "Same account: a resource policy naming the user is not limited by the boundary",
    A,
    boundary=doc(st(action="ec2:*")),
    resource_policy=doc(res({"AWS": ALICE["arn"]})),
    resource_account=ACCT,
)
case(
    "pb-resource-session",
    "Same account: a resource policy naming the role session is not limited by the boundary",
    A,
    principal=SESSION,
    boundary=doc(st(action="ec2:*")),
    resource_policy=doc(res({"AWS": SESSION["arn"]})),
    resource_account=ACCT,
)
case(
    "pb-resource-role",
    "Same account: a resource policy naming the role is limited by the boundary",
    DENY,
    principal=SESSION,
    boundary=doc(st(action="ec2:*")),
    resource_policy=doc(res({"AWS": ROLE_ARN})),
    resource_account=ACCT,
)
case(
    "pb-resource-role-ok",
    "Same account: a resource policy naming the role grants within the boundary",
    A,
    principal=SESSION,
    boundary=doc(st(action="s3:*")),
    resource_policy=doc(res({"AWS": ROLE_ARN})),
    resource_account=ACCT,
)
case(
    "pb-resource-account",
    "A resource policy naming the account delegates to identity policies",
    DENY,
    boundary=doc(st(action="s3:*")),
    resource_policy=doc(res({"AWS": ACCT})),
    resource_account=ACCT,
)
case(
    "pb-notprincipal",
    "Deny with NotPrincipal always denies a principal with a boundary",
    E,
    identity=(doc(st()),),
    boundary=doc(st(action="s3:*")),
    resource_policy=doc(
        st("Deny", "s3:*", OBJ, NotPrincipal={"AWS": [ALICE["arn"], f"arn:aws:iam::{ACCT}:root"]})
    ),
    resource_account=ACCT,
)

# -- session policies -------------------------------------------------------------------------
case(
    "sp-both",
    "Session policy and identity policy both allow: allowed",
    A,
    principal=SESSION,
    identity=(doc(st()),),
    session=[doc(st(action="s3:*"))],
)
case(
    "sp-silent",
    "The session policy does not allow: implicitly denied",
    DENY,
    principal=SESSION,
    identity=(doc(st()),),
    session=[doc(st(action="ec2:*"))],
)
case(
    "sp-only", "A session policy alone grants nothing", DENY, principal=SESSION, session=[doc(st())]
)
case(
    "sp-empty",
    "An empty list of session policies allows nothing",
    DENY,
    principal=SESSION,
    identity=(doc(st()),),
    session=[],
)
case(
    "sp-deny",
    "A Deny in a session policy is explicit",
    E,
    principal=SESSION,
    identity=(doc(st()),),
    session=[doc(st(action="*"), deny())],
)
case(
    "sp-resource-session",
    "A resource policy naming the session is not limited by the session policy",
    A,
    principal=SESSION,
    session=[doc(st(action="ec2:*"))],
    resource_policy=doc(res({"AWS": SESSION["arn"]})),
    resource_account=ACCT,
)
case(
    "sp-resource-role",
    "A resource policy naming the role is limited by the session policy",
    DENY,
    principal=SESSION,
    session=[doc(st(action="ec2:*"))],
    resource_policy=doc(res({"AWS": ROLE_ARN})),
    resource_account=ACCT,
)
case(
    "sp-union",
    "Any of several session policies may allow",
    A,
    principal=SESSION,
    identity=(doc(st()),),
    session=[doc(st(action="ec2:*")), doc(st())],
)

FEDERATED = {
    "arn": f"arn:aws:sts::{ACCT}:federated-user/carol",
    "type": "FederatedUser",
    "account": ACCT,
    "federating_user_arn": ALICE["arn"],
}
case(
    "sp-federated-session-arn",
    "A resource policy naming the federated user session is not limited by the session policy",
    A,
    principal=FEDERATED,
    session=[doc(st(action="ec2:*"))],
    resource_policy=doc(res({"AWS": FEDERATED["arn"]})),
    resource_account=ACCT,
)
case(
    "sp-federating-user",
    "A resource policy naming the IAM user behind a federated session is limited by the "
    "session policy",
    DENY,
    principal=FEDERATED,
    session=[doc(st(action="ec2:*"))],
    resource_policy=doc(res({"AWS": ALICE["arn"]})),
    resource_account=ACCT,
)
case(
    "sp-federating-user-ok",
    "A resource policy naming the IAM user behind a federated session grants within the "
    "session policy",
    A,
    principal=FEDERATED,
    session=[doc(st(action="s3:*"))],
    resource_policy=doc(res({"AWS": ALICE["arn"]})),
    resource_account=ACCT,
)

# -- service control policies -----------------------------------------------------------------
FULL_LEVELS = [[FULL], [FULL], [FULL]]
case(
    "scp-full",
    "SCPs allowing * at every level do not restrict",
    A,
    identity=(doc(st()),),
    scps=FULL_LEVELS,
)
case(
    "scp-missing-ou",
    "Every level from root to account must allow",
    DENY,
    identity=(doc(st()),),
    scps=[[FULL], [doc(st(action="ec2:*"))], [FULL]],
)
case(
    "scp-missing-account",
    "The account level must allow too",
    DENY,
    identity=(doc(st()),),
    scps=[[FULL], [FULL], [doc(st(action="ec2:*"))]],
)
case(
    "scp-deny-root",
    "A Deny at the root denies everywhere below",
    E,
    identity=(doc(st()),),
    scps=[[FULL, doc(deny())], [FULL], [FULL]],
)
case("scp-grants-nothing", "SCPs never grant: identity must allow", DENY, scps=FULL_LEVELS)
case(
    "scp-management",
    "SCPs do not apply to the management account",
    A,
    principal={**ALICE, "in_management_account": True},
    identity=(doc(st()),),
    scps=[[doc(deny(action="*"))]],
)
case(
    "scp-slr",
    "SCPs do not apply to service-linked roles",
    A,
    principal=SLR,
    identity=(doc(st()),),
    scps=[[doc(deny(action="*"))]],
)
case(
    "scp-root-user",
    "SCPs apply to a member account's root user",
    E,
    principal=ROOT,
    scps=[[FULL, doc(deny())]],
)
case(
    "scp-root-allowed",
    "A member account's root user is allowed what SCPs allow",
    A,
    principal=ROOT,
    scps=FULL_LEVELS,
)
case(
    "scp-level-union",
    "Several SCPs at one level are a union",
    A,
    identity=(doc(st()),),
    scps=[[FULL], [doc(st(action="ec2:*")), doc(st(action="s3:Get*"))]],
)
case(
    "scp-condition-deny",
    "An SCP Deny with a region condition applies when it matches",
    E,
    identity=(doc(st()),),
    scps=[
        [
            FULL,
            doc(
                deny(
                    action="*",
                    Condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
                )
            ),
        ]
    ],
    context={"aws:RequestedRegion": "us-east-1"},
)
case(
    "scp-condition-deny-miss",
    "An SCP Deny whose condition does not match does not apply",
    A,
    identity=(doc(st()),),
    scps=[
        [
            FULL,
            doc(
                deny(
                    action="*",
                    Condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
                )
            ),
        ]
    ],
    context={"aws:RequestedRegion": "eu-west-1"},
)
case(
    "scp-cross-account-resource",
    "SCPs limit the caller's account even for another account's resource",
    DENY,
    identity=(doc(st()),),
    scps=[[doc(st(action="ec2:*"))]],
    resource_policy=doc(res({"AWS": ALICE["arn"]})),
    resource_account=OTHER,
)
case(
    "scp-not-service",
    "SCPs do not apply to AWS service principals",
    A,
    principal=SERVICE,
    scps=[[doc(deny(action="*"))]],
    resource_policy=doc(res({"Service": "lambda.amazonaws.com"})),
)
case(
    "scp-null",
    "No SCPs given (not in an organisation): nothing to check",
    A,
    identity=(doc(st()),),
    scps=None,
)

# -- resource control policies ----------------------------------------------------------------
RCP_FULL = doc(st(action="*", resource="*", Principal="*"))
case(
    "rcp-full",
    "RCPFullAWSAccess at every level does not restrict",
    A,
    identity=(doc(st()),),
    rcps=[[RCP_FULL], [RCP_FULL]],
)
case(
    "rcp-deny",
    "An RCP Deny applies to every principal",
    E,
    identity=(doc(st()),),
    rcps=[[RCP_FULL, doc(st("Deny", "s3:*", "*", Principal="*"))]],
)
case(
    "rcp-deny-external",
    "An RCP Deny on other organisations' principals",
    E,
    principal=BOB_OTHER,
    identity=(doc(st()),),
    resource_account=ACCT,
    resource_policy=doc(res({"AWS": OTHER})),
    rcps=[
        [
            RCP_FULL,
            doc(
                st(
                    "Deny",
                    "s3:*",
                    "*",
                    Principal="*",
                    Condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}},
                )
            ),
        ]
    ],
    context={"aws:PrincipalOrgID": "o-other"},
)
case(
    "rcp-management",
    "RCPs do not apply to resources in the management account",
    A,
    identity=(doc(st()),),
    resource_mgmt=True,
    rcps=[[doc(st("Deny", "s3:*", "*", Principal="*"))]],
)
case(
    "rcp-slr",
    "RCPs do not apply to service-linked roles",
    A,
    principal=SLR,
    identity=(doc(st()),),
    rcps=[[doc(st("Deny", "s3:*", "*", Principal="*"))]],
)
case(
    "rcp-missing-level",
    "Every RCP level must allow",
    DENY,
    identity=(doc(st()),),
    rcps=[[RCP_FULL], [doc(st(action="ec2:*", resource="*", Principal="*"))]],
)

# -- resource-based policies, same account ----------------------------------------------------
case(
    "rp-user",
    "Same account: a resource policy naming the user allows without an identity policy",
    A,
    resource_policy=doc(res({"AWS": ALICE["arn"]})),
    resource_account=ACCT,
)
case(
    "rp-star",
    "Principal * allows anyone, including same-account principals",
    A,
    resource_policy=doc(res("*")),
    resource_account=ACCT,
)
case(
    "rp-aws-star",
    "Principal {AWS: *} allows any AWS principal",
    A,
    resource_policy=doc(res({"AWS": "*"})),
    resource_account=ACCT,
)
case(
    "rp-account-root",
    "Naming the account root delegates to identity policies",
    DENY,
    resource_policy=doc(res({"AWS": f"arn:aws:iam::{ACCT}:root"})),
    resource_account=ACCT,
)
case(
    "rp-account-id",
    "An account id is the same as its root ARN",
    A,
    identity=(doc(st()),),
    resource_policy=doc(res({"AWS": ACCT})),
    resource_account=ACCT,
)
case(
    "rp-identity-only",
    "Same account: identity policy alone allows (no resource policy)",
    A,
    identity=(doc(st()),),
    resource_account=ACCT,
)
case(
    "rp-identity-and-silent-rp",
    "Same account: identity allows even if the resource policy says nothing",
    A,
    identity=(doc(st()),),
    resource_policy=doc(res({"AWS": BOB_OTHER["arn"]})),
    resource_account=ACCT,
)
case(
    "rp-deny",
    "A Deny in the resource policy overrides the identity Allow",
    E,
    identity=(doc(st()),),
    resource_policy=doc(res("*", "Deny")),
    resource_account=ACCT,
)
case(
    "rp-deny-other",
    "A resource Deny naming someone else does not apply",
    A,
    identity=(doc(st()),),
    resource_policy=doc(res({"AWS": BOB_OTHER["arn"]}, "Deny")),
    resource_account=ACCT,
)
case(
    "rp-notprincipal-exempt",
    "Deny NotPrincipal exempts a listed user with its account",
    A,
    identity=(doc(st()),),
    resource_account=ACCT,
    resource_policy=doc(
        st("Deny", "s3:*", OBJ, NotPrincipal={"AWS": [ALICE["arn"], f"arn:aws:iam::{ACCT}:root"]})
    ),
)
case(
    "rp-notprincipal-account-missing",
    "Deny NotPrincipal without the account ARN denies",
    E,
    identity=(doc(st()),),
    resource_account=ACCT,
    resource_policy=doc(st("Deny", "s3:*", OBJ, NotPrincipal={"AWS": [ALICE["arn"]]})),
)
case(
    "rp-notprincipal-role",
    "Deny NotPrincipal exempts a session whose role and account are listed",
    A,
    principal=SESSION,
    identity=(doc(st()),),
    resource_account=ACCT,
    resource_policy=doc(
        st("Deny", "s3:*", OBJ, NotPrincipal={"AWS": [ROLE_ARN, f"arn:aws:iam::{ACCT}:root"]})
    ),
)
case(
    "rp-notprincipal-other",
    "Deny NotPrincipal denies principals not listed",
    E,
    principal=SESSION,
    identity=(doc(st()),),
    resource_account=ACCT,
    resource_policy=doc(
        st("Deny", "s3:*", OBJ, NotPrincipal={"AWS": [ALICE["arn"], f"arn:aws:iam::{ACCT}:root"]})
    ),
)
case(
    "rp-wrong-action",
    "A resource policy for another action does not allow",
    DENY,
    resource_policy=doc(res("*", action="s3:PutObject")),
    resource_account=ACCT,
)
case(
    "rp-condition",
    "A resource policy's condition must hold",
    DENY,
    resource_account=ACCT,
    resource_policy=doc(res("*", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})),
)
case(
    "rp-condition-ok",
    "A resource policy's condition that holds allows",
    A,
    resource_account=ACCT,
    context={"aws:SourceVpce": "vpce-1"},
    resource_policy=doc(res("*", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})),
)
case(
    "rp-user-other-name",
    "Naming another user of the account does not allow",
    DENY,
    resource_policy=doc(res({"AWS": f"arn:aws:iam::{ACCT}:user/carol"})),
    resource_account=ACCT,
)
case(
    "rp-no-resource-account",
    "Without resource_account the resource is the caller's",
    A,
    resource_policy=doc(res({"AWS": ALICE["arn"]})),
)

# -- cross-account ----------------------------------------------------------------------------
case(
    "x-identity-only",
    "Cross-account: identity policy alone is not enough",
    DENY,
    principal=BOB_OTHER,
    identity=(doc(st()),),
    resource_account=ACCT,
)
case(
    "x-resource-only",
    "Cross-account: resource policy alone is not enough",
    DENY,
    principal=BOB_OTHER,
    resource_policy=doc(res({"AWS": BOB_OTHER["arn"]})),
    resource_account=ACCT,
)
case(
    "x-both",
    "Cross-account: both sides allow",
    A,
    principal=BOB_OTHER,
    identity=(doc(st()),),
    resource_policy=doc(res({"AWS": BOB_OTHER["arn"]})),
    resource_account=ACCT,
)
case(
    "x-account",
    "Cross-account: naming the caller's account plus identity allow",
    A,
    principal=BOB_OTHER,
    identity=(doc(st()),),
    resource_policy=doc(res({"AWS": OTHER})),
    resource_account=ACCT,
)
case(
    "x-wrong-account",
    "Cross-account: naming a third account does not allow",
    DENY,
    principal=BOB_OTHER,
    identity=(doc(st()),),
    resource_policy=doc(res({"AWS": "999988887777"})),
    resource_account=ACCT,
)
case(
    "x-star",
    "Cross-account: Principal * plus identity allow",
    A,
    principal=BOB_OTHER,
    identity=(doc(st()),),
    resource_policy=doc(res("*")),
    resource_account=ACCT,
)
case(
    "x-boundary",
    "Cross-account: the caller's boundary still applies",
    DENY,
    principal=BOB_OTHER,
    identity=(doc(st()),),
    boundary=doc(st(action="ec2:*")),
    resource_policy=doc(res({"AWS": BOB_OTHER["arn"]})),
    resource_account=ACCT,
)
case(
    "x-session-arn",
    "Cross-account: naming the session still needs its identity allow",
    DENY,
    principal={
        **SESSION,
        "account": OTHER,
        "arn": f"arn:aws:sts::{OTHER}:assumed-role/R/s",
        "role_arn": f"arn:aws:iam::{OTHER}:role/R",
    },
    resource_policy=doc(res({"AWS": f"arn:aws:sts::{OTHER}:assumed-role/R/s"})),
    resource_account=ACCT,
)
case(
    "x-root",
    "Cross-account: another account's root needs the resource policy",
    A,
    principal={"arn": f"arn:aws:iam::{OTHER}:root", "type": "Root", "account": OTHER},
    resource_policy=doc(res({"AWS": OTHER})),
    resource_account=ACCT,
)
case(
    "x-root-none",
    "Cross-account root without a resource policy is denied",
    DENY,
    principal={"arn": f"arn:aws:iam::{OTHER}:root", "type": "Root", "account": OTHER},
    resource_account=ACCT,
)
case(
    "x-deny-identity",
    "Cross-account: a Deny in the caller's policy wins",
    E,
    principal=BOB_OTHER,
    identity=(doc(st(), deny()),),
    resource_policy=doc(res("*")),
    resource_account=ACCT,
)

# -- role trust policies ----------------------------------------------------------------------
TARGET_ROLE = f"arn:aws:iam::{ACCT}:role/Target"
ASSUME = {"action": "sts:AssumeRole", "resource": TARGET_ROLE}


def trust(principal: Any, **extra: Any) -> dict[str, Any]:
    return doc(st("Allow", "sts:AssumeRole", None, Principal=principal, **extra))


case(
    "tr-identity-only",
    "A role's trust policy must allow: identity policy alone does not",
    DENY,
    identity=(doc(st(action="sts:AssumeRole")),),
    resource_policy=trust({"AWS": OTHER}),
    resource_account=ACCT,
    **ASSUME,
)
case(
    "tr-user",
    "Trust naming the user allows without an identity policy (same account)",
    A,
    resource_policy=trust({"AWS": ALICE["arn"]}),
    resource_account=ACCT,
    **ASSUME,
)
case(
    "tr-account",
    "Trust naming the account needs an identity policy",
    DENY,
    resource_policy=trust({"AWS": ACCT}),
    resource_account=ACCT,
    **ASSUME,
)
case(
    "tr-account-identity",
    "Trust naming the account plus identity allow",
    A,
    identity=(doc(st(action="sts:AssumeRole", resource=TARGET_ROLE)),),
    resource_policy=trust({"AWS": ACCT}),
    resource_account=ACCT,
    **ASSUME,
)
case(
    "tr-cross",
    "Cross-account AssumeRole: trust names the account and identity allows",
    A,
    principal=BOB_OTHER,
    identity=(doc(st(action="sts:AssumeRole")),),
    resource_policy=trust({"AWS": OTHER}),
    resource_account=ACCT,
    **ASSUME,
)
case(
    "tr-cross-no-identity",
    "Cross-account AssumeRole without identity allow",
    DENY,
    principal=BOB_OTHER,
    resource_policy=trust({"AWS": BOB_OTHER["arn"]}),
    resource_account=ACCT,
    **ASSUME,
)
case(
    "tr-service",
    "A service principal assumes a role its trust policy names",
    A,
    principal=SERVICE,
    resource_policy=trust({"Service": "lambda.amazonaws.com"}),
    resource_account=ACCT,
    **ASSUME,
)
case(
    "tr-service-other",
    "A service the trust policy does not name cannot assume",
    DENY,
    principal={**SERVICE, "arn": "ec2.amazonaws.com"},
    resource_policy=trust({"Service": "lambda.amazonaws.com"}),
    resource_account=ACCT,
    **ASSUME,
)
case(
    "tr-external-id",
    "Trust condition sts:ExternalId must match",
    DENY,
    principal=BOB_OTHER,
    identity=(doc(st(action="sts:AssumeRole")),),
    resource_account=ACCT,
    resource_policy=trust({"AWS": OTHER}, Condition={"StringEquals": {"sts:ExternalId": "x1"}}),
    context={"sts:ExternalId": "nope"},
    **ASSUME,
)
case(
    "tr-no-trust",
    "No trust policy given: AssumeRole is denied",
    DENY,
    identity=(doc(st(action="sts:AssumeRole")),),
    resource_account=ACCT,
    **ASSUME,
)

# -- KMS key policies -------------------------------------------------------------------------
DECRYPT = {"action": "kms:Decrypt", "resource": KEY}
ROOT_KEY = doc(res({"AWS": f"arn:aws:iam::{ACCT}:root"}, action="kms:*", resource="*"))
case(
    "kms-identity-only",
    "KMS: identity policy alone does not allow without the key policy",
    DENY,
    identity=(doc(st(action="kms:Decrypt")),),
    resource_account=ACCT,
    **DECRYPT,
)
case(
    "kms-root-identity",
    "KMS: key policy enabling IAM (account root) plus identity allow",
    A,
    identity=(doc(st(action="kms:Decrypt")),),
    resource_policy=ROOT_KEY,
    resource_account=ACCT,
    **DECRYPT,
)
case(
    "kms-root-no-identity",
    "KMS: key policy enabling IAM without an identity allow",
    DENY,
    resource_policy=ROOT_KEY,
    resource_account=ACCT,
    **DECRYPT,
)
case(
    "kms-user",
    "KMS: key policy naming the user allows by itself",
    A,
    resource_policy=doc(res({"AWS": ALICE["arn"]}, action="kms:Decrypt", resource="*")),
    resource_account=ACCT,
    **DECRYPT,
)
case(
    "kms-role-boundary",
    "KMS: key policy naming the role is bounded by the boundary",
    DENY,
    principal=SESSION,
    boundary=doc(st(action="s3:*")),
    resource_policy=doc(res({"AWS": ROLE_ARN}, action="kms:Decrypt", resource="*")),
    resource_account=ACCT,
    **DECRYPT,
)
case(
    "kms-alias-not-key",
    "KMS actions on non-key resources follow the usual rules",
    A,
    identity=(doc(st(action="kms:CreateAlias")),),
    action="kms:CreateAlias",
    resource=f"arn:aws:kms:us-east-1:{ACCT}:alias/x",
    resource_account=ACCT,
)
case(
    "kms-deny",
    "KMS: a key policy Deny overrides",
    E,
    identity=(doc(st(action="kms:*")),),
    resource_policy=doc(
        res({"AWS": f"arn:aws:iam::{ACCT}:root"}, action="kms:*", resource="*"),
        res("*", "Deny", action="kms:Decrypt", resource="*"),
    ),
    resource_account=ACCT,
    **DECRYPT,
)

# -- service principals and anonymous callers -------------------------------------------------
case(
    "svc-bucket",
    "A service principal named in a bucket policy is allowed",
    A,
    principal=SERVICE,
    resource_policy=doc(res({"Service": "lambda.amazonaws.com"})),
)
case(
    "svc-no-policy",
    "A service principal without a resource policy is denied",
    DENY,
    principal=SERVICE,
    identity=(doc(st()),),
)
case(
    "svc-star",
    "Principal * includes AWS services",
    A,
    principal=SERVICE,
    resource_policy=doc(res("*")),
)
case(
    "anon-star",
    "Anonymous callers are allowed by Principal *",
    A,
    principal={"arn": "anonymous", "type": "Anonymous", "account": ""},
    resource_policy=doc(res("*")),
    resource_account=ACCT,
)
case(
    "anon-account",
    "Anonymous callers are not an account's principals",
    DENY,
    principal={"arn": "anonymous", "type": "Anonymous", "account": ""},
    resource_policy=doc(res({"AWS": ACCT})),
    resource_account=ACCT,
)
case(
    "root-own",
    "The root user is allowed in its own account without policies",
    A,
    principal=ROOT,
    resource_account=ACCT,
)
