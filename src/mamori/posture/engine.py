"""Run checks over a Snapshot and turn their verdicts into Findings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache

from mamori.core import (
    Compliance,
    ComplianceStatus,
    DataUnavailable,
    Finding,
    InputError,
    Remediation,
    Resource,
    Severity,
    SeverityLabel,
    utcnow,
)
from mamori.inventory.snapshot import GLOBAL, Res, Snapshot, is_unavailable
from mamori.posture.registry import (
    ACCOUNT,
    CheckContext,
    CheckSpec,
    Verdict,
    load_checks,
)
from mamori.posture.standards import controls_of, get_standard

SOURCE = "posture"


def select_checks(
    check_ids: Iterable[str] | None = None,
    standard: str | None = None,
    services: Iterable[str] | None = None,
) -> list[CheckSpec]:
    registry = load_checks()
    chosen = dict(registry)
    if check_ids:
        wanted = list(dict.fromkeys(check_ids))
        unknown = [c for c in wanted if c not in registry]
        if unknown:
            raise InputError(f"unknown check id(s): {', '.join(unknown)}")
        chosen = {c: registry[c] for c in wanted}
    if standard:
        ids = get_standard(standard).check_ids
        chosen = {k: v for k, v in chosen.items() if k in ids}
    if services is not None:
        svc = set(services)
        chosen = {k: v for k, v in chosen.items() if v.service in svc}
    return [chosen[k] for k in sorted(chosen)]


def services_needed(checks: Iterable[CheckSpec]) -> set[str]:
    return {s for c in checks for s in c.requires}


@cache
def _controls(check_id: str) -> dict[str, list[str]]:
    return controls_of(check_id)


def _finding(
    spec: CheckSpec,
    ctx: CheckContext,
    arn: str,
    region: str,
    verdict: Verdict,
    tags: dict[str, str] | None = None,
    resource_type: str | None = None,
) -> Finding:
    status = verdict.status
    # Security Hub's convention: only a failed control carries the control's severity.
    label = spec.severity if status is ComplianceStatus.FAILED else SeverityLabel.INFORMATIONAL
    now = utcnow()
    return Finding.build(
        generator_id=spec.id,
        source=SOURCE,
        resources=[
            Resource(
                type=resource_type or spec.resource_type,
                id=arn,
                partition=ctx.partition,
                region=region,
                tags=tags or {},
                details=verdict.details,
            )
        ],
        account_id=ctx.account_id,
        region=region,
        types=list(spec.types),
        severity=Severity.of(label),
        title=spec.title,
        description=f"{verdict.reason}. {spec.description}".strip(),
        remediation=Remediation(
            text=spec.remediation,
            cli=spec.remediation_cli,
            url=spec.references[0] if spec.references else None,
        ),
        compliance=Compliance(
            status=status, controls=_controls(spec.id), status_reasons=[verdict.reason]
        ),
        references=list(spec.references),
        product_fields={
            "CheckId": spec.id,
            "CheckSeverity": spec.severity.value,
            "StatusReason": verdict.reason[:1000],
        },
        first_observed_at=now,
        last_observed_at=now,
        created_at=now,
        updated_at=now,
    )


def _unavailable(exc: Exception) -> Verdict:
    if isinstance(exc, DataUnavailable):
        reason = f"data not available: {exc}"
    else:
        reason = f"could not evaluate ({type(exc).__name__}: {exc})"
    return Verdict(ComplianceStatus.NOT_AVAILABLE, reason[:1000])


def _tags(res: Res) -> dict[str, str]:
    raw = res.raw.get("_tags")
    if isinstance(raw, dict) and not is_unavailable(raw):
        return {str(k): str(v) for k, v in raw.items()}
    return {}


def _run_over_resources(
    spec: CheckSpec, ctx: CheckContext, service: str, key: str
) -> Iterator[Finding]:
    scope_arn = ctx.account_arn() if ctx.region == GLOBAL else ctx.region_arn()
    try:
        items = ctx.resources(service, key)
    except DataUnavailable as exc:
        # The list itself could not be read: one NOT_AVAILABLE finding for the whole scope,
        # so the gap is visible and the control cannot score as passed.
        yield _finding(
            spec, ctx, scope_arn, ctx.region, _unavailable(exc), resource_type="AwsAccount"
        )
        return
    for res in items:
        try:
            arn = res.arn
            region = str(res.raw.get("_region") or ctx.region)
        except DataUnavailable as exc:
            # An entry without identity (hand-edited or malformed snapshot): reported on the
            # scope so that it is seen, never skipped silently.
            yield _finding(
                spec, ctx, scope_arn, ctx.region, _unavailable(exc), resource_type="AwsAccount"
            )
            continue
        try:
            result = spec.fn(res, ctx)
        except Exception as exc:  # noqa: BLE001 - malformed input must not stop the scan
            result = _unavailable(exc)
        if result is not None:
            kind = spec.list_types.get(f"{service}:{key}")
            yield _finding(spec, ctx, arn, region, result, tags=_tags(res), resource_type=kind)


def _run_once(spec: CheckSpec, ctx: CheckContext, arn: str) -> Iterator[Finding]:
    try:
        result = spec.fn(ctx)
    except Exception as exc:  # noqa: BLE001
        result = _unavailable(exc)
    if result is not None:
        yield _finding(spec, ctx, arn, ctx.region, result, resource_type="AwsAccount")


def run_check(spec: CheckSpec, snapshot: Snapshot, account_id: str) -> Iterator[Finding]:
    have = snapshot.services(account_id)
    if spec.lists:
        for service, key in spec.lists:
            for region in sorted(have.get(service, {})):
                ctx = CheckContext(snapshot, account_id, region)
                yield from _run_over_resources(spec, ctx, service, key)
        return
    if spec.service not in have:
        return
    if spec.over == ACCOUNT:
        ctx = CheckContext(snapshot, account_id, GLOBAL)
        yield from _run_once(spec, ctx, ctx.account_arn())
        return
    for region in sorted(have[spec.service]):
        if region == GLOBAL:
            continue
        ctx = CheckContext(snapshot, account_id, region)
        yield from _run_once(spec, ctx, ctx.region_arn())


def evaluate(
    snapshot: Snapshot, checks: Iterable[CheckSpec], accounts: Iterable[str] | None = None
) -> Iterator[Finding]:
    specs = list(checks)
    for account_id in accounts if accounts is not None else sorted(snapshot.accounts):
        for spec in specs:
            yield from run_check(spec, snapshot, account_id)
