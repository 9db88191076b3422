"""Property tests: malformed policy documents and request lines are refused with an input error
naming them, never another exception."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.identity.errors import PolicyError
from mamori.identity.policy import compile_policy
from mamori.identity.requests import decide_lines

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=10), inner, max_size=4),
    ),
    max_leaves=20,
)
_ELEMENTS = [
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
    "Sid",
]
_statement = st.dictionaries(st.sampled_from(_ELEMENTS), _json, max_size=6)
_document = st.fixed_dictionaries(
    {"Statement": st.one_of(_statement, st.lists(_statement, max_size=3), _json)},
    optional={"Version": st.one_of(st.sampled_from(["2012-10-17", "2008-10-17"]), _json)},
)


@settings(max_examples=400, deadline=None)
@given(doc=st.one_of(_document, _json), kind=st.sampled_from(["identity", "resource", "scp"]))
def test_compile_returns_or_raises_a_policy_error(doc: Any, kind: str) -> None:
    try:
        compiled = compile_policy(doc, name="P", kind=kind)
    except PolicyError as exc:
        assert str(exc).startswith("policy P")
    else:
        for action in ("s3:GetObject", "iam:PassRole"):
            compiled.for_action(action)


@settings(max_examples=200, deadline=None)
@given(
    line=st.one_of(
        _json, st.fixed_dictionaries({"id": _scalars, "principal": _json, "request": _json})
    )
)
def test_any_request_line_is_decided_or_named(line: Any) -> None:
    try:
        raw = orjson.dumps(line)
    except TypeError:  # integers beyond 64 bits: not JSON orjson writes
        return
    [outcome] = list(decide_lines([raw], "cases.jsonl"))
    if outcome.decision is None:
        assert outcome.error and outcome.error.startswith("cases.jsonl:1")
    body = outcome.to_json()
    assert set(body) in ({"id", "error"}, {"id", "decision", "decided_by"})
