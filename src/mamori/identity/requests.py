"""The `--requests` format: one self-contained authorization question per JSON line.

Each line carries every policy that takes part, so a decision needs nothing else. Documents
repeated across lines are compiled once. A malformed line is reported with its line number and
id and the other lines are still decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from mamori.core import InputError
from mamori.identity.context import RequestContext
from mamori.identity.evaluate import Decision, PolicySet, Request, evaluate
from mamori.identity.policy import CompiledPolicy, compile_policy
from mamori.identity.principals import Caller, caller_from_json

_FIELDS = {
    "id",
    "principal",
    "identity_policies",
    "permissions_boundary",
    "session_policies",
    "scps",
    "rcps",
    "resource_policy",
    "resource_account",
    "resource_in_management_account",
    "request",
}
_REQUEST_FIELDS = {"action", "resource", "context"}


@dataclass(frozen=True, slots=True)
class Case:
    id: Any
    caller: Caller
    policies: PolicySet
    request: Request


@dataclass(frozen=True, slots=True)
class Outcome:
    id: Any
    decision: Decision | None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.decision is None:
            return {"id": self.id, "error": self.error}
        return {
            "id": self.id,
            "decision": self.decision.decision,
            "decided_by": self.decision.to_json(),
        }


class _Compiler:
    """Compiles each distinct document once across all lines."""

    def __init__(self) -> None:
        self._seen: dict[tuple[bytes, str], CompiledPolicy] = {}

    def one(self, doc: Any, name: str, kind: str) -> CompiledPolicy:
        key = (orjson.dumps(doc, option=orjson.OPT_SORT_KEYS), kind)
        hit = self._seen.get(key)
        if hit is None:
            hit = compile_policy(doc, name=name, kind=kind)
            self._seen[key] = hit
        return hit

    def many(self, docs: Any, where: str, kind: str) -> list[CompiledPolicy]:
        if not isinstance(docs, list):
            raise InputError(f"{where}: expected a list of policy documents")
        return [self.one(doc, f"{where}[{i}]", kind) for i, doc in enumerate(docs)]

    def levels(self, raw: Any, where: str, kind: str) -> list[list[CompiledPolicy]] | None:
        if raw is None:
            return None
        if not isinstance(raw, list) or not all(isinstance(level, list) for level in raw):
            raise InputError(f"{where}: expected null or a list of levels (lists of documents)")
        return [self.many(level, f"{where}[{i}]", kind) for i, level in enumerate(raw)]


def _string(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise InputError(f"{where}: must be a non-empty string")
    return raw


def parse_case(raw: Any, where: str, compiler: _Compiler | None = None) -> Case:
    compiler = compiler or _Compiler()
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a request must be a JSON object")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    caller = caller_from_json(raw.get("principal"), where)
    req = raw.get("request")
    if not isinstance(req, dict):
        raise InputError(f"{where}: request must be an object with action and resource")
    unknown = set(req) - _REQUEST_FIELDS
    if unknown:
        raise InputError(f"{where}: unknown request field(s) {', '.join(sorted(unknown))}")
    context = req.get("context") or {}
    if not isinstance(context, dict):
        raise InputError(f"{where}: request.context must be an object")
    request = Request(
        _string(req.get("action"), f"{where}: request.action"),
        _string(req.get("resource"), f"{where}: request.resource"),
        RequestContext.from_mapping(context),
    )
    boundary = raw.get("permissions_boundary")
    session = raw.get("session_policies")
    resource = raw.get("resource_policy")
    resource_account = raw.get("resource_account")
    if resource_account is not None and not isinstance(resource_account, str):
        raise InputError(f"{where}: resource_account must be a string or null")
    policies = PolicySet(
        identity=compiler.many(
            raw.get("identity_policies") or [], f"{where} identity_policies", "identity"
        ),
        boundary=None
        if boundary is None
        else compiler.one(boundary, f"{where} permissions_boundary", "boundary"),
        session=None
        if session is None
        else compiler.many(session, f"{where} session_policies", "session"),
        scps=compiler.levels(raw.get("scps"), f"{where} scps", "scp"),
        rcps=compiler.levels(raw.get("rcps"), f"{where} rcps", "rcp"),
        resource=None
        if resource is None
        else compiler.one(resource, f"{where} resource_policy", "resource"),
        resource_account=resource_account,
        resource_in_management_account=bool(raw.get("resource_in_management_account", False)),
    )
    return Case(raw.get("id"), caller, policies, request)


def decide_lines(lines: Iterable[str | bytes], source: str) -> Iterator[Outcome]:
    """Decide every line; a bad line yields an Outcome with `error` naming it."""
    compiler = _Compiler()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        ident: Any = None
        try:
            raw = orjson.loads(line)
            ident = raw.get("id") if isinstance(raw, dict) else None
            if ident is not None:
                where = f"{where} (id {ident})"
            case = parse_case(raw, where, compiler)
        except orjson.JSONDecodeError as exc:
            yield Outcome(ident, None, f"{where}: not valid JSON: {exc}")
            continue
        except InputError as exc:
            yield Outcome(ident, None, str(exc))
            continue
        yield Outcome(case.id, evaluate(case.caller, case.policies, case.request))
