"""What the collectors share: labelling listed items, per-item reads on a few threads, and the
fields never stored.

Not a collector: it registers nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from mamori.inventory.framework import CollectContext
from mamori.inventory.snapshot import is_unavailable, unavailable

Item = dict[str, Any]
# A field of the item, or a function of the item, that gives its ARN or its name.
Label = str | Callable[[Item], str]
T = TypeVar("T")


def labelled(item: Item, arn: str, name: str | None = None) -> Item:
    return {**item, "_arn": arn, "_name": name or arn}


def each(ctx: CollectContext, items: Any, fn: Callable[[Any], Any], workers: int = 8) -> Any:
    """fn over every listed item; the listing's unavailable marker as it is."""
    if is_unavailable(items):
        return items
    return ctx.map(fn, items, workers)


def listed(
    ctx: CollectContext,
    service: str,
    method: str,
    key: str,
    *,
    arn: Label,
    name: Label,
    details: Callable[[Item], Item] | None = None,
    shape: Callable[[Item], Item] | None = None,
    **params: Any,
) -> Any:
    """Every item of a paginated listing in AWS's shape plus `_arn` and `_name`; `shape`
    rewrites the raw item first, and the fields `details(item)` returns (per-item calls) are
    merged in. The listing's unavailable marker if it could not be read."""

    def one(raw: Item) -> Item:
        item = shape(raw) if shape is not None else dict(raw)
        out = labelled(item, _label(item, arn), _label(item, name))
        if details is not None:
            out.update(details(out))
        return out

    # Threads only pay off when each item costs a call of its own.
    workers = 8 if details is not None else 1
    return each(ctx, ctx.paginate(service, method, key, **params), one, workers)


def per_item(
    ctx: CollectContext,
    service: str,
    method: str,
    field: str,
    *,
    pick: str,
    absent: tuple[str, ...] = (),
    **params: str,
) -> Callable[[Item], Item]:
    """A `details` function for `listed`: one call per item, whose `pick` is stored under
    `field`; `params` maps each call parameter to the item field that supplies it."""

    def details(item: Item) -> Item:
        args = {param: item[key] for param, key in params.items()}
        return {field: ctx.call(service, method, absent=absent, pick=pick, **args)}

    return details


def _label(item: Item, how: Label) -> str:
    return how(item) if callable(how) else str(item.get(how) or "")


def body(answer: Any) -> Any:
    """An answer without botocore's ResponseMetadata (markers and None pass through)."""
    if isinstance(answer, dict) and not is_unavailable(answer):
        return {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    return answer


def described(answer: Any, fields: Iterable[str]) -> Item:
    """A describe call's answer to merge into an item; when it could not be read, each of
    `fields` carries the marker, so that reading one of them can never pass for a default."""
    if not isinstance(answer, dict):
        answer = unavailable("Missing", "the describe call answered nothing")
    if is_unavailable(answer):
        return dict.fromkeys(fields, answer)
    return body(answer)


# Fields where people paste secrets: boot scripts, container and build environments, job
# arguments, stack parameters and outputs. A snapshot is a file that gets copied around, and the
# analyses only need to know that such data exists, so it is replaced by `_has_<field>`.
SECRET_BEARING = (
    "UserData",
    "containerDefinitions",
    "environmentVariables",
    "DefaultArguments",
    "NonOverridableArguments",
    "Arguments",
    "Parameters",
    "Outputs",
)


def without_secrets(data: Item, fields: Iterable[str] = SECRET_BEARING) -> Item:
    """`data` (and any object nested in it) without the secret-bearing fields."""
    drop = set(fields)
    out: Item = {}
    for key, value in data.items():
        if key in drop:
            out[f"_has_{_snake(key)}"] = bool(value)
        elif isinstance(value, dict) and not is_unavailable(value):
            out[key] = without_secrets(value, drop)
        else:
            out[key] = value
    return out


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def without_user_data(data: Item) -> Item:
    """Launch data: whether an instance runs a script at boot is said even when it does not."""
    return {"_has_user_data": False, **without_secrets(data, ("UserData",))}


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
