"""SQL injection and cross-site scripting detection for SqliMatch and XssMatch statements.

libinjection (through the `libinjection-python` binding, built from source at install time) does
the tokenising detection. SqliMatch at HIGH sensitivity also runs Mamori's own patterns, which
catch what libinjection leaves to a WAF's rules: blind and time-based probes, stacked queries,
comment-split keywords and tautologies libinjection's fingerprints do not cover. XssMatch adds a
few patterns for script that is not markup (script URIs, event handlers injected into an
attribute). The patterns are RE2 (linear time) and each list runs as one set.
"""

from __future__ import annotations

import libinjection
import re2

# Each pattern stands for one technique; (?i) everywhere: SQL keywords are case-insensitive.
_SQLI_HIGH = (
    # time-based blind probes
    r"(?i)\b(?:sleep|pg_sleep|benchmark|dbms_pipe\.receive_message)\s*\(\s*\d",
    r"(?i)\bwaitfor\s+(?:delay|time)\s+'",
    # stacked queries
    r"(?i);\s*(?:drop|delete|insert|update|alter|create|truncate|exec|execute|shutdown|declare)\b",
    # UNION-based extraction, comments or junk between the keywords
    r"(?i)\bunion\b[\s\S]{0,40}?\bselect\b",
    # tautologies: quote, OR/AND/||, then a comparison
    r"(?i)['\"`)]\s*(?:or|and|\|\||&&)\s*['\"`(]?\s*[\w'\"]+\s*(?:=|<|>|\blike\b|\bis\b)",
    # quote then a comment or statement end: closing a string and cutting the query short.
    # A MySQL '#' comment ends the input or is followed by a non-word character: "'#cart'"
    # (a CSS selector) and "\"## Setup" (Markdown) are text, not comments.
    r"(?i)['\"`]\s*(?:--|#(?:$|[^\w#])|/\*|;)",
    # schema discovery and file access
    r"(?i)\b(?:information_schema|sysobjects|syscolumns|pg_catalog|sqlite_master)\b",
    r"(?i)\b(?:load_file|into\s+(?:out|dump)file|xp_cmdshell|sp_executesql|utl_http)\b",
    # error-based extraction functions
    r"(?i)\b(?:extractvalue|updatexml|exp\s*\(\s*~|name_const|geometrycollection)\s*\(",
    # keyword with an inline comment right after it (sel/**/ect after REPLACE_COMMENTS)
    r"(?i)\b(?:select|union|insert|update|delete|drop)/\*",
    # char()/concat() building strings, often used to dodge quotes
    r"(?i)\b(?:char|chr|concat|concat_ws|group_concat)\s*\(\s*(?:\d|0x|select)",
    # hex literals compared or selected
    r"(?i)(?:=|\bselect\b|\bwhere\b)\s*0x[0-9a-f]{6,}",
)

# What libinjection's HTML5 tokeniser leaves alone because it is not markup: script URIs that
# call something, and event-handler attributes outside a tag (injected into an attribute).
_XSS_EXTRA = (
    r"(?i)\b(?:java|vb|live)script\s*:\s*[\w$.\[\]'\"]+\s*[(`=]",
    r"(?i)\bon(?:error|load|mouse\w+|focus|blur|click|toggle|animation\w+|pointer\w+)\s*=",
    r"(?i)\bdata\s*:\s*text/html\b",
)


def _set(patterns: tuple[str, ...]) -> re2.Set:
    found = re2.Set.SearchSet(re2.Options())
    for pattern in patterns:
        found.Add(pattern)
    found.Compile()
    return found


_HIGH = _set(_SQLI_HIGH)
_XSS = _set(_XSS_EXTRA)


def _text(value: bytes) -> str:
    # The binding takes str and encodes it as UTF-8: invalid bytes become U+FFFD, which
    # libinjection treats as a word character like any byte >= 0x80.
    return value.decode("utf-8", "replace")


def libinjection_sqli(value: bytes) -> bool:
    """libinjection's verdict alone (what LOW sensitivity asks, and HIGH asks first)."""
    return bool(value) and bool(libinjection.is_sql_injection(_text(value))["is_sqli"])


def high_patterns(value: bytes) -> bool:
    """Mamori's own patterns that HIGH sensitivity adds."""
    return bool(_HIGH.Match(value))


def is_sqli(value: bytes, high: bool = False) -> bool:
    return libinjection_sqli(value) or (high and high_patterns(value))


def is_xss(value: bytes) -> bool:
    if not value:
        return False
    return bool(libinjection.is_xss(_text(value))["is_xss"]) or bool(_XSS.Match(value))
