"""Wildcard patterns and policy variables: AWS conformance rows and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.identity.context import EMPTY, RequestContext
from mamori.identity.errors import PolicyError
from mamori.identity.patterns import compile_pattern, compile_template, has_variables

ARN = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
USER = {"aws:username": "bob"}


def ctx(raw: dict[str, Any] | None = None) -> RequestContext:
    return RequestContext.from_mapping(raw or {})


def row(
    id_: str,
    pattern: str,
    value: str,
    expected: bool,
    *,
    mode: str = "string",
    variables: bool = True,
    ignore_case: bool = False,
    context: dict[str, Any] | None = None,
) -> Any:
    return pytest.param(pattern, mode, variables, ignore_case, context, value, expected, id=id_)


CASES = [
    # IAM JSON policy elements: Resource — `*` matches any combination of characters in a segment.
    row(
        "res-bucket-objects",
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket/a/b",
        True,
        mode="resource",
    ),
    # IAM JSON policy elements: Resource — the path example: every user under /accounting.
    row(
        "res-user-path",
        "arn:aws:iam::111122223333:user/accounting/*",
        "arn:aws:iam::111122223333:user/accounting/bob",
        True,
        mode="resource",
    ),
    # IAM JSON policy elements: Resource — a `*` inside a segment stays inside it.
    row("res-mid-star-no-colon", "arn:aws:s3:::a*b", "arn:aws:s3:::a:x:b", False, mode="resource"),
    row("res-mid-star-in-segment", "arn:aws:s3:::a*b", "arn:aws:s3:::a-x-b", True, mode="resource"),
    # IAM JSON policy elements: Resource — a `*` ending a segment may expand beyond the colon.
    row(
        "res-star-ends-segment",
        "arn:aws:lambda:us-east-1:111122223333:function:my*",
        "arn:aws:lambda:us-east-1:111122223333:function:myfn:prod",
        True,
        mode="resource",
    ),
    row(
        "res-star-before-colon",
        "arn:aws:sqs:*:queue1",
        "arn:aws:sqs:us-east-2:111122223333:queue1",
        True,
        mode="resource",
    ),
    row(
        "res-region-wildcard",
        "arn:aws:ec2:*:111122223333:instance/*",
        "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc",
        True,
        mode="resource",
    ),
    # IAM JSON policy elements: Resource — `?` is any single character.
    row("res-qmark-one", "arn:aws:s3:::bucket?", "arn:aws:s3:::bucket1", True, mode="resource"),
    row("res-qmark-two", "arn:aws:s3:::bucket?", "arn:aws:s3:::bucket12", False, mode="resource"),
    row("res-qmark-no-colon", "arn:aws:s3:::a?b", "arn:aws:s3:::a:b", False, mode="resource"),
    # IAM JSON policy elements: Resource — "*" alone is every resource.
    row("res-star-everything", "*", "not even an arn", True, mode="resource"),
    # IAM JSON policy elements: Resource — "the IAM user name is case sensitive".
    row(
        "res-case-sensitive",
        "arn:aws:iam::111122223333:user/Bob",
        "arn:aws:iam::111122223333:user/bob",
        False,
        mode="resource",
    ),
    # IAM JSON policy elements: Action — action names are case-insensitive, with wildcards.
    row("action-ignore-case", "s3:Get*", "S3:GETOBJECT", True, ignore_case=True, variables=False),
    row("action-infix", "iam:*AccessKey*", "iam:CreateAccessKey", True, variables=False),
    # IAM JSON policy elements: Condition operators — StringLike `*` matches an empty run too.
    row("string-empty-run", "home/*", "home/", True),
    row("string-qmark-needs-char", "?", "", False),
    # IAM JSON policy elements: Condition operators — the ARN example: StringLike crosses colons.
    row("string-doc-example", "arn:aws:someservice:*:111122223333:finance/*", ARN, True),
    # IAM JSON policy elements: Condition operators — the same example: ArnLike checks each
    # of the six components separately.
    row("arn-doc-example", "arn:aws:someservice:*:111122223333:finance/*", ARN, False, mode="arn"),
    row(
        "arn-components",
        "arn:aws:sns:*:111122223333:*",
        "arn:aws:sns:us-east-1:111122223333:topic",
        True,
        mode="arn",
    ),
    # IAM JSON policy elements: Condition operators — six components; a non-ARN never matches.
    row("arn-not-an-arn", "*", "not-an-arn", False, mode="arn"),
    row(
        "arn-resource-has-colons",
        "arn:aws:lambda:*:*:function:*",
        "arn:aws:lambda:us-east-1:111122223333:function:f:alias",
        True,
        mode="arn",
    ),
    row("arn-qmark", "arn:aws:s3:::bucket-?", "arn:aws:s3:::bucket-1", True, mode="arn"),
    row("arn-case-sensitive", "arn:aws:s3:::Bucket", "arn:aws:s3:::bucket", False, mode="arn"),
    # IAM policy elements: Variables and tags — ${aws:username} is the caller's user name.
    row(
        "var-username",
        "arn:aws:s3:::bucket/${aws:username}/*",
        "arn:aws:s3:::bucket/bob/notes",
        True,
        mode="resource",
        context=USER,
    ),
    row(
        "var-other-user",
        "arn:aws:s3:::bucket/${aws:username}/*",
        "arn:aws:s3:::bucket/alice/notes",
        False,
        mode="resource",
        context=USER,
    ),
    # IAM policy elements: Variables and tags — key names are case-insensitive.
    row("var-key-case", "home/${AWS:UserName}", "home/bob", True, context=USER),
    # IAM policy elements: Variables and tags — a key not present fails to match.
    row("var-absent", "home/${aws:username}", "home/", False),
    # IAM policy elements: Variables and tags — Specifying default values.
    row("var-default", "${aws:userid, 'anonymous'}", "anonymous", True),
    row("var-default-unused", "${aws:username, 'anonymous'}", "bob", True, context=USER),
    # IAM policy elements: Variables and tags — a quote inside a default is doubled (our reading;
    # AWS shows no example).
    row("var-default-quote", "${aws:userid, 'it''s'}", "it's", True),
    # Single-valued vs. multivalued context keys — a multivalued key is no policy variable
    # (taking the default then is our reading).
    row("var-multivalued", "${aws:TagKeys}", "a", False, context={"aws:TagKeys": ["a"]}),
    row(
        "var-multivalued-default",
        "${aws:TagKeys, 'none'}",
        "none",
        True,
        context={"aws:TagKeys": ["a"]},
    ),
    # IAM policy elements: Variables and tags — Special characters ${*} ${?} ${$} are literal.
    row("special-star-literal", "a${*}b", "a*b", True),
    row("special-star-not-wild", "a${*}b", "axb", False),
    row("special-qmark-dollar", "${?}${$}", "?$", True),
    # IAM policy elements: Variables and tags — before Version 2012-10-17 ${...} is literal text.
    row(
        "no-variables-literal",
        "home/${aws:username}",
        "home/${aws:username}",
        True,
        variables=False,
    ),
    row(
        "no-variables-no-subst",
        "home/${aws:username}",
        "home/bob",
        False,
        variables=False,
        context=USER,
    ),
    # IAM policy elements: Variables and tags — substituted values are text, not wildcards (our
    # reading: the safe one, a tag value cannot widen a policy).
    row(
        "var-value-literal", "home/${aws:username}", "home/x", False, context={"aws:username": "*"}
    ),
    row(
        "var-value-literal-self",
        "home/${aws:username}",
        "home/*",
        True,
        context={"aws:username": "*"},
    ),
    # IAM policy elements: Variables and tags — ArnEquals takes variables; the whole ARN splits.
    row(
        "arn-variable",
        "${aws:SourceArn}",
        "arn:aws:sns:us-east-1:111122223333:t",
        True,
        mode="arn",
        context={"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:t"},
    ),
]


@pytest.mark.parametrize(
    ("pattern", "mode", "variables", "ignore_case", "context", "value", "expected"), CASES
)
def test_conformance(
    pattern: str,
    mode: str,
    variables: bool,
    ignore_case: bool,
    context: dict[str, Any] | None,
    value: str,
    expected: bool,
) -> None:
    compiled = compile_pattern(pattern, mode=mode, variables=variables, ignore_case=ignore_case)
    assert compiled.match(value, ctx(context)) is expected


def test_static_and_everything_flags() -> None:
    assert compile_pattern("*", mode="resource", variables=True).matches_everything
    assert not compile_pattern("*", mode="arn", variables=True).matches_everything
    assert not compile_pattern("${*}", mode="string", variables=True).matches_everything
    assert compile_pattern("a${*}", mode="string", variables=True).is_static
    assert not compile_pattern("a/${aws:username}", mode="string", variables=True).is_static
    assert compile_pattern("a/${aws:username}", mode="string", variables=False).is_static


def test_template_render() -> None:
    template = compile_template("user/${aws:username}/${*}", variables=True)
    assert not template.is_static and template.static is None
    assert template.render(ctx(USER)) == "user/bob/*"
    assert template.render(EMPTY) is None
    static = compile_template("a${?}b${$}", variables=True)
    assert static.is_static and static.static == "a?b$"
    literal = compile_template("${aws:username}", variables=False)
    assert literal.static == "${aws:username}"
    assert compile_template("${ aws:username , 'x' }", variables=True).render(EMPTY) == "x"
    # Substitution is one round only: a default that looks like a variable stays text.
    assert compile_template("${k, '${aws:username}'}", variables=True).render(ctx(USER)) == (
        "${aws:username}"
    )


def test_has_variables() -> None:
    assert has_variables("arn:aws:s3:::b/${aws:username}")
    assert has_variables("a${*}")
    assert not has_variables("arn:aws:s3:::b/*")
    assert not has_variables("${unterminated")


@pytest.mark.parametrize("text", ["${}", "${ }", "${a, b}", "${a, 'b}", "${${x}}"])
def test_malformed_variable_is_a_policy_error(text: str) -> None:
    with pytest.raises(PolicyError, match="policy variable"):
        compile_pattern(text, mode="string", variables=True)
    # The same text is plain characters where variables do not exist.
    assert compile_pattern(text, mode="string", variables=False).match(text, EMPTY)


def test_unterminated_variable_is_literal() -> None:
    assert compile_pattern("a${b", mode="string", variables=True).match("a${b", EMPTY)


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        compile_pattern("*", mode="glob", variables=False)


def test_many_stars_stay_fast_and_correct() -> None:
    hostile = compile_pattern("a*a*a*a*a*a*a*a*a*b", mode="string", variables=False)
    assert not hostile.match("a" * 3000, EMPTY)
    assert hostile.match("a" * 3000 + "b", EMPTY)
    segmented = compile_pattern("arn:aws:s3:::x*y*z*w", mode="resource", variables=False)
    assert segmented.match("arn:aws:s3:::x1y2z3w", EMPTY)
    assert not segmented.match("arn:aws:s3:::x1y:z3w", EMPTY)


# --- properties ----------------------------------------------------------------------------

PLAIN = st.text(st.characters(exclude_characters="*?$", codec="utf-8"), max_size=30)
MODES = st.sampled_from(["string", "resource"])


def reference(pattern: str, value: str, mode: str) -> bool:
    """An independent dynamic-programming matcher, the spec the implementation must meet."""
    n, m = len(pattern), len(value)
    table = [[False] * (m + 1) for _ in range(n + 1)]
    table[n][m] = True
    for i in range(n - 1, -1, -1):
        char = pattern[i]
        crosses = mode == "string" or i + 1 == n or pattern[i + 1] == ":"
        for j in range(m, -1, -1):
            if char == "*":
                table[i][j] = table[i + 1][j] or (
                    j < m and (crosses or value[j] != ":") and table[i][j + 1]
                )
            elif j < m and (
                (char == "?" and (mode == "string" or value[j] != ":")) or char == value[j]
            ):
                table[i][j] = table[i + 1][j + 1]
    return table[0][0]


@given(PLAIN, MODES)
def test_pattern_without_wildcards_matches_exactly_itself(text: str, mode: str) -> None:
    compiled = compile_pattern(text, mode=mode, variables=True)
    assert compiled.match(text, EMPTY)
    assert not compiled.match(text + "x", EMPTY)
    assert not compiled.match("x" + text, EMPTY)


@given(st.text(max_size=50), MODES)
def test_star_matches_everything(value: str, mode: str) -> None:
    assert compile_pattern("*", mode=mode, variables=True).match(value, EMPTY)


@given(st.integers(min_value=0, max_value=12), st.text(max_size=15))
def test_qmarks_match_exactly_their_length(count: int, value: str) -> None:
    compiled = compile_pattern("?" * count, mode="string", variables=False)
    assert compiled.match(value, EMPTY) is (len(value) == count)


@given(st.data())
def test_starring_characters_still_matches_the_original(data: st.DataObject) -> None:
    original = data.draw(st.text(max_size=30))
    starred = data.draw(st.sets(st.integers(0, max(len(original) - 1, 0))))
    pattern = "".join("*" if i in starred else c for i, c in enumerate(original))
    assert compile_pattern(pattern, mode="string", variables=False).match(original, EMPTY)
    # Starring only non-colon characters keeps a resource pattern matching too.
    kept = "".join("*" if i in starred and c != ":" else c for i, c in enumerate(original))
    assert compile_pattern(kept, mode="resource", variables=False).match(original, EMPTY)


META = st.text(st.sampled_from(list(".^$+{}[]|()\\-:/ab")), max_size=20)


@given(META, META, st.sampled_from(["string", "resource", "arn"]))
def test_regex_metacharacters_are_literal(text: str, other: str, mode: str) -> None:
    compiled = compile_pattern(text, mode=mode, variables=False)
    full_arn = text.count(":") >= 5
    assert compiled.match(text, EMPTY) is (mode != "arn" or full_arn)
    if other != text:
        assert not compiled.match(other, EMPTY)


@pytest.mark.parametrize("text", [".", "a+", "(a|b)", "[ab]", "a{2}", "^a$", "\\d"])
def test_regex_syntax_is_not_regex(text: str) -> None:
    # Each of these would match "aa", "b", "x" or "1" as a regex.
    compiled = compile_pattern(text, mode="string", variables=False)
    for value in ("aa", "a", "b", "x", "1"):
        assert compiled.match(value, EMPTY) is (value == text)


WILD = st.text(st.sampled_from(list("ab:*?")), max_size=12)
VALUES = st.text(st.sampled_from(list("ab:")), max_size=14)


@given(WILD, VALUES, MODES)
def test_matching_agrees_with_reference(pattern: str, value: str, mode: str) -> None:
    compiled = compile_pattern(pattern, mode=mode, variables=False)
    assert compiled.match(value, EMPTY) is reference(pattern, value, mode)


@given(WILD, VALUES)
def test_ignore_case_matches_lowered(pattern: str, value: str) -> None:
    plain = compile_pattern(pattern, mode="string", variables=False)
    folded = compile_pattern(pattern.upper(), mode="string", variables=False, ignore_case=True)
    assert folded.match(value.upper(), EMPTY) is plain.match(value, EMPTY)


@given(st.text(max_size=20), st.text(max_size=20))
def test_variable_value_is_always_literal(name: str, value: str) -> None:
    compiled = compile_pattern("p/${aws:username}", mode="string", variables=True)
    assert compiled.match("p/" + value, ctx({"aws:username": name})) is (value == name)
