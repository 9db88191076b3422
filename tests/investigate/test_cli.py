"""`mamori investigate` as a user runs it after `mamori detect`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mamori.cli.main import EXIT_USAGE, app
from mamori.investigate.model import Neighbourhood, Profile
from tests.investigate.world import ATTACK_IP, DAVE, EXFIL_SESSION, World

runner = CliRunner()


@pytest.fixture(scope="module")
def detected(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("cli")
    db = f"sqlite:///{root / 'hub.db'}"
    logs = str(world.logs)
    result = runner.invoke(
        app,
        ["detect", "--cloudtrail", logs, "--vpc-flow", logs, "--dns", logs,
         "--data-dir", str(root / "data"), "--db", db, "--learning-days", "0.5",
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "investigation graph" not in result.stderr  # no graph error reported
    return root / "data", db


def ask(detected: tuple[Path, str], *args: str) -> Result:
    data_dir, db = detected
    return runner.invoke(app, ["investigate", *args, "--data-dir", str(data_dir), "--db", db])


def test_json_profile_of_the_stolen_key(detected: tuple[Path, str]) -> None:
    result = ask(detected, "--access-key", DAVE.access_key, "--days", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {"profile", "neighbourhood"} and doc["neighbourhood"] is None
    profile = Profile.model_validate(doc["profile"])  # the documented schema, strictly
    assert profile.seen and profile.entity.id == DAVE.access_key
    owners = {r.id for r in profile.related if r.relation == "owned_by"}
    assert owners == {DAVE.arn}
    assert {r.id for r in profile.related if r.new and r.kind == "ip"} == {ATTACK_IP}
    assert profile.findings and all(f.workflow == "NEW" for f in profile.findings)
    assert doc["profile"]["entity"]["first_seen"].endswith("Z")  # ISO 8601 UTC


def test_table_profile_with_graph(detected: tuple[Path, str]) -> None:
    result = ask(detected, "--access-key", DAVE.access_key, "--days", "1", "--graph")
    assert result.exit_code == 0, result.output
    for text in ("dave", ATTACK_IP, "AnomalousBehavior", "New behaviour", "API calls by day"):
        assert text in result.stdout
    assert "-> owned_by user dave" in result.stdout  # the neighbourhood tree


def test_principal_ip_and_entity_options(detected: tuple[Path, str]) -> None:
    user = ask(detected, "--principal", DAVE.arn, "--format", "json")
    assert user.exit_code == 0, user.output
    assert json.loads(user.stdout)["profile"]["entity"]["kind"] == "user"
    role = ask(detected, "--principal", EXFIL_SESSION.role_arn, "--format", "json", "--graph")
    assert role.exit_code == 0, role.output
    doc = json.loads(role.stdout)
    assert doc["profile"]["entity"]["kind"] == "role"
    hood = Neighbourhood.model_validate(doc["neighbourhood"])
    assert hood.center == f"role:{EXFIL_SESSION.role_arn}"
    session = ask(detected, "--principal", EXFIL_SESSION.arn, "--format", "json")
    assert json.loads(session.stdout)["profile"]["entity"]["kind"] == "session"
    ip = ask(detected, "--ip", ATTACK_IP, "--format", "json")
    assert json.loads(ip.stdout)["profile"]["seen"] is True
    bucket = ask(detected, "--entity", "bucket:app-data-1111", "--format", "json")
    assert json.loads(bucket.stdout)["profile"]["seen"] is True


def test_an_unknown_key_is_not_seen(detected: tuple[Path, str]) -> None:
    result = ask(detected, "--access-key", "AKIAEXAMPLEUNKNOWN00")
    assert result.exit_code == 0, result.output
    assert "not seen" in result.stdout and "AKIAEXAMPLEUNKNOWN00" in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "exactly one of"),
        (["--ip", ATTACK_IP, "--access-key", "AKIAEXAMPLEUNKNOWN00"], "exactly one of"),
        (["--ip", "not-an-ip"], "'not-an-ip' is not an IPv4 or IPv6 address"),
        (["--access-key", "secret key"], "not an access key id"),
        (["--principal", "dave"], "not an ARN"),
        (["--principal", "arn:aws:s3:::app-data-1111"], "not the ARN of a user, role"),
        (["--entity", "bucket"], "expected KIND:ID"),
        (["--entity", "planet:mars"], "unknown entity kind 'planet'"),
    ],
)
def test_usage_errors_exit_2_naming_the_input(
    detected: tuple[Path, str], args: list[str], says: str
) -> None:
    result = ask(detected, *args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert says in result.stderr.replace("\n", " ")


def test_first_question_builds_the_graph_and_links_the_hub(
    detected: tuple[Path, str], tmp_path: Path
) -> None:
    """A data directory ingested before the graph existed: the first question builds it from
    every part and links every detection finding of the hub."""
    data_dir, db = detected
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("graph"))
    out = tmp_path / "answer.json"
    result = runner.invoke(
        app,
        ["investigate", "--access-key", DAVE.access_key, "--data-dir", str(copy), "--db", db,
         "--format", "json", "--output-file", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "graph: took in" in result.stderr
    profile = Profile.model_validate(json.loads(out.read_text())["profile"])
    assert profile.findings


def test_no_data_dir_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["investigate", "--ip", ATTACK_IP, "--data-dir", str(tmp_path / "x"), "--no-store"]
    )
    assert result.exit_code == EXIT_USAGE
    assert "no such data directory" in result.stderr
