from __future__ import annotations

import contextlib
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.core import DataUnavailable, InputError
from mamori.inventory import CollectionError, Res, Snapshot
from mamori.inventory.snapshot import unavailable


def sample() -> Snapshot:
    snap = Snapshot(regions=["us-east-1"])
    snap.put_service(
        "111122223333",
        "s3",
        "global",
        {
            "buckets": [
                {"Name": "b", "_arn": "arn:aws:s3:::b", "Policy": unavailable("AccessDenied")}
            ],
            "account_public_access_block": None,
        },
    )
    snap.record_error(
        CollectionError(
            "111122223333", "global", "s3", "s3:GetBucketPolicy", "AccessDenied", "denied"
        )
    )
    return snap


@pytest.mark.parametrize("name", ["snap.json", "snap.json.gz"])
def test_save_and_load_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    original = sample()
    original.save(path)
    loaded = Snapshot.load(path)
    assert loaded.to_json() == original.to_json()


def test_errors_are_counted_not_repeated() -> None:
    snap = sample()
    for _ in range(50):
        snap.record_error(
            CollectionError(
                "111122223333", "global", "s3", "s3:GetBucketPolicy", "AccessDenied", "denied"
            )
        )
    assert len(snap.errors) == 1
    assert snap.errors[0].count == 51


def test_unavailable_values_raise_when_read() -> None:
    bucket = sample().resources("111122223333", "s3", "global", "buckets")[0]
    assert bucket["Name"] == "b"
    with pytest.raises(DataUnavailable, match="AccessDenied"):
        _ = bucket["Policy"]
    with pytest.raises(DataUnavailable):
        bucket.get("Policy")
    with pytest.raises(DataUnavailable, match="NotCollected"):
        sample().data("111122223333", "ec2", "us-east-1", "instances")


def test_res_rejects_non_objects() -> None:
    with pytest.raises(DataUnavailable, match="Malformed"):
        Res(["not", "a", "dict"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"format": "other", "version": 1, "collected_at": "x", "accounts": {}}', "not a Mamori"),
        (
            b'{"format": "mamori-snapshot", "version": 99, "collected_at": "x", "accounts": {}}',
            "version",
        ),
        (
            b'{"format": "mamori-snapshot", "version": 1, "collected_at": "x", "accounts": '
            b'{"1": {"services": {"s3": ["x"]}}}}',
            "accounts.1.services.s3",
        ),
        # mtime=0: the bytes (and so the test id) must not depend on when it is collected.
        (gzip.compress(b'{"format": "mamori-snapshot"', mtime=0)[:-6], "snapshot"),
    ],
    ids=["not-json", "other-format", "future-version", "wrong-shape", "truncated-gzip"],
)
def test_corrupt_snapshots_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        Snapshot.load(path)
    assert "bad.json" in str(info.value)


def test_missing_snapshot_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        Snapshot.load(tmp_path / "absent.json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=json_values)
def test_arbitrary_json_is_rejected_cleanly(tmp_path: Path, doc: object) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(doc))
    with contextlib.suppress(InputError):
        Snapshot.load(path)
