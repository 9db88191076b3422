"""Strict validation of Network Firewall JSON against AWS's own API model (botocore's
`network-firewall` service model): unknown keys, missing required members, types, lengths,
ranges and enum values, each reported with its path."""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore.model import ServiceModel, Shape
from botocore.validate import ParamValidator

from mamori.core import InputError


@cache
def _model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("network-firewall")


def shape(name: str) -> Shape:
    return _model().shape_for(name)


def _model_errors(model: Shape, value: Any, path: str) -> list[str]:
    """Enum members and upper bounds, which botocore's validator leaves unchecked."""
    kind = model.type_name
    allowed: list[str] = getattr(model, "enum", None) or []
    if kind == "string" and allowed and isinstance(value, str) and value not in allowed:
        return [f"{path}: {value!r} is not one of {', '.join(allowed)}"]
    highest = model.metadata.get("max")
    if kind in ("integer", "long") and isinstance(value, int) and highest is not None:
        return [f"{path}: {value} is above the maximum {highest}"] if value > highest else []
    errors: list[str] = []
    if kind == "structure" and isinstance(value, dict):
        members = model.members  # type: ignore[attr-defined]
        for key, item in value.items():
            if key in members:
                errors += _model_errors(members[key], item, f"{path}.{key}")
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            errors += _model_errors(model.member, item, f"{path}[{index}]")  # type: ignore[attr-defined]
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            errors += _model_errors(model.value, item, f"{path}.{key}")  # type: ignore[attr-defined]
    return errors


def check(value: Any, shape_name: str, where: str) -> None:
    """InputError listing every problem of `value` as the API's `shape_name`, prefixed `where`."""
    model = shape(shape_name)
    report = ParamValidator().validate(value, model)
    problems = report.generate_report().splitlines() if report.has_errors() else []
    if not problems:
        problems = _model_errors(model, value, shape_name)
    if problems:
        shown = [
            line.replace(" in input", f" in {shape_name}").replace("parameter input", shape_name)[
                :300
            ]
            for line in problems[:10]
        ]
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InputError(f"{where}: " + "; ".join(shown) + more)
