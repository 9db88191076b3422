"""Web ACLs over Mamori's managed rule groups, and requests as browsers and attackers send them."""

from __future__ import annotations

from typing import Any

from mamori.perimeter.waf import Verdict, WebAcl, build_web_acl, collect_resources, parse_document
from mamori.perimeter.waf.request import Request
from mamori.perimeter.waf.rulesets import CATALOGUE, web_acl_document
from mamori.perimeter.waf.rulesets.reputation import ip_list_document

BROWSER = {
    "Host": "shop.example.com",
    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
}


def managed_acl(
    group: str,
    *,
    reference: dict[str, Any] | None = None,
    lists: dict[str, list[str]] | None = None,
) -> WebAcl:
    """A Web ACL running `group` alone (its reference extended by `reference`), with IP lists
    for the reputation groups (every list of `group` supplied, empty unless `lists` fills it)."""
    doc = web_acl_document([group])
    doc["WebACL"]["Rules"][0]["Statement"]["ManagedRuleGroupStatement"].update(reference or {})
    ip_docs = [
        parse_document(ip_list_document(r.name, (lists or {}).get(r.name, [])), "list.json")
        for name in ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList")
        for r in CATALOGUE[name].rules
    ]
    return build_web_acl(parse_document(doc, "webacl.json"), collect_resources(ip_docs))


def judge(
    acl: WebAcl,
    uri: str = "/",
    *,
    method: str = "GET",
    body: str | bytes = b"",
    headers: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
    ip: str = "198.51.100.7",
) -> Verdict:
    sent = {k: v for k, v in {**BROWSER, **(headers or {})}.items() if k not in drop}
    return acl.evaluate(Request.build(method, uri, sent, body, ip))


def hit(verdict: Verdict) -> str | None:
    """The managed rule that ended the evaluation, or None when the request passed."""
    return verdict.rule_group_rule if verdict.action != "ALLOW" else None
