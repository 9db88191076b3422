"""The transformations rewritten with bytes methods give exactly what the RE2 substitutions they
replaced gave. The substitutions are kept here as the reference; the inputs are drawn mostly from
the characters each rewrite treats specially, so the edge cases (escapes cut short, runs of
separators, evasion characters forming new tokens) come up often."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.perimeter.waf.transforms import TRANSFORMS, _codepoint


def _re(pattern: bytes) -> re2._Regexp:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    return re2.compile(pattern, options)


_URL_UNI = _re(rb"%([uU])([0-9a-fA-F]{4})|%([0-9a-fA-F]{2})")


def _ref_url_decode_uni(value: bytes) -> bytes:
    return _URL_UNI.sub(
        lambda m: _codepoint(int(m.group(2), 16)) if m.group(1) else bytes([int(m.group(3), 16)]),
        value.replace(b"+", b" "),
    )


_ENTITIES = {b"quot": b'"', b"amp": b"&", b"lt": b"<", b"gt": b">", b"nbsp": b"\xa0"}
_HTML = _re(rb"&#[xX]([0-9a-fA-F]{1,8});?|&#([0-9]{1,10});?|&(quot|amp|lt|gt|nbsp);")


def _ref_html(value: bytes) -> bytes:
    return _HTML.sub(
        lambda m: (
            _codepoint(int(m.group(1), 16))
            if m.group(1)
            else _codepoint(int(m.group(2)))
            if m.group(2)
            else _ENTITIES[m.group(3)]
        ),
        value,
    )


_WS_TABLE = bytes.maketrans(b"\t\n\r\x0b\x0c\xa0", b"      ")
_MULTI_SPACE = _re(b" {2,}")


def _ref_compress(value: bytes) -> bytes:
    return _MULTI_SPACE.sub(b" ", value.translate(_WS_TABLE))


_CMD_DELETE = _re(rb"[\\\"'^]")
_CMD_SPACE_BEFORE = _re(rb"[ \t\n\r\x0b\x0c]+([/(])")
_CMD_SEPARATORS = _re(rb"[,;]")
_CMD_WS = _re(rb"[ \t\n\r\x0b\x0c]+")
_IFS = _re(rb"\$\{IFS\}|\$IFS\b")
_UNIX_DELETE = _re(rb"[\\\"'`]|\$\{IFS\}|\$IFS\b|\$@")


def _ref_cmd(value: bytes, delete: re2._Regexp) -> bytes:
    value = delete.sub(b"", value)
    value = _CMD_SPACE_BEFORE.sub(lambda m: m.group(1), value)
    value = _CMD_SEPARATORS.sub(b" ", value)
    return _CMD_WS.sub(b" ", value)


REFERENCES: dict[str, Callable[[bytes], bytes]] = {
    "URL_DECODE_UNI": _ref_url_decode_uni,
    "HTML_ENTITY_DECODE": _ref_html,
    "COMPRESS_WHITE_SPACE": _ref_compress,
    "CMD_LINE": lambda v: _ref_cmd(v, _CMD_DELETE).lower(),
    "CMD_LINE_WIN": lambda v: _ref_cmd(v, _CMD_DELETE).lower(),
    "CMD_LINE_UNIX": lambda v: _ref_cmd(_IFS.sub(b" ", v), _UNIX_DELETE),
}

# Tokens each rewrite cares about, glued together at random.
_TOKENS = [
    b"%", b"%u", b"%U", b"%2", b"%41", b"%4g", b"%u00", b"%uFF1E", b"%ud800", b"%u0041", b"+",
    b"0", b"a", b"F", b"g", b"u", b"x", b"&", b"&#", b"&#x", b"&#X", b";", b"&lt;", b"&amp",
    b"&quot;", b"&nbsp;", b"99999999999", b"1f600", b" ", b"  ", b"\t", b"\n", b"\r", b"\x0b",
    b"\x0c", b"\xa0", b"/", b"(", b",", b";", b"\\", b'"', b"'", b"^", b"`", b"$", b"@", b"$@",
    b"${IFS}", b"$IFS", b"IFS", b"{", b"}", b"_", b"\xe9", b"\x00",
]  # fmt: skip
_TRICKY = st.lists(st.sampled_from(_TOKENS), max_size=40).map(b"".join)
_INPUTS = _TRICKY | st.binary(max_size=200)


@pytest.mark.parametrize("name", sorted(REFERENCES))
@settings(max_examples=400, deadline=None)
@given(value=_INPUTS)
def test_same_as_the_re2_substitution(name: str, value: bytes) -> None:
    assert TRANSFORMS[name](value) == REFERENCES[name](value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("URL_DECODE_UNI", b"%%41", b"%A"),  # a failed escape, then one starting at the next %
        ("URL_DECODE_UNI", b"%u12%41", b"%u12A"),  # %u with too few digits is kept
        ("URL_DECODE_UNI", b"%+1%_1% 1", b"% 1%_1% 1"),  # int() would take these; not hex
        ("URL_DECODE_UNI", b"%uFF1E%u00e9%ud800", b">\xe9?"),  # full-width, Latin-1, a surrogate
        ("URL_DECODE_UNI", b"%", b"%"),
        ("HTML_ENTITY_DECODE", b"a=1&b=2", b"a=1&b=2"),  # no entity: skipped
        ("HTML_ENTITY_DECODE", b"&#60&lt", b"<&lt"),  # numeric without ";" decodes, named not
        ("HTML_ENTITY_DECODE", b"&#9999999999;&#xFFFFFFFF;", b"??"),  # past Unicode, no raise
        ("COMPRESS_WHITE_SPACE", b"  \t", b" "),
        ("CMD_LINE", b", /", b" /"),  # separators become spaces after spaces before / go
        ("CMD_LINE_WIN", b"a \t ( b", b"a( b"),
        ("CMD_LINE_UNIX", b"$'@", b"$@"),  # deleting a quote forms $@, which stays
        ("CMD_LINE_UNIX", b"$$@x", b"$x"),
        ("CMD_LINE_UNIX", b"cat$IFS/etc", b"cat/etc"),
        ("CMD_LINE_UNIX", b"$IFSx", b"$IFSx"),  # not $IFS followed by a word boundary
    ],
)
def test_edge_cases(name: str, value: bytes, expected: bytes) -> None:
    assert TRANSFORMS[name](value) == expected
    assert REFERENCES[name](value) == expected


def test_long_runs_stay_linear() -> None:
    """Spaces before a slash, the case a repeated replace would make quadratic."""
    value = b" " * 16_000 + b"/" + b"\t" * 16_000 + b"("
    assert TRANSFORMS["CMD_LINE_UNIX"](value) == b"/("
    assert TRANSFORMS["URL_DECODE_UNI"](b"%" * 16_000) == b"%" * 16_000
