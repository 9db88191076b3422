"""End to end: generated logs -> ingest -> intel -> every rule. What the generator labels as an
attack must be found, its benign look-alikes must not, and no finding may fire without a label.

A label and a finding match precisely: same finding type, same account, the same actor and the
same resource as the rule defines them (some rules name a resource by its short id where the
label holds the ARN; `_resource_of` is that mapping), and, for CloudTrail labels that name the
caller's address, that address among the finding's source IPs (what tells a listed caller from
its unlisted neighbour with the same identity).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mamori.core import Finding
from mamori.detect import run_tables
from mamori.detect.engine import DetectResult, connect, run_rules
from mamori.detect.generator import (
    LEARNING,
    SCENARIOS,
    Generated,
    Label,
    generate,
    write_intel_lists,
)
from mamori.detect.ingest import Source, ingest
from mamori.detect.intel import load_intel
from mamori.detect.rules.base import rules

ACCOUNTS = ["111111111111", "222222222222"]
START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 2  # the second day is the first one baseline rules may judge


@dataclass(frozen=True)
class Run:
    generated: Generated
    result: DetectResult


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("e2e")
    generated = generate(
        root / "logs",
        accounts=ACCOUNTS,
        regions=["us-east-1", "eu-west-1"],
        start=START,
        days=DAYS,
        events_per_day=800,
        flows_per_day=800,
        dns_per_day=300,
    )
    lists = write_intel_lists(root / "intel")
    logs = str(root / "logs")
    ingested = ingest(
        [Source("cloudtrail", logs), Source("vpc-flow", logs), Source("dns", logs)], root / "data"
    )
    assert ingested.errors == []
    intel = load_intel(lists.threats, lists.trusted, tor_exit_list=lists.tor)
    assert intel.errors == []
    con = connect(root / "data", intel)
    run_tables.prepare(con, root / "data", learning=LEARNING)
    result = run_rules(con, rules())
    assert result.errors == []
    return Run(generated, result)


# Rules whose resource id is the last part of the label's ARN (snapshot, group, detector id).
_SHORT_ID = {
    "Exfiltration:IAMUser/AnomalousBehavior",
    "Policy:EC2/SecurityGroupOpenToWorld",
    "Stealth:IAMUser/GuardDutyDisabled",
}
_ACCOUNT_WIDE = {"Stealth:IAMUser/PasswordPolicyChange"}  # the policy is the account's
# The rule's resource is the session's access key; the label names the instance it came from.
_BY_INSTANCE = {"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"}


def _resource_of(label: Label) -> str:
    """The label's resource as the rule for its finding type names it."""
    if label.finding_type in _SHORT_ID:
        return label.resource.rsplit("/", 1)[-1]
    if label.finding_type in _ACCOUNT_WIDE:
        return label.account_id
    return label.resource.removeprefix("arn:aws:s3:::")


def matches(label: Label, finding: Finding) -> bool:
    if (finding.generator_id, finding.account_id) != (label.finding_type, label.account_id):
        return False
    if finding.evidence["actor"] != label.actor:
        return False
    detail = finding.evidence["detail"]
    if label.finding_type in _BY_INSTANCE:
        if detail.get("instance_id") != label.resource:
            return False
    elif finding.resources[0].id != _resource_of(label):
        return False
    if label.source == "cloudtrail" and label.remote_ip:
        return label.remote_ip in detail.get("source_ips", [])
    return True


def _describe(label: Label) -> str:
    return f"{label.scenario}: {label.finding_type} {label.actor} -> {label.resource}"


def test_the_run_covers_every_scenario(run: Run) -> None:
    labels = run.generated.labels
    assert {lb.scenario for lb in labels if not lb.benign} == set(SCENARIOS)
    assert sum(lb.benign for lb in labels) >= 15
    assert len(run.result.findings) >= len([lb for lb in labels if not lb.benign])


def test_every_attack_label_is_detected(run: Run) -> None:
    missed = [
        _describe(lb)
        for lb in run.generated.labels
        if not lb.benign and not any(matches(lb, f) for f in run.result.findings)
    ]
    assert missed == []


def test_no_benign_look_alike_is_flagged(run: Run) -> None:
    flagged = [
        _describe(lb)
        for lb in run.generated.labels
        if lb.benign and any(matches(lb, f) for f in run.result.findings)
    ]
    assert flagged == []


def test_no_finding_fires_without_a_label(run: Run) -> None:
    attacks = [lb for lb in run.generated.labels if not lb.benign]
    unexplained = sorted(
        f"{f.generator_id} {f.account_id} {f.evidence['actor']} -> {f.resources[0].id}"
        for f in run.result.findings
        if not any(matches(lb, f) for lb in attacks)
    )
    assert unexplained == []


def test_each_attack_label_matches_one_finding(run: Run) -> None:
    # Two findings for one label would mean a rule splits one activity (or the matcher is loose).
    for label in run.generated.labels:
        if not label.benign:
            hits = [f for f in run.result.findings if matches(label, f)]
            assert len(hits) == 1, (_describe(label), len(hits))


def test_baseline_scenarios_are_placed_after_the_learning_day(run: Run) -> None:
    learned = START + timedelta(days=1)
    late = [lb for lb in run.generated.labels if SCENARIOS[lb.scenario].needs_history]
    assert {lb.scenario for lb in late} == {
        "secrets-bulk-read",
        "access-denied-burst",
        "s3-mass-deletion",
        "iam-anomalous-behaviour",
    }
    assert all(lb.first_seen >= learned for lb in late if not lb.benign)


def test_matching_is_precise(run: Run) -> None:
    finding = next(
        f for f in run.result.findings if f.generator_id == "Policy:EC2/SecurityGroupOpenToWorld"
    )
    arn = f"arn:aws:ec2:us-east-1:{finding.account_id}:security-group/{finding.resources[0].id}"
    label = Label(
        finding_type=finding.generator_id,
        account_id=finding.account_id,
        actor=finding.evidence["actor"],
        resource=arn,
        first_seen=START,
        source="cloudtrail",
    )
    assert matches(label, finding)
    changes: list[dict[str, Any]] = [
        {"resource": arn + "0"},
        {"actor": "arn:aws:iam::111111111111:user/someone-else"},
        {"account_id": "999999999999"},
        {"finding_type": "Recon:EC2/Portscan"},
        {"remote_ip": "192.0.2.250"},
    ]
    for change in changes:
        assert not matches(replace(label, **change), finding), change
