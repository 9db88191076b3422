"""Small builders of wafv2 JSON for the engine's tests (shapes as the API prints them)."""

from __future__ import annotations

import base64
from typing import Any

from mamori.perimeter.waf import Request, Verdict, build_web_acl, collect_resources, parse_document

ACCOUNT = "111122223333"
ACL_ID = "a1b2c3d4-5678-90ab-cdef-111111111111"
ACL_ARN = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/webacl/test-acl/{ACL_ID}"
VIS = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}
NS = f"awswaf:{ACCOUNT}:webacl:test-acl:"


def tt(*types: str) -> list[dict[str, Any]]:
    return [{"Priority": i, "Type": t} for i, t in enumerate(types or ("NONE",))]


def field(kind: str, **options: Any) -> dict[str, Any]:
    return {kind: options}


def byte_match(
    search: str | bytes, where: dict[str, Any], constraint: str = "CONTAINS", *transforms: str
) -> dict[str, Any]:
    raw = search.encode() if isinstance(search, str) else search
    return {
        "ByteMatchStatement": {
            "SearchString": base64.b64encode(raw).decode(),
            "FieldToMatch": where,
            "TextTransformations": tt(*transforms),
            "PositionalConstraint": constraint,
        }
    }


def regex(pattern: str, where: dict[str, Any], *transforms: str) -> dict[str, Any]:
    return {
        "RegexMatchStatement": {
            "RegexString": pattern,
            "FieldToMatch": where,
            "TextTransformations": tt(*transforms),
        }
    }


def sqli(where: dict[str, Any], *transforms: str, level: str = "LOW") -> dict[str, Any]:
    return {
        "SqliMatchStatement": {
            "FieldToMatch": where,
            "TextTransformations": tt(*transforms),
            "SensitivityLevel": level,
        }
    }


def xss(where: dict[str, Any], *transforms: str) -> dict[str, Any]:
    return {"XssMatchStatement": {"FieldToMatch": where, "TextTransformations": tt(*transforms)}}


def rule(
    name: str,
    priority: int,
    statement: dict[str, Any],
    action: str = "Block",
    labels: tuple[str, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Name": name,
        "Priority": priority,
        "Statement": statement,
        "Action": {action: {}},
        "VisibilityConfig": VIS,
    }
    if labels:
        out["RuleLabels"] = [{"Name": n} for n in labels]
    out.update(extra)
    return out


def web_acl_doc(*rules: dict[str, Any], default: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {
        "WebACL": {
            "Name": "test-acl",
            "Id": ACL_ID,
            "ARN": ACL_ARN,
            "DefaultAction": {default: {}},
            "Rules": list(rules),
            "VisibilityConfig": VIS,
            **extra,
        },
        "LockToken": "0f0f0f0f-0000-0000-0000-000000000000",
    }


def compile_acl(*rules: dict[str, Any], resources: tuple[dict[str, Any], ...] = (), **kw: Any):
    docs = [parse_document(r, "resource.json") for r in resources]
    res = collect_resources(docs, kw.pop("geo_db", None), kw.pop("asn_db", None))
    return build_web_acl(parse_document(web_acl_doc(*rules, **kw), "webacl.json"), res)


def req(
    uri: str = "/",
    method: str = "GET",
    headers: Any = (("Host", "example.com"),),
    body: bytes | str = b"",
    ip: str = "198.51.100.7",
) -> Request:
    return Request.build(method, uri, headers, body, ip)


def blocked(verdict: Verdict) -> bool:
    return verdict.action == "BLOCK"
