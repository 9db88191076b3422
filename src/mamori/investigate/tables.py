"""The graph's tables: their schemas, keys, and how a stored table and a new aggregate merge.

Counts add up (each log part is aggregated once), first sightings take the earliest, last the
latest: merging the aggregates of parts, in any grouping, gives what aggregating every part at
once would. Finding links are replaced per finding instead (a finding's evidence is its
latest), see `links`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

_TS = pa.timestamp("us", tz="UTC")
_STR = pa.string()
_INT = pa.int64()

ENTITIES = pa.schema(
    [
        ("kind", _STR),
        ("id", _STR),
        ("account_id", _STR),  # the account it belongs to, where the logs say
        ("first_seen", _TS),
        ("last_seen", _TS),
        ("records", _INT),  # log records it appears in
    ]
)
EDGES = pa.schema(
    [
        ("src_kind", _STR),
        ("src_id", _STR),
        ("relation", _STR),
        ("dst_kind", _STR),
        ("dst_id", _STR),
        ("first_seen", _TS),
        ("last_seen", _TS),
        ("records", _INT),
        ("failures", _INT),  # API errors, rejected flows, DNS answers other than NOERROR
    ]
)
ACTIVITY = pa.schema(
    [
        ("kind", _STR),
        ("id", _STR),
        ("day", pa.date32()),  # UTC
        ("service", _STR),  # eventSource, e.g. iam.amazonaws.com
        ("api", _STR),  # eventName
        ("calls", _INT),
        ("failures", _INT),
        ("first_seen", _TS),
        ("last_seen", _TS),
    ]
)
FINDING_LINKS = pa.schema(
    [
        ("finding_id", _STR),
        ("kind", _STR),
        ("id", _STR),
        ("via", _STR),  # where the finding names it: actor, resource, evidence, detail
        ("generator_id", _STR),
        ("title", _STR),
        ("severity", _STR),  # label
        ("severity_score", _INT),  # normalised 0-100
        ("account_id", _STR),
        ("region", _STR),
        ("first_seen", _TS),
        ("last_seen", _TS),
        ("count", _INT),
    ]
)


@dataclass(frozen=True)
class Spec:
    name: str
    schema: pa.Schema
    keys: tuple[str, ...]
    sums: tuple[str, ...]

    @property
    def file(self) -> str:
        return f"{self.name}.parquet"

    def merged_sql(self, source: str, *, ordered: bool = False) -> str:
        """The rows of `source` (segments, new aggregates, unioned) merged per key."""
        keys = ", ".join(self.keys)
        aggs = [
            "min(first_seen) AS first_seen",
            "max(last_seen) AS last_seen",
            *(f"CAST(sum({c}) AS BIGINT) AS {c}" for c in self.sums),
        ]
        rest = [
            f"max({c}) AS {c}"
            for c in self.schema.names
            if c not in self.keys and c not in self.sums and c not in ("first_seen", "last_seen")
        ]
        columns = ", ".join(self.schema.names)
        return (
            f"SELECT {columns} FROM (SELECT {keys}, {', '.join([*aggs, *rest])}"  # noqa: S608
            f" FROM {source} GROUP BY {keys}) m" + (f" ORDER BY {keys}" if ordered else "")
        )


# Sorted by their keys when written: lookups by kind and id read few row groups.
SPECS = {
    s.name: s
    for s in (
        Spec("entities", ENTITIES, ("kind", "id"), ("records",)),
        Spec(
            "edges",
            EDGES,
            ("src_kind", "src_id", "relation", "dst_kind", "dst_id"),
            ("records", "failures"),
        ),
        Spec("activity", ACTIVITY, ("kind", "id", "day", "service", "api"), ("calls", "failures")),
    )
}
