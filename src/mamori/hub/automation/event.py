"""What a rule's pattern is matched against, and what makes two versions of a finding the same.

The document is the finding in ASFF (as `mamori findings export --format asff` writes it), with
the envelope of the EventBridge event Security Hub sends for an imported finding added beside
its fields. A pattern may therefore be written over the ASFF finding itself
(`{"Severity": {"Label": ["CRITICAL"]}}`) or be an existing Security Hub EventBridge pattern
(`{"detail": {"findings": {"Severity": {"Label": ["CRITICAL"]}}}}`): both match. ASFF's keys are
capitalised and the envelope's are not, so the two never collide.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

DETAIL_TYPE = "Security Hub Findings - Imported"
EVENT_SOURCE = "aws.securityhub"
# What changes on every re-observation without the finding saying anything new; workflow is
# bookkeeping about the finding (a rule's own set_workflow must not make it fire again).
_VOLATILE = ("UpdatedAt", "LastObservedAt", "Workflow")


def finding_event(asff: dict[str, Any]) -> dict[str, Any]:
    """The ASFF finding with the Security Hub event envelope beside its fields."""
    return {
        **asff,
        "version": "0",
        "detail-type": DETAIL_TYPE,
        "source": EVENT_SOURCE,
        "account": asff["AwsAccountId"],
        "region": asff["Region"],
        "time": asff["UpdatedAt"],
        "resources": [asff["Id"]],
        "detail": {"findings": [asff]},
    }


def fingerprint(asff: dict[str, Any]) -> str:
    """A digest of what the finding says: equal for a re-scan that changed nothing, different
    when its status, severity, resources, evidence or count change."""
    stable = {k: v for k, v in asff.items() if k not in _VOLATILE}
    return hashlib.sha256(orjson.dumps(stable, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
