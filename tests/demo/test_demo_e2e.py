"""The demo organisation, scanned end to end over HTTP: every planted misconfiguration is
reported FAILED and every well-configured twin PASSED."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from mamori.aws import AwsOptions, resolve_targets
from mamori.core import Finding
from mamori.demo.planted import DemoOrg, Planted
from mamori.demo.seed import seed_organisation
from mamori.demo.server import ORG_ACCESS_ROLE, EmulatedAws
from mamori.inventory import Snapshot, collect
from mamori.posture import evaluate, select_checks

pytestmark = pytest.mark.integration

# Fewer verified than this and the demo would not show what it claims to.
MIN_VERIFIED_MISCONFIGURATIONS = 25


@dataclass
class Scan:
    org: DemoOrg
    snapshot: Snapshot
    registered: set[str]
    findings: dict[tuple[str, str, str], Finding]


@pytest.fixture(scope="module")
def scan() -> Iterator[Scan]:
    with EmulatedAws() as aws:
        org = seed_organisation(aws.url)
        options = AwsOptions(endpoint_url=aws.url, max_attempts=2, retry_mode="standard")
        targets = resolve_targets(options, org=True, role_name=ORG_ACCESS_ROLE)
        assert not targets.unreachable, targets.unreachable
        assert {a.account_id for a in targets.accounts} == set(org.accounts)
        snapshot = collect(targets.accounts, list(org.regions))
        checks = select_checks()
        findings = {
            (f.generator_id, f.account_id, f.resource.id): f for f in evaluate(snapshot, checks)
        }
        yield Scan(org, snapshot, {c.id for c in checks}, findings)


def _problem(item: Planted, found: Finding | None, snapshot: Snapshot) -> str | None:
    if found is None:
        return f"NOT FOUND  {item.describe()}"
    if found.status is None or found.status.value != item.expected:
        reasons = "; ".join(found.compliance.status_reasons) if found.compliance else ""
        errors = [
            f"{e.operation} {e.code}"
            for e in snapshot.errors
            if e.account == item.account_id and e.service == item.check_id.split(".")[0]
        ]
        hint = f" [collection errors: {', '.join(errors)}]" if errors else ""
        return f"GOT {found.status}  {item.describe()} -- {reasons}{hint}"
    return None


def _verified(scan: Scan) -> tuple[list[Planted], list[str]]:
    ok: list[Planted] = []
    problems: list[str] = []
    for item in scan.org.planted:
        if item.check_id not in scan.registered:
            continue
        found = scan.findings.get((item.check_id, item.account_id, item.resource_arn))
        problem = _problem(item, found, scan.snapshot)
        if problem:
            problems.append(problem)
        else:
            ok.append(item)
    return ok, problems


def test_planted_items_reported_as_planted(scan: Scan) -> None:
    _, problems = _verified(scan)
    assert not problems, f"{len(problems)} planted item(s) not reported as planted:\n" + "\n".join(
        sorted(problems)
    )


def test_enough_misconfigurations_verified(scan: Scan) -> None:
    ok, _ = _verified(scan)
    verified = {p.check_id for p in ok if p.expected == "FAILED"}
    assert len(verified) >= MIN_VERIFIED_MISCONFIGURATIONS, (
        f"only {len(verified)} distinct planted misconfigurations verified "
        f"(need {MIN_VERIFIED_MISCONFIGURATIONS}): {sorted(verified)}"
    )


def test_planted_checks_all_registered(scan: Scan) -> None:
    missing = sorted(scan.org.check_ids() - scan.registered)
    if missing:
        pytest.skip(
            f"planted against {len(missing)} check id(s) not registered yet: {', '.join(missing)}"
        )


def test_every_misconfiguration_has_a_twin(scan: Scan) -> None:
    org = scan.org
    failed = {p.check_id for p in org.misconfigurations}
    passed = {p.check_id for p in org.twins}
    assert len(failed) >= 30, f"only {len(failed)} distinct misconfigurations planted"
    assert not failed - passed, f"misconfigurations without a twin: {sorted(failed - passed)}"
    assert set(org.accounts) == {p.account_id for p in org.misconfigurations}
    assert {*org.regions, "global"} == {p.region for p in org.planted}


def test_seeding_twice_is_refused(scan: Scan) -> None:
    with pytest.raises(RuntimeError, match="already seeded"):
        seed_organisation(scan.org.url)
