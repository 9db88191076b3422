"""AWS WAF text transformations: one registered function per `TextTransformationType`.

Each takes and returns bytes (AWS WAF inspects bytes, 0x00-0xFF). Pattern-driven rewrites use
RE2 (linear time): these run on attacker input. Where the developer guide describes a
transformation, it is followed; the ones it describes only by name (the `_EXT`, `_WIN`/`_UNIX`
variants) follow the ModSecurity transformation of the same purpose and are listed in docs/waf.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable
from urllib.parse import unquote_to_bytes

import re2

from mamori.perimeter.waf.schema import enum_of

Transform = Callable[[bytes], bytes]
TRANSFORMS: dict[str, Transform] = {}


def transform(name: str) -> Callable[[Transform], Transform]:
    """Register `fn` as the text transformation `name` (a TextTransformationType value)."""

    def add(fn: Transform) -> Transform:
        TRANSFORMS[name] = fn
        return fn

    return add


def chain(steps: Iterable[dict[str, object]]) -> tuple[str, ...]:
    """The transformation names of a statement in the order AWS applies them (by Priority)."""
    ordered = sorted(steps, key=lambda t: int(t["Priority"]))  # type: ignore[call-overload]
    return tuple(str(t["Type"]) for t in ordered if t["Type"] != "NONE")


def apply(names: tuple[str, ...], value: bytes) -> bytes:
    for name in names:
        value = TRANSFORMS[name](value)
    return value


def _re(pattern: bytes) -> re2._Regexp:
    """Transformations see bytes, not text: Latin-1 mode makes every byte one character."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    return re2.compile(pattern, options)


def _sub(pattern: bytes, repl: Callable[[re2._Match], bytes], trigger: bytes) -> Transform:
    """A rewrite by RE2, skipped when the byte every match starts with is absent (the common
    case, and much cheaper than a substitution pass)."""
    compiled = _re(pattern)
    return lambda value: compiled.sub(repl, value) if trigger in value else value


def _codepoint(cp: int) -> bytes:
    """A decoded Unicode code point as bytes: full-width ASCII (U+FF01-FF5E, a classic evasion)
    folds to ASCII, Latin-1 stays one byte, anything else is UTF-8."""
    if 0xFF01 <= cp <= 0xFF5E:
        return bytes([cp - 0xFEE0])
    if cp < 0x100:
        return bytes([cp])
    if cp > 0x10FFFF:  # past Unicode (&#9999999999; would overflow chr())
        return b"?"
    try:
        return chr(cp).encode("utf-8")
    except UnicodeEncodeError:  # surrogates
        return b"?"


_WS = b" \t\n\r\x0b\x0c\xa0"
_WS_TABLE = bytes.maketrans(b"\t\n\r\x0b\x0c\xa0", b"      ")


def _squeeze(value: bytes) -> bytes:
    """Every run of spaces as one space."""
    if b"  " not in value:
        return value
    words = value.split(b" ")
    inner = b" ".join(w for w in words if w)
    if not inner:  # spaces only
        return b" "
    return (b" " if not words[0] else b"") + inner + (b" " if not words[-1] else b"")


@transform("NONE")
def _none(value: bytes) -> bytes:
    return value


@transform("LOWERCASE")
def _lower(value: bytes) -> bytes:
    return value.lower()  # ASCII A-Z only, as AWS documents


@transform("UPPERCASE")
def _upper(value: bytes) -> bytes:
    return value.upper()


@transform("COMPRESS_WHITE_SPACE")
def _compress(value: bytes) -> bytes:
    return _squeeze(value.translate(_WS_TABLE))


@transform("REMOVE_WHITESPACE")
def _remove_ws(value: bytes) -> bytes:
    return value.translate(None, _WS)


@transform("TRIM")
def _trim(value: bytes) -> bytes:
    return value.strip(_WS)


@transform("TRIM_LEFT")
def _trim_left(value: bytes) -> bytes:
    return value.lstrip(_WS)


@transform("TRIM_RIGHT")
def _trim_right(value: bytes) -> bytes:
    return value.rstrip(_WS)


@transform("REMOVE_NULLS")
def _remove_nulls(value: bytes) -> bytes:
    return value.replace(b"\x00", b"")


@transform("REPLACE_NULLS")
def _replace_nulls(value: bytes) -> bytes:
    return value.replace(b"\x00", b" ")


@transform("MD5")
def _md5(value: bytes) -> bytes:
    return hashlib.md5(value, usedforsecurity=False).digest()


@transform("SHA256")
def _sha256(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


_HEX_DIGITS = b"0123456789abcdefABCDEF"
# Every two-hex-digit spelling (either case) and the byte it stands for: one dict lookup
# decodes a %HH escape, and nothing else (int() would also take "+1", " 1" or "1_0").
_HEX_PAIRS = {
    bytes([a, b]): bytes([int(bytes([a, b]), 16)]) for a in _HEX_DIGITS for b in _HEX_DIGITS
}


def _url_uni(value: bytes) -> bytes:
    """%HH and %uHHHH escapes decoded, anything else (%zz, a trailing %4) kept as it is.

    A split on "%" is exact: an escape starts at a "%" and holds none, so each piece after the
    first begins right after one "%" and decodes from its own start, as a left-to-right scan
    would."""
    if b"%" not in value:
        return value
    pieces = value.split(b"%")
    out = [pieces[0]]
    for piece in pieces[1:]:
        if piece[:1] in (b"u", b"U") and len(piece) >= 5 and not piece[1:5].strip(_HEX_DIGITS):
            out.append(_codepoint(int(piece[1:5], 16)))
            out.append(piece[5:])
        elif (byte := _HEX_PAIRS.get(piece[:2])) is not None:
            out.append(byte)
            out.append(piece[2:])
        else:
            out.append(b"%")
            out.append(piece)
    return b"".join(out)


@transform("URL_DECODE")
def _url_decode(value: bytes) -> bytes:
    # unquote_to_bytes leaves invalid sequences (%zz, a trailing %4) as they are.
    return (
        unquote_to_bytes(value.replace(b"+", b" ")) if b"%" in value else value.replace(b"+", b" ")
    )


@transform("URL_DECODE_UNI")
def _url_decode_uni(value: bytes) -> bytes:
    return _url_uni(value.replace(b"+", b" "))


_ENTITIES = {b"quot": b'"', b"amp": b"&", b"lt": b"<", b"gt": b">", b"nbsp": b"\xa0"}
_html_entities = _sub(
    rb"&#[xX]([0-9a-fA-F]{1,8});?|&#([0-9]{1,10});?|&(quot|amp|lt|gt|nbsp);",
    lambda m: (
        _codepoint(int(m.group(1), 16))
        if m.group(1)
        else _codepoint(int(m.group(2)))
        if m.group(2)
        else _ENTITIES[m.group(3)]
    ),
    b"&",
)


@transform("HTML_ENTITY_DECODE")
def _html(value: bytes) -> bytes:
    # Every entity the pattern takes holds "&#" or ends with ";": query strings full of "&"
    # alone skip the substitution pass.
    return _html_entities(value) if b"&#" in value or b";" in value else value


_C_ESCAPES = {
    b"a": b"\x07", b"b": b"\x08", b"f": b"\x0c", b"n": b"\n",
    b"r": b"\r", b"t": b"\t", b"v": b"\x0b",
}  # fmt: skip


def _c_escape(m: re2._Match) -> bytes:
    if m.group(1):
        return bytes([int(m.group(1), 16)])
    if m.group(2):
        return bytes([int(m.group(2), 8) & 0xFF])
    char = m.group(3)
    return _C_ESCAPES.get(char, char)


transform("ESCAPE_SEQ_DECODE")(
    _sub(rb"\\x([0-9a-fA-F]{2})|\\([0-7]{1,3})|\\([\s\S])", _c_escape, b"\\")
)


def _js_escape(m: re2._Match) -> bytes:
    if m.group(1):
        return _codepoint(int(m.group(1), 16))
    return _c_escape_groups(m, 2)


def _c_escape_groups(m: re2._Match, first: int) -> bytes:
    if m.group(first):
        return bytes([int(m.group(first), 16)])
    if m.group(first + 1):
        return bytes([int(m.group(first + 1), 8) & 0xFF])
    char = m.group(first + 2)
    return _C_ESCAPES.get(char, char)


_JS = rb"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\([0-7]{1,3})|\\([\s\S])"
transform("JS_DECODE")(_sub(_JS, _js_escape, b"\\"))
_js_ext = _sub(rb"\\u\{([0-9a-fA-F]{1,6})\}", lambda m: _codepoint(int(m.group(1), 16)), b"\\")


@transform("JS_DECODE_EXT")
def _js_decode_ext(value: bytes) -> bytes:
    """JS_DECODE plus ES6 code point escapes (\\u{...})."""
    return TRANSFORMS["JS_DECODE"](_js_ext(value))


def _css_escape(m: re2._Match) -> bytes:
    if m.group(1):
        return _codepoint(int(m.group(1), 16))
    return b"" if m.group(2) in (b"\n", b"\r", b"\x0c") else m.group(2)


# CSS 2.x: a backslash and 1-6 hex digits (one trailing space eaten), or an escaped character;
# an escaped newline is a line continuation.
transform("CSS_DECODE")(_sub(rb"\\([0-9a-fA-F]{1,6})[ \t\n\r\x0c]?|\\([\s\S])", _css_escape, b"\\"))


@transform("SQL_HEX_DECODE")
def _sql_hex(value: bytes) -> bytes:
    return _SQL_HEX(value)


_SQL_HEX = _sub(rb"0[xX]((?:[0-9a-fA-F]{2})+)", lambda m: binascii.unhexlify(m.group(1)), b"0")


@transform("HEX_DECODE")
def _hex(value: bytes) -> bytes:
    try:
        return binascii.unhexlify(value.strip())
    except (binascii.Error, ValueError):
        return value


_B64_STRICT = _re(rb"^[A-Za-z0-9+/\-_]*")
_B64_NOISE = _re(rb"[^A-Za-z0-9+/\-_]+")


def _b64(chars: bytes) -> bytes:
    if len(chars) % 4 == 1:  # a lone trailing sextet carries no whole byte
        chars = chars[:-1]
    try:
        return base64.b64decode(chars + b"=" * (-len(chars) % 4), altchars=None, validate=False)
    except (binascii.Error, ValueError):
        return b""


@transform("BASE64_DECODE")
def _base64(value: bytes) -> bytes:
    """Decodes up to the first character that is not base64 (ModSecurity's base64Decode)."""
    match = _B64_STRICT.search(value)
    head = match.group(0) if match else b""
    return _b64(head.replace(b"-", b"+").replace(b"_", b"/"))


@transform("BASE64_DECODE_EXT")
def _base64_ext(value: bytes) -> bytes:
    """The forgiving decoder: characters that are not base64 are skipped."""
    return _b64(_B64_NOISE.sub(b"", value).replace(b"-", b"+").replace(b"_", b"/"))


@transform("REPLACE_COMMENTS")
def _replace_comments(value: bytes) -> bytes:
    """C-style comments (an unterminated one runs to the end) become one space."""
    out: list[bytes] = []
    start = 0
    while (open_at := value.find(b"/*", start)) >= 0:
        out.append(value[start:open_at])
        out.append(b" ")
        close_at = value.find(b"*/", open_at + 2)
        if close_at < 0:
            return b"".join(out)
        start = close_at + 2
    out.append(value[start:])
    return b"".join(out)


_COMMENT_CHARS = _re(rb"/\*|\*/|--|#")


@transform("REMOVE_COMMENTS_CHAR")
def _remove_comment_chars(value: bytes) -> bytes:
    return _COMMENT_CHARS.sub(b"", value)


# Command-line normalisation, in this order: the evasion characters deleted, whitespace before
# "/" or "(" removed, "," and ";" made spaces, whitespace runs made one space. Done with bytes
# methods (each step a linear pass), which give what the four substitutions would.
_CMD_WS_TABLE = bytes.maketrans(b"\t\n\r\x0b\x0c", b"     ")
_CMD_SEPARATOR_TABLE = bytes.maketrans(b",;", b"  ")


def _cmd(value: bytes, delete: bytes) -> bytes:
    value = value.translate(_CMD_WS_TABLE, delete)
    if b" " in value:
        for mark in (b"/", b"("):
            parts = value.split(mark)
            parts[:-1] = [p.rstrip(b" ") for p in parts[:-1]]
            value = mark.join(parts)
    return _squeeze(value.translate(_CMD_SEPARATOR_TABLE))


@transform("CMD_LINE")
def _cmd_line(value: bytes) -> bytes:
    return _cmd(value, b"\\\"'^").lower()


@transform("CMD_LINE_WIN")
def _cmd_line_win(value: bytes) -> bytes:
    """cmd.exe evasions: carets and quotes split words; names are case-insensitive."""
    return _cmd(value, b"\\\"'^").lower()


_IFS = _re(rb"\$\{IFS\}|\$IFS\b")


@transform("CMD_LINE_UNIX")
def _cmd_line_unix(value: bytes) -> bytes:
    """Shell evasions: quotes, backslashes, `$@` split words (c'a't, c\\at); `$IFS` is a
    space. Case is kept: Unix names are case-sensitive."""
    if b"IFS" in value:
        value = _IFS.sub(b" ", value)
    # Quotes and backslashes go after `$@`: deleting them may form new ones ($'@), which stay,
    # as they do in one left-to-right pass over the original.
    return _cmd(value.replace(b"$@", b""), b"\\\"'`")


_SLASHES = _re(rb"/{2,}")


@transform("NORMALIZE_PATH")
def _normalize_path(value: bytes) -> bytes:
    """Multiple slashes collapse; `./` and `dir/../` are resolved (never above the start)."""
    value = _SLASHES.sub(b"/", value)
    absolute = value.startswith(b"/")
    trailing = value.endswith((b"/", b"/.", b"/..")) and len(value) > 1
    out: list[bytes] = []
    for part in value.split(b"/"):
        if part in (b"", b"."):
            continue
        if part == b"..":
            if out and out[-1] != b"..":
                out.pop()
            elif not absolute:
                out.append(part)
            continue
        out.append(part)
    path = (b"/" if absolute else b"") + b"/".join(out)
    return path + b"/" if trailing and not path.endswith(b"/") else path


@transform("NORMALIZE_PATH_WIN")
def _normalize_path_win(value: bytes) -> bytes:
    return _normalize_path(value.replace(b"\\", b"/"))


@transform("UTF8_TO_UNICODE")
def _utf8_to_unicode(value: bytes) -> bytes:
    """Multi-byte UTF-8 characters become %uHHHH (ModSecurity's utf8toUnicode)."""
    if value.isascii():
        return value
    text = value.decode("utf-8", "surrogateescape")
    out = bytearray()
    for char in text:
        cp = ord(char)
        if cp < 0x80:
            out.append(cp)
        elif 0xDC80 <= cp <= 0xDCFF:  # a byte that was not valid UTF-8: kept as it was
            out.append(cp - 0xDC00)
        else:
            out += b"%%u%04x" % (cp & 0xFFFF if cp > 0xFFFF else cp)
    return bytes(out)


def _check_registry() -> None:
    missing = set(enum_of("TextTransformationType")) - set(TRANSFORMS)
    if missing:  # pragma: no cover - a botocore upgrade added a type
        raise RuntimeError(f"text transformations without an implementation: {sorted(missing)}")


_check_registry()
