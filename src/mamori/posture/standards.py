"""Standards are data files mapping their control ids to check ids."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mamori.core import InputError


class _Control(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    checks: list[str] = Field(default_factory=list)
    # Controls that no API can assess (contact details, physical MFA custody...) are listed so
    # the report can say they need a person, not silently skip them.
    manual: bool = False
    # Why a control is not assessed, where "needs a person" is not the reason.
    note: str = ""


class _StandardFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    version: str
    description: str = ""
    url: str | None = None
    controls: list[_Control]


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    checks: tuple[str, ...]
    manual: bool
    note: str = ""


@dataclass(frozen=True)
class Standard:
    id: str
    name: str
    version: str
    description: str
    url: str | None
    controls: tuple[Control, ...]

    def controls_for(self, check_id: str) -> list[str]:
        return [c.id for c in self.controls if check_id in c.checks]

    @property
    def check_ids(self) -> set[str]:
        return {ck for c in self.controls for ck in c.checks}


def _parse(doc: Any, name: str) -> Standard:
    try:
        model = _StandardFile.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"standard {name}: {where}: {first['msg']}") from exc
    controls = tuple(
        Control(c.id, c.title, tuple(c.checks), c.manual, c.note) for c in model.controls
    )
    return Standard(model.id, model.name, model.version, model.description, model.url, controls)


@cache
def load_standards() -> dict[str, Standard]:
    out: dict[str, Standard] = {}
    folder = resources.files("mamori.posture") / "standards"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".json"):
            continue
        std = _parse(orjson.loads(entry.read_bytes()), entry.name)
        out[std.id] = std
    return out


def get_standard(standard_id: str) -> Standard:
    standards = load_standards()
    if standard_id in standards:
        return standards[standard_id]
    # Accept an unversioned id ("cis-aws-foundations") when exactly one version is shipped.
    matches = [s for k, s in standards.items() if k.startswith(standard_id + "-")]
    if len(matches) == 1:
        return matches[0]
    raise InputError(f"unknown standard {standard_id!r} (known: {', '.join(sorted(standards))})")


def controls_of(check_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for std in load_standards().values():
        ids = std.controls_for(check_id)
        if ids:
            out[std.id] = ids
    return out
