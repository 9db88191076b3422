"""Automated response: rules matching findings with EventBridge patterns, and their actions
(webhooks, workflow, remediation through boto3), audited in the findings store.

`mamori automate --rules automation.yaml` runs `run_automation`; docs/automation.md describes
the rules file.
"""

from mamori.hub.automation.actions import ACTIONS, ActionSpec, Outcome, registry
from mamori.hub.automation.audit import AuditLog, AuditRecord
from mamori.hub.automation.engine import AutomationReport, run_automation
from mamori.hub.automation.pattern import compile_pattern
from mamori.hub.automation.remediate import DEFAULT_REMEDIATION_ROLE, AccountSessions
from mamori.hub.automation.rules import Rule, RuleSet, load_rules

__all__ = [
    "ACTIONS",
    "DEFAULT_REMEDIATION_ROLE",
    "AccountSessions",
    "ActionSpec",
    "AuditLog",
    "AuditRecord",
    "AutomationReport",
    "Outcome",
    "Rule",
    "RuleSet",
    "compile_pattern",
    "load_rules",
    "registry",
    "run_automation",
]
