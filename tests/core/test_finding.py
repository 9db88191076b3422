from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from mamori.core import (
    Compliance,
    ComplianceStatus,
    Finding,
    RecordState,
    Resource,
    Severity,
    SeverityLabel,
    WorkflowStatus,
    finding_id,
    parse_arn,
)
from mamori.core.errors import InputError


def make(resource: str = "arn:aws:s3:::b", account: str = "111122223333", **kw: object) -> Finding:
    fields: dict[str, object] = {
        "source": "posture",
        "types": ["Software and Configuration Checks"],
        "severity": Severity.of("high"),
        "title": "t",
        "compliance": Compliance(status=ComplianceStatus.FAILED),
    }
    fields.update(kw)
    return Finding.build(
        generator_id="s3.x",
        resources=[Resource(type="AwsS3Bucket", id=resource)],
        account_id=account,
        region="us-east-1",
        **fields,
    )


def test_id_is_deterministic_and_distinguishes_inputs() -> None:
    assert make().id == make().id
    assert make().id != make(resource="arn:aws:s3:::other").id
    assert make().id != make(account="999988887777").id
    assert finding_id("a", "b", "c", "d") != finding_id("a", "b", "c", "e")
    # The separator keeps ("ab", "c") apart from ("a", "bc").
    assert finding_id("ab", "c", "1", "r") != finding_id("a", "bc", "1", "r")


def test_account_must_be_twelve_digits() -> None:
    with pytest.raises(ValidationError):
        make(account="12345")


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Finding.model_validate({**make().model_dump(), "surprise": 1})


@pytest.mark.parametrize(
    ("text", "label"), [("high", SeverityLabel.HIGH), (" Critical ", SeverityLabel.CRITICAL)]
)
def test_severity_parse(text: str, label: SeverityLabel) -> None:
    assert SeverityLabel.parse(text) is label


def test_severity_parse_names_choices() -> None:
    with pytest.raises(ValueError, match="informational, low, medium, high, critical"):
        SeverityLabel.parse("severe")


@given(st.integers(min_value=0, max_value=100))
def test_normalized_bands_round_trip(value: int) -> None:
    label = SeverityLabel.from_normalized(value)
    assert SeverityLabel.from_normalized(label.normalized) is label


def test_is_failing() -> None:
    assert make().is_failing
    assert not make(compliance=Compliance(status=ComplianceStatus.PASSED)).is_failing
    archived = make()
    archived.record_state = RecordState.ARCHIVED
    assert not archived.is_failing
    detection = make(compliance=None)
    assert detection.is_failing
    detection.workflow.status = WorkflowStatus.RESOLVED
    assert not detection.is_failing


def test_json_round_trip() -> None:
    f = make(evidence={"ua": "<script>alert(1)</script>"})
    assert Finding.model_validate_json(f.model_dump_json()) == f


def test_arn_parsing() -> None:
    arn = parse_arn("arn:aws:iam::123456789012:role/path/name")
    assert (arn.service, arn.account, arn.resource_type) == ("iam", "123456789012", "role")
    assert str(arn) == "arn:aws:iam::123456789012:role/path/name"
    with pytest.raises(InputError):
        parse_arn("not-an-arn")
