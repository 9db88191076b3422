"""Firewall policy and rule group files -> a compiled `Policy`.

Inputs are what the AWS CLI prints: `describe-firewall-policy` (or the bare FirewallPolicy
object) and `describe-rule-group` for each rule group it references. Rule groups come from
their own files, or embedded in the policy file as a top-level `RuleGroups` list of
`describe-rule-group` outputs. Everything is validated against botocore's model of the API and
then for meaning (CIDRs, port ranges, actions, priorities, references); every error names the
file, the rule group and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from mamori.core import InputError
from mamori.perimeter.netfw import domains, validate
from mamori.perimeter.netfw.addresses import AddressSet, PortSet, parse_network
from mamori.perimeter.netfw.model import (
    DEFAULT_ORDER,
    STATEFUL_DEFAULTS,
    STATELESS_ACTIONS,
    STRICT_ORDER,
    TCP_FLAG_BITS,
    Action,
    Policy,
    StatefulGroup,
    StatefulRule,
    StatelessGroup,
    StatelessRule,
)
from mamori.perimeter.netfw.suricata import (
    OptionSet,
    RuleSyntaxError,
    UnsupportedRuleError,
    Variables,
    parse_addresses,
    parse_ports,
    parse_rules,
)

# What AWS uses when HOME_NET is not set is the inspection VPC's CIDR, which the files do not
# say; the private ranges stand in for it (override with home_net).
DEFAULT_HOME_NET = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
MAX_FILE_BYTES = 64 << 20

_POLICY_KEYS = {"FirewallPolicy", "FirewallPolicyResponse", "UpdateToken", "RuleGroups"}
_GROUP_KEYS = {"RuleGroup", "RuleGroupResponse", "UpdateToken"}


def read_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MB")
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None


def _rule_group_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        else:
            files.append(path)
    return files


def load_policy(
    policy_file: Path,
    rule_group_files: list[Path] | None = None,
    *,
    home_net: list[str] | None = None,
) -> Policy:
    """Read, validate and compile a policy and its rule groups (files or folders of them)."""
    document = read_json(policy_file)
    where = str(policy_file)
    if not isinstance(document, dict):
        raise InputError(f"{where}: expected a JSON object (describe-firewall-policy output)")
    embedded: list[tuple[str, Any]] = []
    if "FirewallPolicy" in document:
        if unknown := set(document) - _POLICY_KEYS:
            raise InputError(f"{where}: unknown top-level key(s) {', '.join(sorted(unknown))}")
        body = document["FirewallPolicy"]
        response = document.get("FirewallPolicyResponse") or {}
        if response:
            validate.check(response, "FirewallPolicyResponse", f"{where}: FirewallPolicyResponse")
        name = str(response.get("FirewallPolicyName") or policy_file.stem)
        groups = document.get("RuleGroups", [])
        if not isinstance(groups, list):
            raise InputError(f"{where}: RuleGroups must be a list of describe-rule-group outputs")
        embedded = [(f"{where}: RuleGroups[{n}]", group) for n, group in enumerate(groups)]
    else:
        body, name = document, policy_file.stem
    validate.check(body, "FirewallPolicy", f"{where}: FirewallPolicy")
    files = _rule_group_files(rule_group_files or [])
    loaded = [(str(path), read_json(path)) for path in files]
    groups_by_arn: dict[str, tuple[str, dict[str, Any]]] = {}
    for source, group in [*embedded, *loaded]:
        arn, checked = _check_group_document(group, source)
        if arn in groups_by_arn:
            raise InputError(f"{source}: rule group {arn} is also in {groups_by_arn[arn][0]}")
        groups_by_arn[arn] = (source, checked)
    return _compile(body, name, where, groups_by_arn, home_net)


def _check_group_document(document: Any, where: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(document, dict) or "RuleGroup" not in document:
        raise InputError(
            f"{where}: expected describe-rule-group output (RuleGroup and RuleGroupResponse)"
        )
    if unknown := set(document) - _GROUP_KEYS:
        raise InputError(f"{where}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    response = document.get("RuleGroupResponse")
    if not isinstance(response, dict):
        raise InputError(f"{where}: RuleGroupResponse (with RuleGroupArn and Type) is required")
    validate.check(response, "RuleGroupResponse", f"{where}: RuleGroupResponse")
    name = response["RuleGroupName"]
    validate.check(document["RuleGroup"], "RuleGroup", f"{where}: rule group {name!r}")
    if "Type" not in response:
        raise InputError(f"{where}: rule group {name!r}: RuleGroupResponse.Type is required")
    return response["RuleGroupArn"], document


def _compile(
    body: dict[str, Any],
    name: str,
    where: str,
    groups: dict[str, tuple[str, dict[str, Any]]],
    home_net: list[str] | None,
) -> Policy:
    warnings: list[str] = []
    home = _ip_set(home_net or list(DEFAULT_HOME_NET), f"{where}: HOME_NET")
    policy_vars = (body.get("PolicyVariables") or {}).get("RuleVariables") or {}
    for key, ipset in policy_vars.items():
        if key != "HOME_NET":
            raise InputError(
                f"{where}: PolicyVariables.RuleVariables.{key}: only HOME_NET can be set"
            )
        home = _ip_set(ipset["Definition"], f"{where}: PolicyVariables.RuleVariables.HOME_NET")
    custom = {a["ActionName"] for a in body.get("StatelessCustomActions", [])}
    stateless_default = _stateless_action(
        body["StatelessDefaultActions"], custom, f"{where}: StatelessDefaultActions"
    )
    fragment_default = _stateless_action(
        body["StatelessFragmentDefaultActions"], custom, f"{where}: StatelessFragmentDefaultActions"
    )
    order = (body.get("StatefulEngineOptions") or {}).get("RuleOrder", DEFAULT_ORDER)
    defaults = tuple(body.get("StatefulDefaultActions", []))
    _check_stateful_defaults(defaults, order, where)

    stateless: list[StatelessGroup] = []
    seen_priorities: set[int] = set()
    for n, ref in enumerate(body.get("StatelessRuleGroupReferences", [])):
        field = f"{where}: StatelessRuleGroupReferences[{n}]"
        if ref["Priority"] in seen_priorities:
            raise InputError(f"{field}.Priority: {ref['Priority']} is used twice")
        seen_priorities.add(ref["Priority"])
        source, group = _referenced(groups, ref["ResourceArn"], field, "STATELESS", warnings)
        if group is not None:
            stateless.append(_stateless_group(group, ref, source))

    stateful: list[StatefulGroup] = []
    seen_priorities = set()
    for n, ref in enumerate(body.get("StatefulRuleGroupReferences", [])):
        field = f"{where}: StatefulRuleGroupReferences[{n}]"
        priority = ref.get("Priority")
        if order == STRICT_ORDER:
            if priority is None:
                raise InputError(f"{field}.Priority: required with STRICT_ORDER")
            if priority in seen_priorities:
                raise InputError(f"{field}.Priority: {priority} is used twice")
            seen_priorities.add(priority)
        elif priority is not None:
            warnings.append(f"{field}.Priority is ignored: the policy uses {DEFAULT_ORDER}")
        source, group = _referenced(groups, ref["ResourceArn"], field, "STATEFUL", warnings)
        if group is not None:
            stateful.append(_stateful_group(group, ref, source, order, home, warnings))
    return Policy(
        name=name,
        stateless_groups=stateless,
        stateless_default=stateless_default,
        stateless_fragment_default=fragment_default,
        stateful_groups=stateful,
        rule_order=order,
        stateful_defaults=defaults,
        home_net=home,
        warnings=warnings,
    )


def _check_stateful_defaults(defaults: tuple[str, ...], order: str, where: str) -> None:
    field = f"{where}: StatefulDefaultActions"
    if defaults and order != STRICT_ORDER:
        raise InputError(f"{field}: only allowed with StatefulEngineOptions.RuleOrder STRICT_ORDER")
    for action in defaults:
        if action not in STATEFUL_DEFAULTS:
            raise InputError(f"{field}: {action!r} is not one of {', '.join(STATEFUL_DEFAULTS)}")
    if (
        sum(a.startswith("aws:drop") for a in defaults) > 1
        or sum(a.startswith("aws:alert") for a in defaults) > 1
    ):
        raise InputError(f"{field}: at most one drop and one alert action")


def _referenced(
    groups: dict[str, tuple[str, dict[str, Any]]],
    arn: str,
    field: str,
    kind: str,
    warnings: list[str],
) -> tuple[str, dict[str, Any] | None]:
    found = groups.get(arn)
    if found is None:
        if ":aws-managed:" in arn:
            warnings.append(
                f"{field}: AWS managed rule group {arn} is not evaluated (its rules are not public)"
            )
            return "", None
        raise InputError(
            f"{field}.ResourceArn: rule group {arn} not given (pass its describe-rule-group "
            "output with --rule-group)"
        )
    source, document = found
    group_type = document["RuleGroupResponse"]["Type"]
    if group_type != kind:
        raise InputError(f"{field}: rule group {arn} is {group_type}, referenced as {kind}")
    return source, document


def _stateless_action(actions: list[str], custom: set[str], field: str) -> str:
    standard = [a for a in actions if a in STATELESS_ACTIONS]
    if len(standard) != 1:
        raise InputError(f"{field}: exactly one of {', '.join(STATELESS_ACTIONS)} is required")
    for action in actions:
        if action not in STATELESS_ACTIONS and action not in custom:
            raise InputError(
                f"{field}: {action!r} is neither a standard nor a defined custom action"
            )
    return standard[0]


def _ip_set(definition: list[str], field: str) -> AddressSet:
    try:
        return AddressSet(tuple(parse_network(text) for text in definition))
    except ValueError as exc:
        raise InputError(f"{field}: {exc}") from None


def _addresses(items: list[dict[str, str]], field: str) -> AddressSet:
    if not items:
        return AddressSet()
    return _ip_set([item["AddressDefinition"] for item in items], field)


def _ports(items: list[dict[str, int]], field: str) -> PortSet:
    if not items:
        return PortSet()
    for n, item in enumerate(items):
        if item["FromPort"] > item["ToPort"]:
            raise InputError(f"{field}[{n}]: FromPort {item['FromPort']} > ToPort {item['ToPort']}")
    return PortSet(tuple((i["FromPort"], i["ToPort"]) for i in items))


def _flag_bits(names: list[str]) -> int:
    bits = 0
    for name in names:
        bits |= TCP_FLAG_BITS[name]
    return bits


def _stateless_group(document: dict[str, Any], ref: dict[str, Any], source: str) -> StatelessGroup:
    name = document["RuleGroupResponse"]["RuleGroupName"]
    where = f"{source}: rule group {name!r}"
    rules_source = document["RuleGroup"]["RulesSource"]
    body = rules_source.get("StatelessRulesAndCustomActions")
    if body is None or len(rules_source) != 1:
        raise InputError(
            f"{where}: a STATELESS rule group needs RulesSource."
            "StatelessRulesAndCustomActions alone"
        )
    custom = {a["ActionName"] for a in body.get("CustomActions", [])}
    rules: list[StatelessRule] = []
    priorities: set[int] = set()
    for n, rule in enumerate(body["StatelessRules"]):
        field = f"{where}: StatelessRules[{n}]"
        if rule["Priority"] in priorities:
            raise InputError(f"{field}.Priority: {rule['Priority']} is used twice")
        priorities.add(rule["Priority"])
        definition = rule["RuleDefinition"]
        match = definition["MatchAttributes"]
        action = _stateless_action(definition["Actions"], custom, f"{field}.RuleDefinition.Actions")
        flags: list[tuple[int, int]] = []
        for k, entry in enumerate(match.get("TCPFlags", [])):
            wanted = _flag_bits(entry["Flags"])
            masks = _flag_bits(entry.get("Masks") or list(TCP_FLAG_BITS))
            if wanted & ~masks:
                raise InputError(
                    f"{field}.MatchAttributes.TCPFlags[{k}]: Flags must be within Masks"
                )
            flags.append((wanted, masks))
        protocols = match.get("Protocols")
        rules.append(
            StatelessRule(
                group=name,
                priority=rule["Priority"],
                action=action,
                custom_actions=tuple(a for a in definition["Actions"] if a != action),
                sources=_addresses(match.get("Sources", []), f"{field}.MatchAttributes.Sources"),
                destinations=_addresses(
                    match.get("Destinations", []), f"{field}.MatchAttributes.Destinations"
                ),
                source_ports=_ports(
                    match.get("SourcePorts", []), f"{field}.MatchAttributes.SourcePorts"
                ),
                destination_ports=_ports(
                    match.get("DestinationPorts", []), f"{field}.MatchAttributes.DestinationPorts"
                ),
                protocols=frozenset(protocols) if protocols else None,
                tcp_flags=tuple(flags),
            )
        )
    return StatelessGroup(
        name, document["RuleGroupResponse"]["RuleGroupArn"], ref["Priority"], tuple(rules)
    )


def _variables(group: dict[str, Any], home: AddressSet, where: str) -> Variables:
    variables = Variables()
    variables.ips["HOME_NET"] = home
    declared = group.get("RuleVariables") or {}
    for key, ipset in (declared.get("IPSets") or {}).items():
        variables.ips[key] = _ip_set(ipset["Definition"], f"{where}: RuleVariables.IPSets.{key}")
    if "EXTERNAL_NET" not in (declared.get("IPSets") or {}):
        try:
            variables.ips["EXTERNAL_NET"] = variables.ips["HOME_NET"].negated()
        except ValueError as exc:
            raise InputError(f"{where}: HOME_NET: {exc}") from None
    for key, portset in (declared.get("PortSets") or {}).items():
        field = f"{where}: RuleVariables.PortSets.{key}"
        text = "[" + ",".join(portset.get("Definition") or []) + "]"
        try:
            variables.ports[key] = parse_ports(text, variables)
        except (RuleSyntaxError, UnsupportedRuleError) as exc:
            raise InputError(f"{field}: {exc}") from None
    return variables


def _stateful_group(
    document: dict[str, Any],
    ref: dict[str, Any],
    source: str,
    order: str,
    home: AddressSet,
    warnings: list[str],
) -> StatefulGroup:
    name = document["RuleGroupResponse"]["RuleGroupName"]
    where = f"{source}: rule group {name!r}"
    group = document["RuleGroup"]
    group_order = (group.get("StatefulRuleOptions") or {}).get("RuleOrder", DEFAULT_ORDER)
    if group_order != order:
        raise InputError(
            f"{where}: StatefulRuleOptions.RuleOrder {group_order} differs from the "
            f"policy's {order}"
        )
    variables = _variables(group, home, where)
    rules_source = group["RulesSource"]
    if len(rules_source) != 1:
        raise InputError(f"{where}: RulesSource must hold exactly one kind of rules")
    rules: list[StatefulRule]
    if "RulesString" in rules_source:
        try:
            parsed = parse_rules(rules_source["RulesString"], name, variables)
        except RuleSyntaxError as exc:
            raise InputError(f"{source}: {exc}") from None
        rules = parsed.rules
        warnings.extend(f"{source}: {w}" for w in parsed.warnings)
    elif "RulesSourceList" in rules_source:
        rules = domains.generated_rules(rules_source["RulesSourceList"], name, variables, where)
    elif "StatefulRules" in rules_source:
        rules = []
        for n, rule in enumerate(rules_source["StatefulRules"]):
            try:
                rules.append(_five_tuple(rule, name, len(rules) + 1, variables))
            except UnsupportedRuleError as exc:
                warnings.append(f"{where}: StatefulRules[{n}] skipped: {exc}")
            except RuleSyntaxError as exc:
                raise InputError(f"{where}: StatefulRules[{n}]: {exc}") from None
    else:
        raise InputError(
            f"{where}: a STATEFUL rule group needs RulesString, RulesSourceList or StatefulRules"
        )
    override = (ref.get("Override") or {}).get("Action") == "DROP_TO_ALERT"
    return StatefulGroup(
        name,
        document["RuleGroupResponse"]["RuleGroupArn"],
        ref.get("Priority"),
        tuple(rules),
        override,
    )


def _five_tuple(rule: dict[str, Any], group: str, index: int, variables: Variables) -> StatefulRule:
    header = rule["Header"]
    options = [
        (option["Keyword"].lower(), ",".join(option.get("Settings") or []) or None)
        for option in rule["RuleOptions"]
    ]
    built = OptionSet.build(options)
    return StatefulRule(
        group=group,
        index=index,
        action=Action(rule["Action"]),
        protocol=header["Protocol"].lower(),
        source=parse_addresses(header["Source"], variables),
        source_ports=parse_ports(header["SourcePort"], variables),
        destination=parse_addresses(header["Destination"], variables),
        destination_ports=parse_ports(header["DestinationPort"], variables),
        bidirectional=header["Direction"] == "ANY",
        flow=frozenset(built.flow),
        contents=tuple(built.contents),
        sid=built.sid,
        msg=built.msg,
        noalert=built.noalert,
    )
