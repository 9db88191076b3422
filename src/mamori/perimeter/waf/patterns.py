"""Multi-pattern matching: every string and regex match that inspects the same component through
the same transformations is answered by one RE2 set, run once per request.

A statement registers its pattern(s) in a group at compile time and gets back the ids it must
look for; at evaluation the group's set runs over the transformed values once, and each
statement checks its ids in the cached answer. RE2 runs in linear time, so no input (and no
pattern in a Web ACL) can make matching backtrack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import re2

from mamori.perimeter.waf.fields import Extractor, Values
from mamori.perimeter.waf.request import Inspection
from mamori.perimeter.waf.transforms import TRANSFORMS, Transform

WORD = rb"[A-Za-z0-9_]"


def literal(value: bytes) -> str:
    r"""A byte string as an RE2 pattern over Latin-1 text: every byte spelled \xHH, so nothing
    in it is syntax."""
    return "".join(f"\\x{b:02x}" for b in value)


def positional(value: bytes, constraint: str) -> str:
    """The RE2 pattern of a ByteMatch SearchString under its PositionalConstraint."""
    lit = literal(value)
    return {
        "EXACTLY": f"^{lit}$",
        "STARTS_WITH": f"^{lit}",
        "ENDS_WITH": f"{lit}$",
        "CONTAINS": lit,
        "CONTAINS_WORD": f"(?:^|[^A-Za-z0-9_]){lit}(?:[^A-Za-z0-9_]|$)",
    }[constraint]


def check_regex(pattern: str) -> str | None:
    """Why RE2 refuses `pattern` (backreferences, lookaround...), or None."""
    try:
        re2.compile(pattern, _options(latin1=False))
    except re2.error as exc:
        return str(exc)
    return None


def _options(latin1: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20
    if latin1:
        options.encoding = re2.Options.Encoding.LATIN1
    return options


class Chain:
    """A component's values after a chain of transformations, computed at most once per
    request. A chain is its prefix plus one step, and the compiler makes one chain per
    (component, prefix): the managed groups' chains start alike (URL decoding twice, then HTML
    entities), so the shared steps run once per component whatever follows them. The chain
    itself is the key of its values in the request's cache."""

    __slots__ = ("extract", "parent", "step")

    def __init__(self, extract: Extractor, parent: Chain | None, step: Transform | None) -> None:
        self.extract = extract
        self.parent = parent
        self.step = step

    def values(self, insp: Inspection) -> Values:
        cache = insp.cache
        found = cache.get(self)
        if found is None:
            if self.parent is None:
                found = self.extract(insp)
            else:
                before = self.parent.values(insp)
                step = self.step
                assert step is not None
                found = before if isinstance(before, bool) else [step(v) for v in before]
            cache[self] = found
        return found  # type: ignore[no-any-return]


def build_chain(
    extract: Extractor, transforms: tuple[str, ...], known: dict[tuple[int, tuple[str, ...]], Chain]
) -> Chain:
    """The chain of `transforms` over `extract`, sharing the prefixes already in `known`."""
    key = (id(extract), transforms)
    if key not in known:
        if transforms:
            parent = build_chain(extract, transforms[:-1], known)
            known[key] = Chain(extract, parent, TRANSFORMS[transforms[-1]])
        else:
            known[key] = Chain(extract, None, None)
    return known[key]


@dataclass
class PatternGroup:
    """The patterns over one (component, transformations) pair."""

    chain: Chain
    latin1: bool
    patterns: list[str] = field(default_factory=list)
    _set: re2.Set | None = None

    def add(self, pattern: str) -> int:
        self.patterns.append(pattern)
        return len(self.patterns) - 1

    def compile(self) -> None:
        found = re2.Set.SearchSet(_options(self.latin1))
        for pattern in self.patterns:
            found.Add(pattern)
        found.Compile()
        self._set = found

    def hits(self, insp: Inspection) -> frozenset[int] | bool:
        """Ids of the patterns matching any inspected value (or the oversize/fallback verdict),
        computed once per request and cached under id(self) (statements read it there)."""
        cached = insp.cache.get(id(self))
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        values = self.chain.values(insp)
        result: frozenset[int] | bool
        if isinstance(values, bool):
            result = values
        else:
            assert self._set is not None
            found: set[int] = set()
            for value in values:
                found.update(self._set.Match(value) or ())
            result = frozenset(found)
        insp.cache[id(self)] = result
        return result
