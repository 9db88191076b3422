"""Finding the log files: a local folder (recursively), one file, or an S3 prefix, in the
layouts AWS delivers to:

    AWSLogs/[o-org/]<acct>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
    AWSLogs/[o-org/]<acct>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]<file>.log.gz
    AWSLogs/aws-account-id=<acct>/aws-service=vpcflowlogs/aws-region=<r>/year=Y/month=M/day=D/
    AWSLogs/<acct>/vpcdnsquerylogs/<vpc>/YYYY/MM/DD/<file>.log.gz
    AWSLogs/<acct>/WAFLogs/<region>/<web-acl>/YYYY/MM/DD/HH/mm/<file>.log.gz

The layout is used for account, region and day where present; files of another kind's layout
(or CloudTrail digests) under the same folder are left to that kind's source, and a local folder
that holds this kind's layout is read by it alone (loose files beside it are not logs)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from mamori.core import InputError
from mamori.detect.readers.common import ReadError

KINDS = ("cloudtrail", "vpc-flow", "dns", "waf")

# Path segment that marks each kind's delivery folder.
_MARKERS = {
    "CloudTrail": "cloudtrail",
    "vpcflowlogs": "vpc-flow",
    "vpcdnsquerylogs": "dns",
    "WAFLogs": "waf",
}
_NOT_LOGS = ("CloudTrail-Digest", "CloudTrail-Insight")
_SUFFIXES = {
    "cloudtrail": (".json", ".json.gz"),
    "vpc-flow": (".log", ".log.gz", ".txt", ".txt.gz"),
    "dns": (".log", ".log.gz", ".txt", ".txt.gz", ".json", ".json.gz", ".jsonl", ".jsonl.gz"),
    "waf": (".log", ".log.gz", ".txt", ".txt.gz", ".json", ".json.gz", ".jsonl", ".jsonl.gz"),
}
_ACCOUNT = re.compile(r"(?:aws-account-id=)?(\d{12})\Z")
_REGION = re.compile(r"(?:aws-region=)?([a-z]{2}(?:-[a-z]+)+-\d+)\Z")
_DAY = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/|$)")
_HIVE_DAY = re.compile(r"year=(\d{4})/month=(\d{1,2})/day=(\d{1,2})(?:/|$)")


@dataclass(frozen=True)
class InputFile:
    """One log file to read: where, how big, which version, and what its path says."""

    uri: str
    size: int
    stamp: str  # mtime+size locally, the ETag on S3: a changed file gets a new stamp
    account: str | None = None
    region: str | None = None
    day: date | None = None


@dataclass(frozen=True)
class PathFacts:
    kind: str | None  # the kind whose layout the path follows, if any
    account: str | None
    region: str | None
    day: date | None
    excluded: bool  # a file that is not a log at all (digests)


def _day(path: str) -> date | None:
    for pattern in (_HIVE_DAY, _DAY):
        found = pattern.search(path)
        if found:
            try:
                return date(int(found[1]), int(found[2]), int(found[3]))
            except ValueError:
                return None
    return None


def path_facts(path: str) -> PathFacts:
    """What a delivery path tells: the kind, account, region and day."""
    parts = path.split("/")
    kind = account = region = None
    # Only the part from AWSLogs/ on is the layout: folders above it are the user's own.
    start = len(parts) - 1 - parts[::-1].index("AWSLogs") if "AWSLogs" in parts else 0
    excluded = any(p in _NOT_LOGS for p in parts[start:])
    for index, part in enumerate(parts[start:], start):
        service = part.removeprefix("aws-service=")
        if service in _MARKERS and kind is None:
            kind = _MARKERS[service]
            if kind != "dns":
                after = parts[index + 1] if index + 1 < len(parts) else ""
                found = _REGION.match(after)
                region = found[1] if found else None
    if "AWSLogs" in parts:
        for part in parts[start + 1 : start + 3]:
            found = _ACCOUNT.match(part)
            if found:
                account = found[1]
                break
    for part in parts[start:]:
        if region is None and part.startswith("aws-region="):
            region = part.removeprefix("aws-region=")
    return PathFacts(kind, account, region, _day("/".join(parts[start:])), excluded)


def _facts_if_wanted(path: str, kind: str) -> PathFacts | None:
    """What the path says, if a file there under a source of this kind is one of its logs."""
    # The suffix first: it rules out most files of the other kinds without parsing the path.
    if not path.endswith(_SUFFIXES[kind]):
        return None
    facts = path_facts(path)
    if facts.excluded or (facts.kind is not None and facts.kind != kind):
        return None
    return facts


def wanted(path: str, kind: str) -> bool:
    """Whether a file under a source of this kind is one of its logs."""
    return _facts_if_wanted(path, kind) is not None


def _input(uri: str, facts: PathFacts, size: int, stamp: str) -> InputFile:
    return InputFile(uri, size, stamp, facts.account, facts.region, facts.day)


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def split_s3(location: str) -> tuple[str, str]:
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    if not bucket:
        raise InputError(f"{location}: an S3 location needs a bucket (s3://bucket/prefix/)")
    return bucket, prefix


def _walk(top: str, seen: set[tuple[int, int]]) -> list[tuple[str, os.stat_result]]:
    """Every file under the folder with its stat, following links to folders (each folder once,
    so a link loop ends). One scandir and one stat a file: listing a month of logs is tens of
    thousands of files, where pathlib's rglob, is_file and sorting cost seconds."""
    found: list[tuple[str, os.stat_result]] = []
    folders = [top]
    while folders:
        try:
            entries = list(os.scandir(folders.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir():
                    stat = entry.stat()
                    if (stat.st_dev, stat.st_ino) not in seen:
                        seen.add((stat.st_dev, stat.st_ino))
                        folders.append(entry.path)
                elif entry.is_file():
                    found.append((entry.path, entry.stat()))
            except OSError:
                continue  # vanished or unreadable while listed: as if it were not there
    return found


def _stamp(stat: os.stat_result) -> str:
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def _local_files(location: str, kind: str) -> Iterator[InputFile]:
    root = Path(location)
    if root.is_file():
        stat = root.stat()
        yield _input(str(root), path_facts(root.as_posix()), stat.st_size, _stamp(stat))
        return
    if not root.is_dir():
        raise InputError(f"{location}: no such file or folder")
    top = root.stat()
    found: list[tuple[list[str], str, PathFacts, os.stat_result]] = []
    for walked, stat in _walk(str(root), {(top.st_dev, top.st_ino)}):
        path = walked.removeprefix("./") if str(root) == "." else walked  # as pathlib names it
        # The full path, as the layout may begin above the root (a source inside AWSLogs/).
        full = Path(path).as_posix() if os.sep != "/" else path
        wanted_facts = _facts_if_wanted(full, kind)
        if wanted_facts is not None:
            found.append((full.split("/"), path, wanted_facts, stat))
    # A folder holding AWS's delivery layout of this kind is read by the layout: a loose file
    # beside it (a manifest, notes, the generator's labels) is not one of these logs.
    if any(entry[2].kind == kind for entry in found):
        found = [entry for entry in found if entry[2].kind == kind]
    # Sorted part by part, as paths compare ("a/x" before "a-b/x").
    found.sort(key=lambda entry: entry[0])
    for _, path, facts, stat in found:
        yield _input(path, facts, stat.st_size, _stamp(stat))


def _s3_files(location: str, kind: str, client: Any) -> Iterator[InputFile]:
    from mamori.aws.errors import aws_failures

    bucket, prefix = split_s3(location)
    with aws_failures(f"{location}: cannot list", InputError):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/"):
                    continue
                facts = _facts_if_wanted(key, kind)
                if facts is None:
                    continue
                stamp = str(item.get("ETag", "")).strip('"') or str(item.get("LastModified"))
                yield _input(f"s3://{bucket}/{key}", facts, int(item.get("Size", 0)), stamp)


def list_files(
    location: str, kind: str, *, since: date | None = None, s3_client: Any = None
) -> Iterator[InputFile]:
    """The log files of one kind under a location, oldest path first where dated.

    Files whose path day is before `since` are left out; undated paths are always kept.
    InputError (naming the location) if it cannot be listed."""
    if kind not in KINDS:
        raise InputError(f"unknown log kind {kind!r} (expected one of {', '.join(KINDS)})")
    if is_s3(location):
        if s3_client is None:
            raise InputError(f"{location}: reading S3 needs an S3 client")
        files = _s3_files(location, kind, s3_client)
    else:
        files = _local_files(location, kind)
    for item in files:
        if since is None or item.day is None or item.day >= since:
            yield item


def is_before(item: InputFile, since: date | None) -> bool:
    return since is not None and item.day is not None and item.day < since


def read_bytes(item: InputFile, s3_client: Any = None) -> bytes:
    """The file's content; ReadError naming it if it cannot be read."""
    if not is_s3(item.uri):
        try:
            with open(item.uri, "rb") as stream:  # not Path(): its parsing costs, file by file
                return stream.read()
        except OSError as exc:
            raise ReadError(f"{item.uri}: cannot read ({exc.strerror or exc})") from None
    from mamori.aws.errors import aws_failures

    bucket, key = split_s3(item.uri)
    with aws_failures(f"{item.uri}: cannot read", ReadError):
        data: bytes = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data
