"""IAM Access Advisor: for every user and role, when it last used each service its policies
allow (service last accessed details).

A collector of its own ("iam_access"), not part of "iam": it costs one report job per
principal, and only unused-access analysis reads it, so posture scans leave it out.

"last_accessed" is a list of {"_arn", "_name", "JobStatus", "JobCompletionDate",
"ServicesLastAccessed"} with ServicesLastAccessed as GetServiceLastAccessedDetails gives it,
joined across pages. When a principal's report could not be read (denied, not emulated, failed,
not ready in time), JobStatus and ServicesLastAccessed are unavailable markers: a missing report
must never read as "used nothing".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mamori.inventory.collectors._items import Item
from mamori.inventory.collectors.iam import OncePerOperation, not_ready
from mamori.inventory.framework import CollectContext, collector
from mamori.inventory.snapshot import is_unavailable

# Each worker keeps one report job open until it is read, so this bounds the jobs in flight
# as well as the polling rate against IAM's low request quota.
_WORKERS = 4
# AWS usually finishes a report within seconds. One job may take this long...
_JOB_DEADLINE_S = 60.0
# ...and the whole collection this long; principals not started by then are marked, not asked.
_TOTAL_DEADLINE_S = 900.0
_FIRST_POLL_S = 0.5
_MAX_POLL_S = 5.0
_PAGE_SIZE = 1000  # the largest MaxItems IAM accepts
# Bounds the Marker loop should an answer keep saying IsTruncated.
_MAX_PAGES = 50
_FIELDS = ("JobStatus", "ServicesLastAccessed")


@collector(
    "iam_access",
    scope="global",
    calls=[
        "iam.list_users",
        "iam.list_roles",
        "iam.generate_service_last_accessed_details",
        "iam.get_service_last_accessed_details",
    ],
)
def collect_iam_access(ctx: CollectContext) -> None:
    principals: list[Item] = []
    for method, key in (("list_users", "Users"), ("list_roles", "Roles")):
        listing = ctx.paginate("iam", method, key)
        if is_unavailable(listing):
            # A partial list would read as "these are all the principals".
            ctx.put("last_accessed", listing)
            return
        principals.extend(listing)
    jobs = _Jobs(ctx, OncePerOperation(ctx), time.monotonic() + _TOTAL_DEADLINE_S)
    # The first principal alone: a denied or unreadable operation is then known before the
    # others start report jobs that nobody could read.
    first = [jobs.last_accessed(p) for p in principals[:1]]
    ctx.put("last_accessed", first + ctx.map(jobs.last_accessed, principals[1:], _WORKERS))


@dataclass
class _Jobs:
    ctx: CollectContext
    once: OncePerOperation  # a denied operation is asked once, not once per principal
    deadline: float

    def last_accessed(self, principal: Item) -> Item:
        arn = str(principal["Arn"])
        out: Item = {"_arn": arn, "_name": principal.get("UserName") or principal.get("RoleName")}
        if time.monotonic() >= self.deadline:
            return out | _unknown(self._late("not started", arn))
        denied = self.once.denied.get("get_service_last_accessed_details")
        if denied is not None:
            return out | _unknown(denied)  # a report that cannot be read is not worth making
        job_id = self.once.call("generate_service_last_accessed_details", pick="JobId", Arn=arn)
        if not job_id:
            job_id = self._fault("generate_service_last_accessed_details", f"{arn}: no JobId")
        if is_unavailable(job_id):
            return out | _unknown(job_id)
        report = self._finished(str(job_id), arn)
        if is_unavailable(report):
            return out | _unknown(report)
        out["JobStatus"] = report.get("JobStatus")
        out["JobCompletionDate"] = report.get("JobCompletionDate")
        if report.get("JobStatus") == "COMPLETED":
            out["ServicesLastAccessed"] = self._all_pages(str(job_id), report)
        else:
            error = report.get("Error") or {}
            out["Error"] = error
            out["ServicesLastAccessed"] = not_ready(
                self.ctx,
                "get_service_last_accessed_details",
                "JobFailed",
                f"{arn}: {report.get('JobStatus')} {error.get('Code', '')} "
                f"{error.get('Message', '')}".strip(),
            )
        return out

    def _finished(self, job_id: str, arn: str) -> Any:
        """The first page of the finished report, or the marker to store in its place."""
        give_up = min(self.deadline, time.monotonic() + _JOB_DEADLINE_S)
        delay = _FIRST_POLL_S
        while True:
            page = self._page(job_id)
            if is_unavailable(page) or page.get("JobStatus") != "IN_PROGRESS":
                return page
            if time.monotonic() + delay > give_up:
                return self._late("still IN_PROGRESS", arn)
            time.sleep(delay)
            delay = min(delay * 2, _MAX_POLL_S)

    def _all_pages(self, job_id: str, first: dict[str, Any]) -> Any:
        services = list(first.get("ServicesLastAccessed") or [])
        page = first
        for _ in range(_MAX_PAGES):
            if not page.get("IsTruncated") or not page.get("Marker"):
                return services
            page = self._page(job_id, Marker=page["Marker"])
            if is_unavailable(page):
                return page  # a partial list would make the rest look unused
            services.extend(page.get("ServicesLastAccessed") or [])
        return self._fault(
            "get_service_last_accessed_details", f"{job_id}: truncated after {_MAX_PAGES} pages"
        )

    def _page(self, job_id: str, **marker: Any) -> Any:
        return self.once.call(
            "get_service_last_accessed_details", JobId=job_id, MaxItems=_PAGE_SIZE, **marker
        )

    def _fault(self, method: str, message: str) -> dict[str, Any]:
        return not_ready(self.ctx, method, "Malformed", message)

    def _late(self, what: str, arn: str) -> dict[str, Any]:
        return not_ready(
            self.ctx, "get_service_last_accessed_details", "ReportNotReady", f"{arn}: {what}"
        )


def _unknown(marker: Any) -> Item:
    return dict.fromkeys(_FIELDS, marker)
