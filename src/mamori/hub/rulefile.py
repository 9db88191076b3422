"""Reading a rules file (YAML or JSON) into a strict pydantic model, shared by the mutelist and
the automation rules: every problem is an InputError naming the file, the rule (by its id
where it has one) and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mamori.core import InputError

M = TypeVar("M", bound=BaseModel)
_MAX_PROBLEMS = 10


def read_yaml(path: Path, what: str) -> Any:
    """The document in `path`, parsed with YAML's safe loader (no tags, nothing executed)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None


def load_rule_file(path: Path, model: type[M], what: str) -> M:
    """`path` validated as `model`; InputError listing the first problems with their place."""
    doc = read_yaml(path, what)
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise InputError(f"{path}: invalid {what}: " + problems(doc, exc)) from None


def problems(doc: Any, exc: ValidationError) -> str:
    found = [f"{where(doc, err['loc'])}: {_message(err['msg'])}" for err in exc.errors()]
    more = len(found) - _MAX_PROBLEMS
    return "; ".join(found[:_MAX_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")


def where(doc: Any, loc: tuple[int | str, ...]) -> str:
    """An error's place, with the rule named by its id where it has one."""
    parts: list[str] = []
    for i, key in enumerate(loc):
        if i == 1 and loc[0] == "rules" and isinstance(key, int):
            rules = doc.get("rules") if isinstance(doc, dict) else None
            rule = rules[key] if isinstance(rules, list) and key < len(rules) else None
            rid = rule.get("id") if isinstance(rule, dict) else None
            parts.append(f"[{key}]" + (f" ({rid})" if isinstance(rid, str) else ""))
        elif isinstance(key, int):
            parts.append(f"[{key}]")
        else:
            parts.append(("." if parts else "") + key)
    return "".join(parts) or "the file"


def _message(msg: str) -> str:
    # pydantic prefixes the text of a validator's ValueError; the place already says enough.
    return msg.removeprefix("Value error, ")
