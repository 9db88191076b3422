"""AWS access: sessions through the credential chain, retries, organisation fan-out."""

from mamori.aws.org import Targets, resolve_targets
from mamori.aws.session import (
    DEFAULT_AUDIT_ROLE,
    AccountSession,
    AwsOptions,
    CallCounter,
    enabled_regions,
)

__all__ = [
    "DEFAULT_AUDIT_ROLE",
    "AccountSession",
    "AwsOptions",
    "CallCounter",
    "Targets",
    "enabled_regions",
    "resolve_targets",
]
