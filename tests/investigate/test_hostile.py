"""What an attacker chooses (user agents, names in requests, finding evidence) is kept as data:
stored and answered byte for byte, never interpreted as SQL, markup or terminal control, and any
question is either answered or refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mamori.cli.main import app
from mamori.core import Finding, InputError, Resource, Severity, SeverityLabel
from mamori.detect.ingest import Source, ingest
from mamori.investigate import Graph, update
from mamori.investigate.db import connect
from mamori.investigate.kinds import Kind
from mamori.investigate.links import link_rows
from tests.arbitrary import json_documents
from tests.detect.logfiles import CT_DIR, assumed_role_call, cloudtrail_bytes, put
from tests.investigate.world import World

KEY = "ASIAEXAMPLEKEY000001"  # the key of logfiles.assumed_role_call
HOSTILE_AGENTS = [
    "<script>alert(1)</script>",
    "[bold red]pwned[/] [link=http://evil.example]x[/link]",
    "\x1b[2J\x1b[31mred\x1b]0;owned\x07 and a bell",
    "\u202egnp.exe",
    "'; DROP TABLE edges; --",
    "x" * 1500,
]
HOSTILE_BUCKET = "evil'bucket\"[b]"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    records: list[dict[str, Any]] = [
        assumed_role_call(n, userAgent=agent) for n, agent in enumerate(HOSTILE_AGENTS)
    ]
    records.append(
        assumed_role_call(
            len(records),
            eventSource="s3.amazonaws.com",
            eventName="PutBucketPolicy",
            requestParameters={"bucketName": HOSTILE_BUCKET},
        )
    )
    put(root / "logs", f"{CT_DIR}/hostile.json.gz", cloudtrail_bytes(records))
    report = ingest([Source("cloudtrail", str(root / "logs"))], root / "data")
    assert report.errors == []
    update(root / "data")
    return root / "data"


def test_hostile_strings_are_kept_as_data(hostile: Path) -> None:
    with Graph.open(hostile) as graph:
        p = graph.profile("access_key", KEY)
        agents = {r.id for r in p.related if r.relation == "used_agent"}
        assert agents == set(HOSTILE_AGENTS) | {"aws-cli/2.15.0"}
        for agent in HOSTILE_AGENTS:
            seen = graph.profile("user_agent", agent)
            assert seen.seen and seen.entity.id == agent
            assert {r.id for r in seen.related} >= {KEY}
        bucket = graph.profile("bucket", HOSTILE_BUCKET)
        assert bucket.seen
        assert {r.id for r in bucket.related if r.relation == "touched"} >= {KEY}
        # The graph's own tables are intact after the "DROP TABLE" agent.
        assert graph.neighbourhood("access_key", KEY).nodes


def test_cli_prints_hostile_strings_as_inert_text(hostile: Path) -> None:
    args = ["investigate", "--access-key", KEY, "--data-dir", str(hostile), "--no-store"]
    table = CliRunner().invoke(app, [*args, "--graph"])
    assert table.exit_code == 0, table.output
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert "\u202e" not in table.stdout
    assert "\\x1b[2J\\x1b[31mred" in table.stdout  # spelled out, not obeyed
    assert "[bold red]pwned[/]" in table.stdout  # shown, not styled
    assert "<script>alert(1)</script>" in table.stdout
    as_json = CliRunner().invoke(app, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.stdout)
    agents = {r["id"] for r in doc["profile"]["related"] if r["relation"] == "used_agent"}
    assert agents >= set(HOSTILE_AGENTS)
    assert "\x1b" not in as_json.stdout  # JSON escapes control characters


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from([k.value for k in Kind]), value=st.text(max_size=80))
def test_any_question_is_answered_or_refused_by_name(world: World, kind: str, value: str) -> None:
    with Graph.open(world.data_dir) as graph:
        try:
            p = graph.profile(kind, value)
            n = graph.neighbourhood(kind, value, depth=1, limit=5)
        except InputError:
            return
    assert p.entity.kind == kind
    assert n.nodes[0].key == f"{kind}:{p.entity.id}"


_EVIDENCE_KEYS = [
    "actor",
    "events",
    "detail",
    "principal_arn",
    "access_key_id",
    "source_ip",
    "user_agent",
    "source_ips",
    "user_agents",
    "instance_id",
    "domains",
    "role",
]


@settings(max_examples=80, deadline=None)
@given(doc=json_documents(_EVIDENCE_KEYS), resource_id=st.text(min_size=1, max_size=40))
def test_any_finding_evidence_links_or_is_left_out(doc: Any, resource_id: str) -> None:
    finding = Finding(
        id="f-1",
        source="detect",
        generator_id="Test:IAMUser/Arbitrary",
        types=["TTPs"],
        severity=Severity(label=SeverityLabel.LOW, normalized=20),
        title="arbitrary",
        resources=[Resource(type="AwsS3Bucket", id=resource_id)],
        account_id="111122223333",
        region="us-east-1",
        evidence=doc if isinstance(doc, dict) else {"detail": doc, "events": doc},
    )
    con = connect()
    try:
        rows = link_rows(con, [finding]).to_pylist()
    finally:
        con.close()
    linked = {(r["kind"], r["id"], r["via"]) for r in rows}
    assert ("account", "111122223333", "account") in linked
    assert all(r["finding_id"] == "f-1" and r["id"] for r in rows)
    if not resource_id.startswith("arn:"):  # a bucket ARN that is no bucket ARN names nothing
        assert ("bucket", resource_id, "resource") in linked
