"""The built graph opened for reading: a DuckDB connection with the graph's tables as views
(`entities`, `edges`, `activity`: its segments merged as they are read; `finding_links`) and
`ip_info`, the country and AS of addresses (the detection runs' enrichment, kept beside their
baseline, plus any given here)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import duckdb

from mamori.core import InputError
from mamori.detect.enrichment import ENRICHMENT_SCHEMA
from mamori.investigate import db, graphdir
from mamori.investigate.graphdir import State
from mamori.investigate.profile import DEFAULT_DAYS, profile
from mamori.investigate.tables import FINDING_LINKS, SPECS, Spec

if TYPE_CHECKING:
    from mamori.detect.enrichment import Enrichment
    from mamori.hub import Store
    from mamori.investigate.model import Neighbourhood, Profile

_MAX_ENRICHED = 20_000  # addresses looked up at once through MMDB files


class Graph:
    """Open with `Graph.open(data_dir)`; close with `close()` or use it as a context manager."""

    def __init__(
        self,
        data_dir: Path,
        con: duckdb.DuckDBPyConnection,
        state: State,
        enrichment: Enrichment | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.con = con
        self.state = state
        self.enrichment = enrichment
        self.warnings: list[str] = []

    @classmethod
    def open(cls, data_dir: Path, *, enrichment: Enrichment | None = None) -> Graph:
        """The graph last built under `data_dir`. `enrichment` (MMDB files) adds the country
        and AS of addresses the detection runs did not enrich."""
        for _attempt in range(3):
            state = graphdir.read_state(data_dir)
            if state is None:
                raise InputError(
                    f"{data_dir}: no investigation graph here (it is built by `mamori detect`"
                    " and by `mamori investigate` over the logs ingested there)"
                )
            con = db.connect()
            try:
                for spec in SPECS.values():
                    _segments_view(con, spec, state.segment_files(data_dir, spec.file))
                db.view(con, "finding_links", [state.links_file(data_dir)], FINDING_LINKS)
            except duckdb.IOException:
                # Pruned by a build that committed twice since the state was read: read again.
                con.close()
                continue
            graph = cls(data_dir, con, state, enrichment)
            if warning := _register_ip_info(con, data_dir):
                graph.warnings.append(warning)
            return graph
        raise InputError(f"{data_dir}: the investigation graph keeps changing; try again")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Graph:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def profile(
        self,
        kind: str,
        entity_id: str,
        *,
        days: float = DEFAULT_DAYS,
        limit: int = 10,
        store: Store | None = None,
    ) -> Profile:
        """See profile.profile."""
        return profile(self, kind, entity_id, days=days, limit=limit, store=store)

    def neighbourhood(
        self, kind: str, entity_id: str, *, depth: int = 2, limit: int = 50
    ) -> Neighbourhood:
        """See neighbourhood.neighbourhood."""
        from mamori.investigate.neighbourhood import neighbourhood  # networkx: only if asked

        return neighbourhood(self, kind, entity_id, depth=depth, limit=limit)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return self.con.sql(sql, params=params or []).to_arrow_table().to_pylist()

    def coverage(self) -> dict[str, Any]:
        """When the logs in the graph begin and end, and how many entities it holds."""
        [row] = self.rows(
            "SELECT min(first_seen) AS first_seen, max(last_seen) AS last_seen,"
            " count(*) AS entities FROM entities"
        )
        return row

    def geo(self, ips: list[str]) -> dict[str, dict[str, Any]]:
        """Country, asn, as_org of each address that enrichment knows."""
        if not ips:
            return {}
        found = {
            r["ip"]: r
            for r in self.rows(
                "SELECT ip, country, asn, as_org FROM ip_info WHERE ip IN (SELECT unnest($1))"
                " AND (country IS NOT NULL OR asn IS NOT NULL)",
                [ips],
            )
        }
        if self.enrichment is not None:
            for ip in [ip for ip in ips if ip not in found][:_MAX_ENRICHED]:
                info = self.enrichment.lookup(ip)
                if info.get("country") or info.get("asn") is not None:
                    found[ip] = {"ip": ip, **info}
        return found


def _segments_view(con: duckdb.DuckDBPyConnection, spec: Spec, files: list[Path]) -> None:
    """`<name>`: one segment is the table as it is; several are merged per key as they are read
    (DuckDB pushes a lookup's filter on the keys below the merge, so a lookup reads only its
    rows). `<name>_raw`: the segments' rows unmerged, with the file each came from, for queries
    that must select rows by a join before merging them (see `merged_sql`)."""
    db.view(con, f"{spec.name}_raw", files, spec.schema, filename=True)
    if len(files) <= 1:
        db.view(con, spec.name, files, spec.schema)
        return
    con.execute(f"CREATE VIEW {spec.name} AS {spec.merged_sql(f'{spec.name}_raw')}")


def _register_ip_info(con: duckdb.DuckDBPyConnection, data_dir: Path) -> str | None:
    """`ip_info` from the detection runs' enrichment; a file that cannot be read is reported
    and the addresses are shown without country rather than not at all."""
    from mamori.detect.baseline import files

    path = files(data_dir)["ip_info"]
    if path.exists():
        try:
            db.view(con, "ip_info", [path], ENRICHMENT_SCHEMA)
            con.execute("SELECT count(*) FROM ip_info").fetchall()
            return None
        except duckdb.Error as exc:
            con.register("ip_info", ENRICHMENT_SCHEMA.empty_table())
            return f"{path}: cannot read the addresses' countries and ASes: {exc}"
    con.register("ip_info", ENRICHMENT_SCHEMA.empty_table())
    return None
