"""A documented subset of Suricata rule syntax (a RulesString) -> stateful rules.

Scanned character by character by a small hand-written tokenizer: no eval, and no regular
expression ever runs on rule text, so a hostile rule costs time linear in its length. A rule
that breaks the syntax is an error naming the rule group and line (AWS refuses such rule groups,
so the file is not what AWS returned); a rule that uses a keyword outside the subset is skipped
with a warning saying which, never treated as matching or as not matching.

Supported: actions pass, drop, reject, alert; any protocol name in the header (only ip, tcp,
udp and icmp can be decided from flow records); addresses and ports with `any`, variables,
negation, lists and ranges; directions `->` and `<>`; options msg, sid, rev, gid, classtype,
priority, metadata, reference, noalert, flow (to_server, to_client, from_server, from_client,
established, stateless), the sticky buffers tls.sni, http.host and dns.query with content and
its nocase, startswith and endswith modifiers, and the dotprefix transform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from mamori.perimeter.netfw.addresses import (
    ANY_ADDRESS,
    ANY_PORT,
    AddressSet,
    Network,
    PortSet,
    parse_network,
)
from mamori.perimeter.netfw.model import Action, ContentMatch, StatefulRule

ACTIONS = {"pass": Action.PASS, "drop": Action.DROP, "reject": Action.REJECT, "alert": Action.ALERT}
# Header protocols Suricata (and so Network Firewall) knows.
PROTOCOLS = frozenset(
    [
        "ip",
        "tcp",
        "udp",
        "icmp",
        "tls",
        "http",
        "http2",
        "dns",
        "ftp",
        "smb",
        "ssh",
        "smtp",
        "imap",
        "krb5",
        "ikev2",
        "tftp",
        "ntp",
        "dhcp",
        "dcerpc",
        "quic",
        "msn",
    ]
)
STICKY_BUFFERS = {
    "tls.sni": "tls.sni",
    "tls_sni": "tls.sni",
    "http.host": "http.host",
    "dns.query": "dns.query",
    "dns_query": "dns.query",
}
# Options that only describe the rule: they never change what it matches.
INFORMATIONAL = frozenset(
    {"msg", "sid", "rev", "gid", "classtype", "priority", "metadata", "reference"}
)
FLOW_OPTIONS = frozenset(
    {"to_server", "to_client", "from_server", "from_client", "established", "stateless"}
)
MAX_RULE_CHARS = 64 * 1024


class RuleSyntaxError(ValueError):
    """The rule text is not Suricata syntax."""


class UnsupportedRuleError(ValueError):
    """Valid Suricata, outside the subset evaluated here."""


@dataclass
class Variables:
    """Rule variables: IP sets and port sets by name (without the `$`)."""

    ips: dict[str, AddressSet] = field(default_factory=dict)
    ports: dict[str, PortSet] = field(default_factory=dict)


@dataclass
class Parsed:
    rules: list[StatefulRule] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def rule_lines(text: str) -> list[tuple[int, str]]:
    """(line number, rule text) for each rule: comments and blank lines left out, lines ending
    in a backslash joined to the next."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        out.append((start, " ".join(pending)))
        pending = []
    if pending:
        out.append((start, " ".join(pending)))
    return out


def parse_rules(text: str, group: str, variables: Variables) -> Parsed:
    """Every rule of a RulesString. RuleSyntaxError (naming the group and line) on bad syntax."""
    parsed = Parsed()
    for number, line in rule_lines(text):
        where = f"rule group {group!r}, rule on line {number}"
        try:
            parsed.rules.append(parse_rule(line, group, len(parsed.rules) + 1, variables))
        except UnsupportedRuleError as exc:
            parsed.warnings.append(f"{where} skipped: {exc}")
        except RuleSyntaxError as exc:
            raise RuleSyntaxError(f"{where}: {exc}") from None
    return parsed


def parse_rule(text: str, group: str, index: int, variables: Variables) -> StatefulRule:
    if len(text) > MAX_RULE_CHARS:
        raise RuleSyntaxError(f"longer than {MAX_RULE_CHARS} characters")
    open_at = text.find("(")
    if open_at < 0 or not text.rstrip().endswith(")"):
        raise RuleSyntaxError("expected options in parentheses after the header")
    header = _header_tokens(text[:open_at])
    if len(header) != 7:
        raise RuleSyntaxError(
            "the header must be: action protocol source port direction destination port"
        )
    action_text, protocol, src, sport, direction, dst, dport = header
    action = ACTIONS.get(action_text.lower())
    if action is None:
        raise UnsupportedRuleError(f"action {action_text!r} (supported: {', '.join(ACTIONS)})")
    if protocol.lower() not in PROTOCOLS:
        raise RuleSyntaxError(f"unknown protocol {protocol!r}")
    if direction not in ("->", "<>"):
        raise RuleSyntaxError(f"direction must be -> or <>, not {direction!r}")
    options = _options(text[open_at + 1 : text.rstrip().rfind(")")])
    built = OptionSet.build(options)
    return StatefulRule(
        group=group,
        index=index,
        action=action,
        protocol=protocol.lower(),
        source=parse_addresses(src, variables),
        source_ports=parse_ports(sport, variables),
        destination=parse_addresses(dst, variables),
        destination_ports=parse_ports(dport, variables),
        bidirectional=direction == "<>",
        flow=frozenset(built.flow),
        contents=tuple(built.contents),
        sid=built.sid,
        msg=built.msg,
        noalert=built.noalert,
    )


def _header_tokens(text: str) -> list[str]:
    """Whitespace-separated, except inside brackets (a list may have spaces after commas)."""
    tokens: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise RuleSyntaxError("unbalanced ] in the header")
        if char.isspace():
            if depth == 0 and current:
                tokens.append("".join(current))
                current = []
            continue
        current.append(char)
    if depth:
        raise RuleSyntaxError("unbalanced [ in the header")
    if current:
        tokens.append("".join(current))
    return tokens


def _options(text: str) -> list[tuple[str, str | None]]:
    """`keyword[:value];` pairs; values may be quoted, with \\" \\; \\\\ escapes."""
    out: list[tuple[str, str | None]] = []
    position, size = 0, len(text)
    while position < size:
        while position < size and text[position].isspace():
            position += 1
        if position >= size:
            break
        name_start = position
        while position < size and text[position] not in ":;":
            position += 1
        keyword = text[name_start:position].strip()
        if not keyword or any(c.isspace() for c in keyword):
            raise RuleSyntaxError(f"bad option name {keyword!r}")
        if position >= size:
            raise RuleSyntaxError(f"option {keyword!r} is not ended by ;")
        if text[position] == ";":
            out.append((keyword.lower(), None))
            position += 1
            continue
        position += 1  # the colon
        value: list[str] = []
        quoted = False
        while position < size:
            char = text[position]
            if char == "\\" and position + 1 < size:
                value.append(text[position + 1])
                position += 2
                continue
            if char == '"':
                quoted = not quoted
            elif char == ";" and not quoted:
                break
            value.append(char)
            position += 1
        if position >= size:
            raise RuleSyntaxError(f"option {keyword!r} is not ended by ;")
        if quoted:
            raise RuleSyntaxError(f"option {keyword!r} has an unclosed quote")
        out.append((keyword.lower(), "".join(value).strip()))
        position += 1
    return out


def _unquote(value: str | None, keyword: str) -> str:
    if value is None:
        raise RuleSyntaxError(f"{keyword} needs a value")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _content_text(value: str) -> str:
    """A content string, `|2e 63|` hex runs decoded."""
    out: list[str] = []
    parts = value.split("|")
    if len(parts) % 2 == 0:
        raise RuleSyntaxError("content has an unclosed |hex| run")
    for number, part in enumerate(parts):
        if number % 2 == 0:
            out.append(part)
            continue
        digits = "".join(part.split())
        try:
            out.append(bytes.fromhex(digits).decode("latin-1"))
        except ValueError:
            raise RuleSyntaxError(f"content has bad hex {part!r}") from None
    return "".join(out)


@dataclass
class OptionSet:
    flow: set[str] = field(default_factory=set)
    contents: list[ContentMatch] = field(default_factory=list)
    sid: int | None = None
    msg: str = ""
    noalert: bool = False

    @classmethod
    def build(cls, options: list[tuple[str, str | None]]) -> OptionSet:
        built = cls()
        buffer: str | None = None
        dotprefix = False
        for keyword, value in options:
            if keyword in STICKY_BUFFERS:
                buffer, dotprefix = STICKY_BUFFERS[keyword], False
            elif keyword == "dotprefix":
                if buffer is None:
                    raise UnsupportedRuleError("dotprefix outside a sticky buffer")
                dotprefix = True
            elif keyword == "content":
                built.contents.append(_content(value, buffer, dotprefix))
            elif keyword in _MODIFIERS:
                if not built.contents:
                    raise RuleSyntaxError(f"{keyword} without a content before it")
                built.contents[-1] = _MODIFIERS[keyword](built.contents[-1])
            elif keyword == "flow":
                for part in (value or "").split(","):
                    name = part.strip().lower()
                    if name not in FLOW_OPTIONS:
                        raise UnsupportedRuleError(f"flow option {name!r} is not supported")
                    built.flow.add(name)
            elif keyword == "sid":
                text = (value or "").strip()
                if not text.isascii() or not text.isdigit() or len(text) > 10:
                    raise RuleSyntaxError(f"sid {value!r} is not a number")
                built.sid = int(text)
            elif keyword == "msg":
                built.msg = _unquote(value, "msg")
            elif keyword == "noalert":
                built.noalert = True
            elif keyword not in INFORMATIONAL:
                raise UnsupportedRuleError(f"keyword {keyword!r} is not supported")
        return built


def _content(value: str | None, buffer: str | None, dotprefix: bool) -> ContentMatch:
    text = _unquote(value, "content")
    if text.startswith("!"):
        raise UnsupportedRuleError("negated content is not supported")
    if buffer is None:
        raise UnsupportedRuleError(
            "content on the raw payload (not tls.sni, http.host or dns.query)"
        )
    if not text:
        raise RuleSyntaxError("content is empty")
    return ContentMatch(buffer=buffer, value=_content_text(text), dotprefix=dotprefix)


_MODIFIERS: dict[str, Callable[[ContentMatch], ContentMatch]] = {
    "nocase": lambda content: replace(content, nocase=True),
    "startswith": lambda content: replace(content, startswith=True),
    "endswith": lambda content: replace(content, endswith=True),
}


# -- addresses and ports -------------------------------------------------------------------------


def _split_list(text: str) -> list[str]:
    """The top-level items of `[a,[b,c],d]` (brackets already removed)."""
    items: list[str] = []
    depth, start = 0, 0
    for position, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:position].strip())
            start = position + 1
    items.append(text[start:].strip())
    if any(not item for item in items):
        raise RuleSyntaxError(f"empty item in list [{text}]")
    return items


def parse_addresses(text: str, variables: Variables, depth: int = 0) -> AddressSet:
    if depth > 8:
        raise RuleSyntaxError("address lists nested too deep")
    text = text.strip()
    if text.lower() == "any":
        return ANY_ADDRESS
    if text.startswith("!"):
        try:
            return parse_addresses(text[1:], variables, depth + 1).negated()
        except ValueError as exc:
            raise UnsupportedRuleError(str(exc)) from None
    if text.startswith("$"):
        found = variables.ips.get(text[1:])
        if found is None:
            raise RuleSyntaxError(f"undefined IP variable {text}")
        return found
    if text.startswith("["):
        if not text.endswith("]"):
            raise RuleSyntaxError(f"unclosed address list {text!r}")
        return union_addresses(
            [parse_addresses(item, variables, depth + 1) for item in _split_list(text[1:-1])]
        )
    try:
        return AddressSet((parse_network(text),))
    except ValueError as exc:
        raise RuleSyntaxError(str(exc)) from None


def union_addresses(sets: list[AddressSet]) -> AddressSet:
    """A Suricata list: the union of its positive items minus the union of its negated ones."""
    include: list[Network] | None = []
    exclude: list[Network] = []
    for item in sets:
        if item.include is None and item.exclude:
            exclude.extend(item.exclude)  # a negated item
        elif item.include is None:
            include = None
        elif include is not None:
            include.extend(item.include)
    if include is not None and not include:
        include = None  # only negated items: everything else
    return AddressSet(None if include is None else tuple(include), tuple(exclude))


def _port_number(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 5 or int(text) > 65535:
        raise RuleSyntaxError(f"{text!r} is not a port (0-65535)")
    return int(text)


def parse_ports(text: str, variables: Variables, depth: int = 0) -> PortSet:
    if depth > 8:
        raise RuleSyntaxError("port lists nested too deep")
    text = text.strip()
    if text.lower() == "any":
        return ANY_PORT
    if text.startswith("!"):
        try:
            return parse_ports(text[1:], variables, depth + 1).negated()
        except ValueError as exc:
            raise UnsupportedRuleError(str(exc)) from None
    if text.startswith("$"):
        found = variables.ports.get(text[1:])
        if found is None:
            raise RuleSyntaxError(f"undefined port variable {text}")
        return found
    if text.startswith("["):
        if not text.endswith("]"):
            raise RuleSyntaxError(f"unclosed port list {text!r}")
        include: list[tuple[int, int]] | None = []
        exclude: list[tuple[int, int]] = []
        for item in _split_list(text[1:-1]):
            part = parse_ports(item, variables, depth + 1)
            if part.include is None and part.exclude:
                exclude.extend(part.exclude)
            elif part.include is None:
                include = None
            elif include is not None:
                include.extend(part.include)
        return PortSet(None if not include else tuple(include), tuple(exclude))
    low, colon, high = text.partition(":")
    if not colon:
        number = _port_number(text)
        return PortSet(((number, number),))
    first = _port_number(low) if low else 0
    last = _port_number(high) if high else 65535
    if first > last:
        raise RuleSyntaxError(f"port range {text!r} runs backwards")
    return PortSet(((first, last),))
