"""Compile a Web ACL (and the rule groups, IP sets and regex pattern sets it references) once
into rules of closures, and evaluate requests against them as AWS WAF does.

Evaluation follows the developer guide: rules in Priority order; a matching rule adds its labels;
Count records a non-terminating match and goes on; Allow, Block, Captcha and Challenge end the
evaluation (Captcha and Challenge stand in for the interstitial: Mamori issues no tokens, so a
matching request always gets the challenge). A rule group runs its own rules with the
reference's ExcludedRules (as Count) and RuleActionOverrides applied, behind its scope-down
statement; OverrideAction Count turns its terminating match into a counted one. When no rule
ends the evaluation, the default action applies.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import maxminddb

from mamori.core import InputError, parse_arn
from mamori.perimeter.waf import ratebased  # noqa: F401 - registers RateBasedStatement
from mamori.perimeter.waf.fields import Extractor, field_key
from mamori.perimeter.waf.managed import find_managed
from mamori.perimeter.waf.patterns import Chain, PatternGroup, build_chain
from mamori.perimeter.waf.request import Inspection, Request
from mamori.perimeter.waf.statements import (
    STATEMENTS,
    TOP_LEVEL_ONLY,
    Matcher,
    Node,
    decode_search_string,
)

DEFAULT_BODY_LIMIT = 16 * 1024
_BODY_LIMITS = {"KB_16": 16, "KB_32": 32, "KB_48": 48, "KB_64": 64}
WEB_ACL_MAX_WCU = 5000
RULE_GROUP_MAX_WCU = 5000
_MAX_PROBLEMS = 25


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # ALLOW, BLOCK, COUNT, CAPTCHA, CHALLENGE
    status: int | None = None  # Block's custom response code (403 otherwise)
    response_headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    content_type: str | None = None
    insert_headers: tuple[tuple[str, str], ...] = ()  # Allow/Count custom request handling

    @property
    def terminating(self) -> bool:
        return self.kind != "COUNT"


@dataclass(frozen=True, slots=True)
class Verdict:
    action: str
    terminating_rule: str  # the Web ACL rule's name, or Default_Action as AWS logs it
    labels: tuple[str, ...]
    non_terminating_matches: tuple[str, ...]
    rule_group_rule: str | None = None  # inside a rule group: the group's own rule
    response: Action | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action,
            "terminating_rule": self.terminating_rule,
            "labels": list(self.labels),
            "non_terminating_matches": list(self.non_terminating_matches),
        }
        if self.rule_group_rule:
            out["rule_group_rule"] = self.rule_group_rule
        if self.response is not None and self.response.status is not None:
            out["response_code"] = self.response.status
        return out


@dataclass(slots=True)
class Rule:
    name: str
    priority: int
    match: Matcher
    labels: tuple[str, ...]
    action: Action | None = None
    group: Group | None = None
    count_group: bool = False  # OverrideAction Count
    kind: str = "REGULAR"  # as WAF logs terminatingRuleType: REGULAR, RATE_BASED, GROUP...
    rate: dict[str, Any] | None = None  # a rate-based rule's statement, for its log entry


@dataclass(slots=True)
class Group:
    name: str
    rules: list[Rule]
    scope_down: Matcher | None = None
    id: str = ""  # as WAF logs ruleGroupId: the group's ARN, or Vendor#Name for a managed one


@dataclass
class Resources:
    """What a Web ACL refers to by ARN, and the MMDB files for geo and ASN statements."""

    rule_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    ip_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    regex_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    geo_db: str | None = None
    asn_db: str | None = None


class _Mmdb:
    def __init__(self, path: str) -> None:
        try:
            self.reader = maxminddb.open_database(path)
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise InputError(f"{path}: cannot open as an MMDB database: {exc}") from exc

    def _get(self, ip: Any) -> dict[str, Any]:
        try:
            record = self.reader.get(ip)
        except ValueError:  # an IPv6 address asked of an IPv4-only database
            return {}
        return record if isinstance(record, dict) else {}

    def country(self, ip: Any) -> tuple[str | None, str | None]:
        record = self._get(ip)
        country = record.get("country") or record.get("registered_country") or {}
        code = country.get("iso_code") if isinstance(country, dict) else None
        subdivisions = record.get("subdivisions") or [{}]
        region = subdivisions[0].get("iso_code") if isinstance(subdivisions[0], dict) else None
        return (code if isinstance(code, str) else None), (
            region if isinstance(region, str) else None
        )

    def asn(self, ip: Any) -> int | None:
        value = self._get(ip).get("autonomous_system_number")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class Compiler:
    """One compilation: statement compilers call back into it for shared state and problems."""

    def __init__(
        self,
        resources: Resources,
        *,
        source: str,
        search_string_encoding: str = "base64",
        strict_resources: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.resources = resources
        self.source = source
        self.encoding = search_string_encoding
        self.strict = strict_resources
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.groups: dict[tuple[bytes, tuple[str, ...], bool], PatternGroup] = {}
        self.extractors: dict[bytes, Extractor] = {}
        self.chains: dict[tuple[int, tuple[str, ...]], Chain] = {}
        self._mmdb: dict[str, _Mmdb] = {}
        # for statement types that keep state: the rate-based counters' clock
        self.hooks: dict[str, Any] = {"clock": clock} if clock else {}

    # -- reporting --------------------------------------------------------------------------
    def problem(self, text: str) -> None:
        self.problems.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def missing(self, text: str) -> None:
        (self.problem if self.strict else self.warn)(text)

    # -- shared state -----------------------------------------------------------------------
    def shared_extractor(self, spec: dict[str, Any], extract: Extractor) -> Extractor:
        return self.extractors.setdefault(field_key(spec), extract)

    def chain(self, extract: Extractor, steps: tuple[str, ...]) -> Chain:
        """The component's values after `steps` (extractors are shared: see above)."""
        return build_chain(extract, steps, self.chains)

    def group(
        self, spec: dict[str, Any], extract: Extractor, steps: tuple[str, ...], *, latin1: bool
    ) -> PatternGroup:
        key = (field_key(spec), steps, latin1)
        if key not in self.groups:
            self.groups[key] = PatternGroup(self.chain(extract, steps), latin1)
        return self.groups[key]

    def search_string(self, raw: str, path: str) -> bytes:
        value = decode_search_string(raw, self.encoding)
        if value is None:
            self.problem(
                f"{path}: not base64 (the API's JSON carries SearchString base64-encoded; "
                "for files that hold the text itself, use search_string_encoding='text')"
            )
            return raw.encode("utf-8")
        if self.encoding == "base64" and not value.isascii():
            self.warn(f"{path}: decodes to non-ASCII bytes; is this file's SearchString text?")
        return value

    def ip_set(self, arn: str, path: str) -> list[Any]:
        doc = self.resources.ip_sets.get(arn)
        if doc is None:
            self.missing(f"{path}: IP set {arn} not supplied")
            return []
        networks = []
        for text in doc.get("Addresses") or ():
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                self.problem(f"{path}: IP set {arn}: {text!r} is not a CIDR block")
        return networks

    def regex_set(self, arn: str, path: str) -> list[str]:
        doc = self.resources.regex_sets.get(arn)
        if doc is None:
            self.missing(f"{path}: regex pattern set {arn} not supplied")
            return []
        return [str(r["RegexString"]) for r in doc.get("RegularExpressionList") or ()]

    def _db(self, path: str | None, what: str, where: str) -> Any:
        if path is None:
            self.missing(f"{where}: {what} needs an MMDB database (geo_db / asn_db)")
            return _NoDb()
        if path not in self._mmdb:
            self._mmdb[path] = _Mmdb(path)
        return self._mmdb[path]

    def geo(self, where: str) -> Any:
        return self._db(self.resources.geo_db, "GeoMatchStatement", where)

    def asn(self, where: str) -> Any:
        return self._db(self.resources.asn_db, "AsnMatchStatement", where)

    # -- statements -------------------------------------------------------------------------
    def statement(self, spec: dict[str, Any], path: str, top: bool = False) -> Node:
        present = [k for k, v in spec.items() if v is not None]
        if len(present) != 1:
            self.problem(f"{path}: a statement names exactly one statement type, not {present}")
            return Node(_never, 0, 0)
        kind = present[0]
        if kind in TOP_LEVEL_ONLY and not top:
            self.problem(f"{path}.{kind}: cannot be nested")
            return Node(_never, 0, 0)
        compile_one = STATEMENTS.get(kind)
        if compile_one is None:
            self.problem(f"{path}.{kind}: not supported by Mamori's engine")
            return Node(_never, 0, 0)
        return compile_one(spec[kind], self, f"{path}.{kind}")

    def nested(self, spec: dict[str, Any], path: str) -> Node:
        return self.statement(spec, path, top=False)

    def finish(self) -> None:
        for group in self.groups.values():
            group.compile()
        if self.problems:
            shown = "; ".join(self.problems[:_MAX_PROBLEMS])
            more = len(self.problems) - _MAX_PROBLEMS
            raise InputError(f"{self.source}: {shown}" + (f"; and {more} more" if more > 0 else ""))


class _NoDb:
    def country(self, _: Any) -> tuple[None, None]:
        return None, None

    def asn(self, _: Any) -> None:
        return None


def _never(_: Inspection) -> bool:
    return False


# -- actions ------------------------------------------------------------------------------------


def compile_action(
    spec: dict[str, Any], bodies: dict[str, Any], path: str, ctx: Compiler
) -> Action:
    present = [k for k, v in spec.items() if v is not None]
    if len(present) != 1:
        ctx.problem(f"{path}: an action names exactly one of Allow, Block, Count, Captcha...")
        return Action("COUNT")
    kind = present[0]
    options = spec[kind] or {}
    if kind == "Monetize":
        ctx.problem(f"{path}.Monetize: not supported by Mamori's engine")
        return Action("COUNT")
    handling = (options.get("CustomRequestHandling") or {}).get("InsertHeaders") or ()
    inserted = tuple((f"x-amzn-waf-{h['Name']}", h["Value"]) for h in handling)
    response = options.get("CustomResponse")
    if kind != "Block" or not response:
        return Action(kind.upper(), insert_headers=inserted)
    key = response.get("CustomResponseBodyKey")
    body = bodies.get(key) if key else None
    if key and body is None:
        ctx.problem(f"{path}.Block.CustomResponse.CustomResponseBodyKey: {key!r} is not in "
                    "CustomResponseBodies")  # fmt: skip
    headers = tuple((h["Name"], h["Value"]) for h in response.get("ResponseHeaders") or ())
    return Action(
        "BLOCK",
        status=int(response["ResponseCode"]),
        response_headers=headers,
        body=body["Content"] if body else None,
        content_type=body["ContentType"] if body else None,
    )


# -- rules --------------------------------------------------------------------------------------


def qualify(namespace: str, name: str) -> str:
    return name if name.startswith("awswaf:") else namespace + name


def compile_rules(
    rules: list[dict[str, Any]],
    ctx: Compiler,
    *,
    namespace: str,
    bodies: dict[str, Any],
    where: str,
    in_group: bool,
    overrides: dict[str, Action] | None = None,
) -> tuple[list[Rule], int]:
    """Rules sorted by priority, and their capacity units."""
    names: set[str] = set()
    priorities: set[int] = set()
    compiled: list[Rule] = []
    wcu = 0
    for i, raw in enumerate(rules):
        name, priority = str(raw["Name"]), int(raw["Priority"])
        path = f"{where}[{i}] (rule {name!r})"
        if name in names:
            ctx.problem(f"{path}.Name: another rule has this name")
        if priority in priorities:
            ctx.problem(f"{path}.Priority: another rule has priority {priority}")
        names.add(name)
        priorities.add(priority)
        stmt = raw["Statement"]
        kind = next((k for k, v in stmt.items() if v is not None), "")
        is_group = kind in ("RuleGroupReferenceStatement", "ManagedRuleGroupStatement")
        if is_group and in_group:
            ctx.problem(f"{path}.Statement.{kind}: a rule group cannot reference rule groups")
            continue
        labels = tuple(qualify(namespace, lab["Name"]) for lab in raw.get("RuleLabels") or ())
        if is_group:
            if raw.get("Action") is not None or raw.get("OverrideAction") is None:
                ctx.problem(f"{path}: a rule group reference takes OverrideAction, not Action")
            group, group_wcu = compile_group(stmt[kind], kind, ctx, f"{path}.Statement.{kind}")
            count = (raw.get("OverrideAction") or {}).get("Count") is not None
            rule_kind = "MANAGED_RULE_GROUP" if kind == "ManagedRuleGroupStatement" else "GROUP"
            compiled.append(Rule(name, priority, _always, labels, None, group, count, rule_kind))
            wcu += group_wcu
            continue
        if raw.get("OverrideAction") is not None or raw.get("Action") is None:
            ctx.problem(f"{path}: a rule takes Action (OverrideAction is for rule groups)")
        node = ctx.statement(stmt, f"{path}.Statement", top=True)
        action = compile_action(raw.get("Action") or {"Count": {}}, bodies, f"{path}.Action", ctx)
        if overrides and name in overrides:
            action = overrides[name]
        rate = stmt.get("RateBasedStatement")
        rule_kind = "RATE_BASED" if rate is not None else "REGULAR"
        compiled.append(Rule(name, priority, node.match, labels, action, kind=rule_kind, rate=rate))
        wcu += node.wcu
    compiled.sort(key=lambda r: r.priority)
    return compiled, wcu


def _always(_: Inspection) -> bool:
    return True


def _overrides(spec: dict[str, Any], ctx: Compiler, path: str) -> dict[str, Action]:
    found = {str(r["Name"]): Action("COUNT") for r in spec.get("ExcludedRules") or ()}
    for i, item in enumerate(spec.get("RuleActionOverrides") or ()):
        where = f"{path}.RuleActionOverrides[{i}].ActionToUse"
        found[str(item["Name"])] = compile_action(item["ActionToUse"], {}, where, ctx)
    return found


def compile_group(spec: dict[str, Any], kind: str, ctx: Compiler, path: str) -> tuple[Group, int]:
    overrides = _overrides(spec, ctx, path)
    scope = spec.get("ScopeDownStatement")
    scope_node = ctx.nested(scope, f"{path}.ScopeDownStatement") if scope else None
    if kind == "ManagedRuleGroupStatement":
        vendor, name = str(spec["VendorName"]), str(spec["Name"])
        managed = find_managed(vendor, name)
        if managed is None:
            ctx.missing(f"{path}: managed rule group {vendor}/{name} is not available")
            return Group(name, [], _never), 0
        bodies: dict[str, Any] = {}
        doc_rules, namespace = managed.rules(), managed.label_namespace
        capacity, label = managed.capacity, f"{vendor}#{name}"
    else:
        arn = str(spec["ARN"])
        doc = ctx.resources.rule_groups.get(arn)
        if doc is None:
            ctx.missing(f"{path}.ARN: rule group {arn} not supplied")
            return Group(arn, [], _never), 0
        doc_rules = doc.get("Rules") or []
        namespace = rule_group_namespace(doc)
        bodies = doc.get("CustomResponseBodies") or {}
        capacity, label = int(doc["Capacity"]), str(doc["Name"])
    known = {str(r["Name"]) for r in doc_rules}
    for rule_name in overrides:
        if rule_name not in known:
            ctx.warn(f"{path}: excluded/overridden rule {rule_name!r} is not in {label}")
    # Managed content carries SearchString as the API does (base64, binary allowed), whatever
    # the user's files do: any encoding but "text" decodes base64, and only "base64" warns.
    encoding = ctx.encoding
    if kind == "ManagedRuleGroupStatement":
        ctx.encoding = "managed"
    try:
        rules, _ = compile_rules(
            doc_rules, ctx, namespace=namespace, bodies=bodies,
            where=f"{path}<{label}>.Rules", in_group=True, overrides=overrides,
        )  # fmt: skip
    finally:
        ctx.encoding = encoding
    wcu = capacity + (scope_node.wcu if scope_node else 0)
    group_id = label if kind == "ManagedRuleGroupStatement" else str(spec["ARN"])
    return Group(label, rules, scope_node.match if scope_node else None, group_id), wcu


def _account(arn: str) -> str:
    try:
        return parse_arn(arn).account or ""
    except (ValueError, AttributeError):
        return ""


def web_acl_namespace(doc: dict[str, Any]) -> str:
    ns = doc.get("LabelNamespace")
    return str(ns) if ns else f"awswaf:{_account(str(doc['ARN']))}:webacl:{doc['Name']}:"


def rule_group_namespace(doc: dict[str, Any]) -> str:
    ns = doc.get("LabelNamespace")
    return str(ns) if ns else f"awswaf:{_account(str(doc['ARN']))}:rulegroup:{doc['Name']}:"


# -- evaluation ---------------------------------------------------------------------------------


@dataclass
class _Run:
    insp: Inspection
    counted: list[str]


def _run(rules: list[Rule], run: _Run, prefix: str = "") -> tuple[Action, Rule, str | None] | None:
    for rule in rules:
        if rule.group is not None:
            group = rule.group
            if group.scope_down is not None and not group.scope_down(run.insp):
                continue
            inner = _run(group.rules, run, prefix=f"{rule.name}:")
            if inner is None:
                continue
            action, inner_rule, _ = inner
            if rule.count_group:
                run.counted.append(rule.name)
                continue
            for label in rule.labels:
                run.insp.labels_add(label)
            return action, rule, inner_rule.name
        if not rule.match(run.insp):
            continue
        for label in rule.labels:
            run.insp.labels_add(label)
        assert rule.action is not None
        if not rule.action.terminating:
            run.counted.append(prefix + rule.name)
            continue
        return rule.action, rule, None
    return None


@dataclass
class WebAcl:
    """A compiled Web ACL: evaluate requests with `evaluate`."""

    name: str
    rules: list[Rule]
    default: Action
    capacity: int
    warnings: list[str]
    body_limit: int = DEFAULT_BODY_LIMIT
    hooks: dict[str, Any] = field(default_factory=dict)
    arn: str = ""

    def evaluate(self, request: Request) -> Verdict:
        insp = Inspection(request, self.body_limit)
        run = _Run(insp, [])
        result = _run(self.rules, run)
        if result is None:
            return Verdict(
                self.default.kind, "Default_Action", tuple(insp.labels), tuple(run.counted),
                response=self.default,
            )  # fmt: skip
        action, rule, inner = result
        return Verdict(
            action.kind, rule.name, tuple(insp.labels), tuple(run.counted), inner, action
        )


def body_limit(doc: dict[str, Any]) -> int:
    """The body inspection size the Web ACL's AssociationConfig sets (16 KB by default)."""
    config = (doc.get("AssociationConfig") or {}).get("RequestBody") or {}
    sizes = [
        _BODY_LIMITS.get(str(v.get("DefaultSizeInspectionLimit")), 16) for v in config.values()
    ]
    return max(sizes, default=16) * 1024


def compile_web_acl(doc: dict[str, Any], ctx: Compiler) -> WebAcl:
    bodies = doc.get("CustomResponseBodies") or {}
    rules, wcu = compile_rules(
        doc.get("Rules") or [], ctx, namespace=web_acl_namespace(doc), bodies=bodies,
        where="Rules", in_group=False,
    )  # fmt: skip
    default = compile_action(doc["DefaultAction"], bodies, "DefaultAction", ctx)
    if wcu > WEB_ACL_MAX_WCU:
        ctx.problem(f"Rules: {wcu} capacity units, over the Web ACL maximum of {WEB_ACL_MAX_WCU}")
    elif wcu > 1500:
        ctx.warn(f"Rules: {wcu} capacity units; AWS bills Web ACLs over 1,500 WCU extra")
    ctx.finish()
    return WebAcl(
        str(doc["Name"]), rules, default, wcu, ctx.warnings, body_limit(doc), ctx.hooks,
        str(doc.get("ARN") or ""),
    )  # fmt: skip


def compile_rule_group(doc: dict[str, Any], ctx: Compiler) -> tuple[int, list[str]]:
    """Check a rule group on its own: its rules' capacity and the warnings."""
    _, wcu = compile_rules(
        doc.get("Rules") or [], ctx, namespace=rule_group_namespace(doc),
        bodies=doc.get("CustomResponseBodies") or {}, where="Rules", in_group=True,
    )  # fmt: skip
    declared = int(doc["Capacity"])
    if wcu > declared:
        ctx.problem(f"Rules: {wcu} capacity units, over the group's Capacity of {declared}")
    if declared > RULE_GROUP_MAX_WCU:
        ctx.problem(f"Capacity: {declared}, over the rule group maximum of {RULE_GROUP_MAX_WCU}")
    ctx.finish()
    return wcu, ctx.warnings


Evaluate = Callable[[Request], Verdict]
