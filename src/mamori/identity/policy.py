"""Policy documents: parse, validate and compile once, so that evaluation is cheap.

A compiled policy indexes its statements by service prefix and caches, per action, which
statements' Action/NotAction element matches it: actions carry no policy variables, so that
part of a decision never depends on the request context and is answered from a dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mamori.identity.conditions import CompiledCondition, compile_condition
from mamori.identity.errors import PolicyError
from mamori.identity.patterns import Pattern, compile_pattern
from mamori.identity.principals import PrincipalSet, compile_principal
from mamori.posture.policy import PolicyError as _DocumentError
from mamori.posture.policy import parse_policy as _decode

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
_VERSIONS = {VERSION_2012, VERSION_2008}
_TOP_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
# Kinds whose statements name who they apply to (resource-based and trust policies) and
# kinds attached to a principal, where a Principal element is invalid.
RESOURCE_KINDS = frozenset({"resource", "trust", "rcp"})
IDENTITY_KINDS = frozenset({"identity", "boundary", "session", "scp"})
_CACHE_LIMIT = 4096
# Condition keys whose values differ from one principal to another.
_PRINCIPAL_KEY_PREFIXES = (
    "aws:principal",
    "aws:username",
    "aws:userid",
    "aws:sourceidentity",
    "aws:federatedprovider",
)


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Which statement decided: enough for a user to find it in the console."""

    policy: str  # the policy's name or ARN
    kind: str  # identity | boundary | session | scp | rcp | resource | trust
    index: int  # 0-based position in the Statement list
    sid: str | None
    effect: str

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "kind": self.kind,
            "statement": self.index,
            "sid": self.sid,
            "effect": self.effect,
        }

    def __str__(self) -> str:
        label = self.sid if self.sid else f"#{self.index}"
        return f"{self.kind}:{self.policy}:{label}"


class _ActionMatcher:
    """Action or NotAction patterns, grouped by service prefix (actions are case-insensitive)."""

    __slots__ = ("all", "by_service", "negated", "services", "wild")

    def __init__(self, patterns: Sequence[str], negated: bool, where: str) -> None:
        self.negated = negated
        self.all = False
        self.by_service: dict[str, list[Pattern]] = {}
        self.wild: list[Pattern] = []  # patterns whose service part has a wildcard
        for raw in patterns:
            text = raw.strip()
            if text == "*":
                self.all = True
                continue
            service, sep, name = text.partition(":")
            if not sep or not service or not name:
                raise PolicyError(f"{where}: action {raw!r} is not 'service:action' or '*'")
            if "*" in service or "?" in service:
                self.wild.append(
                    compile_pattern(text, mode="string", variables=False, ignore_case=True)
                )
            else:
                self.by_service.setdefault(service.lower(), []).append(
                    compile_pattern(name, mode="string", variables=False, ignore_case=True)
                )
        self.services = frozenset(self.by_service)

    def matches(self, service: str, name: str, full: str) -> bool:
        hit = self.all
        if not hit:
            for pat in self.by_service.get(service, ()):
                if pat.match(name, _NO_CONTEXT):
                    hit = True
                    break
        if not hit:
            for pat in self.wild:
                if pat.match(full, _NO_CONTEXT):
                    hit = True
                    break
        return hit != self.negated

    def possible_services(self) -> frozenset[str] | None:
        """Service prefixes this element can match, or None when it can match any."""
        if self.negated or self.all or self.wild:
            return None
        return self.services


class Statement:
    """One compiled statement."""

    __slots__ = (
        "actions",
        "allow",
        "condition",
        "not_principal",
        "not_resource",
        "principals",
        "raw",
        "ref",
        "resources",
        "resources_everything",
    )

    def __init__(
        self,
        ref: StatementRef,
        allow: bool,
        actions: _ActionMatcher,
        resources: tuple[Pattern, ...] | None,
        not_resource: bool,
        principals: PrincipalSet | None,
        not_principal: bool,
        condition: CompiledCondition | None,
        raw: dict[str, Any],
    ) -> None:
        self.ref = ref
        self.allow = allow
        self.actions = actions
        self.resources = resources
        self.not_resource = not_resource
        self.resources_everything = (
            resources is not None
            and not not_resource
            and any(p.matches_everything for p in resources)
        )
        self.principals = principals
        self.not_principal = not_principal
        self.condition = condition
        self.raw = raw

    def matches_resource(self, resource: str, ctx: Any) -> bool:
        if self.resources is None:  # trust policies and other resource policies may omit it
            return True
        if self.resources_everything:
            return True
        hit = False
        for pat in self.resources:
            if pat.match(resource, ctx):
                hit = True
                break
        return hit != self.not_resource

    def matches_condition(self, ctx: Any) -> bool:
        return self.condition is None or self.condition.matches(ctx)


class CompiledPolicy:
    """A parsed, validated and compiled policy document."""

    __slots__ = (
        "_cache",
        "_general",
        "_indexed",
        "document",
        "kind",
        "name",
        "reads_principal",
        "statements",
        "version",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        version: str,
        statements: list[Statement],
        document: dict[str, Any],
    ) -> None:
        self.name = name
        self.kind = kind
        self.version = version
        self.statements = tuple(statements)
        self.document = document
        self._indexed: dict[str, list[Statement]] = {}
        self._general: list[Statement] = []
        for st in statements:
            services = st.actions.possible_services()
            if services is None:
                self._general.append(st)
            else:
                for svc in services:
                    self._indexed.setdefault(svc, []).append(st)
        self._cache: dict[str, tuple[Statement, ...]] = {}
        # Whether decisions can differ between principals with this same policy.
        self.reads_principal = self.uses_variables or any(
            key.startswith(_PRINCIPAL_KEY_PREFIXES)
            for st in statements
            if st.condition is not None
            for key in st.condition.keys
        )

    def for_action(self, action: str) -> tuple[Statement, ...]:
        """Statements whose Action/NotAction matches `action`, in document order."""
        return self.for_lowered_action(action.lower())

    def for_lowered_action(self, key: str) -> tuple[Statement, ...]:
        """for_action for an action already lower-cased (the evaluator lowers it once)."""
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        service, _, name = key.partition(":")
        candidates = self._indexed.get(service, [])
        if self._general:
            candidates = sorted([*candidates, *self._general], key=lambda s: s.ref.index)
        found = tuple(st for st in candidates if st.actions.matches(service, name, key))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = found
        return found

    @property
    def uses_variables(self) -> bool:
        return self.version == VERSION_2012 and "${" in repr(self.document)

    def __repr__(self) -> str:
        return f"CompiledPolicy({self.kind}:{self.name}, {len(self.statements)} statements)"


class _NoContext:
    """Action patterns never hold variables; they are matched without a context."""

    def get(self, key: str) -> None:
        return None

    def has(self, key: str) -> bool:
        return False

    def is_multivalued(self, key: str) -> bool:
        return False


_NO_CONTEXT: Any = _NoContext()


def decode_document(doc: Any, where: str) -> dict[str, Any]:
    """A policy as a dict from an object, JSON text or URL-encoded JSON text."""
    try:
        return _decode(doc, where)
    except _DocumentError as exc:
        raise PolicyError(str(exc)) from None


def _strings(value: Any, where: str, element: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PolicyError(f"{where}: {element} is an empty list")
    out = []
    for item in items:
        if not isinstance(item, str) or not item:
            raise PolicyError(f"{where}: {element} must be a string or a list of strings")
        out.append(item)
    return out


def _one_of(st: dict[str, Any], first: str, second: str, where: str, required: bool) -> str | None:
    if first in st and second in st:
        raise PolicyError(f"{where}: has both {first} and {second}")
    if first in st:
        return first
    if second in st:
        return second
    if required:
        raise PolicyError(f"{where}: needs {first} or {second}")
    return None


def _statement(raw: Any, index: int, name: str, kind: str, version: str) -> Statement:
    where = f"policy {name} statement {index}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a statement must be an object, got {type(raw).__name__}")
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise PolicyError(f"{where}: unknown element(s) {', '.join(sorted(unknown))}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}: Sid must be a string")
    if sid:
        where = f"policy {name} statement {index} ({sid})"
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be 'Allow' or 'Deny', got {effect!r}")
    action_key = _one_of(raw, "Action", "NotAction", where, required=True)
    assert action_key is not None
    actions = _ActionMatcher(
        _strings(raw[action_key], where, action_key), action_key == "NotAction", where
    )
    variables = version == VERSION_2012
    resource_key = _one_of(
        raw, "Resource", "NotResource", where, required=kind not in RESOURCE_KINDS
    )
    resources = None
    if resource_key is not None:
        try:
            resources = tuple(
                compile_pattern(r, mode="resource", variables=variables)
                for r in _strings(raw[resource_key], where, resource_key)
            )
        except PolicyError as exc:
            if exc.where.startswith("policy "):
                raise
            raise PolicyError(f"{where} {resource_key}", str(exc)) from None
    principal_key = _one_of(
        raw, "Principal", "NotPrincipal", where, required=kind in {"resource", "trust"}
    )
    if principal_key is not None and kind in IDENTITY_KINDS:
        raise PolicyError(f"{where}: {principal_key} is not allowed in a {kind} policy")
    if principal_key == "NotPrincipal" and effect == "Allow":
        # IAM accepts the document, but AWS documents it as unsupported; it is evaluated as
        # written (everyone but the listed principals) and the lints flag it.
        pass
    principals = (
        compile_principal(raw[principal_key], f"{where} {principal_key}")
        if principal_key is not None
        else None
    )
    condition = compile_condition(raw.get("Condition"), f"{where} Condition", variables=variables)
    ref = StatementRef(name, kind, index, sid or None, effect)
    return Statement(
        ref,
        effect == "Allow",
        actions,
        resources,
        resource_key == "NotResource",
        principals,
        principal_key == "NotPrincipal",
        condition,
        raw,
    )


def compile_policy(doc: Any, *, name: str, kind: str = "identity") -> CompiledPolicy:
    """Parse and compile one policy document; PolicyError names what is malformed."""
    where = f"policy {name}"
    document = decode_document(doc, where)
    unknown = set(document) - _TOP_KEYS
    if unknown:
        raise PolicyError(f"{where}: unknown top-level element(s) {', '.join(sorted(unknown))}")
    version = document.get("Version", VERSION_2008)
    if not isinstance(version, str) or version not in _VERSIONS:
        raise PolicyError(
            f"{where}: Version must be {VERSION_2012} or {VERSION_2008}, got {version!r}"
        )
    if "Statement" not in document:
        raise PolicyError(f"{where}: no Statement")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise PolicyError(f"{where}: Statement must be an object or a list of objects")
    statements = [_statement(st, i, name, kind, version) for i, st in enumerate(raw_statements)]
    return CompiledPolicy(name, kind, version, statements, document)


class PolicyCache:
    """Compile each distinct document once (many principals share the same policies)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], CompiledPolicy] = {}

    def get(self, key: str, doc: Any, *, name: str, kind: str) -> CompiledPolicy:
        hit = self._by_key.get((key, kind))
        if hit is None:
            hit = compile_policy(doc, name=name, kind=kind)
            self._by_key[(key, kind)] = hit
        return hit

    def __len__(self) -> int:
        return len(self._by_key)


def compile_all(docs: Iterable[tuple[str, Any]], kind: str) -> list[CompiledPolicy]:
    return [compile_policy(doc, name=name, kind=kind) for name, doc in docs]
