"""pySigma's DuckDB backend, adjusted so Sigma's matching rules hold on the `events` table.

The upstream backend targets a flat `logs` table and differs from the Sigma specification in
ways that matter here; this subclass changes only those:

- Plain values compare case-insensitively (Sigma's default), through ILIKE; `|cased` uses LIKE.
  Upstream compared plain values with `=` (case-sensitive) and `|cased` with GLOB.
- `%`, `_` and `\\` in a value are literal: patterns carry `ESCAPE '\\'`. Upstream let them act
  as LIKE wildcards (`foo_bar` matched `fooXbar`).
- Regular expressions are SQL-quoted (upstream put them between quotes unescaped: a `'` in a
  rule's regex ended the string literal).
- Every leaf condition is two-valued (`coalesce(..., false)`): a missing field does not match,
  so `not filter` holds for a record without the filtered field, as Sigma says. SQL's NULL would
  have dropped such records.
- Numbers and comparisons read the field as a number (TRY_CAST: text that is not a number does
  not match instead of failing the query); booleans compare the text `true`/`false`.
- `|cidr` on IPv4 compares the address numerically (the `ip4_num` macro); IPv6 uses the
  expanded prefixes.
- Keyword (field-less) values search the whole record text (`raw`).
- The result is the WHERE condition only; `convert.py` wraps it into a rule query.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any, ClassVar, TypeVar

from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionValueExpression
from sigma.conversion.deferred import DeferredQueryExpression
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)
from sigma_backend_duckdb import DuckDBBackend

from mamori.detect.rules.base import sql_str
from mamori.detect.sigma.pipeline import TABLE_ALIAS, cloudtrail_pipeline, field_sql

_ESCAPE = "'\\'"
_RAW = f"{TABLE_ALIAS}.raw"


class EventsBackend(DuckDBBackend):  # type: ignore[misc]
    """Sigma rule -> DuckDB WHERE condition over `events e`."""

    name: ClassVar[str] = "mamori events (DuckDB)"
    escape_char: ClassVar[str] = "\\"
    add_escaped: ClassVar[str] = "\\"
    field_timestamp_part_expression: ClassVar[str | None] = (
        "EXTRACT({timestamp_part} FROM TRY_CAST({field} AS TIMESTAMPTZ))"
    )
    field_exists_expression: ClassVar[str] = "{field} IS NOT NULL"
    field_not_exists_expression: ClassVar[str | None] = "{field} IS NULL"
    field_null_expression: ClassVar[str] = "{field} IS NULL"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(processing_pipeline=cloudtrail_pipeline(), **kwargs)

    # ----- fields and values

    def escape_and_quote_field(self, field_name: str) -> str:
        return field_sql(field_name)

    def _pattern(self, value: SigmaString) -> str:
        """A LIKE pattern literal: Sigma wildcards as `%`/`_`, everything else literal."""
        converted = value.convert(
            escape_char="\\", wildcard_multi="%", wildcard_single="_", add_escaped="\\"
        )
        return sql_str(converted)

    @staticmethod
    def _leaf(expr: str) -> str:
        return f"coalesce({expr}, false)"

    # ----- leaf conditions

    def convert_condition_field_eq_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        result = super().convert_condition_field_eq_val(cond, state)
        return self._leaf(result) if isinstance(result, str) else result

    def _like(self, cond: ConditionFieldEqualsValueExpression, op: str) -> str:
        field = self.escape_and_quote_field(cond.field)
        return f"{field} {op} {self._pattern(_string(cond.value))} ESCAPE {_ESCAPE}"

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return self._like(cond, "ILIKE")

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return self._like(cond, "LIKE")

    def convert_condition_field_eq_val_num(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = _typed(cond.value, SigmaNumber, "a number")
        field = self.escape_and_quote_field(cond.field)
        return f"TRY_CAST({field} AS DOUBLE) = {_number(value.number)}"

    def convert_condition_field_eq_val_bool(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = _typed(cond.value, SigmaBool, "a boolean")
        field = self.escape_and_quote_field(cond.field)
        return f"lower({field}) = {sql_str('true' if value.boolean else 'false')}"

    def _regex(self, value: SigmaRegularExpression) -> str:
        # Flags (i, m, s) become RE2's inline prefix; nothing else is escaped: the regex text
        # goes into a SQL string literal, whose quotes sql_str doubles.
        return sql_str(value.escape([], "", False, True))

    def convert_condition_field_eq_val_re(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = _typed(cond.value, SigmaRegularExpression, "a regular expression")
        field = self.escape_and_quote_field(cond.field)
        return f"regexp_matches({field}, {self._regex(value)})"

    def convert_condition_field_compare_op_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        value = _typed(cond.value, SigmaCompareExpression, "a comparison")
        if isinstance(value.number, SigmaTimestampPart):
            return super().convert_condition_field_compare_op_val(cond, state)
        field = self.escape_and_quote_field(cond.field)
        op = self.compare_operators[value.op]
        return f"TRY_CAST({field} AS DOUBLE) {op} {_number(value.number.number)}"

    def convert_condition_field_eq_val_cidr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        value = _typed(cond.value, SigmaCIDRExpression, "a CIDR network")
        net = value.network
        if isinstance(net, ipaddress.IPv4Network):
            field = self.escape_and_quote_field(cond.field)
            lo, hi = int(net.network_address), int(net.broadcast_address)
            return f"ip4_num({field}) BETWEEN {lo} AND {hi}"
        return super().convert_condition_field_eq_val_cidr(cond, state)

    # ----- keywords: no field, the whole record

    def _keyword(self, value: SigmaString) -> str:
        # A keyword matches anywhere in the record, as a full-text search would.
        if not value.startswith(SpecialChars.WILDCARD_MULTI):
            value = SpecialChars.WILDCARD_MULTI + value
        if not value.endswith(SpecialChars.WILDCARD_MULTI):
            value = value + SpecialChars.WILDCARD_MULTI
        return self._leaf(f"{_RAW} ILIKE {self._pattern(value)} ESCAPE {_ESCAPE}")

    def convert_condition_val_str(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str:
        return self._keyword(_string(cond.value))

    def convert_condition_val_num(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str:
        return self._keyword(SigmaString(str(cond.value)))

    def convert_condition_val_re(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str:
        value = _typed(cond.value, SigmaRegularExpression, "a regular expression")
        return self._leaf(f"regexp_matches({_RAW}, {self._regex(value)})")

    # ----- output

    def finalize_query_default(
        self, rule: Any, query: str, index: int, state: ConversionState
    ) -> str:
        return query


def _number(value: object) -> str:
    """A numeric SQL literal; infinities and NaN (YAML `.inf`, `.nan`) have none."""
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise SigmaFeatureNotSupportedByBackendError(f"number {value!r} is not finite")
    return repr(number)


_V = TypeVar("_V")


def _typed(value: object, kind: type[_V], what: str) -> _V:
    """The value of a condition as the kind of Sigma value its converter handles."""
    if not isinstance(value, kind):
        raise SigmaFeatureNotSupportedByBackendError(f"expected {what}, not {value!r}")
    return value


def _string(value: object) -> SigmaString:
    return _typed(value, SigmaString, "a string")


def where_conditions(backend: EventsBackend, rule: SigmaRule) -> list[str]:
    """The rule's conditions (one per `condition` entry) as SQL; errors propagate."""
    return [str(q) for q in backend.convert_rule(rule)]
