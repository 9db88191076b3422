"""Detection rules: SQL over the normalised log tables plus GuardDuty-style metadata.

Importing the package registers every built-in rule in `RULES` (see `base`)."""

from mamori.detect.rules import (  # noqa: F401 - imported to register their rules
    anomaly,
    cloudtrail_access,
    cloudtrail_iam,
    cloudtrail_stealth,
    dns,
    flows,
    s3,
    waf,
)
from mamori.detect.rules.base import COLUMNS, MACROS, RULES, Rule, register, rules

__all__ = ["COLUMNS", "MACROS", "RULES", "Rule", "register", "rules"]
