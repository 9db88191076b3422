"""The Condition element: AWS conformance rows, malformed policies, properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.identity.conditions import compile_condition
from mamori.identity.context import RequestContext
from mamori.identity.errors import PolicyError

WHERE = "policy Test statement 1 Condition"
ARN = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
TOPIC = "arn:aws:sns:us-east-1:111122223333:alerts"


def check(condition: Any, context: dict[str, Any], *, variables: bool = True) -> bool:
    compiled = compile_condition(condition, WHERE, variables=variables)
    assert compiled is not None
    return compiled.matches(RequestContext.from_mapping(context))


def row(id_: str, condition: Any, context: dict[str, Any], expected: bool, **kw: Any) -> Any:
    return pytest.param(condition, context, expected, kw.get("variables", True), id=id_)


SE = "StringEquals"
TAG = "aws:PrincipalTag/job-category"
IP = "aws:SourceIp"
NOW = "aws:CurrentTime"
KEYS = "aws:TagKeys"

CASES = [
    # IAM JSON policy elements: Condition operators — StringEquals is exact, case-sensitive.
    row("se-match", {SE: {TAG: "iamuser-admin"}}, {TAG: "iamuser-admin"}, True),
    row("se-mismatch", {SE: {TAG: "iamuser-admin"}}, {TAG: "dev"}, False),
    row("se-value-case", {SE: {TAG: "iamuser-admin"}}, {TAG: "IAMuser-admin"}, False),
    # IAM JSON policy elements: Condition operators — a key not in the request: false ...
    row("se-absent", {SE: {TAG: "iamuser-admin"}}, {}, False),
    # IAM JSON policy elements: Condition operators — ... but true for a negated operator.
    row("sne-absent", {"StringNotEquals": {TAG: "x"}}, {}, True),
    row("sne-other", {"StringNotEquals": {TAG: "x"}}, {TAG: "y"}, True),
    row("sne-same", {"StringNotEquals": {TAG: "x"}}, {TAG: "x"}, False),
    # Conditions with multiple context keys or values — several values of a key: OR.
    row("values-or", {SE: {TAG: ["a", "b"]}}, {TAG: "b"}, True),
    # Conditions with multiple context keys or values — a negated operator's values: NOR.
    row("negated-nor-hit", {"StringNotEquals": {TAG: ["a", "b"]}}, {TAG: "a"}, False),
    row("negated-nor-miss", {"StringNotEquals": {TAG: ["a", "b"]}}, {TAG: "c"}, True),
    # Conditions with multiple context keys or values — several keys in one operator: AND.
    row(
        "keys-and", {SE: {TAG: "a", "aws:username": "bob"}}, {TAG: "a", "aws:username": "al"}, False
    ),
    row(
        "keys-and-all",
        {SE: {TAG: "a", "aws:username": "bob"}},
        {TAG: "a", "aws:username": "bob"},
        True,
    ),
    # Conditions with multiple context keys or values — several operators: AND.
    row(
        "operators-and",
        {SE: {TAG: "a"}, "Bool": {"aws:SecureTransport": "true"}},
        {TAG: "a", "aws:SecureTransport": "false"},
        False,
    ),
    # IAM policy elements: Variables and tags — "Key names are case-insensitive".
    row("key-name-case", {SE: {"AWS:PrincipalTag/Job-Category": "a"}}, {TAG: "a"}, True),
    # IAM JSON policy elements: Condition operators — StringEqualsIgnoreCase ignores case.
    row("seic-match", {"StringEqualsIgnoreCase": {TAG: "ADMIN"}}, {TAG: "admin"}, True),
    row("sneic-same", {"StringNotEqualsIgnoreCase": {TAG: "ADMIN"}}, {TAG: "Admin"}, False),
    # IAM JSON policy elements: Condition operators — StringLike with * and ? wildcards.
    row(
        "like-prefix",
        {"StringLike": {"ec2:InstanceType": ["t1.*", "t2.*"]}},
        {"ec2:InstanceType": "t2.micro"},
        True,
    ),
    row("like-qmark", {"StringLike": {"s3:prefix": "home/?"}}, {"s3:prefix": "home/ab"}, False),
    row("like-empty", {"StringLike": {"s3:prefix": ["", "home/"]}}, {"s3:prefix": ""}, True),
    row("like-absent", {"StringLike": {"s3:prefix": "*"}}, {}, False),
    row("notlike-absent", {"StringNotLike": {"s3:prefix": "home/*"}}, {}, True),
    row("notlike-hit", {"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/x"}, False),
    # IAM JSON policy elements: Condition operators — the ARN example under StringLike: matches.
    row(
        "like-doc-arn",
        {"StringLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}},
        {"aws:SourceArn": ARN},
        True,
    ),
    # IAM JSON policy elements: Condition operators — ... and ArnLike checks each component.
    row(
        "arnlike-doc-arn",
        {"ArnLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}},
        {"aws:SourceArn": ARN},
        False,
    ),
    row("arnequals-topic", {"ArnEquals": {"aws:SourceArn": TOPIC}}, {"aws:SourceArn": TOPIC}, True),
    # IAM JSON policy elements: Condition operators — ArnEquals and ArnLike behave identically.
    row(
        "arnequals-wildcard",
        {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:*:*"}},
        {"aws:SourceArn": TOPIC},
        True,
    ),
    row("arnnotlike-absent", {"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}}, {}, True),
    row(
        "arnnotequals-other",
        {"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:*:*:x"}},
        {"aws:SourceArn": TOPIC},
        True,
    ),
    row(
        "arnlike-not-an-arn",
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}},
        {"aws:SourceArn": "alerts"},
        False,
    ),
    # IAM JSON policy elements: Condition operators — NumericLessThanEquals with s3:max-keys.
    row(
        "num-le-equal",
        {"NumericLessThanEquals": {"s3:max-keys": "10"}},
        {"s3:max-keys": "10"},
        True,
    ),
    row(
        "num-le-over",
        {"NumericLessThanEquals": {"s3:max-keys": "10"}},
        {"s3:max-keys": "11"},
        False,
    ),
    row("num-json-number", {"NumericEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "10.0"}, True),
    row("num-gt-decimal", {"NumericGreaterThan": {"k": "1.5"}}, {"k": "1.50001"}, True),
    row("num-lt", {"NumericLessThan": {"k": "-1"}}, {"k": "-2"}, True),
    row("num-ge", {"NumericGreaterThanEquals": {"k": "3"}}, {"k": "2"}, False),
    row(
        "num-exact-big",
        {"NumericEquals": {"k": "9007199254740993"}},
        {"k": "9007199254740992"},
        False,
    ),
    row("num-ne-absent", {"NumericNotEquals": {"k": "3"}}, {}, True),
    row("num-ne-other", {"NumericNotEquals": {"k": "3"}}, {"k": "4"}, True),
    row("num-bad-request", {"NumericLessThan": {"k": "10"}}, {"k": "abc"}, False),
    row("num-ne-bad-request", {"NumericNotEquals": {"k": "10"}}, {"k": "abc"}, False),
    # IAM JSON policy elements: Condition operators — dates: W3C ISO 8601 or epoch seconds.
    row(
        "date-gt-iso",
        {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
        {"aws:TokenIssueTime": "2020-06-01T00:00:00Z"},
        True,
    ),
    row(
        "date-lt-epoch-policy",
        {"DateLessThan": {NOW: 1577836800}},
        {NOW: "2019-12-31T23:59:59Z"},
        True,
    ),
    row(
        "date-equals-date-only",
        {"DateEquals": {NOW: "2020-01-01"}},
        {NOW: "2020-01-01T00:00:00Z"},
        True,
    ),
    row(
        "date-epoch-context",
        {"DateGreaterThanEquals": {"aws:EpochTime": "2020-01-01T00:00:00Z"}},
        {"aws:EpochTime": "1577836800"},
        True,
    ),
    row(
        "date-offset",
        {"DateEquals": {NOW: "2020-01-01T09:00:00+09:00"}},
        {NOW: "2020-01-01T00:00:00Z"},
        True,
    ),
    row(
        "date-le-year-month",
        {"DateLessThanEquals": {NOW: "2020-02"}},
        {NOW: "2020-02-01T00:00:00Z"},
        True,
    ),
    row("date-ne-absent", {"DateNotEquals": {NOW: "2020-01-01"}}, {}, True),
    row("date-bad-request", {"DateLessThan": {NOW: "2030-01-01"}}, {NOW: "yesterday"}, False),
    # IAM JSON policy elements: Condition operators — Bool, "true" or "false".
    row(
        "bool-false",
        {"Bool": {"aws:SecureTransport": "false"}},
        {"aws:SecureTransport": "false"},
        True,
    ),
    row(
        "bool-json", {"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": False}, True
    ),
    row(
        "bool-case",
        {"Bool": {"aws:MultiFactorAuthPresent": "TRUE"}},
        {"aws:MultiFactorAuthPresent": "true"},
        True,
    ),
    row("bool-absent", {"Bool": {"aws:MultiFactorAuthPresent": "false"}}, {}, False),
    row(
        "bool-bad-request",
        {"Bool": {"aws:SecureTransport": "true"}},
        {"aws:SecureTransport": "yes"},
        False,
    ),
    # IAM JSON policy elements: Condition operators — BinaryEquals compares base64 bytes.
    row(
        "binary-match",
        {"BinaryEquals": {"k": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
        {"k": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="},
        True,
    ),
    row(
        "binary-mismatch",
        {"BinaryEquals": {"k": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
        {"k": "QQ=="},
        False,
    ),
    # IAM JSON policy elements: Condition operators — IpAddress with CIDR ranges.
    row("ip-in", {"IpAddress": {IP: "203.0.113.0/24"}}, {IP: "203.0.113.77"}, True),
    row("ip-out", {"IpAddress": {IP: "203.0.113.0/24"}}, {IP: "203.0.114.1"}, False),
    row("ip-bare-is-32", {"IpAddress": {IP: "203.0.113.5"}}, {IP: "203.0.113.6"}, False),
    row(
        "ip-v6", {"IpAddress": {IP: "2001:DB8:1234:5678::/64"}}, {IP: "2001:db8:1234:5678::1"}, True
    ),
    row(
        "ip-mixed-list",
        {"IpAddress": {IP: ["203.0.113.0/24", "2001:DB8::/32"]}},
        {IP: "2001:db8::9"},
        True,
    ),
    row("ip-version-mismatch", {"IpAddress": {IP: "::/0"}}, {IP: "10.0.0.1"}, False),
    row("notip-outside", {"NotIpAddress": {IP: "203.0.113.0/24"}}, {IP: "198.51.100.1"}, True),
    row("notip-absent", {"NotIpAddress": {IP: "203.0.113.0/24"}}, {}, True),
    row("notip-bad-request", {"NotIpAddress": {IP: "203.0.113.0/24"}}, {IP: "vpce"}, False),
    # IAM JSON policy elements: Condition operators — Null: true = absent, false = present.
    row("null-true-absent", {"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
    row(
        "null-true-present",
        {"Null": {"aws:TokenIssueTime": "true"}},
        {"aws:TokenIssueTime": "2020-01-01"},
        False,
    ),
    row(
        "null-false-present",
        {"Null": {"aws:TokenIssueTime": False}},
        {"aws:TokenIssueTime": "x"},
        True,
    ),
    row("null-false-absent", {"Null": {"aws:TokenIssueTime": "false"}}, {}, False),
    # Multivalued context key examples — Null false guards against keys with empty values.
    row("null-empty-set", {"Null": {KEYS: "false"}}, {KEYS: []}, False),
    # IAM JSON policy elements: Condition operators — ...IfExists is true when the key is absent.
    row("ifexists-absent", {"StringLikeIfExists": {"ec2:InstanceType": "t2.*"}}, {}, True),
    row(
        "ifexists-present",
        {"StringLikeIfExists": {"ec2:InstanceType": "t2.*"}},
        {"ec2:InstanceType": "m5.large"},
        False,
    ),
    row("ifexists-negated", {"StringNotEqualsIfExists": {TAG: "x"}}, {}, True),
    row("ifexists-numeric", {"NumericLessThanIfExists": {"s3:max-keys": "10"}}, {}, True),
    # Single-valued vs. multivalued context keys — ForAllValues: every request value matches.
    row(
        "forall-all",
        {"ForAllValues:StringLike": {KEYS: ["Created*", "Env"]}},
        {KEYS: ["CreatedBy", "Env"]},
        True,
    ),
    row(
        "forall-one-out",
        {"ForAllValues:StringLike": {KEYS: ["Created*"]}},
        {KEYS: ["CreatedBy", "Env"]},
        False,
    ),
    # Multivalued context key examples — "ForAllValues ... returns true if there are no context
    # keys in the request"; Creating a condition that tests multiple key values (set operations)
    # — an empty data set ("for example, an empty string"): ForAllValues true, ForAnyValue false.
    row("forall-absent", {"ForAllValues:StringEquals": {KEYS: "Env"}}, {}, True),
    row("forall-empty", {"ForAllValues:StringEquals": {KEYS: "Env"}}, {KEYS: []}, True),
    row("forall-empty-string", {"ForAllValues:StringEquals": {KEYS: "Env"}}, {KEYS: ""}, True),
    # Single-valued vs. multivalued context keys — ForAnyValue: some request value matches;
    # false when the key is absent or empty.
    row(
        "forany-one",
        {"ForAnyValue:StringEquals": {KEYS: ["Env", "Owner"]}},
        {KEYS: ["Owner", "X"]},
        True,
    ),
    row(
        "forany-none", {"ForAnyValue:StringEquals": {KEYS: ["Env"]}}, {KEYS: ["Owner", "X"]}, False
    ),
    row("forany-absent", {"ForAnyValue:StringEquals": {KEYS: "Env"}}, {}, False),
    row("forany-empty", {"ForAnyValue:StringEquals": {KEYS: "Env"}}, {KEYS: []}, False),
    row("forany-absent-negated", {"ForAnyValue:StringNotEquals": {KEYS: "Env"}}, {}, False),
    row("forall-absent-negated", {"ForAllValues:StringNotEquals": {KEYS: "Env"}}, {}, True),
    # Single-valued vs. multivalued context keys — with a negated operator each request value
    # must match none of the policy values.
    row(
        "forany-negated-true",
        {"ForAnyValue:StringNotEquals": {KEYS: ["Env", "Owner"]}},
        {KEYS: ["Env", "X"]},
        True,
    ),
    row(
        "forany-negated-false",
        {"ForAnyValue:StringNotEquals": {KEYS: ["Env", "Owner"]}},
        {KEYS: ["Env", "Owner"]},
        False,
    ),
    row(
        "forall-negated-true",
        {"ForAllValues:StringNotEquals": {KEYS: ["Env"]}},
        {KEYS: ["A", "B"]},
        True,
    ),
    row(
        "forall-negated-false",
        {"ForAllValues:StringNotEquals": {KEYS: ["Env"]}},
        {KEYS: ["A", "Env"]},
        False,
    ),
    row("forany-ifexists-absent", {"ForAnyValue:StringEqualsIfExists": {KEYS: "Env"}}, {}, True),
    row(
        "forany-ip",
        {"ForAnyValue:IpAddress": {"k": "10.0.0.0/8"}},
        {"k": ["192.0.2.1", "10.1.2.3"]},
        True,
    ),
    # Single-valued vs. multivalued context keys — no set operator on a multivalued key (our
    # reading, see conditions.py): positive = any value matches, negated = none matches.
    row("multi-no-set-any", {SE: {KEYS: "Env"}}, {KEYS: ["Owner", "Env"]}, True),
    row(
        "multi-no-set-negated", {"StringNotEquals": {KEYS: "Env"}}, {KEYS: ["Owner", "Env"]}, False
    ),
    # IAM policy elements: Variables and tags — variables in string condition values.
    row(
        "var-value",
        {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
        {"s3:prefix": "home/bob/x", "aws:username": "bob"},
        True,
    ),
    row(
        "var-equals",
        {SE: {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}},
        {"aws:PrincipalTag/team": "red", "aws:ResourceTag/team": "red"},
        True,
    ),
    # IAM policy elements: Variables and tags — an unresolvable variable fails to match ...
    row("var-unresolved", {SE: {TAG: "${aws:username}"}}, {TAG: "bob"}, False),
    row("var-unresolved-other-value", {SE: {TAG: ["${aws:username}", "bob"]}}, {TAG: "bob"}, True),
    # IAM policy elements: Variables and tags — ... and "causes the statement to be invalid":
    # a negated test is false, not vacuously true (our reading of that sentence).
    row(
        "var-unresolved-negated", {"StringNotEquals": {TAG: "${aws:username}"}}, {TAG: "bob"}, False
    ),
    row("var-multivalued", {SE: {TAG: "${aws:TagKeys}"}}, {TAG: "a", KEYS: ["a"]}, False),
    # IAM policy elements: Variables and tags — Specifying default values; ARN operators and
    # the special characters take variables too.
    row(
        "var-default",
        {SE: {"aws:userid": "${aws:userid, 'anonymous'}"}},
        {"aws:userid": "anonymous"},
        True,
    ),
    row(
        "var-arn",
        {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:${aws:PrincipalAccount}:alerts"}},
        {"aws:SourceArn": TOPIC, "aws:PrincipalAccount": "111122223333"},
        True,
    ),
    row("var-special", {SE: {"k": "a${*}b"}}, {"k": "a*b"}, True),
    # IAM policy elements: Variables and tags — before Version 2012-10-17 ${...} is literal.
    row(
        "no-variables",
        {SE: {"k": "${aws:username}"}},
        {"k": "${aws:username}", "aws:username": "bob"},
        True,
        variables=False,
    ),
    row(
        "no-variables-no-subst",
        {SE: {"k": "${aws:username}"}},
        {"k": "bob", "aws:username": "bob"},
        False,
        variables=False,
    ),
    # IAM JSON policy elements: Condition operators — policy numbers and booleans as JSON scalars.
    row("string-json-number", {SE: {"k": 5}}, {"k": "5"}, True),
    row("string-json-bool", {SE: {"k": True}}, {"k": "true"}, True),
]


@pytest.mark.parametrize(("condition", "context", "expected", "variables"), CASES)
def test_conformance(
    condition: Any, context: dict[str, Any], expected: bool, variables: bool
) -> None:
    assert check(condition, context, variables=variables) is expected


def test_empty_condition_is_none() -> None:
    assert compile_condition(None, WHERE, variables=True) is None
    assert compile_condition({}, WHERE, variables=True) is None


def test_keys_are_lower_cased() -> None:
    compiled = compile_condition(
        {SE: {"AWS:PrincipalTag/Team": "a"}, "Null": {"aws:TokenIssueTime": "true"}},
        WHERE,
        variables=True,
    )
    assert compiled is not None
    assert compiled.keys == frozenset({"aws:principaltag/team", "aws:tokenissuetime"})


MALFORMED = [
    pytest.param(["StringEquals"], "expected an object", id="not-an-object"),
    pytest.param({"StringEquals": "x"}, "StringEquals", id="block-not-an-object"),
    pytest.param({"stringequals": {"k": "x"}}, "case-sensitive", id="operator-case"),
    pytest.param({"StringEqual": {"k": "x"}}, "unknown condition operator", id="unknown-operator"),
    pytest.param({"ForSomeValues:StringEquals": {"k": "x"}}, "set operators", id="unknown-set"),
    pytest.param({"NullIfExists": {"k": "true"}}, "Null", id="null-ifexists"),
    pytest.param({"ForAnyValue:Null": {"k": "true"}}, "Null", id="null-set"),
    pytest.param({"Null": {"k": "maybe"}}, "true or false", id="null-value"),
    pytest.param({"NumericEquals": {"s3:max-keys": "abc"}}, "not a number", id="number"),
    pytest.param({"NumericEquals": {"k": True}}, "not a number", id="number-bool"),
    pytest.param({"DateLessThan": {NOW: "next week"}}, "ISO 8601", id="date"),
    pytest.param({"IpAddress": {IP: "203.0.113.0/33"}}, "CIDR", id="cidr"),
    pytest.param({"IpAddress": {IP: "${aws:username}"}}, "CIDR", id="ip-variable"),
    pytest.param({"BinaryEquals": {"k": "not base64!"}}, "base64", id="binary"),
    pytest.param({"Bool": {"k": "yes"}}, "true or false", id="bool"),
    pytest.param({SE: {"k": None}}, "strings, numbers or booleans", id="null-value-json"),
    pytest.param({SE: {"k": [["nested"]]}}, "strings, numbers or booleans", id="nested-list"),
    pytest.param({SE: {"k": {"a": 1}}}, "strings, numbers or booleans", id="object-value"),
    pytest.param({SE: {"": "x"}}, "non-empty string", id="empty-key"),
    pytest.param({SE: {"k": "${a, b}"}}, "policy variable", id="bad-variable"),
]


@pytest.mark.parametrize(("condition", "message"), MALFORMED)
def test_malformed_policy_names_where_and_what(condition: Any, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        compile_condition(condition, WHERE, variables=True)
    text = str(caught.value)
    assert text.startswith(WHERE)
    assert message in text


def test_error_names_operator_and_key() -> None:
    with pytest.raises(PolicyError) as caught:
        compile_condition({"NumericLessThan": {"s3:max-keys": "ten"}}, WHERE, variables=True)
    assert caught.value.where == f"{WHERE}, operator 'NumericLessThan', key 's3:max-keys'"
    assert "'ten' is not a number" in caught.value.problem


STRINGS: list[dict[str, Any]] = [
    {},
    {"k": "a"},
    {"k": "b"},
    {"k": ["a", "b"]},
    {"k": ["b"]},
    {"k": []},
]
COMPLEMENTS = [
    ("StringEquals", "StringNotEquals", "a", STRINGS),
    ("StringLike", "StringNotLike", "a*", STRINGS),
    ("NumericEquals", "NumericNotEquals", "1", [{}, {"k": "1.0"}, {"k": "2"}, {"k": ["1", "2"]}]),
    ("IpAddress", "NotIpAddress", "10.0.0.0/8", [{}, {"k": "10.1.1.1"}, {"k": "11.0.0.1"}]),
    ("ArnLike", "ArnNotLike", "arn:aws:s3:::a*", [{}, {"k": "arn:aws:s3:::ab"}, {"k": "x"}]),
]


@pytest.mark.parametrize(("positive", "negated", "value", "contexts"), COMPLEMENTS)
def test_negated_is_complement_of_positive(
    positive: str, negated: str, value: str, contexts: list[dict[str, Any]]
) -> None:
    # Conditions with multiple context keys or values: a negated operator is the NOR of its
    # values, so, on readable request values, exactly the complement of the positive one.
    for context in contexts:
        plain = check({positive: {"k": value}}, context)
        assert check({negated: {"k": value}}, context) is not plain, context


# --- properties ----------------------------------------------------------------------------

OPERATORS = [
    "StringEquals",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "NumericLessThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "ArnLike",
    "Null",
    "ForAllValues:StringLike",
    "ForAnyValue:NumericEqualsIfExists",
    "StringEqualsIfExists",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["${aws:username}", "${a, 'b'}", "${", "10.0.0.0/8", "2020-01-01", "QQ=="]),
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
SHAPED = st.dictionaries(
    st.sampled_from(OPERATORS) | st.text(max_size=25),
    st.dictionaries(st.text(max_size=12), JSONISH, max_size=3) | JSONISH,
    max_size=3,
)
CONTEXTS = st.dictionaries(
    st.sampled_from(["k", "K", "aws:username", "a"]) | st.text(min_size=1, max_size=8),
    st.text(max_size=12) | st.lists(st.text(max_size=8), max_size=3),
    max_size=4,
)


@settings(max_examples=300)
@given(st.one_of(JSONISH, SHAPED), CONTEXTS, st.booleans())
def test_garbage_compiles_or_raises_policy_error(
    raw: Any, context: dict[str, Any], variables: bool
) -> None:
    try:
        compiled = compile_condition(raw, WHERE, variables=variables)
    except PolicyError as error:
        assert str(error).startswith(WHERE)
        return
    if compiled is not None:
        assert isinstance(compiled.matches(RequestContext.from_mapping(context)), bool)
