"""Automation runs on both databases: matching, workflow actions, the audit, idempotency by
finding content, the watermark, dry runs, failures deferring and retrying, webhooks sent once."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

from mamori.core import InputError, WorkflowStatus, utcnow
from mamori.hub import Store
from mamori.hub.automation import AuditLog, RuleSet, load_rules, run_automation
from tests.arbitrary import json_documents
from tests.hub.automation.receiver import receiver
from tests.hub.builders import detection, posture

NOTIFY = {
    "id": "notify-high",
    "pattern": {"Severity": {"Label": ["HIGH", "CRITICAL"]}, "Compliance": {"Status": ["FAILED"]}},
    "actions": [{"type": "set_workflow", "status": "NOTIFIED", "note": "paged on-call"}],
}


def rules(*items: dict[str, Any], name: str = "team") -> RuleSet:
    return RuleSet.model_validate({"name": name, "rules": list(items)})


def test_matching_findings_get_the_actions_and_an_audit(store: Store) -> None:
    high, low, threat = posture("a"), posture("b", severity="LOW"), detection()
    store.write([high, low, threat])
    report = run_automation(store, rules(NOTIFY))
    assert report.examined == 3
    assert report.by_rule["notify-high"].matched == 1
    assert report.by_rule["notify-high"].results["done"] == 1
    after = store.get(high.id)
    assert after is not None and after.workflow.status is WorkflowStatus.NOTIFIED
    assert after.workflow.updated_by == "automation:notify-high"
    assert store.history(high.id)[-1]["note"] == "paged on-call"
    untouched = store.get(low.id)
    assert untouched is not None and untouched.workflow.status is WorkflowStatus.NEW
    (record,) = AuditLog(store).records()
    assert (record.rules, record.rule_id, record.action, record.result) == (
        "team", "notify-high", "set_workflow", "done",
    )  # fmt: skip
    assert record.finding_id == high.id and record.resource_id == high.resource.id
    assert record.dry_run is False and record.detail == "workflow NEW -> NOTIFIED"


def test_runs_are_idempotent_by_finding_content(store: Store) -> None:
    finding = posture("a")
    store.write([finding])
    with receiver() as rx:
        hook = {"id": "page", "pattern": {"Severity": {"Label": ["HIGH"]}},
                "actions": [{"type": "webhook", "url": rx.url}]}  # fmt: skip
        first = run_automation(store, rules(hook), all_findings=True)
        assert first.by_rule["page"].results["done"] == 1 and len(rx.requests) == 1
        # Again, and after a re-scan that changes nothing but the timestamps: no new message.
        again = run_automation(store, rules(hook), all_findings=True)
        store.write([finding])
        rescan = run_automation(store, rules(hook))
        assert (again.repeated, rescan.repeated, len(rx.requests)) == (1, 1, 1)
        # The finding says something new (severity up): the rule applies again.
        store.write([posture("a", severity="CRITICAL")])
        hook["pattern"] = {"Severity": {"Label": ["HIGH", "CRITICAL"]}}
        changed = run_automation(store, rules(hook))
        assert changed.by_rule["page"].results["done"] == 1 and len(rx.requests) == 2
    assert [r.result for r in AuditLog(store).records()] == ["done", "done"]


def test_the_watermark_limits_a_run_to_new_and_updated_findings(store: Store) -> None:
    store.write([posture("old")])
    assert run_automation(store, rules(NOTIFY)).examined == 1
    # As a scan writes them: updated now.
    store.write(
        [posture("new", observed=utcnow()), posture("other", severity="LOW", observed=utcnow())]
    )
    report = run_automation(store, rules(NOTIFY))
    # Since the last run (less a small overlap): the two new findings, and "old", whose
    # workflow the first run changed.
    assert report.since is not None and report.examined == 3
    assert report.by_rule["notify-high"].results["done"] == 1  # "new"; "old" was done
    assert run_automation(store, rules(NOTIFY), all_findings=True).examined == 3
    # Each rules file keeps its own watermark.
    assert run_automation(store, rules(NOTIFY, name="other-file")).since is None


def test_dry_run_records_plans_and_changes_nothing(store: Store) -> None:
    finding = posture("a")
    store.write([finding])
    plan = run_automation(store, rules(NOTIFY), dry_run=True)
    assert plan.by_rule["notify-high"].results["planned"] == 1
    still = store.get(finding.id)
    assert still is not None and still.workflow.status is WorkflowStatus.NEW
    (record,) = AuditLog(store).records()
    assert record.dry_run and record.result == "planned"
    # The watermark did not move, and the plan does not count as done.
    real = run_automation(store, rules(NOTIFY))
    assert real.since is None and real.by_rule["notify-high"].results["done"] == 1


def test_a_failed_action_defers_the_rest_and_is_retried(store: Store) -> None:
    finding = posture("a")
    store.write([finding])
    rule = {
        "id": "page-then-note",
        "pattern": {"Severity": {"Label": ["HIGH"]}},
        "actions": [
            {"type": "webhook", "url_env": "PAGER_URL"},
            {"type": "set_workflow", "status": "NOTIFIED"},
        ],
    }
    first = run_automation(store, rules(rule), env={})
    assert first.by_rule["page-then-note"].results == {"failed": 1, "deferred": 1}
    assert "PAGER_URL is not set" in first.failures[0].error
    unchanged = store.get(finding.id)
    assert unchanged is not None and unchanged.workflow.status is WorkflowStatus.NEW
    with receiver() as rx:
        retried = run_automation(store, rules(rule), env={"PAGER_URL": rx.url}, all_findings=True)
    assert retried.by_rule["page-then-note"].results == {"done": 2}
    assert len(rx.requests) == 1


def test_peoples_suppressions_and_disabled_rules_are_left_alone(store: Store) -> None:
    finding = posture("a")
    store.write([finding])
    store.set_workflow(finding.id, "SUPPRESSED", by="alice", note="accepted")
    report = run_automation(store, rules(NOTIFY, {**NOTIFY, "id": "off", "enabled": False}))
    assert report.by_rule == {"notify-high": report.by_rule["notify-high"]}
    assert report.by_rule["notify-high"].results["deferred"] == 1
    after = store.get(finding.id)
    assert after is not None and after.workflow.updated_by == "alice"


def test_suppress_action(store: Store) -> None:
    finding = detection()
    store.write([finding])
    rule = {
        "id": "break-glass",
        "pattern": {"GeneratorId": [{"prefix": "detect.root_"}], "AwsAccountId": ["111111111111"]},
        "actions": [{"type": "suppress", "reason": "planned break-glass exercise"}],
    }
    assert run_automation(store, rules(rule)).by_rule["break-glass"].results["done"] == 1
    after = store.get(finding.id)
    assert after is not None and after.workflow.status is WorkflowStatus.SUPPRESSED
    assert after.workflow.note == "planned break-glass exercise (rule break-glass)"


def test_remediations_without_aws_fail_cleanly(store: Store) -> None:
    store.write([posture("a", generator="s3.bucket_public_access_block")])
    rule = {"id": "fix", "pattern": {"GeneratorId": ["s3.bucket_public_access_block"]},
            "actions": [{"type": "s3.block_public_access"}]}  # fmt: skip
    report = run_automation(store, rules(rule))
    assert report.failures and "no AWS access" in report.failures[0].error


# -- the rules file ----------------------------------------------------------------------------


def _write(tmp_path: Path, doc: Any, name: str = "automation.yaml") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_the_file_name_names_the_rules(tmp_path: Path) -> None:
    loaded = load_rules(_write(tmp_path, {"rules": [NOTIFY]}, "prod response.yaml"))
    assert loaded.name == "prod-response"
    assert load_rules(_write(tmp_path, {"name": "x", "rules": [NOTIFY]})).name == "x"


def _rule(**change: Any) -> dict[str, Any]:
    return {**NOTIFY, **change}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"rules": [_rule(colour="red")]}, r"rules\[0\] \(notify-high\)\.colour"),
        ({"rules": [_rule(actions=[])]}, r"actions: List should have at least 1 item"),
        ({"rules": [_rule(actions=[{"type": "page"}])]}, "'page' found using 'type'"),
        ({"rules": [_rule(actions=[{"status": "NOTIFIED"}])]}, "discriminator 'type'"),
        (
            {"rules": [_rule(actions=[{"type": "set_workflow", "status": "DONE"}])]},
            r"actions\[0\]\.set_workflow\.status",
        ),
        (
            {"rules": [_rule(actions=[{"type": "webhook", "url_env": "X", "chanel": "#sec"}])]},
            r"webhook\.chanel: Extra inputs",
        ),
        (
            {"rules": [_rule(actions=[{"type": "webhook", "url": "x", "url_env": "X"}])]},
            "exactly one of url and url_env",
        ),
        (
            {
                "rules": [
                    _rule(actions=[{"type": "ec2.revoke_world_open_ingress", "ports": [70000]}])
                ]
            },
            r"ports\[0\]: Input should be less than or equal to 65535",
        ),
        (
            {"rules": [_rule(actions=[{"type": "ec2.quarantine_instance", "group_name": "sg-1"}])]},
            "may not start with 'sg-'",
        ),
        ({"rules": [_rule(pattern={"Severity": {"Label": "HIGH"}})]}, r"pattern: Severity\.Label"),
        ({"rules": [_rule(pattern={})]}, "non-empty mapping"),
        ({"rules": [_rule(id="bad id")]}, r"rules\[0\] \(bad id\)\.id"),
        ({"rules": [NOTIFY, NOTIFY]}, "given twice"),
        ({"rules": []}, "rules: List should have at least 1 item"),
        ({"name": "x"}, "rules: Field required"),
        ("rules: [", "not YAML"),
        ("!!python/object/apply:os.system ['echo hi']", "not YAML"),
    ],
)
def test_invalid_rules_are_refused_by_name(tmp_path: Path, doc: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_rules(_write(tmp_path, doc))


@settings(max_examples=80, deadline=None)
@given(json_documents(["rules", "id", "pattern", "actions", "type", "webhook", "url", "Region"]))
def test_any_rules_document_is_loaded_or_refused_cleanly(doc: Any) -> None:
    from pydantic import ValidationError

    with contextlib.suppress(ValidationError):
        RuleSet.model_validate(doc)
