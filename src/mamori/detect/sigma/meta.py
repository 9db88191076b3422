"""Sigma rule metadata -> Mamori rule metadata: finding type, severity, ATT&CK tactic and
technique. No look-up leaves the process (pySigma's own ATT&CK loader downloads; it is not used).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Sigma level -> GuardDuty severity (Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0+).
LEVEL_SEVERITY: dict[str, float] = {
    "informational": 1.0,
    "low": 2.0,
    "medium": 5.0,
    "high": 8.0,
    "critical": 9.0,
}
DEFAULT_LEVEL = "medium"

TACTICS: dict[str, tuple[str, str]] = {
    # Sigma tag name -> (id, name), MITRE ATT&CK Enterprise
    "reconnaissance": ("TA0043", "Reconnaissance"),
    "resource-development": ("TA0042", "Resource Development"),
    "initial-access": ("TA0001", "Initial Access"),
    "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"),
    "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"),
    "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"),
    "lateral-movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"),
    "command-and-control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"),
    "impact": ("TA0040", "Impact"),
}
_TACTIC_BY_ID = {tid.lower(): key for key, (tid, _) in TACTICS.items()}
# Tag names that newer ATT&CK releases and Sigma rules use for what was Defense Evasion: kept
# under TA0005, the tactic they came from, so they stay within Mamori's tactic list.
TACTIC_ALIASES = {"stealth": "defense-evasion", "defense-impairment": "defense-evasion"}

# Techniques that cloud (CloudTrail) rules use: id -> (name, tactic tag name of its main tactic).
TECHNIQUES: dict[str, tuple[str, str]] = {
    "T1020": ("Automated Exfiltration", "exfiltration"),
    "T1021.007": ("Remote Services: Cloud Services", "lateral-movement"),
    "T1046": ("Network Service Discovery", "discovery"),
    "T1059": ("Command and Scripting Interpreter", "execution"),
    "T1059.009": ("Command and Scripting Interpreter: Cloud API", "execution"),
    "T1069": ("Permission Groups Discovery", "discovery"),
    "T1069.003": ("Permission Groups Discovery: Cloud Groups", "discovery"),
    "T1070": ("Indicator Removal", "defense-evasion"),
    "T1078": ("Valid Accounts", "initial-access"),
    "T1078.004": ("Valid Accounts: Cloud Accounts", "initial-access"),
    "T1082": ("System Information Discovery", "discovery"),
    "T1087": ("Account Discovery", "discovery"),
    "T1087.004": ("Account Discovery: Cloud Account", "discovery"),
    "T1098": ("Account Manipulation", "persistence"),
    "T1098.001": ("Account Manipulation: Additional Cloud Credentials", "persistence"),
    "T1098.003": ("Account Manipulation: Additional Cloud Roles", "persistence"),
    "T1098.004": ("Account Manipulation: SSH Authorized Keys", "persistence"),
    "T1110": ("Brute Force", "credential-access"),
    "T1110.001": ("Brute Force: Password Guessing", "credential-access"),
    "T1119": ("Automated Collection", "collection"),
    "T1133": ("External Remote Services", "initial-access"),
    "T1136": ("Create Account", "persistence"),
    "T1136.003": ("Create Account: Cloud Account", "persistence"),
    "T1190": ("Exploit Public-Facing Application", "initial-access"),
    "T1199": ("Trusted Relationship", "initial-access"),
    "T1201": ("Password Policy Discovery", "discovery"),
    "T1204": ("User Execution", "execution"),
    "T1204.003": ("User Execution: Malicious Image", "execution"),
    "T1213": ("Data from Information Repositories", "collection"),
    "T1484": ("Domain or Tenant Policy Modification", "defense-evasion"),
    "T1484.002": ("Domain or Tenant Policy Modification: Trust Modification", "defense-evasion"),
    "T1485": ("Data Destruction", "impact"),
    "T1486": ("Data Encrypted for Impact", "impact"),
    "T1489": ("Service Stop", "impact"),
    "T1490": ("Inhibit System Recovery", "impact"),
    "T1496": ("Resource Hijacking", "impact"),
    "T1518": ("Software Discovery", "discovery"),
    "T1518.001": ("Software Discovery: Security Software Discovery", "discovery"),
    "T1525": ("Implant Internal Image", "persistence"),
    "T1526": ("Cloud Service Discovery", "discovery"),
    "T1528": ("Steal Application Access Token", "credential-access"),
    "T1530": ("Data from Cloud Storage", "collection"),
    "T1531": ("Account Access Removal", "impact"),
    "T1535": ("Unused/Unsupported Cloud Regions", "defense-evasion"),
    "T1537": ("Transfer Data to Cloud Account", "exfiltration"),
    "T1538": ("Cloud Service Dashboard", "discovery"),
    "T1548": ("Abuse Elevation Control Mechanism", "privilege-escalation"),
    "T1548.005": (
        "Abuse Elevation Control Mechanism: Temporary Elevated Cloud Access",
        "privilege-escalation",
    ),
    "T1550": ("Use Alternate Authentication Material", "defense-evasion"),
    "T1550.001": (
        "Use Alternate Authentication Material: Application Access Token",
        "defense-evasion",
    ),
    "T1552": ("Unsecured Credentials", "credential-access"),
    "T1552.005": ("Unsecured Credentials: Cloud Instance Metadata API", "credential-access"),
    "T1555.006": (
        "Credentials from Password Stores: Cloud Secrets Management Stores",
        "credential-access",
    ),
    "T1556": ("Modify Authentication Process", "credential-access"),
    "T1562": ("Impair Defenses", "defense-evasion"),
    "T1562.001": ("Impair Defenses: Disable or Modify Tools", "defense-evasion"),
    "T1562.007": ("Impair Defenses: Disable or Modify Cloud Firewall", "defense-evasion"),
    "T1562.008": ("Impair Defenses: Disable or Modify Cloud Logs", "defense-evasion"),
    "T1567": ("Exfiltration Over Web Service", "exfiltration"),
    "T1578": ("Modify Cloud Compute Infrastructure", "defense-evasion"),
    "T1578.001": ("Modify Cloud Compute Infrastructure: Create Snapshot", "defense-evasion"),
    "T1578.002": ("Modify Cloud Compute Infrastructure: Create Cloud Instance", "defense-evasion"),
    "T1578.003": ("Modify Cloud Compute Infrastructure: Delete Cloud Instance", "defense-evasion"),
    "T1578.005": (
        "Modify Cloud Compute Infrastructure: Modify Cloud Compute Configurations",
        "defense-evasion",
    ),
    "T1580": ("Cloud Infrastructure Discovery", "discovery"),
    "T1606": ("Forge Web Credentials", "credential-access"),
    "T1606.002": ("Forge Web Credentials: SAML Tokens", "credential-access"),
    "T1619": ("Cloud Storage Object Discovery", "discovery"),
    "T1648": ("Serverless Execution", "execution"),
    "T1651": ("Cloud Administration Command", "execution"),
    "T1666": ("Modify Cloud Resource Hierarchy", "defense-evasion"),
}
# A rule without ATT&CK tags: every CloudTrail record is an action of a cloud account, so the
# fallback is "Valid Accounts: Cloud Accounts" under Initial Access.
DEFAULT_TECHNIQUE = "T1078.004"
_TECHNIQUE_TAG = re.compile(r"^t(\d{4})(?:\.(\d{3}))?$")


@dataclass(frozen=True)
class Attack:
    tactic: str  # "TA0005 Defense Evasion"
    technique_id: str
    technique: str
    defaulted: bool  # no usable attack.* tag gave the tactic or the technique


def severity(level: str | None) -> float:
    return LEVEL_SEVERITY.get((level or DEFAULT_LEVEL).lower(), LEVEL_SEVERITY[DEFAULT_LEVEL])


def attack(tags: Iterable[tuple[str, str]]) -> Attack:
    """ATT&CK from Sigma tags given as (namespace, name): the first tactic tag and the first
    technique tag; a missing tactic comes from the technique, a missing technique is the
    default (see DEFAULT_TECHNIQUE)."""
    tactic_key: str | None = None
    technique_id: str | None = None
    for namespace, name in tags:
        if namespace.lower() != "attack":
            continue
        low = name.lower().replace("_", "-")
        low = TACTIC_ALIASES.get(low, low)
        if tactic_key is None and low in TACTICS:
            tactic_key = low
        elif tactic_key is None and low in _TACTIC_BY_ID:
            tactic_key = _TACTIC_BY_ID[low]
        match = _TECHNIQUE_TAG.match(low)
        if technique_id is None and match:
            technique_id = "T" + match[1] + (f".{match[2]}" if match[2] else "")
    defaulted = tactic_key is None or technique_id is None
    if technique_id is None:
        technique_id = DEFAULT_TECHNIQUE
    name, main_tactic = TECHNIQUES.get(technique_id, (f"ATT&CK technique {technique_id}", ""))
    tactic_key = tactic_key or main_tactic or TECHNIQUES[DEFAULT_TECHNIQUE][1]
    tid, tname = TACTICS[tactic_key]
    return Attack(f"{tid} {tname}", technique_id, name, defaulted)


def camel_name(title: str, limit: int = 60) -> str:
    """ "Disable CloudTrail logging!" -> "DisableCloudTrailLogging" (letters and digits only)."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    name = "".join(w[0].upper() + w[1:] for w in words)[:limit]
    return name or "Rule"


def finding_type(title: str, sigma_id: str | None, taken: set[str]) -> str:
    """`Sigma:CloudTrail/<CamelCaseTitle>`, unique among `taken` (which it joins): a clash gets
    the Sigma id's first characters (or a counter) as a `.Mechanism` suffix."""
    base = f"Sigma:CloudTrail/{camel_name(title)}"
    candidates = [base]
    short = re.sub(r"[^A-Za-z0-9]", "", sigma_id or "")[:8]
    if short:
        candidates.append(f"{base}.Id{short}")
    candidates.extend(f"{base}.N{n}" for n in range(2, len(taken) + 3))
    chosen = next(c for c in candidates if c not in taken)
    taken.add(chosen)
    return chosen
