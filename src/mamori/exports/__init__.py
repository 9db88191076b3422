"""Findings exported as JSON, ASFF (Security Hub), OCSF, CSV and SARIF."""

from mamori.exports.asff import to_asff
from mamori.exports.ocsf import to_ocsf
from mamori.exports.writer import FORMATS, write_findings

__all__ = ["FORMATS", "to_asff", "to_ocsf", "write_findings"]
