"""EventBridge content filtering: each filter as AWS documents it, arrays, nesting, $or, and any
pattern either compiling or refused with an InputError naming its place."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.core import InputError
from mamori.hub.automation.pattern import compile_pattern
from tests.arbitrary import json_documents

DOC: dict[str, Any] = {
    "Id": "mamori-1",
    "GeneratorId": "s3.bucket_public_access_block",
    "AwsAccountId": "111111111111",
    "Region": "eu-west-1",
    "Types": ["Software and Configuration Checks/AWS Security Best Practices", "TTPs/Discovery"],
    "Severity": {"Label": "HIGH", "Normalized": 70},
    "Title": "S3 bucket Logs.PNG is public",
    "Count": 0,
    "Empty": "",
    "Nothing": None,
    "Flag": False,
    "Resources": [
        {"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::prod-logs", "Region": "eu-west-1"},
        {"Type": "AwsIamRole", "Id": "arn:aws:iam::111111111111:role/ops"},
    ],
    "ProductFields": {"mamori/Source": "posture", "SourceIp": "203.0.113.9"},
    "Ipv6": "2001:db8::1",
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # exact values: strings, numbers (as numbers), booleans, null, empty string
        ({"GeneratorId": ["s3.bucket_public_access_block"]}, True),
        ({"GeneratorId": ["s3.other", "s3.bucket_public_access_block"]}, True),
        ({"GeneratorId": ["S3.BUCKET_PUBLIC_ACCESS_BLOCK"]}, False),
        ({"Severity": {"Normalized": [70]}}, True),
        ({"Severity": {"Normalized": [70.0]}}, True),
        ({"Severity": {"Normalized": ["70"]}}, False),
        ({"Flag": [False]}, True),
        ({"Flag": [0]}, False),
        ({"Count": [False]}, False),
        ({"Nothing": [None]}, True),
        ({"Empty": [None]}, False),
        ({"Empty": [""]}, True),
        ({"Nothing": [""]}, False),
        ({"Missing": ["x"]}, False),
        # every key must match (AND)
        ({"Region": ["eu-west-1"], "AwsAccountId": ["111111111111"]}, True),
        ({"Region": ["eu-west-1"], "AwsAccountId": ["222222222222"]}, False),
        # arrays in the document: any element
        ({"Types": ["TTPs/Discovery"]}, True),
        ({"Types": [{"prefix": "TTPs/"}]}, True),
        ({"Types": ["TTPs"]}, False),
        # nested objects, and a list of objects matched element by element
        ({"Resources": {"Type": ["AwsS3Bucket"], "Id": [{"prefix": "arn:aws:s3:::prod-"}]}}, True),
        ({"Resources": {"Type": ["AwsIamRole"], "Id": [{"prefix": "arn:aws:s3:::"}]}}, False),
        ({"Resources": {"Region": [{"exists": False}]}}, True),
        ({"Severity": {"Label": ["HIGH", "CRITICAL"]}}, True),
        ({"Severity": {"Missing": {"Deeper": [{"exists": False}]}}}, True),
        ({"Missing": {"Deeper": [{"exists": True}]}}, False),
        # prefix / suffix, and their case-insensitive forms
        ({"Region": [{"prefix": "eu-"}]}, True),
        ({"Region": [{"prefix": "us-"}]}, False),
        ({"Title": [{"suffix": ".PNG is public"}]}, True),
        ({"Title": [{"suffix": {"equals-ignore-case": ".png IS PUBLIC"}}]}, True),
        ({"Title": [{"prefix": {"equals-ignore-case": "s3 BUCKET"}}]}, True),
        ({"Severity": {"Normalized": [{"prefix": "7"}]}}, False),
        ({"GeneratorId": [{"equals-ignore-case": "S3.Bucket_Public_Access_Block"}]}, True),
        # anything-but: values, lists, prefix, suffix, ignore-case, wildcard; needs the field
        ({"Region": [{"anything-but": "us-east-1"}]}, True),
        ({"Region": [{"anything-but": ["us-east-1", "eu-west-1"]}]}, False),
        ({"Severity": {"Normalized": [{"anything-but": [70, 90]}]}}, False),
        ({"Severity": {"Normalized": [{"anything-but": 50}]}}, True),
        ({"Region": [{"anything-but": {"prefix": "eu-"}}]}, False),
        ({"Region": [{"anything-but": {"suffix": "-2"}}]}, True),
        ({"Region": [{"anything-but": {"equals-ignore-case": ["EU-WEST-1"]}}]}, False),
        ({"Region": [{"anything-but": {"wildcard": "eu-*"}}]}, False),
        ({"Missing": [{"anything-but": "x"}]}, False),
        ({"Types": [{"anything-but": "TTPs/Discovery"}]}, True),
        # numeric ranges
        ({"Severity": {"Normalized": [{"numeric": [">=", 70]}]}}, True),
        ({"Severity": {"Normalized": [{"numeric": [">", 70]}]}}, False),
        ({"Severity": {"Normalized": [{"numeric": [">", 40, "<=", 70]}]}}, True),
        ({"Severity": {"Normalized": [{"numeric": ["<", 90, ">", 69.5]}]}}, True),
        ({"Severity": {"Normalized": [{"numeric": ["=", 70]}]}}, True),
        ({"Severity": {"Label": [{"numeric": [">", 0]}]}}, False),
        ({"Flag": [{"numeric": ["=", 0]}]}, False),
        # exists
        ({"Title": [{"exists": True}]}, True),
        ({"Missing": [{"exists": False}]}, True),
        ({"Title": [{"exists": False}]}, False),
        ({"Severity": [{"exists": True}]}, False),  # an object is not a leaf
        # wildcard, with escapes
        ({"Title": [{"wildcard": "S3 bucket * is public"}]}, True),
        ({"Title": [{"wildcard": "*Logs*PNG*"}]}, True),
        ({"Title": [{"wildcard": "*PNG*Logs*"}]}, False),
        ({"Title": [{"wildcard": "S3 bucket"}]}, False),
        ({"Resources": {"Id": [{"wildcard": "arn:aws:iam::*:role/ops"}]}}, True),
        ({"ProductFields": {"mamori/Source": [{"wildcard": "post\\*"}]}}, False),
        # cidr
        ({"ProductFields": {"SourceIp": [{"cidr": "203.0.113.0/24"}]}}, True),
        ({"ProductFields": {"SourceIp": [{"cidr": "10.0.0.0/8"}]}}, False),
        ({"Ipv6": [{"cidr": "2001:db8::/32"}]}, True),
        ({"Ipv6": [{"cidr": "10.0.0.0/8"}]}, False),
        ({"Title": [{"cidr": "10.0.0.0/8"}]}, False),
        # $or beside other keys
        ({"$or": [{"Region": ["us-east-1"]}, {"Severity": {"Label": ["HIGH"]}}]}, True),
        ({"$or": [{"Region": ["us-east-1"]}, {"Count": [1]}]}, False),
        (
            {
                "Region": ["eu-west-1"],
                "$or": [{"Flag": [True]}, {"Count": [{"numeric": ["<", 1]}]}],
            },
            True,
        ),
        # alternatives in one list mix filters and values (OR)
        ({"Region": ["us-east-1", {"prefix": "eu-"}]}, True),
        ({"Missing": ["x", {"exists": False}]}, True),
    ],
)
def test_filters_match_as_eventbridge_documents_them(
    pattern: dict[str, Any], expected: bool
) -> None:
    assert compile_pattern(pattern)(DOC) is expected


def test_security_hub_event_patterns_match_the_envelope() -> None:
    from mamori.hub.automation.event import finding_event

    asff = {"Id": "x", "AwsAccountId": "111111111111", "Region": "eu-west-1",
            "UpdatedAt": "2026-01-01T00:00:00Z", "Severity": {"Label": "CRITICAL"}}  # fmt: skip
    event = finding_event(asff)
    hub_style = {
        "source": ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        "detail": {"findings": {"Severity": {"Label": ["CRITICAL"]}}},
    }
    assert compile_pattern(hub_style)(event)
    assert compile_pattern({"Severity": {"Label": ["CRITICAL"]}})(event)
    assert not compile_pattern({"detail": {"findings": {"Region": ["us-east-1"]}}})(event)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({}, "non-empty mapping"),
        ([], "non-empty mapping"),
        ({"Region": "eu-west-1"}, r"Region: expected a list of values or a nested pattern"),
        ({"Region": []}, r"Region: an empty list can never match"),
        ({"Severity": {}}, r"Severity: an empty nested pattern"),
        ({"Region": [{"prefx": "eu"}]}, r"Region\[0\]: unknown filter 'prefx'"),
        ({"Region": [{"prefix": "eu", "suffix": "1"}]}, "exactly one key"),
        ({"Region": [{"prefix": 5}]}, r"Region\[0\]\.prefix: expected a string"),
        ({"Region": [{"prefix": {"wildcard": "x"}}]}, "only equals-ignore-case"),
        ({"Region": [{"exists": "yes"}]}, r"exists: expected true or false"),
        ({"N": [{"numeric": [">", "5"]}]}, "finite number"),
        ({"N": [{"numeric": [">", 5, ">", 7]}]}, "one lower"),
        ({"N": [{"numeric": [">", 9, "<", 7]}]}, "below the upper"),
        ({"N": [{"numeric": ["~", 5]}]}, "operators"),
        ({"N": [{"numeric": [">", float("nan")]}]}, "finite number"),
        ({"N": [{"numeric": [">", True]}]}, "finite number"),
        ({"N": [{"anything-but": []}]}, "empty list"),
        ({"N": [{"anything-but": ["a", 1]}]}, "only strings or numbers"),
        ({"N": [{"anything-but": {"numeric": [">", 1]}}]}, "anything-but takes"),
        ({"N": [{"wildcard": "a**b"}]}, "consecutive"),
        ({"N": [{"wildcard": "a\\b"}]}, "backslash"),
        ({"N": [{"cidr": "10.0.0.300/8"}]}, "not a network"),
        ({"N": [[1]]}, r"N\[0\]: expected a string, number"),
        ({"$or": [{"A": ["x"]}]}, "at least two"),
        ({"$or": [{"A": ["x"]}, "B"]}, r"\$or\[1\]: each \$or branch"),
        ({1: ["x"]}, "field name 1"),
        ({"Severity": {"Label": [{"suffix": None}]}}, r"Severity\.Label\[0\]\.suffix"),
    ],
)
def test_invalid_patterns_are_refused_by_place(pattern: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        compile_pattern(pattern)


def test_yaml_dates_are_refused_with_a_hint() -> None:
    from datetime import date

    with pytest.raises(InputError, match="quote it"):
        compile_pattern({"CreatedAt": [date(2026, 1, 1)]})


def test_wildcard_is_linear_on_long_values() -> None:
    # A regular expression with these stars would backtrack for a very long time.
    match = compile_pattern({"T": [{"wildcard": "*a*a*a*a*a*a*a*a*a*a*b"}]})
    assert not match({"T": "a" * 200_000})
    assert match({"T": "a" * 20 + "b"})


_KEYS = ["Region", "Severity", "Label", "$or", "prefix", "numeric", "exists", "anything-but",
         "wildcard", "cidr", "suffix", "equals-ignore-case"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(json_documents(_KEYS, leaves=12), json_documents(_KEYS, leaves=12))
def test_any_pattern_compiles_or_is_refused_and_never_crashes_a_match(
    pattern: Any, doc: Any
) -> None:
    try:
        match = compile_pattern(pattern)
    except InputError:
        return
    target = doc if isinstance(doc, dict) else {"Region": doc}
    assert match(target) in (True, False)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30), st.text(max_size=60))
def test_wildcard_agrees_with_fnmatch_style_semantics(glob: str, value: str) -> None:
    import re

    try:
        match = compile_pattern({"V": [{"wildcard": glob}]})
    except InputError:
        return
    # The same glob as a regular expression (escapes resolved the way the filter reads them).
    regex, i = [], 0
    while i < len(glob):
        ch = glob[i]
        if ch == "\\":
            regex.append(re.escape(glob[i + 1]))
            i += 2
            continue
        regex.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    assert match({"V": value}) is bool(re.fullmatch("".join(regex), value, re.DOTALL))
