"""The findings hub: one store for every finding, with workflow, history and scan records.

Stands in for Security Hub's findings store. SQLite by default, PostgreSQL at scale, same code.
"""

from mamori.hub.database import default_db_url
from mamori.hub.query import FindingFilter
from mamori.hub.records import (
    CheckState,
    Insight,
    ScanRecord,
    ScanScope,
    ScorePoint,
    UpsertStats,
)
from mamori.hub.store import Store

__all__ = [
    "CheckState",
    "FindingFilter",
    "Insight",
    "ScanRecord",
    "ScanScope",
    "ScorePoint",
    "Store",
    "UpsertStats",
    "default_db_url",
]
