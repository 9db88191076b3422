"""Wildcard patterns (`*`, `?`) and policy variables (`${key}`), compiled once, matched fast.

Three matching modes, each following the AWS IAM User Guide:

- "string": `*` is any run of characters (colons included), `?` one character. StringLike and
  the Action element ("IAM JSON policy elements: Condition operators", String operators).
- "resource": the Resource element ("IAM JSON policy elements: Resource", Using wildcards in
  resource ARNs). Wildcards work within a colon-separated segment: a `*` is confined to its
  segment unless it is the last character of the segment, in which case "it can expand to match
  beyond the colon boundaries"; a `?` never matches a colon. A pattern of just "*" matches all.
- "arn": ArnLike / ArnEquals ("Condition operators", ARN operators): "each of the six
  colon-delimited components of the ARN is checked separately". Both sides are split at their
  first five colons (the sixth component, the resource, may hold colons); a `*` or `?` in one of
  the first five components never crosses a colon. A value or pattern with fewer than six
  components matches nothing, so an ArnLike pattern of just "*" matches nothing either.

Policy variables ("IAM policy elements: Variables and tags") are expanded only for policy
Version 2012-10-17 (`variables=True`); older versions treat `${...}` as literal text.
`${key}` takes the single value of a context key (key names are case-insensitive);
`${key, 'default'}` falls back to the default text when the key is absent or multivalued
(a doubled quote '' inside the default stands for one quote); `${*}`, `${?}`, `${$}` are the
literal characters. A key that is absent (without a default) or multivalued cannot be
resolved, and "any attempt to match it fails": match() is False, render() is None.
Substituted text is always literal: a `*` in a user name or tag value is not a wildcard, so
nobody can widen a policy by choosing their own tag values. Substitution is one round only.

Speed: a pattern without variables is compiled once, to a constant, an equality or prefix or
suffix test, or an anchored regex. A pattern with variables is rendered per request and the
compiled matcher is cached by its rendered form. Patterns with more than two `*` are matched by
a linear-time automaton instead of a backtracking regex, so a hostile policy cannot make the
evaluator spin (`a*a*a*a*a*b` against a long run of `a` is quadratic at worst).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mamori.identity.context import EMPTY, RequestContext
from mamori.identity.errors import PolicyError

Matcher = Callable[[str], bool]

MODES = frozenset({"string", "resource", "arn"})
_ARN_SEPARATORS = 5  # six components: arn:partition:service:region:account:resource
_MAX_BACKTRACKING_STARS = 2


class _Wild(enum.Enum):
    """A wildcard as written in the policy (before the mode gives it a meaning)."""

    STAR = "*"
    QMARK = "?"


class _Atom(enum.Enum):
    """A wildcard with its meaning in the chosen mode."""

    STAR_ANY = ".*"  # any run, colons included
    STAR_SEG = "[^:]*"  # any run within one ARN segment
    ONE_ANY = "."
    ONE_SEG = "[^:]"


_STARS = (_Atom.STAR_ANY, _Atom.STAR_SEG)


@dataclass(frozen=True, slots=True)
class _Var:
    key: str  # lower-cased: context keys are case-insensitive
    default: str | None


_Token = str | _Var | _Wild
_Part = str | _Wild  # a token after its variables are substituted

_SPECIALS = frozenset("*?$")
# `${ key }` or `${ key , 'default' }`; whitespace around the parts is tolerated.
_VARIABLE = re.compile(r"\$\{\s*([^,'{}$]*?)\s*(?:,\s*'((?:[^']|'')*)'\s*)?\}")


def has_variables(text: str) -> bool:
    """True when `text` uses policy-variable syntax (`${...}`, including `${*}` and friends),
    i.e. when its meaning differs between policy versions."""
    start = text.find("${")
    return start != -1 and text.find("}", start + 2) != -1


def _tokenize(text: str, *, variables: bool, wildcards: bool) -> list[_Token]:
    tokens: list[_Token] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            tokens.append("".join(literal))
            literal.clear()

    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if variables and char == "$" and text.startswith("${", i):
            if i + 3 < end and text[i + 2] in _SPECIALS and text[i + 3] == "}":
                literal.append(text[i + 2])  # ${*} ${?} ${$}: literal, never a wildcard
                i += 4
                continue
            found = _VARIABLE.match(text, i)
            if found and found.group(1):
                flush()
                default = found.group(2)
                tokens.append(
                    _Var(
                        found.group(1).lower(),
                        None if default is None else default.replace("''", "'"),
                    )
                )
                i = found.end()
                continue
            if text.find("}", i) != -1:
                raise PolicyError(
                    f"policy variable in {text!r}",
                    "expected ${key} or ${key, 'default'} (write ${$} for a literal $)",
                )
            # An unterminated "${" is plain text.
        if wildcards and char in "*?":
            flush()
            tokens.append(_Wild.STAR if char == "*" else _Wild.QMARK)
        else:
            literal.append(char)
        i += 1
    flush()
    return tokens


def _resolve(var: _Var, ctx: RequestContext) -> str | None:
    values = ctx.get(var.key)
    if values is not None and len(values) == 1 and not ctx.is_multivalued(var.key):
        return values[0]
    return var.default


def _render(tokens: Sequence[_Token], ctx: RequestContext) -> list[_Part] | None:
    parts: list[_Part] = []
    for token in tokens:
        piece: _Part | None = _resolve(token, ctx) if isinstance(token, _Var) else token
        if piece is None:
            return None
        if isinstance(piece, str) and parts and isinstance(parts[-1], str):
            parts[-1] += piece
        elif piece != "":
            parts.append(piece)
    return parts


class Template:
    """Exact text, possibly with policy variables (StringEquals values, ARN templates)."""

    __slots__ = ("_tokens", "is_static", "static", "text")

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self._tokens = tokens
        self.is_static = not any(isinstance(t, _Var) for t in tokens)
        self.static: str | None = "".join(t for t in tokens if isinstance(t, str))
        if not self.is_static:
            self.static = None

    def render(self, ctx: RequestContext) -> str | None:
        """The text with variables substituted; None when a variable cannot be resolved."""
        if self.static is not None:
            return self.static
        parts = _render(self._tokens, ctx)
        if parts is None:
            return None
        return "".join(p for p in parts if isinstance(p, str))

    def __repr__(self) -> str:
        return f"Template({self.text!r})"


def compile_template(text: str, *, variables: bool) -> Template:
    """Compile exact text; `variables` is True only for policy Version 2012-10-17."""
    if not variables:
        return Template(text, [text] if text else [])
    return Template(text, _tokenize(text, variables=True, wildcards=False))


class Pattern:
    """A wildcard pattern, possibly with policy variables."""

    __slots__ = (
        "_matcher",
        "_tokens",
        "ignore_case",
        "is_static",
        "literal",
        "matches_everything",
        "mode",
        "text",
    )

    def __init__(self, text: str, mode: str, ignore_case: bool, tokens: list[_Token]) -> None:
        self.text = text
        self.mode = mode
        self.ignore_case = ignore_case
        self._tokens = tokens
        self.is_static = not any(isinstance(t, _Var) for t in tokens)
        # In "arn" mode a lone "*" has one component, not six, so it does not match everything.
        self.matches_everything = text == "*" and mode != "arn"
        self._matcher: Matcher | None = None
        # The exact text a static, wildcard-free, case-sensitive pattern matches, so callers can
        # put many such patterns in one set.
        self.literal: str | None = None
        if self.is_static:
            parts = _render(tokens, EMPTY) or []
            self._matcher = _matcher(mode, ignore_case, tuple(parts))
            if not ignore_case and all(isinstance(p, str) for p in parts):
                text_parts = "".join(p for p in parts if isinstance(p, str))
                if mode != "arn" or text_parts.count(":") >= _ARN_SEPARATORS:
                    self.literal = text_parts

    def bind(self, ctx: RequestContext) -> Matcher | None:
        """The matcher for this request's variable values; None when one cannot be resolved."""
        if self._matcher is not None:
            return self._matcher
        parts = _render(self._tokens, ctx)
        if parts is None:
            return None
        return _matcher(self.mode, self.ignore_case, tuple(parts))

    def match(self, value: str, ctx: RequestContext) -> bool:
        matcher = self._matcher
        if matcher is None:
            matcher = self.bind(ctx)
            if matcher is None:
                return False
        return matcher(value)

    def __repr__(self) -> str:
        return f"Pattern({self.text!r}, mode={self.mode!r})"


def compile_pattern(text: str, *, mode: str, variables: bool, ignore_case: bool = False) -> Pattern:
    """Compile a wildcard pattern in one of MODES; `variables` as for compile_template."""
    if mode not in MODES:
        raise ValueError(f"unknown pattern mode {mode!r}; expected one of {sorted(MODES)}")
    return Pattern(text, mode, ignore_case, _tokenize(text, variables=variables, wildcards=True))


# --- building matchers -------------------------------------------------------------------


def _always(_value: str) -> bool:
    return True


def _never(_value: str) -> bool:
    return False


def _atoms(mode: str, parts: tuple[_Part, ...]) -> list[str | _Atom] | None:
    """Give each wildcard its meaning in `mode`; None when the pattern can match nothing."""
    atoms: list[str | _Atom] = []
    if mode == "string":
        for part in parts:
            if isinstance(part, str):
                atoms.append(part)
            else:
                atoms.append(_Atom.STAR_ANY if part is _Wild.STAR else _Atom.ONE_ANY)
        return atoms
    if mode == "resource":
        for index, part in enumerate(parts):
            if isinstance(part, str):
                atoms.append(part)
            elif part is _Wild.QMARK:
                atoms.append(_Atom.ONE_SEG)
            else:
                after = parts[index + 1] if index + 1 < len(parts) else None
                last_in_segment = after is None or (isinstance(after, str) and after[0] == ":")
                atoms.append(_Atom.STAR_ANY if last_in_segment else _Atom.STAR_SEG)
        return atoms
    colons = 0
    for part in parts:
        if isinstance(part, str):
            atoms.append(part)
            colons += part.count(":")
        elif colons < _ARN_SEPARATORS:
            atoms.append(_Atom.STAR_SEG if part is _Wild.STAR else _Atom.ONE_SEG)
        else:
            atoms.append(_Atom.STAR_ANY if part is _Wild.STAR else _Atom.ONE_ANY)
    return atoms if colons >= _ARN_SEPARATORS else None


@functools.lru_cache(maxsize=8192)
def _matcher(mode: str, ignore_case: bool, parts: tuple[_Part, ...]) -> Matcher:
    if ignore_case:
        folded = tuple(p.lower() if isinstance(p, str) else p for p in parts)
        inner = _matcher(mode, False, folded)
        return lambda value: inner(value.lower())
    atoms = _atoms(mode, parts)
    if atoms is None:
        return _never
    if not any(isinstance(a, _Atom) for a in atoms):
        return "".join(a for a in atoms if isinstance(a, str)).__eq__
    if atoms == [_Atom.STAR_ANY]:
        return _always
    if len(atoms) == 2:
        first, second = atoms
        if isinstance(first, str) and second is _Atom.STAR_ANY:
            return lambda value: value.startswith(first)
        if first is _Atom.STAR_ANY and isinstance(second, str):
            return lambda value: value.endswith(second)
    if sum(a in _STARS for a in atoms) <= _MAX_BACKTRACKING_STARS:
        source = "".join(re.escape(a) if isinstance(a, str) else a.value for a in atoms)
        regex = re.compile(source, re.DOTALL)
        return lambda value: regex.fullmatch(value) is not None
    return _automaton(atoms)


def _automaton(atoms: list[str | _Atom]) -> Matcher:
    """Simulate the pattern as an NFA: time linear in value length times pattern length."""
    program: list[str | _Atom] = []
    for atom in atoms:
        if isinstance(atom, str):
            program.extend(atom)
        else:
            program.append(atom)
    end = len(program)

    def close(states: set[int]) -> frozenset[int]:
        # A star may match nothing, so the state after it is live too.
        closed = set(states)
        for state in states:
            after = state
            while after < end and program[after] in _STARS:
                after += 1
                closed.add(after)
        return frozenset(closed)

    start = close({0})

    def match(value: str) -> bool:
        states = start
        for char in value:
            following: set[int] = set()
            for state in states:
                if state == end:
                    continue
                step = program[state]
                if step is _Atom.STAR_ANY or (step is _Atom.STAR_SEG and char != ":"):
                    following.add(state)
                elif (
                    step is _Atom.ONE_ANY or (step is _Atom.ONE_SEG and char != ":") or step == char
                ):
                    following.add(state + 1)
            if not following:
                return False
            states = close(following)
        return end in states

    return match
