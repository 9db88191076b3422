"""Every registered check, run on moto through collector -> snapshot -> engine.

A scenario function may serve several checks (the CIS 4.x alarms share one); it is built once
and every check it serves is evaluated against the same state and expectations.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict

import pytest
from moto import mock_aws

from mamori.inventory import collect
from mamori.posture import load_checks, load_standards
from mamori.posture.engine import run_check
from tests.posture import scenarios
from tests.posture.harness import SCENARIOS, Env, Scenario

for _mod in pkgutil.iter_modules(scenarios.__path__):
    importlib.import_module(f"{scenarios.__name__}.{_mod.name}")

CHECKS = load_checks()
GROUPS: dict[Scenario, list[str]] = defaultdict(list)
for _cid, _fn in sorted(SCENARIOS.items()):
    GROUPS[_fn].append(_cid)


def _group_id(fn: Scenario) -> str:
    return f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"


@pytest.mark.parametrize("fn", list(GROUPS), ids=[_group_id(f) for f in GROUPS])
def test_checks_pass_and_fail(fn: Scenario) -> None:
    check_ids = GROUPS[fn]
    services = sorted({s for cid in check_ids for s in CHECKS[cid].requires})
    with mock_aws():
        env = Env()
        fn(env)
        env.session("main")
        env.warm_backends(services)
        snapshot = collect(list(env.sessions.values()), env.regions, services=services, workers=4)
    assert env.expected["PASSED"], f"{check_ids}: scenario has no PASSED resource"
    assert env.expected["FAILED"], f"{check_ids}: scenario has no FAILED resource"
    problems = []
    for cid in check_ids:
        got = {}
        for acct in snapshot.accounts:
            for f in run_check(CHECKS[cid], snapshot, acct):
                assert f.compliance is not None
                got[(f.account_id, f.resource.id)] = (
                    f.compliance.status.value,
                    f.compliance.status_reasons,
                )
        for status, items in env.expected.items():
            for key in items:
                if key not in got:
                    problems.append(f"{cid}: no finding for {key}; got {sorted(got)}")
                elif got[key][0] != status:
                    problems.append(f"{cid}: {key} is {got[key]}, expected {status}")
    assert not problems, "\n".join(problems)


def test_every_check_has_a_scenario() -> None:
    missing = sorted(set(CHECKS) - set(SCENARIOS))
    assert not missing, f"checks without a PASSED/FAILED scenario: {missing}"
    stray = sorted(set(SCENARIOS) - set(CHECKS))
    assert not stray, f"scenarios for unknown checks: {stray}"


def test_check_metadata_complete() -> None:
    for spec in CHECKS.values():
        assert spec.title and spec.description and spec.remediation, spec.id
        assert spec.references, f"{spec.id} has no reference"
        assert all(r.startswith("https://") for r in spec.references), spec.id
        assert spec.resource_type.startswith("Aws"), spec.id
        assert spec.id.split(".")[0] == spec.service.replace("-", ""), spec.id


def test_standards_resolve_to_checks() -> None:
    standards = load_standards()
    assert {"cis-aws-foundations-3.0.0", "aws-foundational-security-best-practices-1.0.0"} <= set(
        standards
    )
    for std in standards.values():
        for control in std.controls:
            for cid in control.checks:
                assert cid in CHECKS, f"{std.id} control {control.id}: unknown check {cid}"
            assert control.manual or control.checks, f"{std.id} {control.id} maps no check"


def test_cis_automatable_recommendations_are_all_mapped() -> None:
    cis = load_standards()["cis-aws-foundations-3.0.0"]
    automated = [c for c in cis.controls if not c.manual]
    assert len(automated) == 53
    assert all(c.checks for c in automated)
