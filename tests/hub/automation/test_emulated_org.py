"""Every remediation against the emulated organisation over HTTP, as `mamori automate` runs
after `mamori demo`: the planted misconfigurations it fixes fail in the first org-wide scan,
one automation run (assuming the member role in each account) fixes them, and the next scan
finds each resource passing its check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mamori.aws import AwsOptions
from mamori.core import Finding, Resource, Severity
from mamori.demo.planted import DEMO_REGIONS, DemoOrg
from mamori.demo.run import MEMBER_ROLE, demo_credentials, scan_emulated
from mamori.demo.seed import seed_organisation
from mamori.demo.server import EmulatedAws
from mamori.hub import Store
from mamori.hub.automation import AccountSessions, AutomationReport, RuleSet, run_automation

pytestmark = pytest.mark.integration

# What each remediation is asked to fix in the demo (the check ids of planted items).
RULES = {
    "s3.block_public_access": ["s3.bucket_public_access_block", "s3.bucket_acl_not_public"],
    "iam.deactivate_access_key": ["iam.user_single_active_access_key", "iam.access_key_rotated"],
    "ec2.revoke_world_open_ingress": [
        "ec2.sg_no_admin_ports_open_ipv4",
        "ec2.sg_no_admin_ports_open_ipv6",
        "ec2.sg_no_db_ports_open",
        "ec2.sg_no_unrestricted_all_traffic",
    ],
    "ec2.enable_ebs_default_encryption": ["ec2.ebs_default_encryption"],
    "cloudtrail.start_logging": ["cloudtrail.trail_logging"],
    "iam.detach_policy": ["iam.user_no_direct_policies", "iam.policy_no_full_admin"],
}
# Fixed by leaving nothing for the check to judge (no active key, a policy attached nowhere).
NOT_APPLICABLE_AFTER = {"iam.access_key_rotated", "iam.policy_no_full_admin"}
THREAT = "Backdoor:EC2/C&CActivity.B"


@dataclass
class Fixed:
    org: DemoOrg
    before: dict[tuple[str, str, str], Finding]
    after: dict[tuple[str, str, str], Finding]
    report: AutomationReport
    quarantined: dict[str, list[str]]


def _by_key(findings: list[Finding]) -> dict[tuple[str, str, str], Finding]:
    return {(f.generator_id, f.account_id, f.resource.id): f for f in findings}


def _rules() -> RuleSet:
    rules = [
        {
            "id": f"fix-{kind.replace('.', '-')}",
            "pattern": {"GeneratorId": checks, "Compliance": {"Status": ["FAILED"]}},
            "actions": [{"type": kind}],
        }
        for kind, checks in RULES.items()
    ]
    rules.append(
        {
            "id": "isolate-c2",
            "pattern": {"GeneratorId": [THREAT], "Resources": {"Type": ["AwsEc2Instance"]}},
            "actions": [{"type": "ec2.quarantine_instance"}],
        }
    )
    return RuleSet.model_validate({"name": "demo-response", "rules": rules})


def _threat(org: DemoOrg, store: Store, aws: EmulatedAws) -> tuple[str, str]:
    """The finding detection raises for an instance calling a C2 server (jenkins-legacy)."""
    dev = next(a for a, name in org.accounts.items() if name == "workloads-dev")
    ec2 = aws.connect()
    ec2.assume(dev)
    client = ec2.client("ec2", dev, DEMO_REGIONS[0])
    reservations = client.describe_instances(
        Filters=[{"Name": "tag:Name", "Values": ["jenkins-legacy"]}]
    )["Reservations"]
    instance = reservations[0]["Instances"][0]["InstanceId"]
    store.write(
        [
            Finding.build(
                generator_id=THREAT,
                resources=[Resource(type="AwsEc2Instance", id=instance, region=DEMO_REGIONS[0])],
                account_id=dev,
                region=DEMO_REGIONS[0],
                source="detect",
                types=["TTPs/Command and Control"],
                severity=Severity.of("HIGH"),
                title="Instance talking to a command-and-control server",
            )
        ]
    )
    return dev, instance


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixed]:
    db = f"sqlite:///{Path(tmp_path_factory.mktemp('org')) / 'hub.db'}"
    with demo_credentials(), EmulatedAws() as aws:
        org = seed_organisation(aws.url, regions=DEMO_REGIONS)
        before = _by_key(scan_emulated(aws.url, list(DEMO_REGIONS), db).findings)
        sessions = AccountSessions(
            AwsOptions(endpoint_url=aws.url, max_attempts=2, retry_mode="standard"),
            role_name=MEMBER_ROLE,
        )
        with Store.open(db) as store:
            dev, instance = _threat(org, store, aws)
            report = run_automation(store, _rules(), aws=sessions)
        after = _by_key(scan_emulated(aws.url, list(DEMO_REGIONS), db).findings)
        client = aws.connect()
        client.assume(dev)
        described = client.client("ec2", dev, DEMO_REGIONS[0]).describe_instances(
            InstanceIds=[instance]
        )["Reservations"][0]["Instances"][0]
        quarantined = {instance: [g["GroupName"] for g in described["SecurityGroups"]]}
    yield Fixed(org, before, after, report, quarantined)


def test_the_run_fails_no_action(fixed: Fixed) -> None:
    assert not fixed.report.failures, fixed.report.failures
    done = sum(r.results["done"] for r in fixed.report.by_rule.values())
    assert done >= 12, fixed.report.by_rule


def test_every_targeted_misconfiguration_passes_on_the_next_scan(fixed: Fixed) -> None:
    targeted = {c for checks in RULES.values() for c in checks}
    items = [p for p in fixed.org.misconfigurations if p.check_id in targeted]
    assert {p.check_id for p in items} == targeted, "the demo plants each of these"
    problems = []
    for item in items:
        key = (item.check_id, item.account_id, item.resource_arn)
        first = fixed.before.get(key)
        if first is None or first.status is None or first.status.value != "FAILED":
            problems.append(f"not FAILED before: {item.describe()}")
            continue
        now = fixed.after.get(key)
        ok = (now is None and item.check_id in NOT_APPLICABLE_AFTER) or (
            now is not None and now.status is not None and now.status.value == "PASSED"
        )
        if not ok:
            got = now.status.value if now is not None and now.status else None
            problems.append(f"{got} after: {item.describe()}")
    assert not problems, "\n".join(problems)


def test_the_instance_is_quarantined(fixed: Fixed) -> None:
    assert list(fixed.quarantined.values()) == [["mamori-quarantine"]]
    assert fixed.report.by_rule["isolate-c2"].results["done"] == 1
