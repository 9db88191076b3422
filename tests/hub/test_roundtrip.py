"""Whatever text a finding carries comes back from the store unchanged, on both databases.

Findings quote hostile input (resource names, log fields, policy text), so the store must keep
markup, quotes, SQL, LIKE wildcards, control characters and any Unicode exactly as given.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.core import Compliance, Finding, Remediation, Resource, Severity
from mamori.hub import FindingFilter, Store
from tests.hub.builders import ACCOUNT, T0

TRICKY = [
    "<script>alert('x')</script>",
    "'; DROP TABLE findings; --",
    "\"double\" 'single' `back`",
    "back\\slash \\u0000 \\n",
    "100%_done [a-z]",
    "line\nbreak\r\ntab\t",
    "\x01\x02\x1b[31m\x7f\x9f",
    "\u2028\u2029\ufeff\u200b\u202e",
    "日本語のテキスト 守り",
    "emoji 😀🛡️ and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\ufffe\uffff",
]
# Any Unicode scalar value but NUL, which PostgreSQL text and JSON cannot hold.
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60)
TEXT = st.one_of(st.sampled_from(TRICKY), ANY_TEXT)
NONEMPTY = TEXT.filter(bool)
JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    # A unique resource id per example: each one is a first write, stored as given.
    resource_id = f"{draw(TEXT)}-{uuid.uuid4().hex}"
    details: dict[str, Any] = draw(st.dictionaries(TEXT, JSON_VALUE, max_size=3))
    return Finding.build(
        generator_id=draw(NONEMPTY),
        resources=[
            Resource(
                type="AwsS3Bucket",
                id=resource_id,
                tags=draw(st.dictionaries(TEXT, TEXT, max_size=3)),
                details=details,
            )
        ],
        account_id=ACCOUNT,
        region=draw(st.sampled_from(["us-east-1", "global", "ap-northeast-1"])),
        source="posture",
        types=draw(st.lists(NONEMPTY, min_size=1, max_size=2)),
        severity=Severity.of(draw(st.sampled_from(["LOW", "CRITICAL"]))),
        title=draw(NONEMPTY),
        description=draw(TEXT),
        remediation=Remediation(text=draw(TEXT), url=draw(st.none() | TEXT)),
        compliance=Compliance(
            status="FAILED",
            controls={draw(TEXT): draw(st.lists(TEXT, max_size=2))},
            status_reasons=draw(st.lists(TEXT, max_size=2)),
        ),
        first_observed_at=T0,
        last_observed_at=T0,
        created_at=T0,
        updated_at=T0,
        evidence=draw(st.dictionaries(TEXT, JSON_VALUE, max_size=3)),
        references=draw(st.lists(TEXT, max_size=2)),
        product_fields=draw(st.dictionaries(TEXT, TEXT, max_size=3)),
    )


@settings(
    max_examples=60,
    deadline=None,
    # The store is shared by the examples on purpose: ids are unique, and so are the rows.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(finding=findings(), data=st.data())
def test_any_text_round_trips_unchanged(
    store: Store, finding: Finding, data: st.DataObject
) -> None:
    store.write([finding])

    stored = store.get(finding.id)
    assert stored is not None
    assert stored.model_dump(mode="json") == finding.model_dump(mode="json")
    assert stored == finding

    # The title is also a searchable column: any piece of it finds the finding.
    start = data.draw(st.integers(0, len(finding.title) - 1))
    piece = finding.title[start : data.draw(st.integers(start + 1, len(finding.title)))]
    found = store.list_findings(FindingFilter(text=piece), limit=1000)
    assert finding.id in {f.id for f in found}
