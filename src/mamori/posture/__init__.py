"""Posture: checks over the Snapshot, grouped into standards."""

from mamori.posture.engine import evaluate, select_checks, services_needed
from mamori.posture.registry import (
    ACCOUNT,
    CHECKS,
    REGION,
    CheckContext,
    CheckSpec,
    Verdict,
    check,
    failed,
    load_checks,
    passed,
    verdict,
)
from mamori.posture.standards import Standard, get_standard, load_standards

__all__ = [
    "ACCOUNT",
    "CHECKS",
    "REGION",
    "CheckContext",
    "CheckSpec",
    "Standard",
    "Verdict",
    "check",
    "evaluate",
    "failed",
    "get_standard",
    "load_checks",
    "load_standards",
    "passed",
    "select_checks",
    "services_needed",
    "verdict",
]
