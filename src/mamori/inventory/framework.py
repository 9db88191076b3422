"""Collector registry and the context a collector runs in.

A collector is one function per service, registered with the API calls it makes. The calls
are data: `mamori permissions` derives the scanner's least-privilege policy from them, and the
context refuses a call that was not declared, so the policy cannot drift from the code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from botocore.parsers import ResponseParserError

from mamori.aws import AccountSession
from mamori.inventory.snapshot import GLOBAL, CollectionError, Snapshot, unavailable

Scope = Literal["global", "regional"]

# Error codes meaning "you may not read this": recorded, never treated as "nothing there".
_DENIED = (
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnauthorizedAccess",
    "Forbidden",
    "NotAuthorized",
    "AuthFailure",
    "AccessDeniedForDependencyException",
)
_THROTTLED = (
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
)
# Conditions that will not change by calling again in this account and region.
_REGION_OFF = (
    "OptInRequired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SubscriptionRequiredException",
    "AWSOrganizationsNotInUseException",
)
# Answers for an operation the endpoint does not serve: an HTML error page that botocore cannot
# parse (moto's server, some proxies), or moto in-process raising NotImplementedError. Neither
# is an exception botocore maps to ClientError, and neither changes by asking again.
_UNREADABLE = (ResponseParserError, NotImplementedError)


@dataclass(frozen=True)
class Call:
    """One API operation a collector may make, as boto3 names it."""

    service: str  # boto3 client name, e.g. "s3control"
    method: str  # boto3 method name, e.g. "get_public_access_block"


@dataclass(frozen=True)
class CollectorSpec:
    service: str  # the key under which the snapshot stores what it collects
    scope: Scope
    calls: tuple[Call, ...]
    fn: Callable[[CollectContext], None]
    doc: str = ""


COLLECTORS: dict[str, CollectorSpec] = {}


def parse_calls(calls: Iterable[str]) -> tuple[Call, ...]:
    out = []
    for text in calls:
        service, _, method = text.partition(".")
        if not service or not method:
            raise ValueError(f"call {text!r} must be 'client.method'")
        out.append(Call(service, method))
    return tuple(out)


def collector(
    service: str, *, scope: Scope, calls: Iterable[str]
) -> Callable[[Callable[[CollectContext], None]], Callable[[CollectContext], None]]:
    """Register a collector. `calls` are "client.method" strings, e.g. "s3.list_buckets"."""
    parsed = parse_calls(calls)

    def wrap(fn: Callable[[CollectContext], None]) -> Callable[[CollectContext], None]:
        if service in COLLECTORS:
            raise ValueError(f"collector {service!r} registered twice")
        COLLECTORS[service] = CollectorSpec(service, scope, parsed, fn, (fn.__doc__ or "").strip())
        return fn

    return wrap


@dataclass
class _Breaker:
    """Remembers operations that cannot succeed in one account/region (not implemented,
    region not enabled, endpoint unreachable) so that they are not retried per resource."""

    tripped: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class UndeclaredCallError(RuntimeError):
    pass


class CollectContext:
    def __init__(
        self,
        spec: CollectorSpec,
        session: AccountSession,
        region: str,
        api_region: str,
        snapshot: Snapshot,
    ) -> None:
        self.spec = spec
        self.session = session
        self.account_id = session.account_id
        self.region = region  # GLOBAL for global collectors
        self.api_region = api_region  # where to send calls
        self.partition = snapshot.partition
        self.snapshot = snapshot
        self.data: dict[str, Any] = {}
        self._allowed = {(c.service, c.method) for c in spec.calls}
        self._breaker = _Breaker()

    # -- calls ---------------------------------------------------------------------------------

    def client(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region or self.api_region)

    def call(
        self,
        service: str,
        method: str,
        *,
        absent: Iterable[str] = (),
        pick: str | None = None,
        region: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Make one call. Returns the answer (or its `pick` key); None when AWS answers with
        one of the `absent` codes (the thing is simply not configured); an
        unavailable-marker when it could not be read."""
        self._check_declared(service, method)
        tripped = self._breaker.tripped.get((service, method))
        if tripped is not None:
            return tripped
        try:
            answer = getattr(self.client(service, region), method)(**kwargs)
            return answer.get(pick) if pick is not None else answer
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            if code in set(absent):
                return None
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return self._fail(
                service,
                method,
                code,
                str(exc),
                sticky=(code in _REGION_OFF or status >= 500 or code == "NotImplemented"),
            )
        except EndpointConnectionError as exc:
            return self._fail(service, method, "EndpointUnreachable", str(exc), sticky=True)
        except BotoCoreError as exc:
            return self._fail(service, method, type(exc).__name__, str(exc), sticky=False)
        except ValueError as exc:  # botocore parsers raise these on answers they cannot read
            return self._fail(service, method, "UnparseableResponse", str(exc), sticky=True)
        except _UNREADABLE as exc:
            return self._unreadable(service, method, exc)

    def paginate(
        self,
        service: str,
        method: str,
        key: str,
        *,
        absent: Iterable[str] = (),
        region: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """All items under `key` across pages; an unavailable-marker if any page failed."""
        self._check_declared(service, method)
        tripped = self._breaker.tripped.get((service, method))
        if tripped is not None:
            return tripped
        items: list[Any] = []
        try:
            client = self.client(service, region)
            if client.can_paginate(method):
                for page in client.get_paginator(method).paginate(**kwargs):
                    items.extend(page.get(key, []))
            else:
                items.extend(getattr(client, method)(**kwargs).get(key, []))
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            if code in set(absent):
                return []
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return self._fail(
                service,
                method,
                code,
                str(exc),
                sticky=(code in _REGION_OFF or status >= 500 or code == "NotImplemented"),
            )
        except EndpointConnectionError as exc:
            return self._fail(service, method, "EndpointUnreachable", str(exc), sticky=True)
        except (BotoCoreError, ValueError) as exc:
            return self._fail(service, method, type(exc).__name__, str(exc), sticky=False)
        except _UNREADABLE as exc:
            return self._unreadable(service, method, exc)
        return items

    def _unreadable(self, service: str, method: str, exc: Exception) -> dict[str, Any]:
        code = "NotImplemented" if isinstance(exc, NotImplementedError) else "UnparseableResponse"
        return self._fail(service, method, code, str(exc), sticky=True)

    def _check_declared(self, service: str, method: str) -> None:
        if (service, method) not in self._allowed:
            raise UndeclaredCallError(
                f"collector {self.spec.service!r} called {service}.{method} without declaring it"
            )

    def _fail(
        self, service: str, method: str, code: str, message: str, sticky: bool
    ) -> dict[str, Any]:
        label = classify(code)
        marker = unavailable(label if label != "Error" else code, message)
        self.snapshot.record_error(
            CollectionError(
                account=self.account_id,
                region=self.region,
                service=self.spec.service,
                operation=f"{service}:{method}",
                code=code,
                message=message[:500],
            )
        )
        if sticky:
            with self._breaker.lock:
                self._breaker.tripped[(service, method)] = marker
        return marker

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], workers: int = 8) -> list[Any]:
        """fn over items with a few threads, results in order: per-resource calls (a bucket's
        nine settings, a user's keys) are latency-bound, and botocore clients are
        thread-safe."""
        todo = list(items)
        if len(todo) < 2 or workers < 2:
            return [fn(i) for i in todo]
        with ThreadPoolExecutor(
            max_workers=min(workers, len(todo)), thread_name_prefix=f"collect-{self.spec.service}"
        ) as pool:
            return list(pool.map(fn, todo))

    # -- results -------------------------------------------------------------------------------

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value

    def arn(
        self, service: str, resource: str, *, region: str | None = None, account: str | None = None
    ) -> str:
        reg = self.region if region is None else region
        if reg == GLOBAL:
            reg = ""
        acct = self.account_id if account is None else account
        return f"arn:{self.partition}:{service}:{reg}:{acct}:{resource}"


def classify(code: str) -> str:
    if code in _DENIED or "AccessDenied" in code or "Unauthorized" in code:
        return "AccessDenied"
    if code in _THROTTLED or "Throttl" in code:
        return "Throttled"
    if code in _REGION_OFF:
        return "NotEnabled"
    return "Error"
