"""Suppression rules: strict validation, matching by every key and AND/OR/NOT, applying to a
store (both backends), expiry reopening what a rule suppressed, people's decisions untouched."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.core import InputError, Resource, WorkflowStatus
from mamori.hub import Store
from mamori.hub.mutelist import Condition, Mutelist, apply_mutelist, load_mutelist
from tests.arbitrary import json_documents
from tests.hub.builders import ACCOUNT, OTHER_ACCOUNT, detection, posture

TODAY = date(2026, 11, 29)


def _rule(match: dict[str, Any], rid: str = "r1", **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "reason": "accepted risk",
        "owner": "sec@example.com",
        "match": match,
        **extra,
    }


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "mutelist.yaml"
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def _matches(match: dict[str, Any], finding: Any) -> bool:
    return Condition.model_validate(match).matches(finding)


BUCKET = posture("build-cache")
TAGGED = posture("tmp-1").model_copy(
    update={
        "resources": [
            Resource(type="AwsS3Bucket", id="arn:aws:s3:::tmp-1", tags={"env": "dev", "team": "a"})
        ]
    }
)
KEY = detection("AKIAEXAMPLE", account=OTHER_ACCOUNT, region="eu-west-1")


@pytest.mark.parametrize(
    ("match", "finding", "expected"),
    [
        ({"accounts": [ACCOUNT]}, BUCKET, True),
        ({"accounts": [OTHER_ACCOUNT]}, BUCKET, False),
        ({"regions": ["eu-west-1"]}, KEY, True),
        ({"checks": ["s3.bucket_public_access_blocked"]}, BUCKET, True),
        ({"finding_types": ["TTPs/Initial Access/Policy:IAMUser-RootCredentialUsage"]}, KEY, True),
        ({"resources": ["arn:aws:s3:::build-cache"]}, BUCKET, True),
        ({"resources": ["arn:aws:s3:::build"]}, BUCKET, False),  # exact, not a prefix
        ({"resource_regex": "arn:aws:s3:::tmp-.*"}, TAGGED, True),
        ({"resource_regex": "tmp-.*"}, TAGGED, False),  # the whole id
        ({"tags": {"env": "dev"}}, TAGGED, True),
        ({"tags": {"env": "dev", "team": "b"}}, TAGGED, False),
        ({"tags": {"env": "dev"}}, BUCKET, False),
        # AND across keys, OR within a list.
        ({"accounts": [ACCOUNT, OTHER_ACCOUNT], "regions": ["us-east-1"]}, BUCKET, True),
        ({"accounts": [ACCOUNT], "regions": ["eu-west-1"]}, BUCKET, False),
        ({"any": [{"regions": ["eu-west-1"]}, {"checks": ["nope"]}]}, KEY, True),
        ({"all": [{"regions": ["eu-west-1"]}, {"checks": ["nope"]}]}, KEY, False),
        ({"not": {"accounts": [ACCOUNT]}}, KEY, True),
        ({"not": {"accounts": [ACCOUNT]}}, BUCKET, False),
    ],
)
def test_conditions(match: dict[str, Any], finding: Any, expected: bool) -> None:
    assert _matches(match, finding) is expected


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"rules": [_rule({"acounts": [ACCOUNT]})]}, r"rules\[0\] \(r1\)\.match\.acounts"),
        ({"rules": [_rule({})]}, "at least one key"),
        ({"rules": [_rule({"accounts": []})]}, "accounts is empty"),
        ({"rules": [_rule({"resource_regex": "(unclosed"})]}, "not a regular expression"),
        ({"rules": [_rule({"accounts": [ACCOUNT]}, expires="someday")]}, "expires"),
        ({"rules": [_rule({"accounts": [ACCOUNT]}, colour="red")]}, "colour"),
        ({"rules": [_rule({"accounts": [ACCOUNT]}), _rule({"regions": ["x"]})]}, "given twice"),
        ({"rules": [{**_rule({"accounts": [ACCOUNT]}), "reason": ""}]}, "reason"),
        ({"rules": [{**_rule({"accounts": [ACCOUNT]}), "id": "bad id!"}]}, "id"),
        ({"rule": []}, "rules"),
        ("rules: [", "not YAML"),
        ([1, 2], "invalid mutelist"),
    ],
)
def test_invalid_mutelists_are_refused_by_name(tmp_path: Path, doc: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_mutelist(_write(tmp_path, doc))


@settings(max_examples=60, deadline=None)
@given(json_documents(["rules", "id", "match", "accounts", "any", "not", "x"], leaves=10))
def test_any_document_is_loaded_or_refused_cleanly(doc: Any) -> None:
    try:
        Mutelist.model_validate(doc)
    except Exception as exc:  # noqa: BLE001 - the point: only validation errors come out
        assert type(exc).__name__ == "ValidationError", exc


def _store_with(store: Store) -> None:
    store.write([BUCKET, TAGGED, KEY])


def test_applying_suppresses_marks_and_counts_apart(store: Store) -> None:
    _store_with(store)
    mutelist = Mutelist.model_validate({"rules": [_rule({"tags": {"env": "dev"}}, "dev")]})
    dry = apply_mutelist(store, mutelist, today=TODAY, dry_run=True)
    assert dry.suppressed == {"dev": 1}
    assert store.get(TAGGED.id).workflow.status is WorkflowStatus.NEW  # type: ignore[union-attr]
    report = apply_mutelist(store, mutelist, today=TODAY)
    assert (report.suppressed, report.reopened, report.examined) == ({"dev": 1}, 0, 3)
    muted = store.get(TAGGED.id)
    assert muted is not None and muted.workflow.status is WorkflowStatus.SUPPRESSED
    assert muted.workflow.updated_by == "mutelist:dev"
    assert "accepted risk" in (muted.workflow.note or "") and "sec@example.com" in (
        muted.workflow.note or ""
    )
    assert store.history(TAGGED.id)[-1]["to"] == "SUPPRESSED"
    # Still listed; a second run changes nothing.
    assert store.count() == 3
    assert apply_mutelist(store, mutelist, today=TODAY).suppressed == {}


def test_expired_or_removed_rules_reopen_what_they_suppressed_only(store: Store) -> None:
    _store_with(store)
    rule = _rule({"accounts": [ACCOUNT]}, "acct", expires="2026-12-31")
    apply_mutelist(store, Mutelist.model_validate({"rules": [rule]}), today=TODAY)
    store.set_workflow(KEY.id, "SUPPRESSED", by="alice", note="known test key")
    later = apply_mutelist(
        store, Mutelist.model_validate({"rules": [rule]}), today=date(2027, 1, 1)
    )
    assert later.expired == ["acct"] and later.reopened == 2
    for finding in (BUCKET, TAGGED):
        got = store.get(finding.id)
        assert got is not None and got.workflow.status is WorkflowStatus.NEW
    kept = store.get(KEY.id)  # a person's decision: untouched
    assert kept is not None and kept.workflow.updated_by == "alice"


def test_cli_suppress_and_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with Store.open(url) as store:
        _store_with(store)
    path = _write(tmp_path, {"rules": [_rule({"regions": ["eu-west-1"]}, "eu")]})
    runner = CliRunner()
    result = runner.invoke(app, ["findings", "suppress", "--rule", str(path), "--db", url])
    assert result.exit_code == 0, result.output
    assert "eu: 1 finding(s) were suppressed" in result.output
    listed = runner.invoke(app, ["findings", "list", "--db", url])
    assert "3 of 3; 1 suppressed" in listed.output
    only = runner.invoke(app, ["findings", "list", "--workflow", "suppressed", "--db", url])
    assert "1 of 1; 1 suppressed" in only.output
    bad = _write(tmp_path, {"rules": [_rule({"regoins": ["x"]})]})
    refused = runner.invoke(app, ["findings", "suppress", "--rule", str(bad), "--db", url])
    assert refused.exit_code != 0 and "regoins" in refused.output
