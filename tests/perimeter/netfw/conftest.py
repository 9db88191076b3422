"""Running a policy over small log files written for each test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mamori.perimeter.netfw import NetfwReport, evaluate, load_policy
from tests.perimeter.netfw.builders import write_dns, write_flows, write_policy

Runner = Callable[..., NetfwReport]


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    """(policy document, its groups, flow lines, DNS queries) -> the evaluation report."""

    def go(
        document: dict[str, Any],
        groups: list[dict[str, Any]],
        flow_lines: list[str] | None = None,
        queries: list[dict[str, Any]] | None = None,
    ) -> NetfwReport:
        policy_file, group_files = write_policy(tmp_path / "policy", document, groups)
        policy = load_policy(policy_file, group_files)
        flows = [str(write_flows(tmp_path / "flows", flow_lines))] if flow_lines else []
        dns = [str(write_dns(tmp_path / "dns", queries))] if queries else []
        return evaluate(policy, flow_locations=flows, dns_locations=dns)

    return go


def rule_row(report: NetfwReport, source: str, key: str) -> dict[str, Any]:
    return next(row for row in report.rules[source] if row["rule"] == key)
