"""Synthetic AWS logs for testing detections: a few accounts' routine CloudTrail, VPC Flow Log
and Route 53 Resolver activity, written in AWS's own S3 delivery layouts, with labelled attack
scenarios (and benign look-alikes) mixed in.

    from mamori.detect.generator import generate, SCENARIOS
    result = generate(out, accounts=["111111111111"], regions=["us-east-1"], start=day, days=2,
                      events_per_day=5000, flows_per_day=5000, dns_per_day=2000)
    result.labels  # what the detections must (and, for benign=True, must not) find
"""

from mamori.detect.generator.base import SCENARIOS, ScenarioSpec
from mamori.detect.generator.intel_lists import IntelFiles, write_intel_lists
from mamori.detect.generator.model import (
    ATTACKER_IPS,
    C2_DOMAINS,
    EXFIL_DOMAIN,
    GUARDDUTY_TESTER_DOMAINS,
    MALICIOUS_IPS,
    MINING_DOMAINS,
    MINING_POOL_IPS,
    OFFICE_NETWORKS,
    OUTSIDE_ACCOUNT,
    TOR_EXIT_IPS,
    UNLISTED_IP,
    Generated,
    Label,
)
from mamori.detect.generator.orchestrate import LEARNING, generate

__all__ = [
    "ATTACKER_IPS",
    "C2_DOMAINS",
    "EXFIL_DOMAIN",
    "GUARDDUTY_TESTER_DOMAINS",
    "LEARNING",
    "MALICIOUS_IPS",
    "MINING_DOMAINS",
    "MINING_POOL_IPS",
    "OFFICE_NETWORKS",
    "OUTSIDE_ACCOUNT",
    "SCENARIOS",
    "TOR_EXIT_IPS",
    "UNLISTED_IP",
    "Generated",
    "IntelFiles",
    "Label",
    "ScenarioSpec",
    "generate",
    "write_intel_lists",
]
