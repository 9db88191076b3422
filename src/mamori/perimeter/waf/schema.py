"""Strict pydantic models of the wafv2 API shapes, generated from botocore's service model.

botocore's `wafv2` model is the API's own definition (every structure, enum, required member,
length, range and pattern), so the models are built from it rather than retyped: a shape AWS adds
is known as soon as botocore knows it, and an unknown key, a wrong type or an out-of-range value
is refused with the path of the field at fault, as the API refuses it.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, ForwardRef, Literal

import botocore.session
from botocore.model import Shape
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    create_model,
)

from mamori.core import InputError

DOCUMENTS = ("WebACL", "RuleGroup", "IPSet", "RegexPatternSet")
_MAX_ERRORS = 20
_REF = "wafv2_"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _string(shape: Shape) -> Any:
    enum = getattr(shape, "enum", None)
    if enum:
        return Literal[tuple(enum)]
    meta = shape.metadata
    pattern = meta.get("pattern")
    # Patterns the API states with Java regex features the Rust engine lacks are left to the
    # semantic checks; lengths still apply.
    if pattern is not None and not _rust_compiles(pattern):
        pattern = None
    return Annotated[
        StrictStr,
        StringConstraints(min_length=meta.get("min"), max_length=meta.get("max"), pattern=pattern),
    ]


@cache
def _rust_compiles(pattern: str) -> bool:
    probe = create_model(
        "Probe", __base__=_Strict, v=(Annotated[str, StringConstraints(pattern=pattern)], ...)
    )
    try:
        probe.model_validate({"v": ""})
    except ValidationError:
        return True
    except Exception:  # noqa: BLE001 - pydantic raises its own schema error types
        return False
    return True


class _Builder:
    def __init__(self) -> None:
        self.model = botocore.session.get_session().get_service_model("wafv2")
        self.models: dict[str, type[BaseModel]] = {}
        self.building: set[str] = set()

    def annotation(self, shape: Shape) -> Any:
        meta = shape.metadata
        kind = shape.type_name
        if kind == "structure":
            return self.structure(shape)
        if kind == "list":
            item = self.annotation(shape.member)  # type: ignore[attr-defined]
            return Annotated[
                list[item],  # type: ignore[valid-type]
                Field(min_length=meta.get("min"), max_length=meta.get("max")),
            ]
        if kind == "map":
            value = self.annotation(shape.value)  # type: ignore[attr-defined]
            return Annotated[
                dict[str, value],  # type: ignore[valid-type]
                Field(min_length=meta.get("min"), max_length=meta.get("max")),
            ]
        if kind == "string":
            return _string(shape)
        if kind == "blob":  # ByteMatch SearchString: base64 in the API's JSON, see model.py
            return StrictStr
        if kind in ("integer", "long"):
            return Annotated[StrictInt, Field(ge=meta.get("min"), le=meta.get("max"))]
        if kind == "boolean":
            return StrictBool
        return Any  # timestamps, documents: not part of the shapes read here

    def structure(self, shape: Shape) -> type[BaseModel]:
        name = shape.name
        if name in self.models:
            return self.models[name]
        if name in self.building:
            # Recursive shapes (Statement -> AndStatement -> Statement) refer back by name,
            # resolved by model_rebuild once every model exists.
            # The reference is prefixed: a field may be named like its shape (Statement).
            return ForwardRef(_REF + name)  # type: ignore[return-value]
        self.building.add(name)
        required = set(shape.required_members)  # type: ignore[attr-defined]
        fields: dict[str, Any] = {}
        for member, sub in shape.members.items():  # type: ignore[attr-defined]
            ann = self.annotation(sub)
            fields[member] = (ann, ...) if member in required else (ann, None)
        built = create_model(name, __base__=_Strict, **fields)
        self.models[name] = built
        self.building.discard(name)
        return built


@cache
def _models() -> dict[str, type[BaseModel]]:
    builder = _Builder()
    out: dict[str, type[BaseModel]] = {}
    for name in DOCUMENTS:
        out[name] = builder.structure(builder.model.shape_for(name))
    for model in builder.models.values():
        model.model_rebuild(_types_namespace={_REF + k: v for k, v in builder.models.items()})
    return out


def model_of(document: str) -> type[BaseModel]:
    """The generated model of one top-level wafv2 document (WebACL, RuleGroup, IPSet...)."""
    return _models()[document]


def enum_of(shape_name: str) -> tuple[str, ...]:
    """An enum's values as the service model lists them (TextTransformationType...)."""
    shape = botocore.session.get_session().get_service_model("wafv2").shape_for(shape_name)
    return tuple(getattr(shape, "enum", None) or ())


def check_shape(document: str, data: Any, source: str) -> None:
    """Refuse `data` unless it is a well-formed `document`; the message lists each field at
    fault by its path (Rules[2].Statement.ByteMatchStatement.PositionalConstraint)."""
    try:
        model_of(document).model_validate(data)
    except ValidationError as exc:
        problems = [f"{_path(err['loc'], data)}: {err['msg']}" for err in exc.errors()]
        more = len(problems) - _MAX_ERRORS
        listed = "; ".join(problems[:_MAX_ERRORS]) + (f"; and {more} more" if more > 0 else "")
        raise InputError(f"{source}: invalid {document}: {listed}") from None


def _path(loc: tuple[Any, ...], data: Any) -> str:
    """A pydantic location as the API writes it, with the rule's name where there is one."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]")
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("Name"), str) and len(parts) == 2:
                parts.append(f" (rule {node['Name']!r})")
        else:
            # pydantic names the branch of a Literal/constrained type it tried; drop those.
            if parts and not isinstance(node, dict):
                continue
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts) or "document"
