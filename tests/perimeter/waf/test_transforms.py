"""Every text transformation of the wafv2 API: registered, and doing what it is documented to."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.perimeter.waf.schema import enum_of
from mamori.perimeter.waf.transforms import TRANSFORMS, apply, chain

CASES = [
    ("NONE", b"AbC", b"AbC"),
    ("LOWERCASE", b"SeLeCt \xc9", b"select \xc9"),  # ASCII letters only
    ("UPPERCASE", b"union", b"UNION"),
    ("COMPRESS_WHITE_SPACE", b"a \t\n\r\x0b\x0c\xa0 b", b"a b"),
    ("REMOVE_WHITESPACE", b" u n\ti\no n ", b"union"),
    ("TRIM", b" \t x y \n", b"x y"),
    ("TRIM_LEFT", b"  x ", b"x "),
    ("TRIM_RIGHT", b"  x ", b"  x"),
    ("REMOVE_NULLS", b"sel\x00ect", b"select"),
    ("REPLACE_NULLS", b"a\x00b", b"a b"),
    ("URL_DECODE", b"%27%20OR+1%3d1%zz%4", b"' OR 1=1%zz%4"),
    ("URL_DECODE_UNI", b"%u003cscript%uFF1E%41", b"<script>A"),
    ("HTML_ENTITY_DECODE", b"&lt;img&gt;&#x41;&#66;&quot;&amp;&nbsp;", b'<img>AB"&\xa0'),
    ("ESCAPE_SEQ_DECODE", b"\\x41\\n\\101\\'", b"A\nA'"),
    ("JS_DECODE", b"\\u003cscript\\x3e\\101", b"<script>A"),
    ("JS_DECODE_EXT", b"\\u{3c}svg\\u003e", b"<svg>"),
    ("CSS_DECODE", b"java\\73 cript\\3a\\g", b"javascript:g"),
    ("SQL_HEX_DECODE", b"select 0x61646d696e", b"select admin"),
    ("HEX_DECODE", b"3c7363726970743e", b"<script>"),
    ("HEX_DECODE", b"not hex", b"not hex"),
    ("BASE64_DECODE", b"PHNjcmlwdD4=", b"<script>"),
    ("BASE64_DECODE", b"PHNjcmlwdD4!junk", b"<script>"),
    ("BASE64_DECODE_EXT", b"PHN.jcml\nwdD4", b"<script>"),
    ("REPLACE_COMMENTS", b"UN/**/ION SEL/*x*/ECT /* open", b"UN ION SEL ECT  "),
    ("REMOVE_COMMENTS_CHAR", b"un/**/ion--x#", b"unionx"),
    ("CMD_LINE", b'C^A\\T "/etc/passwd";ID, x', b"cat/etc/passwd id x"),
    ("CMD_LINE_WIN", b'P^o"w"e^r^S^hell', b"powershell"),
    ("CMD_LINE_UNIX", b"c'a't${IFS}/etc/pa\\sswd", b"cat/etc/passwd"),
    ("NORMALIZE_PATH", b"/a//b/./c/../../../etc/passwd", b"/etc/passwd"),
    ("NORMALIZE_PATH", b"/a/b/..", b"/a/"),
    ("NORMALIZE_PATH_WIN", b"\\a\\..\\windows\\win.ini", b"/windows/win.ini"),
    ("UTF8_TO_UNICODE", "é<".encode() + b"\xff", b"%u00e9<\xff"),
    ("MD5", b"a", hashlib.md5(b"a").digest()),  # noqa: S324 - the API's own transformation
    ("SHA256", b"a", hashlib.sha256(b"a").digest()),
]


def test_every_api_type_is_registered() -> None:
    assert set(enum_of("TextTransformationType")) == set(TRANSFORMS)


@pytest.mark.parametrize(("name", "given_", "expected"), CASES)
def test_transformation(name: str, given_: bytes, expected: bytes) -> None:
    assert TRANSFORMS[name](given_) == expected


def test_every_type_has_a_case() -> None:
    assert {c[0] for c in CASES} == set(TRANSFORMS)


def test_applied_in_priority_order_not_listed_order() -> None:
    steps = [{"Priority": 5, "Type": "LOWERCASE"}, {"Priority": 1, "Type": "URL_DECODE"}]
    assert chain(steps) == ("URL_DECODE", "LOWERCASE")
    # double URL encoding needs the decode twice
    twice = chain([{"Priority": 0, "Type": "URL_DECODE"}, {"Priority": 1, "Type": "URL_DECODE"}])
    assert apply(twice, b"%253Cscript%253E") == b"<script>"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(sorted(TRANSFORMS)))
def test_never_raises_on_arbitrary_bytes(value: bytes, name: str) -> None:
    assert isinstance(TRANSFORMS[name](value), bytes)
