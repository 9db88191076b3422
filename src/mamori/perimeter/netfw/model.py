"""A firewall policy compiled for evaluation: its rule groups in evaluation order, each rule
reduced to sets and matchers, and what could not be evaluated, said once."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mamori.perimeter.netfw.addresses import ANY_ADDRESS, ANY_PORT, AddressSet, PortSet


class Action(StrEnum):
    PASS = "PASS"  # noqa: S105 - an action, not a password
    DROP = "DROP"
    REJECT = "REJECT"
    ALERT = "ALERT"


# DEFAULT_ACTION_ORDER: pass rules win over drop, drop over reject, reject over alert.
ACTION_RANK = {Action.PASS: 0, Action.DROP: 1, Action.REJECT: 2, Action.ALERT: 3}

DEFAULT_ORDER = "DEFAULT_ACTION_ORDER"
STRICT_ORDER = "STRICT_ORDER"

# Stateless standard actions; exactly one is in every rule's and default's Actions.
STATELESS_ACTIONS = ("aws:pass", "aws:drop", "aws:forward_to_sfe")
STATEFUL_DEFAULTS = (
    "aws:drop_strict",
    "aws:drop_established",
    "aws:alert_strict",
    "aws:alert_established",
)

TCP_FLAG_BITS = {
    "FIN": 1,
    "SYN": 2,
    "RST": 4,
    "PSH": 8,
    "ACK": 16,
    "URG": 32,
    "ECE": 64,
    "CWR": 128,
}


@dataclass(frozen=True)
class StatelessRule:
    group: str
    priority: int
    action: str  # one of STATELESS_ACTIONS
    custom_actions: tuple[str, ...]
    sources: AddressSet
    destinations: AddressSet
    source_ports: PortSet
    destination_ports: PortSet
    protocols: frozenset[int] | None  # None: any protocol
    # (flags that must be set, flags inspected) per TCPFlags entry; the rule needs any entry.
    tcp_flags: tuple[tuple[int, int], ...]

    @property
    def key(self) -> str:
        return f"{self.group}#priority-{self.priority}"


@dataclass(frozen=True)
class StatelessGroup:
    name: str
    arn: str
    priority: int
    rules: tuple[StatelessRule, ...]


@dataclass(frozen=True)
class ContentMatch:
    """One `content` on a sticky buffer (tls.sni, http.host, dns.query), with its modifiers.

    `domain` is the domain-list form: the name itself, or with a leading dot, the name and
    every name under it."""

    buffer: str
    value: str
    nocase: bool = False
    startswith: bool = False
    endswith: bool = False
    dotprefix: bool = False
    domain: bool = False

    def matches(self, name: str) -> bool:
        subject = "." + name if self.dotprefix else name
        needle = self.value
        if self.nocase or self.domain:
            subject, needle = subject.lower(), needle.lower()
        if self.domain:
            if needle.startswith("."):
                return subject == needle[1:] or subject.endswith(needle)
            return subject == needle
        if self.startswith and self.endswith:
            return subject == needle
        if self.startswith:
            return subject.startswith(needle)
        if self.endswith:
            return subject.endswith(needle)
        return needle in subject


# Application protocols a stateful header may name and the transport they ride on.
APP_TRANSPORT = {"tls": 6, "http": 6, "dns": None}
TRANSPORT_NUMBER = {"tcp": 6, "udp": 17, "icmp": 1}
# The buffer each domain-bearing application protocol carries the name in.
BUFFER_PROTOCOL = {"tls.sni": "tls", "http.host": "http", "dns.query": "dns"}


@dataclass(frozen=True)
class StatefulRule:
    group: str
    index: int  # position in its group, from 1
    action: Action
    protocol: str  # lower case: ip, tcp, udp, icmp, tls, http, dns...
    source: AddressSet = ANY_ADDRESS
    source_ports: PortSet = ANY_PORT
    destination: AddressSet = ANY_ADDRESS
    destination_ports: PortSet = ANY_PORT
    bidirectional: bool = False
    flow: frozenset[str] = frozenset()
    contents: tuple[ContentMatch, ...] = ()
    sid: int | None = None
    msg: str = ""
    noalert: bool = False

    @property
    def key(self) -> str:
        return (
            f"{self.group}#sid-{self.sid}" if self.sid is not None else f"{self.group}#{self.index}"
        )

    @property
    def needs_payload(self) -> bool:
        """Whether flow records alone cannot decide it (an application protocol or content)."""
        return bool(self.contents) or self.protocol not in ("ip", *TRANSPORT_NUMBER)

    @property
    def to_client(self) -> bool:
        """Whether its header names the server side as the source (flow:to_client)."""
        return bool(self.flow & {"to_client", "from_server"})


@dataclass(frozen=True)
class StatefulGroup:
    name: str
    arn: str
    priority: int | None  # STRICT_ORDER only
    rules: tuple[StatefulRule, ...]
    drop_to_alert: bool = False  # the reference's Override DROP_TO_ALERT


@dataclass
class Policy:
    name: str
    stateless_groups: list[StatelessGroup]
    stateless_default: str
    stateless_fragment_default: str
    stateful_groups: list[StatefulGroup]
    rule_order: str
    stateful_defaults: tuple[str, ...]
    home_net: AddressSet
    warnings: list[str] = field(default_factory=list)

    def stateless_rules(self) -> list[StatelessRule]:
        ordered = sorted(self.stateless_groups, key=lambda g: g.priority)
        return [rule for group in ordered for rule in sorted(group.rules, key=lambda r: r.priority)]

    def stateful_rules(self) -> list[StatefulRule]:
        """Every stateful rule, DROP_TO_ALERT overrides applied, in the policy's order: by group
        priority then position (STRICT_ORDER), or by action class (DEFAULT_ACTION_ORDER)."""
        groups = self.stateful_groups
        if self.rule_order == STRICT_ORDER:
            groups = sorted(groups, key=lambda g: g.priority or 0)
        rules = [_overridden(rule, group) for group in groups for rule in group.rules]
        if self.rule_order == DEFAULT_ORDER:
            rules.sort(key=lambda r: ACTION_RANK[r.action])  # stable: group order kept within
        return rules


def _overridden(rule: StatefulRule, group: StatefulGroup) -> StatefulRule:
    if group.drop_to_alert and rule.action is Action.DROP:
        from dataclasses import replace

        return replace(rule, action=Action.ALERT)
    return rule
