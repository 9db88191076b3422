"""`evaluate`: a policy against flow-log and Resolver query-log locations, read through the
detection readers, into findings and a summary per rule."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from mamori.core import Finding, Remediation, Resource, Severity, SeverityLabel, finding_id
from mamori.detect.readers import InputFile, Problems, ReadError, list_files, read_bytes, read_file
from mamori.perimeter.netfw import flows, names
from mamori.perimeter.netfw.model import Policy
from mamori.perimeter.netfw.tally import Group, GroupKey, Tally, register_rules

CHUNK_ROWS = 200_000
UNKNOWN_ACCOUNT = "000000000000"
_GENERATORS = {"drop": "netfw.would_drop", "reject": "netfw.would_reject", "alert": "netfw.alert"}
_SEVERITY = {
    "drop": SeverityLabel.MEDIUM,
    "reject": SeverityLabel.MEDIUM,
    "alert": SeverityLabel.LOW,
}


@dataclass
class NetfwReport:
    policy: str
    rule_order: str
    findings: list[Finding]
    rules: dict[str, list[dict[str, Any]]]  # input (flows, dns) -> rows
    totals: dict[str, dict[str, int]]
    warnings: list[str]
    problems: list[str]
    seconds: float
    figures: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "rule_order": self.rule_order,
            "totals": self.totals,
            "rules": self.rules,
            "warnings": self.warnings,
            "problems": self.problems,
            "seconds": round(self.seconds, 3),
            "findings": [f.model_dump(mode="json") for f in self.findings],
        }


def _tables(location: str, kind: str, problems: list[str]) -> Iterator[pa.Table]:
    """The location's records in tables of about CHUNK_ROWS: flow logs come as many small
    files, and evaluating each alone cost its rules' fixed per-call overhead (10x slower)."""
    pending: list[pa.Table] = []
    rows = 0
    for item in list_files(location, kind):
        for table in _file_tables(item, kind, problems):
            pending.append(table)
            rows += table.num_rows
            if rows >= CHUNK_ROWS:
                yield pa.concat_tables(pending)
                pending, rows = [], 0
    if pending:
        yield pa.concat_tables(pending)


def _file_tables(item: InputFile, kind: str, problems: list[str]) -> Iterator[pa.Table]:
    skipped = Problems()
    try:
        yield from read_file(kind, read_bytes(item), item, chunk_rows=CHUNK_ROWS, problems=skipped)
    except ReadError as exc:
        problems.append(str(exc))
    if skipped.skipped:
        problems.append(f"{item.uri}: {skipped.summary()}")


def evaluate(
    policy: Policy,
    *,
    flow_locations: list[str] | None = None,
    dns_locations: list[str] | None = None,
) -> NetfwReport:
    """Every flow record and resolved name under the locations through the policy."""
    started = time.perf_counter()
    tally = Tally()
    problems: list[str] = []
    for location in flow_locations or []:
        register_rules(tally, policy, flows.SOURCE)
        for table in _tables(location, "vpc-flow", problems):
            flows.evaluate_batch(policy, table, tally)
    flow_seconds = time.perf_counter() - started
    for location in dns_locations or []:
        register_rules(tally, policy, names.SOURCE, stateless=False)
        for table in _tables(location, "dns", problems):
            names.evaluate_table(policy, table, tally)
    warnings = list(policy.warnings)
    if dns_locations and not names.kinds_in(policy):
        warnings.append(
            "no stateful rule looks at TLS SNI, HTTP Host or DNS names: DNS logs not evaluated"
        )
    if flow_locations and policy.stateless_fragment_default != policy.stateless_default:
        warnings.append(
            "StatelessFragmentDefaultActions differs from the default: flow logs do not show "
            "fragments, so it is not evaluated"
        )
    seconds = time.perf_counter() - started
    evaluated = tally.totals.get(flows.SOURCE, {}).get("records", 0)
    return NetfwReport(
        policy=policy.name,
        rule_order=policy.rule_order,
        findings=_findings(tally, policy),
        rules={
            source: [c.as_dict() for c in table.values()] for source, table in tally.rules.items()
        },
        totals=tally.totals,
        warnings=warnings,
        problems=problems,
        seconds=seconds,
        figures={"flow_records_per_second": evaluated / flow_seconds if flow_seconds else 0.0},
    )


def _findings(tally: Tally, policy: Policy) -> list[Finding]:
    return [
        _finding(key, group, policy)
        for key, group in sorted(tally.groups.items(), key=lambda kv: kv[0])
    ]


def _finding(key: GroupKey, group: Group, policy: Policy) -> Finding:
    source, what, account, region, resource_type, resource_id, rule = key
    account = account if len(account) == 12 and account.isdigit() else UNKNOWN_ACCOUNT
    region = region or "unknown"
    generator = _GENERATORS[what]
    targets = sorted(group.targets.items(), key=lambda kv: (-kv[1], kv[0]))
    verb = {
        "drop": "would have been dropped",
        "reject": "would have been rejected",
        "alert": "would have raised an alert",
    }[what]
    evidence: dict[str, Any] = {
        "input": source,
        "rule": rule,
        "policy": policy.name,
        "rule_order": policy.rule_order,
        "records": group.count,
        "targets": [{"target": t, "records": n} for t, n in targets[:20]],
        "distinct_targets": len(targets),
    }
    if source == flows.SOURCE:
        evidence.update(packets=group.packets, bytes=group.bytes, uncertain_records=group.uncertain)
    caveat = (
        " The names come from DNS query logs and stand in for the TLS SNI / HTTP Host of the "
        "connections that followed them."
        if source == names.SOURCE
        else ""
    )
    return Finding(
        id=finding_id(generator, f"{resource_id}\x1f{rule}", account, region),
        source="perimeter",
        generator_id=generator,
        types=["Software and Configuration Checks/Network Reachability"],
        severity=Severity.of(_SEVERITY[what]),
        title=f"Traffic from {resource_id} {verb} by firewall rule {rule}"[:250],
        description=(
            f"Under firewall policy {policy.name} ({policy.rule_order}), {group.count} "
            f"{'flow record(s)' if source == flows.SOURCE else 'resolved name(s)'} from "
            f"{resource_id} {verb} by {rule}; top target {targets[0][0] if targets else '-'}."
            + caveat
        ),
        remediation=Remediation(
            text="Check that this traffic is expected to be blocked before deploying the policy, "
            "or add a rule that passes it."
        ),
        resources=[Resource(type=resource_type, id=resource_id, region=region)],
        account_id=account,
        region=region,
        first_observed_at=group.first or _now(),
        last_observed_at=group.last or group.first or _now(),
        count=max(1, group.count),
        evidence=evidence,
        product_fields={"netfw/rule": rule, "netfw/input": source},
    )


def _now() -> Any:
    from mamori.core import utcnow

    return utcnow()
