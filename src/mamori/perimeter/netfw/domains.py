"""Domain list rule groups (RulesSourceList) -> the stateful rules Network Firewall generates
from them: per target type (TLS_SNI, HTTP_HOST), a rule matching the listed names from HOME_NET
to EXTERNAL_NET with the list's action, and for an ALLOWLIST a drop of that protocol's other
traffic."""

from __future__ import annotations

from typing import Any

from mamori.core import InputError
from mamori.perimeter.netfw.model import Action, ContentMatch, StatefulRule
from mamori.perimeter.netfw.suricata import Variables

_LIST_ACTIONS = {
    "ALLOWLIST": Action.PASS,
    "DENYLIST": Action.DROP,
    "REJECTLIST": Action.REJECT,
    "ALERTLIST": Action.ALERT,
}
_TARGETS = {"TLS_SNI": ("tls", "tls.sni"), "HTTP_HOST": ("http", "http.host")}
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")


def _check_target(target: str, field: str) -> str:
    name = target.strip().lower()
    if not name or name == "." or not set(name) <= _NAME_CHARS or ".." in name:
        raise InputError(
            f"{field}: {target!r} is not a domain name (or .domain for its subdomains)"
        )
    return name


def generated_rules(
    source: dict[str, Any], group: str, variables: Variables, where: str
) -> list[StatefulRule]:
    field = f"{where}: RulesSourceList"
    targets = [_check_target(t, f"{field}.Targets[{n}]") for n, t in enumerate(source["Targets"])]
    if not targets:
        raise InputError(f"{field}.Targets: at least one domain is required")
    kinds = source["TargetTypes"]
    if not kinds:
        raise InputError(f"{field}.TargetTypes: at least one of TLS_SNI, HTTP_HOST is required")
    unknown = [k for k in kinds if k not in _TARGETS]
    if unknown:
        raise InputError(f"{field}.TargetTypes: {unknown[0]} is not evaluated (TLS_SNI, HTTP_HOST)")
    action = _LIST_ACTIONS[source["GeneratedRulesType"]]
    home, external = variables.ips["HOME_NET"], variables.ips["EXTERNAL_NET"]
    rules: list[StatefulRule] = []
    for kind in kinds:
        protocol, buffer = _TARGETS[kind]
        for target in targets:
            rules.append(
                StatefulRule(
                    group=group,
                    index=len(rules) + 1,
                    action=action,
                    protocol=protocol,
                    source=home,
                    destination=external,
                    flow=frozenset({"to_server"}),
                    contents=(ContentMatch(buffer=buffer, value=target, domain=True),),
                    msg=f"{source['GeneratedRulesType']} {kind} {target}",
                )
            )
        if action is Action.PASS:
            rules.append(
                StatefulRule(
                    group=group,
                    index=len(rules) + 1,
                    action=Action.DROP,
                    protocol=protocol,
                    source=home,
                    destination=external,
                    flow=frozenset({"to_server", "established"}),
                    msg=f"ALLOWLIST {kind}: not an allowed domain",
                )
            )
    return rules
