"""The escalation graph's question, "may this subject make this request?", answered cheaply.

The graph builder (edges.py) asks it for every source and candidate target, so an account of
10,000 principals asks it millions of times. Three things keep that near-linear without
changing any answer:

- a decision reads only the identity policies that have statements for the action (with the
  boundary, the SCPs and the caller's type and account), so principals whose permission sets
  differ elsewhere share one evaluation per request; principal-specific policies (variables,
  aws:Principal* conditions) keep their principal's answers its own;
- when every statement that could allow an action names its resources exactly (after
  substituting policy variables), only those resources need to be asked about;
- a subject's request context is built once per region and extra keys, not per request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from mamori.identity.context import ContextValue, RequestContext
from mamori.identity.evaluate import PolicySet, Request, caller_grants, evaluate
from mamori.identity.patterns import Pattern, Template, compile_template
from mamori.identity.policy import CompiledPolicy
from mamori.identity.resolve import Resolver, Subject

GLOBAL_REGION = "us-east-1"
_PROBE_NAME = "x"
# Shared answers kept before the memo is emptied; it only saves work, so a bound on memory
# costs nothing but repeated evaluations.
_ANSWERS_LIMIT = 1_000_000

Answer = tuple[str, ...] | None
_UNKNOWN = object()


class Checker:
    """Answers "may this subject do these actions on that resource" with memoisation."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.evaluations = 0
        self._may: dict[tuple[int, str], bool] = {}
        # Per subject (emptied when the subject changes): its contexts and per-action keys.
        self._subject: Subject | None = None
        self._contexts: dict[tuple[object, ...], RequestContext] = {}
        self._keys: dict[str, tuple[object, ...]] = {}
        self._answers: dict[tuple[object, ...], Answer] = {}
        self._templates: dict[int, Template] = {}

    def may(self, sig: int, subject: Subject, action: str) -> bool:
        """Whether any identity statement could allow `action` (a cheap pre-filter)."""
        key = (sig, action)
        hit = self._may.get(key)
        if hit is None:
            hit = any(st.allow for p in subject.identity for st in p.for_action(action))
            self._may[key] = hit
        return hit

    def _focus(self, subject: Subject) -> None:
        if subject is not self._subject:
            self._subject = subject
            self._contexts.clear()
            self._keys.clear()

    def context(
        self, subject: Subject, region: str, extra: Mapping[str, ContextValue] | None
    ) -> RequestContext:
        """The request context of `subject`'s requests in `region` with `extra` keys."""
        self._focus(subject)
        key = (region, tuple(extra.items()) if extra else ())
        ctx = self._contexts.get(key)
        if ctx is None:
            values = dict(subject.context)
            values["aws:RequestedRegion"] = (region,)
            values["aws:SecureTransport"] = ("true",)
            if extra:
                values.update(extra)
            ctx = self._contexts[key] = RequestContext(values)
        return ctx

    def decision_key(self, subject: Subject, action: str) -> tuple[object, ...]:
        """What a decision on `action` without a resource policy can depend on besides the
        resource, region and extra context keys: equal keys, equal decisions."""
        self._focus(subject)
        key = self._keys.get(action)
        if key is None:
            lowered = action.lower()
            relevant = [p for p in subject.identity if p.for_lowered_action(lowered)]
            boundary, scps, caller = subject.boundary, subject.scps, subject.caller
            personal = (
                any(p.reads_principal for p in relevant)
                or (boundary is not None and boundary.reads_principal)
                or any(p.reads_principal for level in scps or () for p in level)
            )
            key = (
                tuple(id(p) for p in relevant),
                id(boundary),
                id(scps),
                caller.type,
                caller.account,
                caller.in_management_account,
                caller.is_service_linked_role,
                subject.arn if personal else None,
            )
            self._keys[action] = key
        return key

    def allowed(
        self,
        subject: Subject,
        action: str,
        resource: str,
        *,
        extra: Mapping[str, ContextValue] | None = None,
        resource_policy: CompiledPolicy | None = None,
        resource_account: str | None = None,
        region: str = GLOBAL_REGION,
    ) -> Answer:
        """The allowing statements, or None when the request is denied."""
        account = resource_account or subject.account.account_id
        # The context adds only region and extra keys to what the decision key covers.
        extras = tuple(extra.items()) if extra else ()
        memo: tuple[object, ...] = (
            self.decision_key(subject, action),
            action,
            resource,
            account,
            region,
            extras,
        )
        if resource_policy is not None:
            grants = caller_grants(
                resource_policy, action, subject.caller, subject.boundary is not None
            )
            personal = subject.arn if resource_policy.reads_principal else None
            memo = (*memo, id(resource_policy), grants, personal)
        hit = self._answers.get(memo, _UNKNOWN)
        if hit is not _UNKNOWN:
            return hit  # type: ignore[return-value]
        ctx = self.context(subject, region, extra)
        self.evaluations += 1
        decision = evaluate(
            subject.caller,
            PolicySet(
                identity=subject.identity,
                boundary=subject.boundary,
                scps=subject.scps,
                resource=resource_policy,
                resource_account=account,
            ),
            Request(action, resource, ctx),
        )
        answer = tuple(str(ref) for ref in decision.decided_by) if decision.allowed else None
        if len(self._answers) >= _ANSWERS_LIMIT:
            self._answers.clear()
        self._answers[memo] = answer
        return answer

    def exact_resources(
        self,
        subject: Subject,
        action: str,
        extra: Mapping[str, ContextValue] | None = None,
        region: str = GLOBAL_REGION,
    ) -> set[str] | None:
        """The only resources `subject`'s identity policies can allow `action` on, when every
        allowing statement names its resources exactly; None when one has a wildcard or a
        NotResource (then any resource may be allowed). Without a resource policy, a request
        on any other resource is denied."""
        ctx = self.context(subject, region, extra)
        exact: set[str] = set()
        for policy in subject.identity:
            for st in policy.for_action(action):
                if not st.allow:
                    continue
                if st.resources is None or st.not_resource:
                    return None
                for pattern in st.resources:
                    text = self._exact_text(pattern, ctx)
                    if text is False:
                        return None
                    if isinstance(text, str):
                        exact.add(text)
        return exact

    def _exact_text(self, pattern: Pattern, ctx: RequestContext) -> str | bool | None:
        """The one value `pattern` matches in `ctx`; None when it matches nothing there;
        False when it may match several."""
        if pattern.literal is not None:
            return pattern.literal
        if pattern.is_static or pattern.ignore_case or "*" in pattern.text or "?" in pattern.text:
            return False
        # Variables only: the rendered text is compared exactly (substituted text is literal).
        template = self._templates.get(id(pattern))
        if template is None:
            template = self._templates[id(pattern)] = compile_template(pattern.text, variables=True)
        return template.render(ctx)

    def new_resource(
        self,
        subject: Subject,
        action: str,
        arn_prefix: str,
        extra: Mapping[str, ContextValue] | None = None,
        region: str = GLOBAL_REGION,
    ) -> Answer:
        """An action creating or using a resource the attacker names: allowed when some name
        the policies permit is not denied."""
        for resource in _candidate_names(subject, action, arn_prefix):
            found = self.allowed(subject, action, resource, extra=extra, region=region)
            if found is not None:
                return found
        return None


def _candidate_names(subject: Subject, action: str, arn_prefix: str) -> Iterator[str]:
    seen = set()
    yield arn_prefix + _PROBE_NAME
    for policy in subject.identity:
        for st in policy.for_action(action):
            if not st.allow or st.resources is None or st.not_resource:
                continue
            for text in _resource_texts(st.raw):
                concrete = text.replace("*", _PROBE_NAME).replace("?", _PROBE_NAME[0])
                if "${" not in concrete and concrete not in seen:
                    seen.add(concrete)
                    yield concrete


def _resource_texts(raw: dict[str, object]) -> list[str]:
    value = raw.get("Resource")
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]
