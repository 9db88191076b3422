"""Policy and rule group files: strict validation with errors naming the file, the rule group
and the field; arbitrary JSON is compiled or refused with an InputError, nothing else."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from mamori.core import InputError
from mamori.perimeter.netfw import load_policy
from mamori.perimeter.netfw.model import STRICT_ORDER
from tests.arbitrary import json_documents, read_or_refused
from tests.perimeter.netfw.builders import (
    domain_group,
    policy,
    stateless_group,
    stateless_rule,
    suricata_group,
    write_policy,
)

STATELESS = stateless_group(
    "edge", [stateless_rule(1, ["aws:drop"], Sources=[{"AddressDefinition": "10.0.0.0/8"}])]
)
STATEFUL = suricata_group("sf", "drop tcp any any -> any 22 (sid:1;)")


def load(tmp_path: Path, document: dict[str, Any], groups: list[dict[str, Any]]) -> Any:
    policy_file, files = write_policy(tmp_path, document, groups)
    return load_policy(policy_file, files)


def refused(
    tmp_path: Path, document: dict[str, Any], groups: list[dict[str, Any]], *words: str
) -> str:
    with pytest.raises(InputError) as caught:
        load(tmp_path, document, groups)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


def test_describe_outputs_load(tmp_path: Path) -> None:
    compiled = load(tmp_path, policy([STATELESS], [STATEFUL]), [STATELESS, STATEFUL])
    assert compiled.name == "test-policy"
    assert [r.key for r in compiled.stateless_rules()] == ["edge#priority-1"]
    assert [r.key for r in compiled.stateful_rules()] == ["sf#sid-1"]


def test_rule_groups_embedded_in_the_policy_file(tmp_path: Path) -> None:
    document = policy([STATELESS], [STATEFUL])
    document["RuleGroups"] = [STATELESS, STATEFUL]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert len(load_policy(path).stateful_groups) == 1


def test_bare_firewall_policy_object(tmp_path: Path) -> None:
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(policy()["FirewallPolicy"]), encoding="utf-8")
    assert load_policy(path).stateless_default == "aws:forward_to_sfe"


def test_unknown_key_names_group_and_field(tmp_path: Path) -> None:
    group = copy.deepcopy(STATELESS)
    group["RuleGroup"]["RulesSource"]["StatelessRulesAndCustomActions"]["StatelessRules"][0][
        "RuleDefinition"
    ]["MatchAttributes"]["Sauces"] = []
    refused(tmp_path, policy([group]), [group], "edge.json", "'edge'", "Sauces")


def test_bad_cidr_and_port_range(tmp_path: Path) -> None:
    bad_cidr = stateless_group(
        "edge", [stateless_rule(1, ["aws:drop"], Sources=[{"AddressDefinition": "10.0.0.300/8"}])]
    )
    refused(
        tmp_path,
        policy([bad_cidr]),
        [bad_cidr],
        "'edge'",
        "StatelessRules[0].MatchAttributes.Sources",
        "10.0.0.300/8",
    )
    backwards = stateless_group(
        "edge", [stateless_rule(1, ["aws:drop"], DestinationPorts=[{"FromPort": 90, "ToPort": 80}])]
    )
    refused(
        tmp_path, policy([backwards]), [backwards], "DestinationPorts[0]", "FromPort 90 > ToPort 80"
    )
    too_high = stateless_group(
        "edge",
        [stateless_rule(1, ["aws:drop"], DestinationPorts=[{"FromPort": 1, "ToPort": 70000}])],
    )
    refused(tmp_path, policy([too_high]), [too_high], "ToPort", "65535")


def test_actions_must_hold_one_standard_action(tmp_path: Path) -> None:
    for actions in (["aws:pass", "aws:drop"], ["metrics"], ["aws:nope"]):
        group = stateless_group("edge", [stateless_rule(1, actions)])
        refused(tmp_path, policy([group]), [group], "RuleDefinition.Actions")


def test_enum_values_are_checked(tmp_path: Path) -> None:
    group = stateless_group(
        "edge", [stateless_rule(1, ["aws:drop"], TCPFlags=[{"Flags": ["SYNN"]}])]
    )
    refused(tmp_path, policy([group]), [group], "TCPFlags[0].Flags[0]", "SYNN")


def test_references_must_resolve_to_the_right_type(tmp_path: Path) -> None:
    refused(
        tmp_path,
        policy([STATELESS]),
        [],
        "StatelessRuleGroupReferences[0].ResourceArn",
        "--rule-group",
    )
    document = policy([STATELESS])
    document["FirewallPolicy"]["StatelessRuleGroupReferences"][0]["ResourceArn"] = STATEFUL[
        "RuleGroupResponse"
    ]["RuleGroupArn"]
    refused(tmp_path, document, [STATEFUL], "is STATEFUL, referenced as STATELESS")


def test_managed_groups_are_named_as_not_evaluated(tmp_path: Path) -> None:
    document = policy()
    document["FirewallPolicy"]["StatefulRuleGroupReferences"] = [
        {
            "ResourceArn": "arn:aws:network-firewall:us-east-1:aws-managed:"
            "stateful-rulegroup/ThreatSignaturesBotnet"
        }
    ]
    compiled = load(tmp_path, document, [])
    assert any("ThreatSignaturesBotnet" in w and "not evaluated" in w for w in compiled.warnings)


def test_strict_order_rules(tmp_path: Path) -> None:
    strict = suricata_group("sf", "drop tcp any any -> any 22 (sid:1;)", strict=True)
    document = policy([], [strict], strict=True, stateful_defaults=["aws:drop_strict"])
    assert load(tmp_path, document, [strict]).rule_order == STRICT_ORDER
    del document["FirewallPolicy"]["StatefulRuleGroupReferences"][0]["Priority"]
    refused(tmp_path, document, [strict], "StatefulRuleGroupReferences[0].Priority", "STRICT_ORDER")
    refused(
        tmp_path,
        policy([], [STATEFUL], strict=True),
        [STATEFUL],
        "'sf'",
        "RuleOrder DEFAULT_ACTION_ORDER differs",
    )
    defaults = policy([], [STATEFUL], stateful_defaults=["aws:drop_strict"])
    refused(tmp_path, defaults, [STATEFUL], "StatefulDefaultActions", "STRICT_ORDER")
    two_drops = policy(
        [], [strict], strict=True, stateful_defaults=["aws:drop_strict", "aws:drop_established"]
    )
    refused(tmp_path, two_drops, [strict], "at most one drop")


def test_suricata_syntax_error_names_group_and_line(tmp_path: Path) -> None:
    broken = suricata_group(
        "sf", "pass ip any any -> any any (sid:1;)\ndrop tcp any any -> any 99999 (sid:2;)"
    )
    refused(tmp_path, policy([], [broken]), [broken], "sf.json", "'sf'", "line 2", "99999")


def test_domain_list_targets_are_checked(tmp_path: Path) -> None:
    bad = domain_group("dl", ["ok.example", "bad domain"], "DENYLIST")
    refused(tmp_path, policy([], [bad]), [bad], "RulesSourceList.Targets[1]", "bad domain")


def test_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_policy(path)
    with pytest.raises(InputError, match="cannot read"):
        load_policy(tmp_path / "missing.json")


POLICY_KEYS = [
    "FirewallPolicy",
    "FirewallPolicyResponse",
    "RuleGroups",
    "StatelessDefaultActions",
    "StatelessFragmentDefaultActions",
    "StatelessRuleGroupReferences",
    "StatefulRuleGroupReferences",
    "StatefulEngineOptions",
    "RuleOrder",
    "ResourceArn",
    "Priority",
    "StatefulDefaultActions",
    "RuleGroup",
    "RuleGroupResponse",
    "RulesSource",
    "RulesString",
    "StatelessRulesAndCustomActions",
    "StatelessRules",
    "RuleDefinition",
    "MatchAttributes",
    "Actions",
    "Sources",
    "AddressDefinition",
    "FirewallPolicyName",
    "FirewallPolicyArn",
    "FirewallPolicyId",
    "RuleGroupArn",
    "RuleGroupName",
    "RuleGroupId",
    "Type",
    "PolicyVariables",
    "RuleVariables",
    "Definition",
]


@settings(max_examples=300, deadline=None)
@given(json_documents(POLICY_KEYS, leaves=20))
def test_arbitrary_json_is_compiled_or_refused(document: Any) -> None:
    read_or_refused(load_policy, document)


@settings(max_examples=200, deadline=None)
@given(json_documents(POLICY_KEYS, leaves=16))
def test_arbitrary_rule_group_json_is_refused_cleanly(tmp_path_factory: Any, document: Any) -> None:
    folder = tmp_path_factory.mktemp("g")
    policy_file, _ = write_policy(folder, policy(), [])
    group_file = folder / "group.json"
    group_file.write_text(json.dumps(document), encoding="utf-8")
    try:
        load_policy(policy_file, [group_file])
    except InputError as exc:
        assert str(exc)
