"""The Sigma importer: Sigma's matching rules on the events table, metadata, refusals, safety
against hostile rule text, and `mamori detect --sigma` end to end.

Every Sigma rule here is written for these tests (none is copied from the community set).
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.core import InputError
from mamori.detect.findings import finding_of
from mamori.detect.rules.base import _FINDING_TYPE, RULES
from mamori.detect.sigma import SigmaImport, convert_text, import_sigma, sigma_files
from mamori.detect.sigma.meta import attack, camel_name, severity
from mamori.detect.sigma.pipeline import json_path
from tests.detect.logfiles import small_world
from tests.detect.rules_support import ACCOUNT, ALICE, connection, ev

runner = CliRunner()
_HEAD = """\
title: {title}
id: {rid}
logsource:
    product: aws
    service: cloudtrail
"""


def rule_text(
    detection: str,
    *,
    title: str = "Test rule",
    rid: str = "5a6b7c8d-0000-4000-8000-000000000001",
    extra: str = "",
) -> str:
    body = "detection:\n" + textwrap.indent(textwrap.dedent(detection).strip("\n"), "    ")
    return _HEAD.format(title=title, rid=rid) + body + "\n" + extra


def only(text: str) -> Any:
    imported = convert_text(text, "test.yml")
    assert imported.refused == [], imported.refused
    assert len(imported.converted) == 1
    return imported.converted[0]


def with_raw(row: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The row with `raw` holding the record (plus the row's own promoted values)."""
    base = {"eventName": row["event_name"], "eventSource": row["event_source"]}
    return {**row, "raw": json.dumps({**base, **record})}


def matched(detection: str, rows: list[dict[str, Any]]) -> list[str]:
    """Event ids (sorted) that the Sigma detection selects."""
    converted = only(rule_text(detection))
    con = connection(events=rows)
    sql = f"SELECT e.event_id FROM events e WHERE {converted.where} ORDER BY 1"  # noqa: S608
    return [r[0] for r in con.sql(sql).fetchall()]


def hit(detection: str, yes: dict[str, Any], no: dict[str, Any]) -> None:
    """`yes` matches, its look-alike `no` does not."""
    yes = {**yes, "event_id": "yes"}
    no = {**no, "event_id": "no"}
    assert matched(detection, [yes, no]) == ["yes"]


# ----- Sigma's value modifiers on the events table -------------------------------------------


def test_plain_value_is_case_insensitive_and_whole() -> None:
    hit("sel: {eventName: createuser}\ncondition: sel", ev("CreateUser"), ev("CreateUserX"))


def test_contains_startswith_endswith() -> None:
    hit(
        "sel: {userAgent|contains: 's3 browser'}\ncondition: sel",
        ev("x", user_agent="S3 Browser 11.4"),
        ev("x", user_agent="S3Browser 11.4"),
    )
    hit(
        "sel: {eventName|startswith: Delete}\ncondition: sel",
        ev("deleteTrail"),
        ev("UndeleteTrail"),
    )
    hit("sel: {eventName|endswith: Policy}\ncondition: sel", ev("PutPOLICY"), ev("PutPolicyX"))


def test_all_needs_every_value() -> None:
    # policyDocument is JSON text inside the JSON record: read as its own (unescaped) text.
    # `\\*` is a literal star; an unescaped `*` would be a wildcard and match any action.
    detection = (
        'sel: {requestParameters.policyDocument|contains|all: [\'"Action": "\\*"\', '
        "'Allow']}\ncondition: sel"
    )
    wide = '{"Effect": "Allow", "Action": "*", "Resource": "*"}'
    narrow = '{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}'
    hit(
        detection,
        ev("PutUserPolicy", request_parameters={"policyDocument": wide}),
        ev("PutUserPolicy", request_parameters={"policyDocument": narrow}),
    )
    hit(
        detection,
        ev("PutUserPolicy", request_parameters={"policyDocument": wide}),
        ev("PutUserPolicy", request_parameters={"policyDocument": wide.replace("Allow", "Deny")}),
    )


@pytest.mark.parametrize(
    ("selection", "yes", "no"),
    [
        ("{eventName: 'Create*Key'}", ev("CreateAccessKey"), ev("CreateKeys")),
        ("{eventName: 'Get?ser'}", ev("GetUser"), ev("GetUsser")),
        # `%` and `_` are ordinary characters in Sigma, not LIKE wildcards.
        ("{userAgent: 'a_b'}", ev("x", user_agent="A_B"), ev("x", user_agent="axb")),
        (
            "{userAgent|contains: '100%'}",
            ev("x", user_agent="at 100% load"),
            ev("x", user_agent="at 1000 load"),
        ),
        # An escaped star is a literal star; a backslash is a backslash.
        ("{userAgent: 'a\\*b'}", ev("x", user_agent="a*b"), ev("x", user_agent="axb")),
        (
            "{userAgent|endswith: 'C:\\\\tools'}",
            ev("x", user_agent="run C:\\tools"),
            ev("x", user_agent="run C:tools"),
        ),
    ],
    ids=["star", "question", "underscore", "percent", "escaped-star", "backslash"],
)
def test_wildcards_and_literal_like_characters(
    selection: str, yes: dict[str, Any], no: dict[str, Any]
) -> None:
    hit(f"sel: {selection}\ncondition: sel", yes, no)


def test_cased_is_case_sensitive() -> None:
    hit("sel: {eventName|cased: CreateUser}\ncondition: sel", ev("CreateUser"), ev("createuser"))


def test_regular_expressions_and_flags() -> None:
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/aws:ec2-instance/i-0abc"
    hit(
        "sel: {userIdentity.arn|re: '.+:assumed-role/aws:.+'}\ncondition: sel",
        ev("x", principal_arn=arn),
        ev("x", principal_arn=arn.upper()),
    )
    hit(
        "sel: {userIdentity.arn|re|i: 'ASSUMED-ROLE/AWS:'}\ncondition: sel",
        ev("x", principal_arn=arn),
        ev("x", principal_arn=ALICE),
    )


def test_cidr_v4_numeric_and_v6() -> None:
    detection = "sel: {sourceIPAddress|cidr: ['10.0.0.0/8', '2001:db8::/32']}\ncondition: sel"
    rows = [
        ev("x", event_id="a", source_ip="10.200.3.4"),
        ev("x", event_id="b", source_ip="2001:db8::7"),
        ev("x", event_id="c", source_ip="100.0.0.1"),
        ev("x", event_id="d", source_ip="ec2.amazonaws.com"),
        ev("x", event_id="e", source_ip="2001:db9::1"),
    ]
    assert matched(detection, rows) == ["a", "b"]


def test_exists_and_null() -> None:
    failed = ev("x", error_code="AccessDenied")
    ok = ev("x")
    hit("sel: {errorCode|exists: true}\ncondition: sel", failed, ok)
    hit("sel: {errorCode|exists: false}\ncondition: sel", ok, failed)
    hit("sel: {errorCode: null}\ncondition: sel", ok, failed)


def test_numbers_and_comparisons_read_json_numbers_and_text() -> None:
    rows = [
        ev("x", event_id="n5", response_elements={"count": 5}),
        ev("x", event_id="t5", response_elements={"count": "5"}),
        ev("x", event_id="n50", response_elements={"count": 50}),
        ev("x", event_id="txt", response_elements={"count": "many"}),
    ]
    assert matched("sel: {responseElements.count: 5}\ncondition: sel", rows) == ["n5", "t5"]
    assert matched("sel: {responseElements.count|gt: 5}\ncondition: sel", rows) == ["n50"]
    assert matched("sel: {responseElements.count|lte: 5}\ncondition: sel", rows) == ["n5", "t5"]
    infinite = convert_text(rule_text("sel: {responseElements.count: .inf}\ncondition: sel"), "i")
    assert infinite.converted == [] and infinite.refused  # no `inf` reaches SQL


def test_booleans_on_typed_columns_and_json() -> None:
    hit("sel: {readOnly: false}\ncondition: sel", ev("x", read_only=False), ev("x", read_only=True))
    hit(
        "sel: {requestParameters.enable: 'false'}\ncondition: sel",
        ev("UpdateDetector", request_parameters={"enable": False}),
        ev("UpdateDetector", request_parameters={"enable": True}),
    )
    hit(
        "sel: {requestParameters.setAsDefault: true}\ncondition: sel",
        ev("CreatePolicyVersion", request_parameters={"setAsDefault": True}),
        ev("CreatePolicyVersion", request_parameters={"setAsDefault": False}),
    )


def test_nested_and_odd_keys_are_read_from_json() -> None:
    hit(
        "sel: {requestParameters.PublicAccessBlockConfiguration.BlockPublicAcls: 'false'}\n"
        "condition: sel",
        ev(
            "PutBucketPublicAccessBlock",
            request_parameters={"PublicAccessBlockConfiguration": {"BlockPublicAcls": False}},
        ),
        ev("PutBucketPublicAccessBlock", request_parameters={"BlockPublicAcls": False}),
    )
    hit(
        "sel: {requestParameters.x-amz-acl: public-read}\ncondition: sel",
        ev("PutObjectAcl", request_parameters={"x-amz-acl": "public-read"}),
        ev("PutObjectAcl", request_parameters={"x_amz_acl": "public-read"}),
    )
    odd = {'it\'s "q" $x': "v", "sp ace": {"a\\b": "w"}}
    hit(
        "sel:\n  'requestParameters.it''s \"q\" $x': v\n  'requestParameters.sp ace.a\\b': w\n"
        "condition: sel",
        ev("x", request_parameters=odd),
        ev("x", request_parameters={"its q x": "v", "sp ace": {"ab": "w"}}),
    )
    # A field that is no column is read from the whole record.
    hit(
        "sel: {userIdentity.userName: alice}\ncondition: sel",
        with_raw(ev("x"), {"userIdentity": {"userName": "alice"}}),
        with_raw(ev("x"), {"userIdentity": {"userName": "alicia"}}),
    )


def test_json_path_quotes_every_key() -> None:
    assert json_path(["a.b", 'c"d', "e\\f"]) == '$."a.b"."c\\"d"."e\\\\f"'


def test_not_filter_holds_when_the_filtered_field_is_missing() -> None:
    detection = """
        sel: {eventName: CreateAccessKey}
        filter: {userIdentity.invokedBy: cloudformation.amazonaws.com}
        condition: sel and not filter
    """
    rows = [
        ev("CreateAccessKey", event_id="plain"),
        ev("CreateAccessKey", event_id="cfn", invoked_by="cloudformation.amazonaws.com"),
    ]
    assert matched(detection, rows) == ["plain"]


def test_keywords_search_the_whole_record() -> None:
    hit(
        "keywords: ['evil-tool']\ncondition: keywords",
        with_raw(ev("x"), {"userAgent": "Evil-Tool/1.0"}),
        with_raw(ev("x"), {"userAgent": "good-tool/1.0"}),
    )


def test_one_of_and_lists() -> None:
    detection = """
        sel_source: {eventSource: guardduty.amazonaws.com}
        sel_a: {eventName: DeleteDetector}
        sel_b: {eventName: UpdateDetector, requestParameters.enable: 'false'}
        condition: sel_source and 1 of sel_*
    """
    gd = "guardduty.amazonaws.com"
    rows = [
        ev("DeleteDetector", gd, event_id="del"),
        ev("UpdateDetector", gd, event_id="off", request_parameters={"enable": False}),
        ev("UpdateDetector", gd, event_id="on", request_parameters={"enable": True}),
        ev("DeleteDetector", "iam.amazonaws.com", event_id="other"),
    ]
    # `1 of sel_*` includes sel_source itself: any GuardDuty call matches, as Sigma says.
    assert matched(detection, rows) == ["del", "off", "on"]


# ----- hostile rule text ---------------------------------------------------------------------


def test_quotes_in_values_cannot_break_out_of_sql() -> None:
    payload = "x'); DROP TABLE events; --"
    detection = f"""
        sel:
            eventName: "{payload}"
            userAgent|re: "'; DROP TABLE events; --"
            'requestParameters.a''); DROP TABLE events; --': "{payload}"
        condition: sel
    """
    converted = only(rule_text(detection))
    evil = ev(
        payload,
        user_agent="'; DROP TABLE events; --",
        request_parameters={"a'); DROP TABLE events; --": payload},
    )
    con = connection(events=[evil, ev("CreateUser")])
    rows = con.sql(converted.rule.sql).fetchall()
    assert len(rows) == 1  # the rule ran and matched the hostile record only
    assert con.sql("SELECT count(*) FROM events").fetchall() == [(2,)]


def test_yaml_tags_are_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        f"title: !!python/object/apply:os.system ['touch {marker}']\n"
        + rule_text("sel: {eventName: x}\ncondition: sel").split("\n", 1)[1]
    )
    imported = convert_text(text, "evil.yml")
    assert imported.converted == []
    assert "malformed YAML" in imported.refused[0].reason
    assert not marker.exists()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_never_raises(text: str) -> None:
    imported = convert_text(text, "fuzz.yml")
    assert isinstance(imported, SigmaImport)
    for refused in imported.refused:
        assert refused.file == "fuzz.yml" and refused.reason


# Lines of Sigma (and of broken Sigma), joined in random orders below.
_FRAGMENTS = (
    "title: t;id: 1;logsource: {product: aws, service: cloudtrail};detection:;"
    "  sel: {eventName: x};  condition: sel;  condition: sel |;  sel: {a|re: '('};"
    "  sel: {a|cidr: nope};  sel: {a|gt: x};  sel: [1, 2];  condition: 1 of them;level: weird;"
    "tags: [attack.t1];---;action: global;correlation: {type: event_count};- x;{;"
    "  sel: {a|base64offset|contains: x};  condition: not not sel;\t;'"
)
_PIECES = st.sampled_from([f + "\n" for f in _FRAGMENTS.split(";")])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=12))
def test_garbled_sigma_never_raises_and_sql_is_valid(pieces: list[str]) -> None:
    imported = convert_text("".join(pieces), "garbled.yml")
    con = connection(events=[ev("x")])
    for converted in imported.converted:
        # Whatever converts must be a query DuckDB accepts (it is parsed, not just printed).
        con.sql(f"EXPLAIN {converted.rule.sql}")


# ----- refusals name the file and the rule; the rest is imported ------------------------------


def test_bad_rules_are_refused_with_reasons_and_others_imported(tmp_path: Path) -> None:
    good = rule_text("sel: {eventName: StopLogging}\ncondition: sel", title="Good one")
    files = {
        "good.yml": good,
        "broken.yml": "title: [unclosed\n",
        "modifier.yml": rule_text("sel: {eventName|sparkle: x}\ncondition: sel", title="Modi"),
        "windows.yml": good.replace("product: aws", "product: windows").replace("Good one", "Win"),
        "pipe.yml": rule_text("sel: {eventName: x}\ncondition: sel | count() > 5", title="Agg"),
        "placeholder.yml": rule_text(
            "sel: {sourceIPAddress|expand: '%ips%'}\ncondition: sel", title="Holder"
        ),
        "notitle.yml": good.replace("title: Good one\n", ""),
        "list.yml": "- 1\n- 2\n",
        "binary.yml": b"\xff\xfe\x00garbage".decode("latin-1"),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="latin-1" if name == "binary.yml" else "utf-8")
    imported = import_sigma([tmp_path])
    assert [c.title for c in imported.converted] == ["Good one"]
    reasons = {Path(r.file).name: r for r in imported.refused}
    assert set(reasons) == set(files) - {"good.yml"}
    assert "malformed YAML" in reasons["broken.yml"].reason
    assert "sparkle" in reasons["modifier.yml"].reason
    assert "logsource" in reasons["windows.yml"].reason
    assert "pipe syntax" in reasons["pipe.yml"].reason
    assert "placeholder" in reasons["placeholder.yml"].reason
    assert reasons["notitle.yml"].reason
    assert "not a mapping" in reasons["list.yml"].reason
    assert "UTF-8" in reasons["binary.yml"].reason
    message = reasons["windows.yml"].message()
    assert "windows.yml" in message and "'Win'" in message and "5a6b7c8d" in message


def test_metadata_problems_do_not_refuse_a_rule() -> None:
    text = rule_text(
        "sel: {eventName: x}\ncondition: sel",
        extra="status: weird\ndate: 2020/1/1\nfalsepositives: |\n    Rare,\n    really.\n",
    )
    converted = only(text)
    assert converted.title == "Test rule"
    assert converted.rule.remediation.endswith("falsepositives): Rare, really.")


def test_correlation_rules_are_refused() -> None:
    text = rule_text("sel: {eventName: x}\ncondition: sel", extra="name: base\n") + (
        "---\ntitle: Many\nid: 5a6b7c8d-0000-4000-8000-000000000009\ncorrelation:\n"
        "    type: event_count\n    rules: [base]\n    group-by: [userIdentity.arn]\n"
        "    timespan: 5m\n    condition: {gte: 10}\n"
    )
    imported = convert_text(text, "corr.yml")
    assert imported.converted == []
    reasons = {r.title: r.reason for r in imported.refused}
    assert "correlation" in reasons["Many"]
    assert "building block" in reasons["Test rule"]  # Sigma: not output on its own
    generated = convert_text(text.replace("    timespan", "    generate: true\n    timespan"), "c")
    assert [c.title for c in generated.converted] == ["Test rule"]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope"):
        sigma_files([tmp_path / "nope"])


# ----- the rule Mamori makes of a Sigma rule -------------------------------------------------


def test_rule_metadata() -> None:
    text = rule_text(
        "sel: {eventName: StopLogging}\ncondition: sel",
        title="Trail stopped (by someone)!",
        extra="level: critical\ntags: [attack.defense_evasion, attack.t1562.008]\n"
        "falsepositives: [Planned maintenance]\ndescription: A trail stopped.\n",
    )
    rule = only(text).rule
    assert rule.finding_type == "Sigma:CloudTrail/TrailStoppedBySomeone"
    assert _FINDING_TYPE.match(rule.finding_type)
    assert rule.severity == 9.0
    assert (rule.tactic, rule.technique_id) == ("TA0005 Defense Evasion", "T1562.008")
    assert "Planned maintenance" in rule.remediation
    assert "5a6b7c8d-0000-4000-8000-000000000001" in rule.description
    assert rule.data_source == "cloudtrail"


def test_levels_tags_and_defaults() -> None:
    assert [severity(lv) for lv in ("informational", "low", "medium", "high", "critical")] == [
        1.0,
        2.0,
        5.0,
        8.0,
        9.0,
    ]
    assert severity(None) == 5.0
    default = attack([])
    assert (default.tactic, default.technique_id, default.defaulted) == (
        "TA0001 Initial Access",
        "T1078.004",
        True,
    )
    from_technique = attack([("attack", "t1537")])
    assert from_technique.tactic == "TA0010 Exfiltration"
    assert attack([("attack", "ta0040")]).tactic == "TA0040 Impact"
    unknown = attack([("attack", "collection"), ("attack", "t1999.123")])
    assert (unknown.tactic, unknown.technique_id) == ("TA0009 Collection", "T1999.123")
    assert attack([("attack", "stealth")]).tactic == "TA0005 Defense Evasion"
    assert camel_name("!!!") == "Rule"


def test_finding_types_are_unique_across_files(tmp_path: Path) -> None:
    for n in range(3):
        rid = f"5a6b7c8d-0000-4000-8000-00000000001{n}"
        text = rule_text("sel: {eventName: x}\ncondition: sel", title="Same title", rid=rid)
        (tmp_path / f"r{n}.yml").write_text(text)
    types = [r.finding_type for r in import_sigma([tmp_path]).rules]
    assert len(set(types)) == 3
    assert all(_FINDING_TYPE.match(t) for t in types)


def test_findings_look_like_built_in_ones() -> None:
    text = rule_text("sel: {eventName: DeleteBucket}\ncondition: sel", extra="level: high\n")
    rule = only(text).rule
    bucket = "arn:aws:s3:::payroll"
    rows = [
        ev("DeleteBucket", "s3.amazonaws.com", resources=[bucket]),
        ev("DeleteBucket", "s3.amazonaws.com"),
        ev("CreateBucket", "s3.amazonaws.com", resources=[bucket]),
    ]
    result = connection(events=rows).sql(rule.sql).to_arrow_table().to_pylist()
    by_resource = {r["resource_id"]: r for r in result}
    assert set(by_resource) == {bucket, ALICE}  # the target when known, else the principal
    finding = finding_of(rule, by_resource[bucket])
    assert finding.generator_id == rule.finding_type
    assert finding.severity.label.value == "HIGH"
    assert finding.evidence["detail"]["sigma_id"] == "5a6b7c8d-0000-4000-8000-000000000001"
    assert finding.evidence["detail"]["event_names"] == ["DeleteBucket"]


def test_fields_cloudtrail_lacks_are_reported() -> None:
    text = rule_text("sel: {eventName: DeleteBucket, status: success}\ncondition: sel")
    imported = convert_text(text, "status.yml")
    assert imported.converted[0].unknown_fields == ("status",)
    assert "never matches" in imported.messages()[0]


def test_import_leaves_the_registry_alone() -> None:
    before = set(RULES)
    import_sigma([])
    only(rule_text("sel: {eventName: x}\ncondition: sel", title="Registry probe"))
    assert set(RULES) == before
    assert not any(k.startswith("Sigma:") for k in RULES)


# ----- the CLI ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sigma-demo")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    small_world(
        root / "logs", start, None, days=1, events_per_day=400, flows_per_day=0, dns_per_day=0
    )
    return root


def _rules_dir(root: Path) -> Path:
    folder = root / "sigma"
    folder.mkdir(exist_ok=True)
    (folder / "root.yml").write_text(
        rule_text(
            "sel: {userIdentity.type: root}\nsvc: {eventType: AwsServiceEvent}\n"
            "condition: sel and not svc",
            title="Root did something",
            extra="level: high\n",
        )
    )
    (folder / "never.yml").write_text(
        rule_text(
            "sel: {eventName: NoSuchApiCallAnywhere}\ncondition: sel",
            title="Never",
            rid="5a6b7c8d-0000-4000-8000-000000000002",
        )
    )
    return folder


def test_cli_detect_with_sigma_only(demo_logs: Path) -> None:
    rules = _rules_dir(demo_logs)
    result = runner.invoke(
        app,
        [
            "detect",
            "--cloudtrail",
            str(demo_logs / "logs"),
            "--data-dir",
            str(demo_logs / "data"),
            "--no-store",
            "--sigma",
            str(rules),
            "--sigma-only",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)
    types = {f["generator_id"] for f in findings}
    assert types == {"Sigma:CloudTrail/RootDidSomething"}
    assert all(re.search(r":root$", f["evidence"]["actor"]) for f in findings)


def test_cli_sigma_only_needs_sigma_and_no_rule(demo_logs: Path) -> None:
    args = ["detect", "--cloudtrail", str(demo_logs / "logs"), "--no-store", "--sigma-only"]
    assert runner.invoke(app, args).exit_code == 2
    rules = str(_rules_dir(demo_logs))
    both = [*args, "--sigma", rules, "--rule", "Stealth:IAMUser/CloudTrailLoggingDisabled"]
    assert runner.invoke(app, both).exit_code == 2


def test_cli_convert_reports_and_exit_codes(tmp_path: Path) -> None:
    folder = _rules_dir(tmp_path)
    ok = runner.invoke(app, ["detect", "sigma", "convert", str(folder)])
    assert ok.exit_code == 0, ok.output
    assert "Sigma:CloudTrail/RootDidSomething" in ok.stdout and "SELECT" in ok.stdout
    (folder / "bad.yml").write_text("title: [\n")
    bad = runner.invoke(app, ["detect", "sigma", "convert", str(folder), "--format", "json"])
    assert bad.exit_code == 2
    report = json.loads(bad.stdout)
    assert len(report["converted"]) == 2
    assert [Path(r["file"]).name for r in report["refused"]] == ["bad.yml"]
