"""The Snapshot: everything collected from AWS, per account, service and region.

Resource data keeps AWS's own API shapes (so identity analysis can read IAM exactly as
`get-account-authorization-details` gives it) plus a few `_`-prefixed keys that collectors add
(`_arn`, `_region`, `_name`). A value that could not be collected is stored as an
`{"__unavailable__": {...}}` marker; reading it raises DataUnavailable, so a check can never
mistake missing data for a compliant setting.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mamori.core import DataUnavailable, InputError, utcnow

GLOBAL = "global"
SNAPSHOT_FORMAT = "mamori-snapshot"
SNAPSHOT_VERSION = 1
_MARK = "__unavailable__"


def unavailable(code: str, message: str = "") -> dict[str, Any]:
    return {_MARK: {"code": code, "message": message[:500]}}


def is_unavailable(value: Any) -> bool:
    return isinstance(value, dict) and _MARK in value


def _raise_if_unavailable(what: str, value: Any) -> Any:
    if isinstance(value, dict) and _MARK in value:
        info = value[_MARK]
        code = str(info.get("code", "Unavailable")) if isinstance(info, dict) else "Unavailable"
        msg = str(info.get("message", "")) if isinstance(info, dict) else ""
        raise DataUnavailable(what, code, msg)
    return value


class Res(Mapping[str, Any]):
    """Read-only view of one resource; reading an uncollected attribute raises."""

    __slots__ = ("_data", "_what")

    def __init__(self, data: Mapping[str, Any], what: str = "resource") -> None:
        if not isinstance(data, Mapping):
            # Kept, not dropped: the engine reports a malformed entry as NOT_AVAILABLE.
            data = {
                _MARK: {
                    "code": "Malformed",
                    "message": f"expected an object, got {type(data).__name__}",
                }
            }
        self._data = data
        self._what = what
        if _MARK in data:
            _raise_if_unavailable(what, data)

    @classmethod
    def lenient(cls, data: Any, what: str) -> Res:
        """A view that defers the error of a malformed entry to its first read."""
        view = cls.__new__(cls)
        view._what = what
        view._data = (
            data
            if isinstance(data, Mapping)
            else {
                _MARK: {
                    "code": "Malformed",
                    "message": f"expected an object, got {type(data).__name__}",
                }
            }
        )
        return view

    @property
    def malformed(self) -> bool:
        return _MARK in self._data

    def __getitem__(self, key: str) -> Any:
        if _MARK in self._data:
            _raise_if_unavailable(self._what, self._data)
        if key not in self._data:
            raise DataUnavailable(f"{self._what}.{key}", "Missing", "not in the snapshot")
        return _raise_if_unavailable(f"{self._what}.{key}", self._data[key])

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self._data:
            return default
        return _raise_if_unavailable(f"{self._what}.{key}", self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    @property
    def arn(self) -> str:
        return str(self["_arn"])

    @property
    def name(self) -> str:
        return str(self._data.get("_name") or self._data.get("_arn", ""))

    @property
    def raw(self) -> Mapping[str, Any]:
        return self._data


@dataclass
class CollectionError:
    account: str
    region: str
    service: str
    operation: str
    code: str
    message: str
    count: int = 1

    def key(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, self.service, self.code)


@dataclass
class Snapshot:
    """accounts[account]["services"][service][region] -> {key: data}"""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[CollectionError] = field(default_factory=list)
    collected_at: str = field(default_factory=lambda: utcnow().isoformat())
    partition: str = "aws"
    regions: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _error_index: dict[tuple[str, str, str, str], CollectionError] = field(
        default_factory=dict, repr=False
    )

    # -- writing (collectors) ------------------------------------------------------------------

    def add_account(self, account: str, name: str = "") -> None:
        with self._lock:
            self.accounts.setdefault(account, {"name": name, "services": {}})

    def put_service(self, account: str, service: str, region: str, data: dict[str, Any]) -> None:
        # Round-trip through JSON so that a live scan and a reloaded snapshot see the very
        # same values (datetimes as ISO text, no bytes), and so reload gives the same result.
        normal = orjson.loads(orjson.dumps(data, default=_json_default))
        with self._lock:
            acct = self.accounts.setdefault(account, {"name": "", "services": {}})
            acct["services"].setdefault(service, {})[region] = normal

    def record_error(self, err: CollectionError) -> None:
        with self._lock:
            known = self._error_index.get(err.key())
            if known is not None:
                known.count += err.count
                return
            self._error_index[err.key()] = err
            self.errors.append(err)

    # -- reading (checks, identity analysis) -------------------------------------------------

    def services(self, account: str) -> dict[str, dict[str, Any]]:
        return self.accounts.get(account, {}).get("services", {})

    def has(self, account: str, service: str) -> bool:
        return service in self.services(account)

    def regions_of(self, account: str, service: str) -> list[str]:
        return sorted(self.services(account).get(service, {}))

    def data(self, account: str, service: str, region: str, key: str) -> Any:
        what = f"{account}/{region}/{service}.{key}"
        per_region = self.services(account).get(service)
        if per_region is None or region not in per_region:
            raise DataUnavailable(what, "NotCollected", "service not collected here")
        block = per_region[region]
        if not isinstance(block, dict) or key not in block:
            crash = self._collector_crash(account, service, region)
            if crash is not None:
                raise DataUnavailable(what, crash.code, f"the collector failed: {crash.message}")
            raise DataUnavailable(what, "Missing", "not in the snapshot")
        return _raise_if_unavailable(what, block[key])

    def _collector_crash(self, account: str, service: str, region: str) -> CollectionError | None:
        """Why a key is missing when its collector stopped part-way: that, not "missing", is
        what a reader of a NOT_AVAILABLE result needs."""
        return next(
            (
                e
                for e in self.errors
                if e.operation == "collector"
                and (e.account, e.service, e.region) == (account, service, region)
            ),
            None,
        )

    def resources(self, account: str, service: str, region: str, key: str) -> list[Res]:
        items = self.data(account, service, region, key)
        what = f"{service}.{key}"
        if not isinstance(items, list):
            raise DataUnavailable(
                f"{account}/{region}/{what}",
                "Malformed",
                f"expected a list, got {type(items).__name__}",
            )
        return [Res.lenient(item, f"{what}[{i}]") for i, item in enumerate(items)]

    # -- persistence ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "collected_at": self.collected_at,
            "partition": self.partition,
            "regions": self.regions,
            "accounts": self.accounts,
            "errors": [e.__dict__ for e in self.errors],
        }

    def save(self, path: str | Path) -> None:
        blob = orjson.dumps(self.to_json(), default=_json_default, option=orjson.OPT_INDENT_2)
        target = Path(path)
        if target.suffix == ".gz":
            blob = gzip.compress(blob)
        target.write_bytes(blob)

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        source = Path(path)
        try:
            blob = source.read_bytes()
            if blob[:2] == b"\x1f\x8b":
                blob = gzip.decompress(blob)
        except (OSError, EOFError) as exc:
            raise InputError(f"snapshot {source}: cannot read: {exc}") from exc
        try:
            doc = orjson.loads(blob)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"snapshot {source}: not valid JSON: {exc}") from exc
        return cls.from_json(doc, name=str(source))

    @classmethod
    def from_json(cls, doc: Any, name: str = "snapshot") -> Snapshot:
        try:
            model = _SnapshotFile.model_validate(doc)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(
                f"{name}: not a Mamori snapshot: {where}: {first['msg']} "
                f"({exc.error_count()} problem(s))"
            ) from exc
        snap = cls(
            collected_at=model.collected_at, partition=model.partition, regions=list(model.regions)
        )
        for acct, body in model.accounts.items():
            snap.accounts[acct] = {"name": body.name, "services": body.services}
        for err in model.errors:
            snap.record_error(CollectionError(**err.model_dump()))
        return snap


class _ErrorModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str
    region: str
    service: str
    operation: str
    code: str
    message: str
    count: int = 1


class _AccountModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    # service -> region -> {key: data}
    services: dict[str, dict[str, dict[str, Any]]]


class _SnapshotFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str = Field(pattern=f"^{SNAPSHOT_FORMAT}$")
    version: int = Field(ge=1, le=SNAPSHOT_VERSION)
    collected_at: str
    partition: str = "aws"
    regions: list[str] = Field(default_factory=list)
    accounts: dict[str, _AccountModel]
    errors: list[_ErrorModel] = Field(default_factory=list)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "read"):  # botocore StreamingBody
        return value.read().decode("utf-8", errors="replace")
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")
