"""Run collectors concurrently across accounts and regions into one Snapshot."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from mamori.aws import AccountSession
from mamori.aws.session import DEFAULT_HOME_REGION
from mamori.core import InputError
from mamori.inventory.framework import COLLECTORS, CollectContext, CollectorSpec
from mamori.inventory.snapshot import GLOBAL, CollectionError, Snapshot

ProgressHook = Callable[[str, int, int], None]  # (label, done, total)
AccountDone = Callable[[str], None]


def load_collectors() -> dict[str, CollectorSpec]:
    """Import every module of `mamori.inventory.collectors` so that their decorators run."""
    from mamori.inventory import collectors

    for mod in pkgutil.iter_modules(collectors.__path__):
        importlib.import_module(f"{collectors.__name__}.{mod.name}")
    return COLLECTORS


def select_collectors(services: Iterable[str] | None) -> list[CollectorSpec]:
    registry = load_collectors()
    if services is None:
        return [registry[k] for k in sorted(registry)]
    wanted = sorted(set(services))
    unknown = [s for s in wanted if s not in registry]
    if unknown:
        raise InputError(
            f"unknown service(s): {', '.join(unknown)} (known: {', '.join(sorted(registry))})"
        )
    return [registry[s] for s in wanted]


@dataclass(frozen=True)
class _Task:
    session: AccountSession
    spec: CollectorSpec
    region: str
    api_region: str


def _run_task(task: _Task, snapshot: Snapshot) -> None:
    ctx = CollectContext(task.spec, task.session, task.region, task.api_region, snapshot)
    try:
        task.spec.fn(ctx)
    except Exception as exc:  # noqa: BLE001 - a collector bug must not stop the scan
        snapshot.record_error(
            CollectionError(
                account=task.session.account_id,
                region=task.region,
                service=task.spec.service,
                operation="collector",
                code=type(exc).__name__,
                message=str(exc)[:500],
            )
        )
        # What the collector gathered before failing is kept; the rest reads as unavailable.
    snapshot.put_service(task.session.account_id, task.spec.service, task.region, ctx.data)


def collect(
    accounts: list[AccountSession],
    regions: list[str],
    *,
    services: Iterable[str] | None = None,
    snapshot: Snapshot | None = None,
    workers: int = 16,
    progress: ProgressHook | None = None,
    on_account_done: AccountDone | None = None,
) -> Snapshot:
    specs = select_collectors(services)
    snap = snapshot or Snapshot()
    snap.regions = sorted(set(snap.regions) | set(regions))
    home = regions[0] if regions else DEFAULT_HOME_REGION
    if DEFAULT_HOME_REGION in regions:
        home = DEFAULT_HOME_REGION
    tasks: list[_Task] = []
    for session in accounts:
        snap.add_account(session.account_id, session.name)
        for spec in specs:
            if spec.scope == "global":
                tasks.append(_Task(session, spec, GLOBAL, home))
            else:
                tasks.extend(_Task(session, spec, r, r) for r in regions)
    remaining = {s.account_id: 0 for s in accounts}
    for t in tasks:
        remaining[t.session.account_id] += 1
    for acct, n in remaining.items():
        if n == 0 and on_account_done:
            on_account_done(acct)
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="collect") as pool:
        pending: dict[Future[None], _Task] = {pool.submit(_run_task, t, snap): t for t in tasks}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            # Hand over every account that completed before raising what stopped a task (an
            # interrupt), so that finished accounts are still evaluated and stored.
            stopped: BaseException | None = None
            for fut in finished:
                task = pending.pop(fut)
                failure = fut.exception()
                if failure is not None:
                    stopped = stopped or failure
                    continue
                done += 1
                if progress:
                    progress(
                        f"{task.session.account_id} {task.region} {task.spec.service}",
                        done,
                        len(tasks),
                    )
                acct = task.session.account_id
                remaining[acct] -= 1
                if remaining[acct] == 0 and on_account_done:
                    on_account_done(acct)
            if stopped is not None:
                for fut in pending:
                    fut.cancel()
                raise stopped
    return snap
