from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from mamori.core import Finding, InputError, Resource
from mamori.exports import FORMATS, to_asff, to_ocsf, write_findings
from tests.exports.strategies import make_finding


def _batch() -> list[Finding]:
    return [
        make_finding(resources=[Resource(type="AwsS3Bucket", id=f"arn:aws:s3:::b{i}")])
        for i in range(3)
    ]


def _write(fmt: str, findings: list[Finding], **kw: bool) -> tuple[int, str]:
    out = io.StringIO()
    return write_findings(findings, fmt, out, **kw), out.getvalue()


def test_formats() -> None:
    assert FORMATS == ("json", "asff", "ocsf", "csv", "sarif")


def test_json_round_trips_to_the_same_findings() -> None:
    batch = _batch()
    count, text = _write("json", batch)
    assert count == 3
    assert [Finding.model_validate(d) for d in json.loads(text)] == batch


def test_asff_list_and_wrapper() -> None:
    batch = _batch()
    count, text = _write("asff", batch)
    assert count == 3
    assert json.loads(text) == [to_asff(f) for f in batch]
    count, text = _write("asff", batch, asff_wrapper=True)
    assert count == 3
    assert json.loads(text) == {"Findings": [to_asff(f) for f in batch]}


def test_ocsf_list() -> None:
    batch = _batch()
    assert json.loads(_write("ocsf", batch)[1]) == [to_ocsf(f) for f in batch]


@pytest.mark.parametrize("fmt", ["json", "asff", "ocsf"])
def test_empty_input_is_an_empty_list(fmt: str) -> None:
    assert _write(fmt, []) == (0, "[]\n")


def test_format_name_is_case_insensitive() -> None:
    assert _write("ASFF", _batch())[0] == 3


def test_unknown_format_is_an_input_error_naming_it() -> None:
    out = io.StringIO()
    with pytest.raises(InputError, match="'xml'"):
        write_findings(_batch(), "xml", out)
    assert out.getvalue() == ""


def test_wrapper_outside_asff_is_an_input_error() -> None:
    with pytest.raises(InputError, match="asff"):
        write_findings(_batch(), "ocsf", io.StringIO(), asff_wrapper=True)


def test_streams_each_finding_before_reading_the_next() -> None:
    out = io.StringIO()
    batch = _batch()

    def produce() -> Iterator[Finding]:
        for i, f in enumerate(batch):
            # Everything produced so far is already written when the next one is asked for.
            assert out.getvalue().count('"SchemaVersion"') == i
            yield f

    assert write_findings(produce(), "asff", out) == 3


def test_values_json_cannot_hold_do_not_break_the_export() -> None:
    f = make_finding(evidence={"ports": {22}, "big": 2**70, "obj": object()})
    for fmt in ("json", "asff", "ocsf"):
        count, text = _write(fmt, [f])
        assert count == 1
        json.loads(text)
