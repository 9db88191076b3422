"""CloudTrail's fast column building (one pyarrow conversion, then vectorised) gives exactly the
columns of the reference (one Python comprehension a column), or steps aside."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.detect.readers import cloudtrail
from tests.detect.logfiles import assumed_role_call, s3_data_event

# Values that hit the branches: empty and odd texts, flags as text and as booleans, ARNs with
# and without a session part, objects, lists (empty ones read as empty objects), numbers.
_TEXT = st.sampled_from(
    [
        "",
        "AssumedRole",
        "IAMUser",
        "Data",
        "Management",
        "true",
        "TRUE",
        "False",
        "yes",
        "arn:aws:sts::111122223333:assumed-role/Admin/alice",
        "arn:aws:sts::111122223333:assumed-role/Admin/",
        "arn:aws:iam::111122223333:user/a\nb",
        "no-slash",
        "é/ü",
    ]
) | st.text(max_size=6)
_SCALAR = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | _TEXT
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=4,
)


def _some(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with some of the fields."""
    return st.fixed_dictionaries({}, optional=fields)


def _text_fields(*keys: str) -> dict[str, st.SearchStrategy[Any]]:
    return {key: st.none() | _TEXT for key in keys}


# Records as CloudTrail writes them (every field of its usual type, objects sometimes null),
# which the fast way must take and get right...
_EMPTY = st.none()
_ISSUER = _some(_text_fields("arn", "userName")) | _EMPTY
_ATTRIBUTES = _some(_text_fields("mfaAuthenticated")) | _EMPTY
_CONTEXT = _some({"sessionIssuer": _ISSUER, "attributes": _ATTRIBUTES}) | _EMPTY
_WHO = (
    _some(
        {
            **_text_fields("type", "arn", "accountId", "accessKeyId", "invokedBy", "userName"),
            "sessionContext": _CONTEXT,
        }
    )
    | _EMPTY
)
_USUAL = _some(
    {
        **_text_fields(*cloudtrail._TEXT_FIELDS.values(), "eventTime", "eventCategory"),
        **dict.fromkeys(cloudtrail._JSON_FIELDS.values(), _VALUE),
        "readOnly": st.none() | st.booleans(),
        "managementEvent": st.none() | st.booleans(),
        "resources": _VALUE,
        "userIdentity": _WHO,
    }
)
# ... and records with one field of an odd value anywhere, which it must get right or refuse.
_PATHS = st.sampled_from(
    [
        ("eventName",),
        ("readOnly",),
        ("managementEvent",),
        ("eventCategory",),
        ("userIdentity",),
        ("userIdentity", "type"),
        ("userIdentity", "arn"),
        ("userIdentity", "sessionContext"),
        ("userIdentity", "sessionContext", "attributes"),
        ("userIdentity", "sessionContext", "attributes", "mfaAuthenticated"),
        ("userIdentity", "sessionContext", "sessionIssuer", "userName"),
    ]
)


def _with(record: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    head, *rest = path
    inner = record.get(head)
    if rest:
        value = _with(inner if isinstance(inner, dict) else {}, tuple(rest), value)
    return {**record, head: value}


_RECORD = _USUAL | st.builds(_with, _USUAL, _PATHS, _VALUE | st.just([]) | _TEXT)


def _as_lists(columns: dict[str, Any]) -> dict[str, list[Any]]:
    return {name: column.to_pylist() for name, column in columns.items()}


@settings(max_examples=400, deadline=None)
@given(st.lists(_RECORD, min_size=1, max_size=6))
def test_fast_columns_equal_the_reference_or_step_aside(records: list[dict[str, Any]]) -> None:
    reference = _as_lists(cloudtrail._columns(records))
    fast = cloudtrail._fast_columns(records)
    if fast is not None:
        assert _as_lists(fast) == reference


@settings(max_examples=200, deadline=None)
@given(st.lists(_USUAL, min_size=1, max_size=6))
def test_records_of_the_usual_types_take_the_fast_way(records: list[dict[str, Any]]) -> None:
    fast = cloudtrail._fast_columns(records)
    assert fast is not None
    assert _as_lists(fast) == _as_lists(cloudtrail._columns(records))


def test_usual_records_take_the_fast_way() -> None:
    records = [assumed_role_call(1), s3_data_event(), {"eventName": "x"}]
    fast = cloudtrail._fast_columns(records)
    assert fast is not None
    assert _as_lists(fast) == _as_lists(cloudtrail._columns(records))
    assert fast["session_name"].to_pylist()[0] is not None  # the branches are really taken
    empty = [{"userIdentity": []}]  # an empty list, read as an empty object by both
    assert _as_lists(cloudtrail._fast_columns(empty) or {}) == _as_lists(cloudtrail._columns(empty))


def test_an_odd_value_sends_the_records_the_reference_way() -> None:
    assert cloudtrail._fast_columns([{"eventName": 7}]) is None
    assert cloudtrail._fast_columns([{"userIdentity": "root"}]) is None
    assert cloudtrail._fast_columns([{"readOnly": "true"}]) is None
