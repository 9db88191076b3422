"""An AWS WAF-compatible engine: Web ACL JSON (as `aws wafv2 get-web-acl` prints it) checked
like the API checks it, compiled once into closures, and evaluated per request.

    acl = load_web_acl("webacl.json", resources=["ipset.json"])
    verdict = evaluate(acl, Request.build("GET", "/?id=1' or 1=1--", {"Host": "x"}))
"""

from mamori.perimeter.waf.compiler import Action, Resources, Verdict, WebAcl
from mamori.perimeter.waf.logs import WafLogger, log_record
from mamori.perimeter.waf.managed import ManagedGroup, managed_group
from mamori.perimeter.waf.middleware import WafMiddleware, WafWsgiMiddleware
from mamori.perimeter.waf.model import (
    Document,
    Report,
    build_web_acl,
    collect_resources,
    load_web_acl,
    parse_document,
    read_document,
    validate,
)
from mamori.perimeter.waf.request import Request


def evaluate(web_acl: WebAcl, request: Request) -> Verdict:
    """The action AWS WAF would take on `request`, with the rule and labels behind it."""
    return web_acl.evaluate(request)


__all__ = [
    "Action",
    "Document",
    "ManagedGroup",
    "Report",
    "Request",
    "Resources",
    "Verdict",
    "WafLogger",
    "WafMiddleware",
    "WafWsgiMiddleware",
    "WebAcl",
    "build_web_acl",
    "collect_resources",
    "evaluate",
    "load_web_acl",
    "log_record",
    "managed_group",
    "parse_document",
    "read_document",
    "validate",
]
