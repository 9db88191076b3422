"""SARIF 2.1.0: findings out (for code-scanning dashboards) and static-analysis results in.

Out: one run whose tool is Mamori, a rule per check or detection (title, remediation, a
`security-severity` score on GitHub's 0-10 scale, ATT&CK and type tags) and a result per
finding. Cloud resources are not files, so a result's place is a logical location named by the
resource's ARN; `partialFingerprints` carries the finding's id, so that a consumer follows the
same finding across exports. Results are streamed: `results` comes before `tool` in the run
object (JSON members have no order), so the rules gathered on the way are written last.

In: SARIF from SAST tools (Bandit, Semgrep, CodeQL, ...) becomes findings of their own product
(`source` "import", generator `sarif:<tool>/<rule>`), severity from the rule's or result's
`security-severity` property where there is one, else from the level; the id comes from the
result's fingerprints (or rule, file, line and message), so importing the same report again
updates the same findings instead of adding copies. A result that cannot be read is counted and
named, the others imported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from mamori.core import Finding, InputError, Remediation, Resource, Severity, SeverityLabel
from mamori.core.finding import PRODUCT_NAME
from mamori.exports._text import to_json
from mamori.exports.imported import Imported, read_json

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    SeverityLabel.CRITICAL: "error",
    SeverityLabel.HIGH: "error",
    SeverityLabel.MEDIUM: "warning",
    SeverityLabel.LOW: "note",
    SeverityLabel.INFORMATIONAL: "note",
}
_FROM_LEVEL = {
    "error": SeverityLabel.HIGH,
    "warning": SeverityLabel.MEDIUM,
    "note": SeverityLabel.LOW,
    "none": SeverityLabel.INFORMATIONAL,
}


def security_severity(label: SeverityLabel) -> str:
    """GitHub's `security-severity` (0.1-10: critical from 9, high 7, medium 4, low 0.1)."""
    return {
        SeverityLabel.CRITICAL: "9.5",
        SeverityLabel.HIGH: "8.0",
        SeverityLabel.MEDIUM: "5.5",
        SeverityLabel.LOW: "2.0",
        SeverityLabel.INFORMATIONAL: "0.0",
    }[label]


def label_of_score(score: float) -> SeverityLabel:
    if score >= 9.0:
        return SeverityLabel.CRITICAL
    if score >= 7.0:
        return SeverityLabel.HIGH
    if score >= 4.0:
        return SeverityLabel.MEDIUM
    if score > 0.0:
        return SeverityLabel.LOW
    return SeverityLabel.INFORMATIONAL


# -- out --------------------------------------------------------------------------------------


def _rule(f: Finding) -> dict[str, Any]:
    tags = sorted({*(m.tactic for m in f.mitre), *(m.technique_id for m in f.mitre), *f.types})
    rule: dict[str, Any] = {
        "id": f.generator_id,
        "shortDescription": {"text": f.title},
        "properties": {"security-severity": security_severity(f.severity.label), "tags": tags},
    }
    if f.description:
        rule["fullDescription"] = {"text": f.description}
    if f.remediation.text:
        rule["help"] = {"text": f.remediation.text}
    if f.remediation.url:
        rule["helpUri"] = f.remediation.url
    return rule


def _result(f: Finding) -> dict[str, Any]:
    resource = f.resources[0]
    status = f" ({f.status.value})" if f.status else ""
    return {
        "ruleId": f.generator_id,
        "level": _LEVEL[f.severity.label],
        "message": {"text": f"{f.title}{status}: {resource.id}"},
        "locations": [
            {
                "logicalLocations": [
                    {"fullyQualifiedName": r.id, "kind": "resource", "name": r.type}
                    for r in f.resources
                ]
            }
        ],
        "partialFingerprints": {"mamoriFindingId/v1": f.id},
        "properties": {
            "account": f.account_id,
            "region": f.region,
            "severity": f.severity.label.value,
            "workflow": f.workflow.status.value,
            "lastObservedAt": f.last_observed_at.isoformat(),
        },
    }


def write_sarif(findings: Iterable[Finding], out: IO[str]) -> int:
    """The findings as one SARIF log; returns how many results were written."""
    rules: dict[str, dict[str, Any]] = {}
    out.write(f'{{"version": "{SARIF_VERSION}", "$schema": "{SARIF_SCHEMA}", "runs": [{{')
    out.write('"results": [')
    count = 0
    for f in findings:
        rules.setdefault(f.generator_id, _rule(f))
        out.write(",\n" if count else "\n")
        out.write(to_json(_result(f)).decode())
        count += 1
    driver = {"name": PRODUCT_NAME, "rules": list(rules.values())}
    out.write('\n], "tool": {"driver": ' + to_json(driver).decode() + "}}]}\n")
    return count


# -- in ---------------------------------------------------------------------------------------


def read_sarif(path: Path, *, account_id: str, region: str = "global") -> Imported:
    """The results of a SARIF log as findings; InputError if the file is not SARIF at all."""
    doc = read_json(path)
    runs = doc.get("runs") if isinstance(doc, dict) else None
    if not isinstance(runs, list):
        raise InputError(f'{path}: not a SARIF log (no "runs" list)')
    imported = Imported()
    for r, run in enumerate(runs):
        if not isinstance(run, dict):
            imported.skipped.append(f"runs[{r}]: not an object")
            continue
        tool, rules = _tool(run)
        results = run.get("results") or []
        if not isinstance(results, list):
            imported.skipped.append(f"runs[{r}].results: not a list")
            continue
        for i, result in enumerate(results):
            where = f"runs[{r}].results[{i}]"
            try:
                imported.findings.append(_finding(result, tool, rules, account_id, region))
            except (ValueError, TypeError, KeyError) as exc:
                imported.skipped.append(f"{where}: {exc}")
    return imported


def _tool(run: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]]:
    driver = (run.get("tool") or {}).get("driver") or {}
    found = driver.get("name")
    name = found if isinstance(found, str) and found else "unknown tool"
    rules = {
        str(rule["id"]): rule
        for rule in driver.get("rules") or []
        if isinstance(rule, dict) and rule.get("id") is not None
    }
    return name, rules


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("text") or value.get("markdown")
    return value if isinstance(value, str) else ""


def _severity(result: dict[str, Any], rule: dict[str, Any]) -> SeverityLabel:
    for props in (result.get("properties"), rule.get("properties")):
        score = props.get("security-severity") if isinstance(props, dict) else None
        if score is not None:
            return label_of_score(float(score))
    level = result.get("level") or (rule.get("defaultConfiguration") or {}).get("level")
    return _FROM_LEVEL.get(str(level or "warning"), SeverityLabel.MEDIUM)


def _place(result: dict[str, Any]) -> tuple[str, int | None]:
    for loc in result.get("locations") or []:
        physical = loc.get("physicalLocation") if isinstance(loc, dict) else None
        if isinstance(physical, dict):
            uri = (physical.get("artifactLocation") or {}).get("uri")
            line = (physical.get("region") or {}).get("startLine")
            if isinstance(uri, str) and uri:
                return uri, line if isinstance(line, int) else None
    return "(no location)", None


def _finding(
    result: Any, tool: str, rules: dict[str, dict[str, Any]], account_id: str, region: str
) -> Finding:
    if not isinstance(result, dict):
        raise TypeError("not an object")
    rule_id = result.get("ruleId") or (result.get("rule") or {}).get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise ValueError("no ruleId")
    rule = rules.get(rule_id, {})
    message = _text(result.get("message")) or _text(rule.get("shortDescription")) or rule_id
    uri, line = _place(result)
    prints = result.get("partialFingerprints") or result.get("fingerprints") or {}
    key = (
        orjson.dumps(prints, option=orjson.OPT_SORT_KEYS).decode()
        if isinstance(prints, dict) and prints
        else f"{rule_id}\x1f{uri}\x1f{line}\x1f{message}"
    )
    digest = hashlib.sha256(f"{tool}\x1f{account_id}\x1f{key}".encode()).hexdigest()[:40]
    place = f"{uri}:{line}" if line is not None else uri
    return Finding(
        id=f"sarif-{digest}",
        source="import",
        product=tool[:128],
        generator_id=f"sarif:{tool}/{rule_id}",
        types=["Software and Configuration Checks/Vulnerabilities/Static Analysis"],
        severity=Severity.of(_severity(result, rule)),
        title=message.splitlines()[0][:256] or rule_id,
        description=message,
        remediation=Remediation(
            text=_text(rule.get("help")), url=rule.get("helpUri") if rule.get("helpUri") else None
        ),
        resources=[Resource(type="Other", id=place, region=region)],
        account_id=account_id,
        region=region,
        product_fields={"sarif/tool": tool, "sarif/rule": rule_id},
    )
