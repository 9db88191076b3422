"""The policy lint codes: class (as IAM Access Analyzer names them), title and remediation.

The table in `mamori.identity.lint`'s docstring says what each code flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LintClass = Literal["ERROR", "SECURITY_WARNING", "WARNING", "SUGGESTION"]
ERROR: LintClass = "ERROR"
SECURITY_WARNING: LintClass = "SECURITY_WARNING"
WARNING: LintClass = "WARNING"
SUGGESTION: LintClass = "SUGGESTION"


@dataclass(frozen=True, slots=True)
class LintCode:
    code: str
    severity: LintClass
    title: str
    remediation: str
    high: bool = False  # a SECURITY_WARNING reported as HIGH rather than MEDIUM


_CODES = (
    LintCode(
        "malformed-policy",
        ERROR,
        "Policy document is not valid",
        "Fix the document as the message says; IAM evaluates no statement of it.",
    ),
    LintCode(
        "unknown-service",
        ERROR,
        "Policy names an unknown service prefix",
        "Correct the service prefix; see the Service Authorization Reference.",
    ),
    LintCode(
        "unknown-action",
        ERROR,
        "Policy names an action that does not exist",
        "Correct the action name or pattern; an unknown action grants nothing.",
    ),
    LintCode(
        "pass-role-star-resource",
        SECURITY_WARNING,
        "iam:PassRole is allowed on every role",
        "List the role ARNs that may be passed, or add an iam:PassedToService condition.",
    ),
    LintCode(
        "allow-not-principal",
        SECURITY_WARNING,
        "Allow statement with NotPrincipal",
        "Name the principals in Principal instead; NotPrincipal with Allow grants everyone "
        "else, anonymous callers included.",
        high=True,
    ),
    LintCode(
        "allow-not-action",
        SECURITY_WARNING,
        "Allow statement with NotAction",
        "List the allowed actions in Action; NotAction also grants actions AWS adds later.",
    ),
    LintCode(
        "allow-not-resource",
        SECURITY_WARNING,
        "Allow statement with NotResource",
        "List the allowed resources in Resource.",
    ),
    LintCode(
        "allow-star-star",
        SECURITY_WARNING,
        "Policy allows every action on every resource",
        "Grant only the actions and resources needed; keep full access to a few break-glass roles.",
        high=True,
    ),
    LintCode(
        "allow-iam-star",
        SECURITY_WARNING,
        "Policy allows all IAM or STS actions",
        "Grant only the IAM/STS actions needed: iam:* and sts:* let a principal make "
        "itself an administrator.",
    ),
    LintCode(
        "trust-any-principal",
        SECURITY_WARNING,
        "Role trust policy lets anyone assume it",
        "Name the trusted principals, or add conditions such as aws:PrincipalOrgID or "
        "sts:ExternalId.",
        high=True,
    ),
    LintCode(
        "forallvalues-single-valued-key",
        SECURITY_WARNING,
        "ForAllValues used with a single-valued condition key",
        "Remove ForAllValues:; it is true when the key is absent from the request.",
    ),
    LintCode(
        "foranyvalue-single-valued-key",
        WARNING,
        "ForAnyValue used with a single-valued condition key",
        "Remove ForAnyValue:; set operators are for multivalued keys.",
    ),
    LintCode(
        "unknown-condition-key",
        WARNING,
        "Condition key is not documented for AWS or the service",
        "Check the key's spelling against the Service Authorization Reference; a key that is "
        "never in the request makes the condition false (or, negated, true) every time.",
    ),
    LintCode(
        "condition-type-mismatch",
        WARNING,
        "Condition operator does not fit the key's type",
        "Use an operator of the key's type (IpAddress for IP keys, Date... for dates).",
    ),
    LintCode(
        "version-variables",
        WARNING,
        "Policy variables in a policy without Version 2012",
        'Set "Version": "2012-10-17"; otherwise ${...} is matched as literal text.',
    ),
    LintCode(
        "missing-version", WARNING, "Policy has no Version element", 'Add "Version": "2012-10-17".'
    ),
    LintCode(
        "duplicate-statement",
        SUGGESTION,
        "Policy repeats a statement",
        "Remove the duplicate so that a later edit cannot change one copy only.",
    ),
)
CODES: dict[str, LintCode] = {c.code: c for c in _CODES}
