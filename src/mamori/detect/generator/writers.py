"""Write records in the S3 layouts AWS delivers them in, one gzip file per five minutes.

Files are byte-for-byte reproducible: gzip headers carry no time or name, and every random
part of a file name comes from the caller's seeded generator.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mamori.detect.generator.model import AccountWorld, hex_id
from mamori.detect.generator.network import FIELDS, flow_line

BUCKET = timedelta(minutes=5)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

# (time, group, text): a record already serialised, grouped by region (CloudTrail) or VPC.
# Holding text rather than dicts keeps an account-day of records several times smaller.
Timed = tuple[datetime, str, str]


def _compact(rec: dict[str, Any]) -> str:
    return json.dumps(rec, separators=(",", ":"))


def compact_trail(t: datetime, rec: dict[str, Any]) -> Timed:
    return t, rec["awsRegion"], _compact(rec)


def compact_dns(t: datetime, rec: dict[str, Any]) -> Timed:
    return t, rec["vpc_id"], _compact(rec)


def compact_flow(world: AccountWorld, t: datetime, rec: dict[str, Any]) -> Timed:
    fmt = next(v.flow_format for v in world.vpcs if v.vpc_id == rec["vpc-id"])
    return t, rec["vpc-id"], flow_line(rec, fmt, world.account_id)


def _bucket_start(t: datetime) -> datetime:
    return t.replace(minute=t.minute - t.minute % 5, second=0, microsecond=0)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y%m%dT%H%MZ")


def _gzip(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(payload)


def _by_bucket(records: Iterable[Timed]) -> Iterable[tuple[datetime, list[str]]]:
    """Group records into delivery windows, in time order (ties keep their given order)."""
    current: datetime | None = None
    batch: list[str] = []
    for t, _, rec in sorted(records, key=lambda item: item[0]):
        start = _bucket_start(t)
        if current is not None and start != current:
            yield current, batch
            batch = []
        current = start
        batch.append(rec)
    if current is not None and batch:
        yield current, batch


def _write_all(
    records: Iterable[Timed],
    path_for: Callable[[datetime], Path],
    encode: Callable[[list[Any]], bytes],
) -> int:
    written = 0
    for start, batch in _by_bucket(records):
        _gzip(path_for(start), encode(batch))
        written += len(batch)
    return written


def _day_dir(root: Path, account: str, service: str, where: str, t: datetime) -> Path:
    return root / "AWSLogs" / account / service / where / f"{t:%Y}" / f"{t:%m}" / f"{t:%d}"


def write_cloudtrail(
    root: Path, rng: random.Random, account: str, region: str, records: list[Timed]
) -> int:
    def path_for(t: datetime) -> Path:
        tag = "".join(rng.choice(_ALNUM) for _ in range(16))
        name = f"{account}_CloudTrail_{region}_{_stamp(t)}_{tag}.json.gz"
        return _day_dir(root, account, "CloudTrail", region, t) / name

    def encode(batch: list[str]) -> bytes:
        return ('{"Records":[' + ",".join(batch) + "]}").encode()

    return _write_all(records, path_for, encode)


def write_flows(
    root: Path, rng: random.Random, world: AccountWorld, region: str, records: list[Timed]
) -> int:
    """One file series per flow log (VPC), each in its own field format with a header line."""
    written = 0
    for vpc in world.vpcs:
        mine = [item for item in records if item[1] == vpc.vpc_id]
        header = " ".join(FIELDS[vpc.flow_format])

        def path_for(t: datetime, fl: str = vpc.flow_log_id) -> Path:
            name = f"{world.account_id}_vpcflowlogs_{region}_{fl}_{_stamp(t)}_{hex_id(rng, 8)}"
            return _day_dir(root, world.account_id, "vpcflowlogs", region, t) / f"{name}.log.gz"

        def encode(batch: list[str], head: str = header) -> bytes:
            return ("\n".join([head, *batch]) + "\n").encode()

        written += _write_all(mine, path_for, encode)
    return written


def write_dns(root: Path, rng: random.Random, world: AccountWorld, records: list[Timed]) -> int:
    written = 0
    for vpc in world.vpcs:
        mine = [item for item in records if item[1] == vpc.vpc_id]

        def path_for(t: datetime, vpc_id: str = vpc.vpc_id) -> Path:
            name = f"{world.account_id}_vpcdnsquerylogs_{vpc_id}_{_stamp(t)}_{hex_id(rng, 8)}"
            folder = _day_dir(root, world.account_id, "vpcdnsquerylogs", vpc_id, t)
            return folder / f"{name}.log.gz"

        def encode(batch: list[str]) -> bytes:
            return "".join(line + "\n" for line in batch).encode()

        written += _write_all(mine, path_for, encode)
    return written
