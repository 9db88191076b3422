"""Names of the standards a finding's controls belong to, as the export formats write them."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from mamori.core import Finding, MamoriError


@cache
def _labels() -> dict[str, str]:
    # Imported here: the exports must stay importable (and cheap to import) without loading
    # the posture package, and a broken standards file must not stop an export.
    from mamori.posture.standards import load_standards

    try:
        standards = load_standards()
    except MamoriError:
        return {}
    return {sid: f"{std.name} v{std.version}" for sid, std in standards.items()}


def standard_label(standard_id: str) -> str:
    """The standard's name and version for a shipped standard, else the id itself.

    For example "CIS AWS Foundations Benchmark v3.0.0".
    """
    return _labels().get(standard_id, standard_id)


def control_pairs(f: Finding) -> Iterator[tuple[str, str]]:
    """(standard id, control id) for every control the finding evidences, in a stable order."""
    if f.compliance is None:
        return
    for standard_id in sorted(f.compliance.controls):
        for control_id in f.compliance.controls[standard_id]:
            yield standard_id, control_id


def requirement(standard_id: str, control_id: str) -> str:
    return f"{standard_label(standard_id)}/{control_id}"
