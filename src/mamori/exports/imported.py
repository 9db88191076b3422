"""What importing a report gives, and reading a report's JSON with errors that name the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from mamori.core import Finding, InputError


@dataclass
class Imported:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each unreadable item was left out


def read_json(path: Path) -> Any:
    """The report's JSON document; InputError naming the file when it cannot be read."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
