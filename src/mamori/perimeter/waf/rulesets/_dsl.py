"""Building blocks of the managed rule groups: wafv2 statement JSON, and the group registration
that also keeps a catalogue (rule names, labels, descriptions) for the generated documentation.

Every group is plain wafv2 JSON compiled by the same compiler as a user's rule group, so
ExcludedRules, RuleActionOverrides, ScopeDownStatement and labels behave exactly as for any
other group, and the content could be exported as a RuleGroup document unchanged.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from mamori.perimeter.waf.managed import managed_group

Statement = dict[str, Any]

# Components, as the API spells them.
URI_PATH: Statement = {"UriPath": {}}
QUERY_STRING: Statement = {"QueryString": {}}
QUERY_ARGS: Statement = {"AllQueryArguments": {}}
METHOD: Statement = {"Method": {}}
BODY: Statement = {"Body": {"OversizeHandling": "CONTINUE"}}
COOKIES: Statement = {
    "Cookies": {"MatchPattern": {"All": {}}, "MatchScope": "ALL", "OversizeHandling": "CONTINUE"}
}
HEADERS: Statement = {
    "Headers": {"MatchPattern": {"All": {}}, "MatchScope": "ALL", "OversizeHandling": "CONTINUE"}
}


def header(name: str) -> Statement:
    return {"SingleHeader": {"Name": name}}


# Transformation chains. DECODED undoes the usual evasions once and again (double URL
# encoding, %uXXXX, HTML entities) and folds case; the patterns written for it are lowercase.
# Sharing one chain per component lets the engine compute the decoded value once and run every
# group's patterns over it as one RE2 set. DECODED_JS also undoes JavaScript escapes (\u0024),
# which JSON bodies use, but it drops lone backslashes, so Windows paths need DECODED.
DECODED = ("URL_DECODE_UNI", "URL_DECODE_UNI", "HTML_ENTITY_DECODE", "LOWERCASE")
DECODED_JS = ("URL_DECODE_UNI", "URL_DECODE_UNI", "JS_DECODE", "HTML_ENTITY_DECODE", "LOWERCASE")
# For libinjection: decoded but case kept (its tokeniser folds case itself).
INJECTION = ("URL_DECODE_UNI", "URL_DECODE_UNI", "HTML_ENTITY_DECODE", "COMPRESS_WHITE_SPACE")
CMD_UNIX = ("URL_DECODE_UNI", "URL_DECODE_UNI", "CMD_LINE_UNIX", "LOWERCASE")
CMD_WIN = ("URL_DECODE_UNI", "URL_DECODE_UNI", "CMD_LINE_WIN")


def is_body(where: Statement) -> bool:
    return "Body" in where


def json_aware(steps: tuple[str, ...]) -> tuple[str, ...]:
    """`steps` for a body: JSON escapes characters in its strings (\\u0027, \\", \\n), so
    JS_DECODE follows the URL decoding. Any body is read this way (AWS's body rules do not look
    at the Content-Type); in a form body only backslash sequences change."""
    if "JS_DECODE" in steps:
        return steps
    urls = next((i for i, t in enumerate(steps) if t != "URL_DECODE_UNI"), len(steps))
    return (*steps[:urls], "JS_DECODE", *steps[urls:])


def transformations(steps: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"Priority": i, "Type": t} for i, t in enumerate(steps or ("NONE",))]


def regex(pattern: str, where: Statement, steps: tuple[str, ...] = DECODED) -> Statement:
    return {
        "RegexMatchStatement": {
            "RegexString": pattern,
            "FieldToMatch": where,
            "TextTransformations": transformations(steps),
        }
    }


REGEX_MAX = 512  # the API's limit on RegexString


def any_regex(
    patterns: tuple[str, ...],
    where: Statement,
    steps: tuple[str, ...] = DECODED,
    *,
    backslashes: bool = False,
) -> Statement:
    """The patterns as few RegexMatch statements as AWS's length limit allows, ORed: one
    alternation per statement keeps evaluation to a statement or two per rule (the engine runs
    every pattern on a component as one RE2 set either way).

    In a body the patterns run after JS_DECODE (`json_aware`); patterns that look for literal
    backslashes (Windows paths, ..\\ traversal) set `backslashes` to run over `steps` as well,
    since JS_DECODE drops a backslash before an ordinary character."""
    chunks: list[str] = []
    for pattern in patterns:
        part = f"(?:{pattern})"
        if chunks and len(chunks[-1]) + 1 + len(part) <= REGEX_MAX:
            chunks[-1] += "|" + part
        else:
            chunks.append(part)
    chains = [steps]
    if is_body(where):
        chains = [json_aware(steps), *([steps] if backslashes else [])]
    return any_of(*(regex(c, where, chain) for chain in chains for c in chunks))


def byte_match(
    search: bytes, where: Statement, constraint: str = "CONTAINS", steps: tuple[str, ...] = ()
) -> Statement:
    return {
        "ByteMatchStatement": {
            "SearchString": base64.b64encode(search).decode("ascii"),  # the API's encoding
            "FieldToMatch": where,
            "TextTransformations": transformations(steps),
            "PositionalConstraint": constraint,
        }
    }


def sqli(where: Statement, level: str = "LOW", steps: tuple[str, ...] = INJECTION) -> Statement:
    return {
        "SqliMatchStatement": {
            "FieldToMatch": where,
            "TextTransformations": transformations(json_aware(steps) if is_body(where) else steps),
            "SensitivityLevel": level,
        }
    }


def xss(where: Statement, steps: tuple[str, ...] = INJECTION) -> Statement:
    return {
        "XssMatchStatement": {
            "FieldToMatch": where,
            "TextTransformations": transformations(json_aware(steps) if is_body(where) else steps),
        }
    }


def larger_than(where: Statement, size: int) -> Statement:
    return {
        "SizeConstraintStatement": {
            "FieldToMatch": where,
            "ComparisonOperator": "GT",
            "Size": size,
            "TextTransformations": transformations(()),
        }
    }


def ip_set(arn: str) -> Statement:
    return {"IPSetReferenceStatement": {"ARN": arn}}


def any_of(*statements: Statement) -> Statement:
    return (
        statements[0] if len(statements) == 1 else {"OrStatement": {"Statements": list(statements)}}
    )


def not_(statement: Statement) -> Statement:
    return {"NotStatement": {"Statement": statement}}


# -- groups -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSpec:
    name: str  # AWS's rule name
    label: str  # AWS's label, without the group's namespace
    statement: Statement
    description: str  # what it inspects, for the generated documentation
    action: str = "Block"  # AWS's default action for the rule


@dataclass(frozen=True, slots=True)
class GroupSpec:
    name: str
    capacity: int  # AWS's published WCU
    namespace: str
    description: str
    rules: tuple[RuleSpec, ...]
    vendor: str = "AWS"
    notes: str = ""  # how Mamori's content differs from AWS's, for the documentation

    def wafv2_rules(self) -> list[dict[str, Any]]:
        return [
            {
                "Name": spec.name,
                "Priority": i,
                "Statement": spec.statement,
                "Action": {spec.action: {}},
                "RuleLabels": [{"Name": spec.label}],
                "VisibilityConfig": {
                    "SampledRequestsEnabled": True,
                    "CloudWatchMetricsEnabled": True,
                    "MetricName": spec.name,
                },
            }
            for i, spec in enumerate(self.rules)
        ]


CATALOGUE: dict[str, GroupSpec] = {}


def register(group: GroupSpec) -> GroupSpec:
    """Add `group` to the managed-group registry (under its vendor and name) and the catalogue."""
    if len({r.name for r in group.rules}) != len(group.rules):
        raise ValueError(f"{group.name}: duplicate rule names")
    CATALOGUE[group.name] = group
    managed_group(
        group.vendor, group.name, capacity=group.capacity, label_namespace=group.namespace,
        description=group.description,
    )(group.wafv2_rules)  # fmt: skip
    return group
