"""Write an identity run into the hub as its own scan (source "identity"), so that the next
identity run of the same accounts archives findings that no longer hold."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.identity.analyze import IdentityRun
from mamori.identity.reporting import SOURCE
from mamori.inventory import Snapshot
from mamori.inventory.snapshot import GLOBAL

if TYPE_CHECKING:
    from mamori.hub import Store


def store_identity_findings(store: Store, run: IdentityRun, snapshot: Snapshot | None) -> str:
    from mamori.hub import ScanScope
    from mamori.hub.records import status_counts

    accounts = set(run.model.accounts) if run.model is not None else set()
    regions = {GLOBAL}
    if snapshot is not None:
        accounts.update(snapshot.accounts)
        regions.update(snapshot.regions)
    scope = ScanScope(
        source=SOURCE, accounts=tuple(sorted(accounts)), regions=tuple(sorted(regions))
    )
    scan_id = store.begin_scan("identity", scope)
    try:
        store.write(run.findings, scan_id)
    except BaseException:
        store.finish_scan(scan_id, status="interrupted", archive=False)
        raise
    store.finish_scan(scan_id, counts=status_counts(run.findings))
    return scan_id
