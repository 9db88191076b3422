"""The demo organisation, scanned end to end over HTTP: every planted misconfiguration is
reported FAILED and every well-configured twin PASSED."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from rich.console import Console

from mamori.core import Finding
from mamori.demo.planted import DemoOrg, Planted
from mamori.demo.run import run_demo
from mamori.demo.seed import seed_organisation
from mamori.demo.server import EmulatedAws
from mamori.hub import FindingFilter, Store
from mamori.inventory import Snapshot
from mamori.posture import select_checks

pytestmark = pytest.mark.integration

# Fewer verified than this and the demo would not show what it claims to.
MIN_VERIFIED_MISCONFIGURATIONS = 25


@dataclass
class Scan:
    org: DemoOrg
    snapshot: Snapshot
    registered: set[str]
    findings: dict[tuple[str, str, str], Finding]
    identity: dict[tuple[str, str, str], Finding]
    output: str
    db: str
    threats: list[Finding]


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scan]:
    """`mamori demo` as a user runs it: emulated org, seed, org-wide scan over HTTP, store."""
    db = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    buffer = io.StringIO()
    console = Console(file=buffer, width=200)
    # A week of generated logs instead of the default month keeps the suite quick; the code
    # path is the same.
    data_dir = tmp_path_factory.mktemp("demo-detect")
    (data_dir / "left-over").write_text("from an earlier demo run")
    run = run_demo(console, Console(file=io.StringIO()), db=db, log_days=7, data_dir=data_dir)
    # The ingested tables and the investigation graph stay for the dashboard, renewed.
    assert not (data_dir / "left-over").exists()
    assert (data_dir / "graph" / "state.json").is_file()
    assert not run.result.unreachable, run.result.unreachable
    assert {f.account_id for f in run.result.findings} == set(run.org.accounts)
    findings = {(f.generator_id, f.account_id, f.resource.id): f for f in run.result.findings}
    registered = {c.id for c in select_checks()}
    assert run.result.identity is not None
    identity = {
        (f.generator_id, f.account_id, f.resource.id): f for f in run.result.identity.findings
    }
    assert run.threats is not None
    yield Scan(
        run.org,
        run.result.snapshot,
        registered,
        findings,
        identity,
        buffer.getvalue(),
        db,
        run.threats.result.findings,
    )


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
    missing = sorted(
        c for c in scan.org.check_ids() - scan.registered if not c.startswith("identity.")
    )
    assert not missing, f"planted against unregistered check id(s): {', '.join(missing)}"


def test_identity_plants_reported_as_planted(scan: Scan) -> None:
    """Escalation paths planted in the demo are found; their blocked twins are not."""
    planted = [p for p in scan.org.planted if p.check_id.startswith("identity.")]
    assert len([p for p in planted if p.expected == "FAILED"]) >= 3
    problems = []
    for item in planted:
        found = scan.identity.get((item.check_id, item.account_id, item.resource_arn))
        failing = found is not None and found.status is not None and found.status.value == "FAILED"
        if failing != (item.expected == "FAILED"):
            problems.append(f"{'FOUND' if failing else 'MISSING'}  {item.describe()}")
    assert not problems, "\n".join(problems)


def test_identity_findings_are_in_the_store(scan: Scan) -> None:
    with Store.open(scan.db) as store:
        stored = store.list_findings(FindingFilter(source="identity"), limit=10000)
    assert {f.id for f in stored} >= {f.id for f in scan.identity.values()}
    assert "Identity analysis" in scan.output


def test_generated_logs_are_detected_and_stored(scan: Scan) -> None:
    types = {f.generator_id for f in scan.threats}
    assert len(types) >= 20, sorted(types)
    assert {
        "Stealth:IAMUser/CloudTrailLoggingDisabled",
        "Recon:EC2/Portscan",
        "Backdoor:EC2/C&CActivity.B!DNS",
        # From the shop's WAF logs: the flood, the heavy client, the scanner, the injection.
        "Impact:WebACL/HTTPFlood",
        "Impact:WebACL/HTTPFlood.SingleSource",
        "Recon:WebACL/WebScan",
        "InitialAccess:WebACL/InjectionAllowed",
    } <= types
    assert {f.account_id for f in scan.threats} <= set(scan.org.accounts)
    with Store.open(scan.db) as store:
        stored = store.count(FindingFilter(source="detect"))
    assert stored == len(scan.threats)
    assert "Threat findings" in scan.output


def test_summary_shows_scores_and_top_failures(scan: Scan) -> None:
    out = scan.output
    assert "CIS AWS Foundations Benchmark 3.0.0" in out
    assert "Top failing checks" in out
    for account in scan.org.accounts:
        assert account in out


def test_findings_are_in_the_store(scan: Scan) -> None:
    store = Store.open(scan.db)
    try:
        failed = store.count(FindingFilter(status=["FAILED"], source="posture"))
        passed = store.count(FindingFilter(status=["PASSED"], source="posture"))
        records = store.scans(limit=3)
    finally:
        store.close()
    expected_failed = sum(
        1 for f in scan.findings.values() if f.status and f.status.value == "FAILED"
    )
    assert failed == expected_failed > 0
    assert passed > 0
    assert {r.kind for r in records} == {"posture", "identity", "detect"}
    for record in records:
        assert record.status == "completed"
        if record.kind != "detect":  # detection's scope is the accounts its logs came from
            assert set(record.scope.accounts) == set(scan.org.accounts)


def test_every_misconfiguration_has_a_twin(scan: Scan) -> None:
    org = scan.org
    failed = {p.check_id for p in org.misconfigurations}
    passed = {p.check_id for p in org.twins}
    assert len(failed) >= 30, f"only {len(failed)} distinct misconfigurations planted"
    assert not failed - passed, f"misconfigurations without a twin: {sorted(failed - passed)}"
    assert set(org.accounts) == {p.account_id for p in org.misconfigurations}
    assert {*org.regions, "global"} == {p.region for p in org.planted}


def test_seeding_twice_is_refused() -> None:
    with EmulatedAws() as aws:
        seed_organisation(aws.url)
        with pytest.raises(RuntimeError, match="already seeded"):
            seed_organisation(aws.url)
