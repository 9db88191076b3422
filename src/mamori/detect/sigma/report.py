"""Reports of a Sigma import: the converted SQL, or converted/refused rules as JSON."""

from __future__ import annotations

import json

from mamori.detect.sigma.convert import SigmaImport


def report_sql(imported: SigmaImport) -> str:
    """Each converted rule's finding type, source and full SQL, separated by blank lines."""
    parts = []
    for c in imported.converted:
        parts.append(
            f"-- {c.rule.finding_type}\n-- Sigma {c.sigma_id or '(no id)'}: {c.title}"
            f" [{c.file}]\n{c.rule.sql};"
        )
    return "\n\n".join(parts)


def report_dict(imported: SigmaImport) -> dict[str, object]:
    return {
        "converted": [
            {
                "file": c.file,
                "title": c.title,
                "sigma_id": c.sigma_id,
                "level": c.level,
                "finding_type": c.rule.finding_type,
                "severity": c.rule.severity,
                "tactic": c.rule.tactic,
                "technique_id": c.rule.technique_id,
                "attack_defaulted": c.defaulted_attack,
                "unknown_fields": list(c.unknown_fields),
                "where": c.where,
            }
            for c in imported.converted
        ],
        "refused": [
            {"file": r.file, "title": r.title, "sigma_id": r.sigma_id, "reason": r.reason}
            for r in imported.refused
        ],
    }


def report_json(imported: SigmaImport) -> str:
    return json.dumps(report_dict(imported))
