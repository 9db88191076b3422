"""Small, conservative readers of IAM policy documents for posture checks.

These answer posture questions ("does this resource policy let anyone in?") about one
document. Questions that need the full evaluation logic across policy types belong to
`mamori.identity`'s evaluator.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

# Condition keys that tie an Allow to specific callers or networks, so that a "*" principal
# is no longer "anyone on the internet" (as IAM Access Analyzer and S3's own policy status
# treat them).
_RESTRICTING_KEYS = {
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:userid",
    "aws:principalorgpaths",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "kms:calleraccount",
    "kms:viaservice",
    "lambda:functionurlauthtype",
    "aws:resourceorgid",
    "aws:resourceaccount",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
    "aws:sourceip",
}


class PolicyError(ValueError):
    pass


def parse_policy(doc: Any, what: str = "policy") -> dict[str, Any]:
    """A policy as a dict, from an object, JSON text or URL-encoded JSON text (as IAM returns)."""
    if isinstance(doc, dict):
        return doc
    if not isinstance(doc, str):
        raise PolicyError(f"{what}: expected a JSON document, got {type(doc).__name__}")
    text = doc.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{what}: not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(parsed, dict):
        raise PolicyError(f"{what}: top level must be an object")
    return parsed


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements(doc: Any, what: str = "policy") -> Iterator[dict[str, Any]]:
    policy = parse_policy(doc, what)
    raw = policy.get("Statement")
    if raw is None:
        raise PolicyError(f"{what}: no Statement element")
    for i, stmt in enumerate(as_list(raw)):
        if not isinstance(stmt, dict):
            raise PolicyError(f"{what}: Statement[{i}] is not an object")
        if stmt.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError(f"{what}: Statement[{i}].Effect must be Allow or Deny")
        yield stmt


def principal_is_public(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(
            v == "*" or (isinstance(v, list) and "*" in v)
            for k, v in principal.items()
            if k in ("AWS", "CanonicalUser", "*")
        )
    return False


def _condition_keys(stmt: dict[str, Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    cond = stmt.get("Condition") or {}
    if not isinstance(cond, dict):
        return out
    for block in cond.values():
        if isinstance(block, dict):
            for key, value in block.items():
                out.setdefault(str(key).lower(), []).extend(as_list(value))
    return out


def _ip_restricts(values: list[Any]) -> bool:
    for v in values:
        try:
            if ipaddress.ip_network(str(v), strict=False).prefixlen == 0:
                return False
        except ValueError:
            return False
    return bool(values)


def is_restricted(stmt: dict[str, Any]) -> bool:
    keys = _condition_keys(stmt)
    for key, values in keys.items():
        if key not in _RESTRICTING_KEYS:
            continue
        if key == "aws:sourceip":
            if _ip_restricts(values):
                return True
            continue
        if values and all(v not in ("*", "") for v in values):
            return True
    return False


def public_statements(doc: Any, what: str = "policy") -> list[str]:
    """Sids (or indexes) of Allow statements open to anyone without a restricting condition."""
    found = []
    for i, stmt in enumerate(statements(doc, what)):
        if stmt["Effect"] != "Allow":
            continue
        open_principal = principal_is_public(stmt.get("Principal")) or "NotPrincipal" in stmt
        if open_principal and not is_restricted(stmt):
            found.append(str(stmt.get("Sid") or f"#{i}"))
    return found


def _matches_action(actions: list[Any], wanted: tuple[str, ...]) -> bool:
    for a in actions:
        text = str(a).lower()
        if text == "*" or text in wanted:
            return True
        if text.endswith("*") and any(w.startswith(text[:-1]) for w in wanted):
            return True
    return False


def denies_insecure_transport(doc: Any, resource_arn: str, what: str = "policy") -> bool:
    """True when a Deny for every principal covers the resource when aws:SecureTransport is
    false (the form CIS 2.1.1 and S3.5 ask for)."""
    for stmt in statements(doc, what):
        if stmt["Effect"] != "Deny" or not principal_is_public(stmt.get("Principal")):
            continue
        if not _matches_action(as_list(stmt.get("Action")), ("s3:getobject", "s3:putobject")):
            continue
        resources = [str(r) for r in as_list(stmt.get("Resource"))]
        if not any(r in ("*", resource_arn, resource_arn + "/*") for r in resources):
            continue
        cond = stmt.get("Condition") or {}
        for op, block in cond.items() if isinstance(cond, dict) else ():
            if not isinstance(block, dict):
                continue
            for key, value in block.items():
                if key.lower() != "aws:securetransport":
                    continue
                vals = [str(v).lower() for v in as_list(value)]
                if op == "Bool" and "false" in vals:
                    return True
        continue
    return False


def allows_full_admin(doc: Any, what: str = "policy") -> bool:
    """An Allow of every action on every resource ("*:*"), as CIS 1.16 defines it."""
    for stmt in statements(doc, what):
        if stmt["Effect"] != "Allow" or "NotAction" in stmt or "NotResource" in stmt:
            continue
        actions = [str(a) for a in as_list(stmt.get("Action"))]
        resources = [str(r) for r in as_list(stmt.get("Resource"))]
        if (
            any(a in ("*", "*:*") for a in actions)
            and "*" in resources
            and not stmt.get("Condition")
        ):
            return True
    return False
