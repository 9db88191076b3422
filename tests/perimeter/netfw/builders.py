"""Policies, rule groups and log files as the AWS CLI and the log services write them, built
small for each test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
REGION = "us-east-1"
ARN = f"arn:aws:network-firewall:{REGION}:{ACCOUNT}"

FLOW_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr "
    "pkt-dstaddr region flow-direction"
)


def rule_group(name: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """`describe-rule-group` output."""
    return {
        "UpdateToken": "token-1",
        "RuleGroup": body,
        "RuleGroupResponse": {
            "RuleGroupArn": f"{ARN}:{kind.lower()}-rulegroup/{name}",
            "RuleGroupName": name,
            "RuleGroupId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "Type": kind,
            "Capacity": 100,
        },
    }


def stateless_rule(priority: int, actions: list[str], **match: Any) -> dict[str, Any]:
    return {"Priority": priority, "RuleDefinition": {"MatchAttributes": match, "Actions": actions}}


def stateless_group(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return rule_group(
        name,
        "STATELESS",
        {"RulesSource": {"StatelessRulesAndCustomActions": {"StatelessRules": rules}}},
    )


def suricata_group(name: str, rules: str, strict: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"RulesSource": {"RulesString": rules}, **extra}
    if strict:
        body["StatefulRuleOptions"] = {"RuleOrder": "STRICT_ORDER"}
    return rule_group(name, "STATEFUL", body)


def domain_group(name: str, targets: list[str], kind: str, strict: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "RulesSource": {
            "RulesSourceList": {
                "Targets": targets,
                "TargetTypes": ["TLS_SNI", "HTTP_HOST"],
                "GeneratedRulesType": kind,
            }
        }
    }
    if strict:
        body["StatefulRuleOptions"] = {"RuleOrder": "STRICT_ORDER"}
    return rule_group(name, "STATEFUL", body)


def policy(
    stateless: list[dict[str, Any]] = (),  # type: ignore[assignment]
    stateful: list[dict[str, Any]] = (),  # type: ignore[assignment]
    *,
    default: str = "aws:forward_to_sfe",
    strict: bool = False,
    stateful_defaults: list[str] | None = None,
) -> dict[str, Any]:
    """`describe-firewall-policy` output referencing the groups in order of priority."""
    body: dict[str, Any] = {
        "StatelessDefaultActions": [default],
        "StatelessFragmentDefaultActions": [default],
        "StatelessRuleGroupReferences": [
            {"ResourceArn": g["RuleGroupResponse"]["RuleGroupArn"], "Priority": n + 1}
            for n, g in enumerate(stateless)
        ],
        "StatefulRuleGroupReferences": [
            {
                "ResourceArn": g["RuleGroupResponse"]["RuleGroupArn"],
                **({"Priority": n + 1} if strict else {}),
            }
            for n, g in enumerate(stateful)
        ],
    }
    if strict:
        body["StatefulEngineOptions"] = {"RuleOrder": "STRICT_ORDER"}
    if stateful_defaults:
        body["StatefulDefaultActions"] = stateful_defaults
    return {
        "UpdateToken": "token-1",
        "FirewallPolicy": body,
        "FirewallPolicyResponse": {
            "FirewallPolicyName": "test-policy",
            "FirewallPolicyArn": f"{ARN}:firewall-policy/test-policy",
            "FirewallPolicyId": "11111111-2222-3333-4444-555555555555",
        },
    }


def write_policy(
    folder: Path, document: dict[str, Any], groups: list[dict[str, Any]]
) -> tuple[Path, list[Path]]:
    """The policy and each group in its own file, as `aws ... > file.json` leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    policy_file = folder / "firewall-policy.json"
    policy_file.write_text(json.dumps(document), encoding="utf-8")
    files = []
    for group in groups:
        path = folder / f"{group['RuleGroupResponse']['RuleGroupName']}.json"
        path.write_text(json.dumps(group), encoding="utf-8")
        files.append(path)
    return policy_file, files


def flow(
    src: str,
    dst: str,
    sport: int,
    dport: int,
    protocol: int = 6,
    flags: int | str = 2,
    instance: str = "i-0123456789abcdef0",
    eni: str = "eni-0123456789abcdef0",
    packets: int = 10,
) -> str:
    """One v5 flow record (FLOW_HEADER's fields)."""
    return (
        f"5 {ACCOUNT} {eni} {src} {dst} {sport} {dport} {protocol} {packets} {packets * 100} "
        f"1700000000 1700000060 ACCEPT OK vpc-1 subnet-1 {instance} {flags} IPv4 {src} {dst} "
        f"{REGION} egress"
    )


def write_flows(folder: Path, lines: list[str], header: str = FLOW_HEADER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "flows.log"
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return folder


def dns_query(
    name: str,
    src: str = "10.0.1.5",
    answers: list[str] | None = None,
    rcode: str = "NOERROR",
    instance: str = "i-0123456789abcdef0",
) -> dict[str, Any]:
    return {
        "version": "1.100000",
        "account_id": ACCOUNT,
        "region": REGION,
        "vpc_id": "vpc-1",
        "query_timestamp": "2023-11-14T22:13:20Z",
        "query_name": name + ".",
        "query_type": "A",
        "query_class": "IN",
        "rcode": rcode,
        "answers": [{"Rdata": a, "Type": "A", "Class": "IN"} for a in (answers or ["203.0.113.7"])],
        "srcaddr": src,
        "srcport": "53312",
        "transport": "UDP",
        "srcids": {"instance": instance},
    }


def write_dns(folder: Path, queries: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "queries.log").write_text(
        "\n".join(json.dumps(q) for q in queries) + "\n", encoding="utf-8"
    )
    return folder
