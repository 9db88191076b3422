"""The demo's threat-detection step: a month of generated logs for the emulated organisation's
accounts (routine activity with attack scenarios and benign look-alikes mixed in), synthetic
threat lists naming the scenarios' addresses and domains, and `mamori detect` run over them."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from mamori.detect.run import DetectRun
    from mamori.hub import Store

# Small enough that the demo stays quick; the scenarios come on top of it.
_EVENTS_PER_DAY = 400
_FLOWS_PER_DAY = 400
_DNS_PER_DAY = 120
_WAF_HOURS = 6


def detect_demo(
    accounts: list[str], regions: list[str], days: int, store: Store | None, data_dir: Path
) -> tuple[DetectRun, int]:
    """Generate, ingest and detect; returns the run and how many attacks were planted. The
    ingested tables (and the investigation graph) are kept in `data_dir`, emptied first: the
    dashboard's investigation pages read them after the run."""
    from mamori.detect.generator import LEARNING, generate, write_intel_lists
    from mamori.detect.generator.waf import generate_waf
    from mamori.detect.run import DetectRequest, run_detect

    shutil.rmtree(data_dir, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="mamori-demo-logs-") as tmp:
        root = Path(tmp)
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        generated = generate(
            root / "logs",
            accounts=accounts,
            regions=regions,
            start=start - timedelta(days=days),
            days=days,
            events_per_day=_EVENTS_PER_DAY,
            flows_per_day=_FLOWS_PER_DAY,
            dns_per_day=_DNS_PER_DAY,
        )
        # The last hours before now of the shop's web ACL in front of the workloads account:
        # routine traffic with an HTTP flood, a heavy client, a scanner and an injection.
        web = generate_waf(
            root / "waf",
            start=start - timedelta(hours=_WAF_HOURS),
            hours=_WAF_HOURS,
            account=accounts[-1],
            region=regions[0],
        )
        lists = write_intel_lists(root / "intel")
        logs = str(root / "logs")
        req = DetectRequest(
            cloudtrail=[logs],
            vpc_flow=[logs],
            dns=[logs],
            waf=[str(root / "waf")],
            intel=lists.threats,
            trusted_ips=lists.trusted,
            tor_exit_list=lists.tor,
            data_dir=data_dir,
            learning=LEARNING,  # the generated principals are as regular as they will ever be
        )
        run = run_detect(req, store)
    attacks = sum(1 for label in generated.labels if not label.benign)
    return run, attacks + sum(1 for waf_label in web.labels if not waf_label.benign)


def threats_summary(console: Console, run: DetectRun, planted: int) -> None:
    result = run.result
    records = ", ".join(f"{n:,} {t}" for t, n in result.rows.items())
    console.print(
        f"threat detection: {records} records, {len(result.findings)} findings "
        f"({planted} attack scenarios planted) in {result.seconds:.1f}s"
    )
    by_type = Counter((f.severity.label.value, f.generator_id) for f in result.findings)
    table = Table(title="Threat findings")
    table.add_column("severity")
    table.add_column("finding type")
    table.add_column("count", justify="right")
    order = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3, "INFORMATIONAL": 4}
    for (label, kind), count in sorted(by_type.items(), key=lambda x: (order[x[0][0]], x[0][1])):
        table.add_row(label, escape(kind), str(count))
    console.print(table)
