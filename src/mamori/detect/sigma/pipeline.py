"""The field mapping from Sigma's CloudTrail field names onto the normalised `events` table.

Sigma rules name CloudTrail record fields as dotted paths (`userIdentity.type`). A field that
`mamori.detect.schema.EVENTS` promotes to a column reads that column; any other field is read
from the record's JSON: `requestParameters.*`, `responseElements.*` and `additionalEventData.*`
from their own (smaller) JSON columns, everything else from `raw`.

The pySigma pipeline rewrites every field name into a token that the backend turns into SQL.
Tokens start with `|`, which a Sigma rule cannot put into a field name (it separates modifiers),
so a rule can never name a token directly.
"""

from __future__ import annotations

from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldFunctionTransformation

from mamori.detect.rules.base import sql_str

COLUMN = "|col|"
JSON = "|json|"

# Sigma field -> events column. Only fields whose column holds the record's value unchanged
# (as text) are here: `principal_name` falls back to the session issuer's name, so
# `userIdentity.userName` is read from `raw` instead.
FIELD_COLUMNS: dict[str, str] = {
    "eventID": "event_id",
    "recipientAccountId": "account_id",
    "awsRegion": "region",
    "eventSource": "event_source",
    "eventName": "event_name",
    "eventType": "event_type",
    "readOnly": "read_only",
    "managementEvent": "management_event",
    "userIdentity.type": "principal_type",
    "userIdentity.arn": "principal_arn",
    "userIdentity.accountId": "principal_account",
    "userIdentity.accessKeyId": "access_key_id",
    "userIdentity.invokedBy": "invoked_by",
    "userIdentity.sessionContext.sessionIssuer.arn": "session_issuer_arn",
    "userIdentity.sessionContext.attributes.mfaAuthenticated": "mfa_authenticated",
    "sourceIPAddress": "source_ip",
    "userAgent": "user_agent",
    "errorCode": "error_code",
    "errorMessage": "error_message",
    "vpcEndpointId": "vpc_endpoint_id",
    "requestParameters": "request_parameters",
    "responseElements": "response_elements",
    "additionalEventData": "additional_event_data",
}
# Columns that are not text: compared as their text form, which is what the JSON record holds
# ("true"/"false").
_NON_TEXT = {"read_only", "management_event", "mfa_authenticated"}
# Top-level JSON objects kept in their own column: paths below them are read from that column.
_JSON_COLUMNS = {
    "requestParameters": "request_parameters",
    "responseElements": "response_elements",
    "additionalEventData": "additional_event_data",
}
TABLE_ALIAS = "e"


def _token(field: str | None) -> str:
    if field is None:  # keyword search: no field, handled by the backend
        return ""
    column = FIELD_COLUMNS.get(field)
    return COLUMN + column if column else JSON + field


def cloudtrail_pipeline() -> ProcessingPipeline:
    """Every field of a CloudTrail Sigma rule -> a column or JSON token (see `field_sql`)."""
    return ProcessingPipeline(
        name="mamori CloudTrail events",
        priority=20,
        items=[
            ProcessingItem(
                identifier="mamori_cloudtrail_fields",
                transformation=FieldFunctionTransformation(
                    transform_func=_token, mapping={}, apply_keyword=False
                ),
            )
        ],
    )


def json_path(keys: list[str]) -> str:
    """A DuckDB JSON path with every key quoted, so dots, quotes, `$` or spaces in a key name
    stay part of that key."""
    quoted = (k.replace("\\", "\\\\").replace('"', '\\"') for k in keys)
    return "$" + "".join(f'."{k}"' for k in quoted)


def field_sql(token: str) -> str:
    """The SQL text expression (VARCHAR) for a pipeline token, or for a plain Sigma field name
    (treated as a path into the record)."""
    if token.startswith(COLUMN):
        column = token[len(COLUMN) :]
        if column not in set(FIELD_COLUMNS.values()):
            raise ValueError(f"unknown column token {token!r}")
        expr = f"{TABLE_ALIAS}.{column}"
        return f"CAST({expr} AS VARCHAR)" if column in _NON_TEXT else expr
    field = token[len(JSON) :] if token.startswith(JSON) else token
    keys = field.split(".")
    source = "raw"
    if len(keys) > 1 and keys[0] in _JSON_COLUMNS:
        source = _JSON_COLUMNS[keys[0]]
        keys = keys[1:]
    return f"json_extract_string({TABLE_ALIAS}.{source}, {sql_str(json_path(keys))})"


def mapping_table() -> list[tuple[str, str]]:
    """(Sigma field, SQL) rows for the documentation."""
    rows = [(field, field_sql(COLUMN + column)) for field, column in FIELD_COLUMNS.items()]
    rows.append(("requestParameters.a.b", field_sql(JSON + "requestParameters.a.b")))
    rows.append(("any.other.field", field_sql(JSON + "any.other.field")))
    return rows
