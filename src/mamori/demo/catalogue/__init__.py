"""What the demo organisation is made of.

Acme is a small company with three AWS accounts: the management account (the organisation,
security tooling, the log archive), `workloads-prod` (the payments product, mostly well kept)
and `workloads-dev` (where shortcuts pile up). The catalogue lists every resource that carries a
deliberate misconfiguration (`bad`) or is its well-configured twin (`good`), with the checks
that must report it, one module per concept; `mamori.demo.seed` creates it all over boto3.
"""

from mamori.demo.catalogue.accounts import ACCOUNTS, GUARDRAIL_SCP, PAB_ON, UNITS
from mamori.demo.catalogue.identity import GROUPS, ROLES, USERS
from mamori.demo.catalogue.monitoring import CIS_ALARMS, NO_ALARMS, REGIONAL_SERVICES, TRAILS
from mamori.demo.catalogue.network import (
    NACLS,
    NETWORKS,
    SECURITY_GROUPS,
    SERVERS,
    VOLUMES,
    Network,
    Rule,
)
from mamori.demo.catalogue.policies import (
    CUSTOMER_POLICIES,
    INLINE_POLICIES,
    allow,
    bucket_statements,
    document,
    key_policy,
    service_trust,
)
from mamori.demo.catalogue.storage import BUCKETS, CONFIG_BUCKET, FLOW_LOG_BUCKET, KEYS
from mamori.demo.catalogue.workloads import DATABASES, FUNCTIONS, LOAD_BALANCERS

__all__ = [
    "ACCOUNTS",
    "BUCKETS",
    "CIS_ALARMS",
    "CONFIG_BUCKET",
    "CUSTOMER_POLICIES",
    "DATABASES",
    "FLOW_LOG_BUCKET",
    "FUNCTIONS",
    "GROUPS",
    "GUARDRAIL_SCP",
    "INLINE_POLICIES",
    "KEYS",
    "LOAD_BALANCERS",
    "NACLS",
    "NETWORKS",
    "NO_ALARMS",
    "PAB_ON",
    "REGIONAL_SERVICES",
    "ROLES",
    "SECURITY_GROUPS",
    "SERVERS",
    "TRAILS",
    "UNITS",
    "USERS",
    "VOLUMES",
    "Network",
    "Rule",
    "allow",
    "bucket_statements",
    "document",
    "key_policy",
    "service_trust",
]
