"""Lambda collector on moto: layers with the policy of their latest version, next to the
functions."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import boto3
import pytest

from mamori.aws import AccountSession
from tests.inventory.collecting import by_name, fail, marker_code, moto_account, run


@pytest.fixture
def session() -> Iterator[AccountSession]:
    with moto_account() as account:
        yield account


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/helper.py", "VALUE = 1\n")
    return buffer.getvalue()


def _seed() -> None:
    lam = boto3.client("lambda", region_name="us-east-1")
    for _ in range(2):
        lam.publish_layer_version(LayerName="shared-lib", Content={"ZipFile": _zip()})
    # Shared with everyone, on the latest version only.
    lam.add_layer_version_permission(
        LayerName="shared-lib",
        VersionNumber=2,
        StatementId="everyone",
        Action="lambda:GetLayerVersion",
        Principal="*",
    )
    lam.publish_layer_version(LayerName="own-lib", Content={"ZipFile": _zip()})


def test_layers_keep_their_latest_policy(session: AccountSession) -> None:
    _seed()

    data, snapshot = run(session, "lambda")

    # ResourceNotFoundException for own-lib means "no policy": not an error.
    assert snapshot.errors == []
    layers = by_name(data["layers"])
    shared = layers["shared-lib"]
    assert shared["_arn"] == shared["LayerArn"]
    assert shared["_arn"] == "arn:aws:lambda:us-east-1:123456789012:layer:shared-lib"
    assert shared["LatestMatchingVersion"]["Version"] == 2
    (statement,) = json.loads(shared["Policy"])["Statement"]
    assert (statement["Sid"], statement["Principal"]) == ("everyone", "*")
    assert layers["own-lib"]["Policy"] is None
    assert data["functions"] == []


def test_denied_layer_policy_is_unavailable(session: AccountSession) -> None:
    _seed()
    refused = fail(session, "GetLayerVersionPolicy")

    data, _ = run(session, "lambda")

    assert sorted((p["LayerName"], p["VersionNumber"]) for p in refused) == [
        ("own-lib", 1),
        ("shared-lib", 2),
    ]
    assert all(marker_code(layer["Policy"]) == "AccessDenied" for layer in data["layers"])
