"""Stream findings to a text stream in one of the export formats."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from mamori.core import Finding, InputError
from mamori.exports._text import to_json
from mamori.exports.asff import to_asff
from mamori.exports.ocsf import to_ocsf
from mamori.exports.sarif import write_sarif
from mamori.exports.tabular import write_csv

FORMATS = ("json", "asff", "ocsf", "csv", "sarif")  # "table" is rendered by the CLI itself


def _as_json(f: Finding) -> dict[str, Any]:
    return f.model_dump(mode="json", fallback=str)


_TO_DICT: dict[str, Callable[[Finding], dict[str, Any]]] = {
    "json": _as_json,
    "asff": to_asff,
    "ocsf": to_ocsf,
}


def write_findings(
    findings: Iterable[Finding], fmt: str, out: IO[str], *, asff_wrapper: bool = False
) -> int:
    """Write `findings` to `out` as `fmt` and return how many were written.

    json, asff and ocsf are a JSON list with one finding per line, so a large export never sits
    in memory; `asff_wrapper` wraps the ASFF list as {"Findings": [...]}, the request body of
    BatchImportFindings (which takes at most 100 findings per call).
    """
    name = fmt.strip().lower()
    if name not in FORMATS:
        raise InputError(f"unknown export format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    if asff_wrapper and name != "asff":
        raise InputError(f"the ASFF wrapper applies to the asff format only, not {fmt!r}")
    if name == "csv":
        return write_csv(findings, out)
    if name == "sarif":
        return write_sarif(findings, out)
    head, tail = ('{"Findings": [', "]}\n") if asff_wrapper else ("[", "]\n")
    return _write_json_list(map(_TO_DICT[name], findings), out, head, tail)


def _write_json_list(items: Iterator[dict[str, Any]], out: IO[str], head: str, tail: str) -> int:
    out.write(head)
    count = 0
    for item in items:
        out.write(",\n" if count else "\n")
        out.write(to_json(item).decode())
        count += 1
    out.write("\n" + tail if count else tail)
    return count
