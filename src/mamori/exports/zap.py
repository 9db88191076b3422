"""OWASP ZAP's JSON report (`-J report.json`, the "traditional-json" template) in as findings.

A finding per alert and place (site, URI, method, parameter), of ZAP's own product
(`zap:<plugin id>`): severity from the risk code (0 informational, 1 low, 2 medium, 3 high), the
alert's description, solution and references as text (ZAP writes them as HTML), the CWE and WASC
ids and the evidence kept. The id comes from the site, plugin and place, so a later scan of the
same application updates the same findings. An alert that cannot be read is named and skipped.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path
from typing import Any

from mamori.core import Finding, InputError, Remediation, Resource, Severity, SeverityLabel
from mamori.exports.imported import Imported, read_json

_RISK = {
    "0": SeverityLabel.INFORMATIONAL,
    "1": SeverityLabel.LOW,
    "2": SeverityLabel.MEDIUM,
    "3": SeverityLabel.HIGH,
}
_TAG = re.compile(r"<[^>]*>")


def _plain(value: Any) -> str:
    """ZAP's HTML fragments as text (tags dropped, entities decoded); never rendered as HTML."""
    text = value if isinstance(value, str) else ""
    return html.unescape(_TAG.sub(" ", text)).strip()


def read_zap(path: Path, *, account_id: str, region: str = "global") -> Imported:
    doc = read_json(path)
    sites = doc.get("site") if isinstance(doc, dict) else None
    if isinstance(sites, dict):
        sites = [sites]  # older reports: one site as an object
    if not isinstance(sites, list):
        raise InputError(f'{path}: not a ZAP JSON report (no "site" list)')
    imported = Imported()
    for s, site in enumerate(sites):
        alerts = site.get("alerts") if isinstance(site, dict) else None
        if not isinstance(alerts, list):
            imported.skipped.append(f"site[{s}]: no alerts list")
            continue
        name = site.get("@name") if isinstance(site.get("@name"), str) else f"site {s}"
        for a, alert in enumerate(alerts):
            try:
                imported.findings.extend(_findings(alert, name, account_id, region))
            except (ValueError, TypeError, KeyError) as exc:
                imported.skipped.append(f"site[{s}].alerts[{a}]: {exc}")
    return imported


def _findings(alert: Any, site: str, account_id: str, region: str) -> list[Finding]:
    if not isinstance(alert, dict):
        raise TypeError("not an object")
    plugin = str(alert.get("pluginid") or alert.get("alertRef") or "")
    risk = _RISK.get(str(alert.get("riskcode")))
    if not plugin or risk is None:
        raise ValueError("no plugin id or risk code")
    title = _plain(alert.get("name") or alert.get("alert")) or f"ZAP alert {plugin}"
    instances = alert.get("instances") or [{}]
    if not isinstance(instances, list):
        raise TypeError("instances is not a list")
    out = []
    for instance in instances:
        place = instance if isinstance(instance, dict) else {}
        uri, method, param = (str(place.get(k) or "") for k in ("uri", "method", "param"))
        key = "\x1f".join((account_id, site, plugin, uri, method, param))
        evidence = {k: str(place[k]) for k in ("evidence", "attack", "param") if place.get(k)}
        where = f"{method} {uri or site}".strip() + (f" ({param})" if param else "")
        out.append(
            Finding(
                id="zap-" + hashlib.sha256(key.encode()).hexdigest()[:40],
                source="import",
                product="OWASP ZAP",
                generator_id=f"zap:{plugin}",
                types=["Software and Configuration Checks/Vulnerabilities/Dynamic Analysis"],
                severity=Severity.of(risk),
                title=title[:256],
                description=_plain(alert.get("desc")),
                remediation=Remediation(text=_plain(alert.get("solution"))),
                resources=[Resource(type="Other", id=where, region=region)],
                account_id=account_id,
                region=region,
                evidence=evidence,
                references=[r for r in _plain(alert.get("reference")).split() if r][:20],
                product_fields={
                    k: str(alert[k]) for k in ("cweid", "wascid", "confidence") if alert.get(k)
                },
            )
        )
    return out
