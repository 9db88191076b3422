"""Inventory: collect what is deployed, per account and region, into a Snapshot."""

from mamori.inventory.framework import COLLECTORS, CollectContext, collector
from mamori.inventory.runner import collect, load_collectors, select_collectors
from mamori.inventory.snapshot import GLOBAL, CollectionError, Res, Snapshot, is_unavailable

__all__ = [
    "COLLECTORS",
    "GLOBAL",
    "CollectContext",
    "CollectionError",
    "Res",
    "Snapshot",
    "collect",
    "collector",
    "is_unavailable",
    "load_collectors",
    "select_collectors",
]
