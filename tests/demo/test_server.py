"""The emulated AWS server: lifecycle, reset, isolation from the user's AWS configuration."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from mamori.demo.seed import seed_organisation
from mamori.demo.server import (
    MANAGEMENT_ACCOUNT,
    DemoConnection,
    EmulatedAws,
    backdate_access_key,
    isolated_session,
)

pytestmark = pytest.mark.integration


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As any server would bind it; fails only while something still listens there.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def test_server_answers_then_stops_and_frees_its_port() -> None:
    aws = EmulatedAws().start()
    port = int(aws.url.rsplit(":", 1)[1])
    sts = DemoConnection(aws.url).client("sts")
    assert sts.get_caller_identity()["Account"] == MANAGEMENT_ACCOUNT
    assert not _port_is_free(port)
    aws.stop()
    assert not aws.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = aws.url
    with pytest.raises(EndpointConnectionError):
        sts.get_caller_identity()
    assert _port_is_free(port)
    aws.stop()  # stopping twice is harmless


def test_moto_settings_are_set_while_running_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "true")
    with EmulatedAws():
        assert os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] == "true"
        assert os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] == "false"
    assert "MOTO_IAM_LOAD_MANAGED_POLICIES" not in os.environ
    assert os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] == "true"


def test_reset_forgets_everything() -> None:
    with EmulatedAws() as aws:
        s3 = aws.connect().client("s3")
        s3.create_bucket(Bucket="acme-scratch")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["acme-scratch"]
        aws.reset()
        assert s3.list_buckets()["Buckets"] == []


def test_a_service_moto_lacks_answers_not_implemented() -> None:
    with EmulatedAws() as aws:
        analyzer = aws.connect().client("accessanalyzer")
        with pytest.raises(ClientError) as caught:
            analyzer.list_analyzers()
    assert caught.value.response["Error"]["Code"] == "NotImplemented"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_clients_ignore_the_users_aws_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile prod-admin]\nregion = ap-south-1\nendpoint_url = http://127.0.0.1:9\n"
    )
    unreachable = "http://127.0.0.1:9"  # nothing listens on the discard port
    for key, value in {
        "AWS_PROFILE": "prod-admin",
        "AWS_CONFIG_FILE": str(config),
        "AWS_ACCESS_KEY_ID": "AKIAREALUSERKEY00000",
        "AWS_SECRET_ACCESS_KEY": "real-secret",
        "AWS_SESSION_TOKEN": "real-token",
        "AWS_ENDPOINT_URL": unreachable,
        "AWS_ENDPOINT_URL_STS": unreachable,
        "HTTP_PROXY": unreachable,
        "http_proxy": unreachable,
    }.items():
        monkeypatch.setenv(key, value)
    credentials = isolated_session().get_credentials()
    assert credentials is not None
    assert (credentials.access_key, credentials.token) == ("testing", None)
    with EmulatedAws() as aws:
        sts = DemoConnection(aws.url).client("sts")
        assert sts.get_caller_identity()["Account"] == MANAGEMENT_ACCOUNT
        assert sts.meta.region_name == "us-east-1"


def test_in_process_settings_refuse_unknown_accounts() -> None:
    with EmulatedAws(), pytest.raises(RuntimeError, match="no IAM state"):
        backdate_access_key("999999999999", "nobody", "AKIA0000000000000000", days=400)


def test_seeding_needs_two_regions() -> None:
    with pytest.raises(ValueError, match="two regions"):
        seed_organisation("http://127.0.0.1:9", regions=("us-east-1", "us-east-1"))
