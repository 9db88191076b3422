"""Managed rule groups (`ManagedRuleGroupStatement`): a registry keyed by vendor and name.

An entry supplies the group's rules as a wafv2 RuleGroup would hold them (so they compile like
any rule group), its capacity and its label namespace. Mamori's own detection content for
AWS's group names is registered by `mamori.perimeter.waf.rulesets` when that package exists;
the engine itself only needs this registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ManagedGroup:
    vendor: str
    name: str
    capacity: int
    label_namespace: str  # e.g. awswaf:managed:aws:core-rule-set:
    rules: Callable[[], list[dict[str, Any]]]  # wafv2 Rule objects, built on first use
    description: str = ""


MANAGED: dict[tuple[str, str], ManagedGroup] = {}


def managed_group(
    vendor: str, name: str, *, capacity: int, label_namespace: str, description: str = ""
) -> Callable[[Callable[[], list[dict[str, Any]]]], Callable[[], list[dict[str, Any]]]]:
    """Register the function returning a managed group's rules under (vendor, name)."""

    def add(rules: Callable[[], list[dict[str, Any]]]) -> Callable[[], list[dict[str, Any]]]:
        MANAGED[(vendor, name)] = ManagedGroup(
            vendor, name, capacity, label_namespace, rules, description
        )
        return rules

    return add


def find_managed(vendor: str, name: str) -> ManagedGroup | None:
    _load_content()
    return MANAGED.get((vendor, name))


def _load_content() -> None:
    try:  # the content package registers its groups on import
        importlib.import_module("mamori.perimeter.waf.rulesets")
    except ModuleNotFoundError as exc:
        if exc.name != "mamori.perimeter.waf.rulesets":
            raise
