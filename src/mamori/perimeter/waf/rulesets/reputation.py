"""IP reputation groups (from IP lists the user supplies) and a bot-control group driven by the
User-Agent and header signals.

AWS fills AmazonIpReputationList and AnonymousIpList from its own threat intelligence; Mamori
has none, so each of their rules references an IP set by a fixed ARN (`list_arn(rule)`) that the
user supplies like any other referenced IP set: `-R reputation.json` on the command line,
`resources=[...]` in `load_web_acl`. That needs no new option or environment variable, the
file is validated like every IP set, and a Web ACL that uses the group without its lists is
refused by `mamori waf test` and warned about by `mamori waf validate`, naming the ARN.
An IP set with no addresses switches a list off.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from mamori.perimeter.waf.rulesets._dsl import (
    GroupSpec,
    RuleSpec,
    Statement,
    any_of,
    header,
    ip_set,
    larger_than,
    not_,
    regex,
    register,
)

_ARN_PREFIX = "arn:aws:wafv2:global:aws:managed-ip-list/"


def list_arn(rule: str) -> str:
    """The ARN under which a managed IP-list rule looks for its IP set."""
    return _ARN_PREFIX + rule


def ip_list_document(rule: str, addresses: Iterable[str]) -> dict[str, Any]:
    """An IPSet document (as `get-ip-set` prints it) that feeds the managed rule `rule`."""
    listed = sorted({a.strip() for a in addresses if a.strip() and not a.lstrip().startswith("#")})
    version = "IPV6" if listed and all(":" in a for a in listed) else "IPV4"
    return {
        "IPSet": {
            "Name": rule,
            "Id": str(uuid.uuid5(uuid.NAMESPACE_URL, list_arn(rule))),
            "ARN": list_arn(rule),
            "IPAddressVersion": version,
            "Addresses": listed,
            "Description": f"Addresses for the managed rule {rule}",
        }
    }


def _listed(rule: str, label: str, description: str, action: str = "Block") -> RuleSpec:
    return RuleSpec(rule, label, ip_set(list_arn(rule)), description, action)


_IP_NOTE = (
    "Mamori has no threat intelligence of its own: supply an IPSet document per rule with the "
    "ARN `arn:aws:wafv2:global:aws:managed-ip-list/<rule name>`."
)

IP_REPUTATION = register(GroupSpec(
    name="AWSManagedRulesAmazonIpReputationList",
    capacity=25,
    namespace="awswaf:managed:aws:amazon-ip-list:",
    description="IP reputation: addresses known for malicious activity, reconnaissance and "
    "DDoS, from lists you supply.",
    rules=(
        _listed("AWSManagedIPReputationList", "AWSManagedIPReputationList",
                "Client addresses in your list of addresses known for malicious activity."),
        _listed("AWSManagedReconnaissanceList", "AWSManagedReconnaissanceList",
                "Client addresses in your list of scanners and reconnaissance sources."),
        _listed("AWSManagedIPDDoSList", "AWSManagedIPDDoSList",
                "Client addresses in your list of DDoS sources (Count by default, as at AWS).",
                "Count"),
    ),
    notes=_IP_NOTE,
))  # fmt: skip

ANONYMOUS_IP = register(GroupSpec(
    name="AWSManagedRulesAnonymousIpList",
    capacity=50,
    namespace="awswaf:managed:aws:anonymous-ip-list:",
    description="Anonymous IP: VPNs, proxies, Tor exit nodes and hosting providers, from lists "
    "you supply.",
    rules=(
        _listed("AnonymousIPList", "AnonymousIPList",
                "Client addresses in your list of anonymisers (VPN, open proxies, Tor exits)."),
        _listed("HostingProviderIPList", "HostingProviderIPList",
                "Client addresses in your list of hosting and cloud providers."),
    ),
    notes=_IP_NOTE,
))  # fmt: skip


# -- bot control --------------------------------------------------------------------------------

UA = header("user-agent")
_UA_STEPS = ("LOWERCASE",)

# Families per AWS Bot Control category, as substrings of the lowercase User-Agent. The
# categories whose members AWS verifies by reverse DNS (search engines, social media, AI
# crawlers...) only label and count here: Mamori makes no network calls at run time, so it
# cannot tell the real crawler from an impostor, and blocking the real one costs more.
BOT_FAMILIES: dict[str, tuple[str, str, str]] = {
    # rule: (label category, action, RE2 alternation)
    "CategoryHttpLibrary": (
        "http_library",
        "Block",
        r"curl/|wget/|python-requests|python-urllib|python-httpx|aiohttp|httpie|go-http-client"
        r"|okhttp|apache-httpclient|java/\d|libwww-perl|lwp::|guzzlehttp|node-fetch|axios/"
        r"|undici|got \(|ruby|faraday|rest-client|restsharp|windowspowershell|winhttp|libcurl"
        r"|reqwest|hyper/|dart:io|urlgrabber|pycurl",
    ),
    "CategorySecurity": (
        "security",
        "Block",
        r"sqlmap|nikto|nmap|masscan|zgrab|nuclei|wpscan|acunetix|nessus|openvas|dirbuster"
        r"|gobuster|feroxbuster|ffuf|wfuzz|whatweb|burp|zap/|owasp zap|netsparker|qualys"
        r"|censysinspect|shodan|internet-measurement|expanse|l9explore|leakix|\bhydra\b",
    ),
    "CategoryScrapingFramework": (
        "scraping_framework",
        "Block",
        r"scrapy|colly|httrack|mechanize|crawler4j|nutch|heritrix|webcopier|teleport ?pro"
        r"|sitesucker|grab/",
    ),
    "CategorySearchEngine": (
        "search_engine",
        "Count",
        r"googlebot|bingbot|yandexbot|baiduspider|duckduckbot|applebot|slurp|sogou|seznambot"
        r"|petalbot|naver|yeti/",
    ),
    "CategorySocialMedia": (
        "social_media",
        "Count",
        r"facebookexternalhit|facebot|twitterbot|linkedinbot|slackbot|discordbot|telegrambot"
        r"|whatsapp|pinterest|redditbot|skypeuripreview",
    ),
    "CategoryAI": (
        "ai",
        "Count",
        r"gptbot|chatgpt-user|oai-searchbot|claudebot|claude-web|anthropic-ai|ccbot"
        r"|perplexitybot|bytespider|google-extended|amazonbot|cohere-ai|diffbot|youbot",
    ),
    "CategorySeo": (
        "seo",
        "Count",
        r"ahrefsbot|semrushbot|mj12bot|dotbot|rogerbot|screaming frog|serpstatbot|blexbot"
        r"|dataforseobot",
    ),
    "CategoryMonitoring": (
        "monitoring",
        "Count",
        r"uptimerobot|pingdom|statuscake|site24x7|newrelicpinger|datadog|elb-healthchecker"
        r"|kube-probe|googlestackdrivermonitoring|better ?uptime",
    ),
    "CategoryArchiver": ("archiver", "Count", r"ia_archiver|archive\.org_bot|arquivo-web-crawler"),
    "CategoryLinkChecker": (
        "link_checker",
        "Count",
        r"w3c-checklink|linkchecker|xenu|deadlinkchecker|brokenlinkcheck",
    ),
}

# A bot a counting category labelled (search engine, social media...) is not blocked again as
# a non-browser client: the blocking categories have ended the evaluation already.
_CATEGORISED: Statement = {"LabelMatchStatement": {
    "Scope": "NAMESPACE", "Key": "awswaf:managed:aws:bot-control:bot:category:"}}  # fmt: skip
_AUTOMATED = r"headlesschrome|phantomjs|selenium|webdriver|puppeteer|playwright|slimerjs|nightmare"
_BROWSER = r"^mozilla/\d"


def _bot_rules() -> tuple[RuleSpec, ...]:
    rules = [
        RuleSpec(rule, f"bot:category:{category}", regex(pattern, UA, _UA_STEPS),
                 f"User-Agent of a {category.replace('_', ' ')} bot ({_sample(pattern)}...)."
                 + (" Labels and counts: Mamori cannot verify these bots." if action == "Count"
                    else ""), action)
        for rule, (category, action, pattern) in BOT_FAMILIES.items()
    ]  # fmt: skip
    browser_ua = regex(_BROWSER, UA, _UA_STEPS)
    rules += [
        RuleSpec(
            "SignalAutomatedBrowser",
            "signal:automated_browser",
            regex(_AUTOMATED, UA, _UA_STEPS),
            "A User-Agent of a headless or automated browser (HeadlessChrome, PhantomJS, "
            "Selenium, Puppeteer, Playwright).",
        ),
        RuleSpec(
            "SignalNonBrowserUserAgent",
            "signal:non_browser_user_agent",
            {"AndStatement": {"Statements": [not_(browser_ua), not_(_CATEGORISED)]}},
            "A User-Agent that is not a web browser's (none, or not starting Mozilla/), "
            "from a client no category rule above labelled.",
        ),
        RuleSpec(
            "SignalBrowserInconsistency",
            "signal:browser_inconsistency",
            _missing_browser_headers(browser_ua),
            "A browser's User-Agent without the Accept or Accept-Language header every "
            "browser sends (Mamori's signal; AWS has it only at the targeted level, where "
            "it also answers with a CAPTCHA).",
            "Captcha",
        ),
    ]
    return tuple(rules)


def _missing_browser_headers(browser_ua: Statement) -> Statement:
    absent = any_of(not_(larger_than(header("accept"), 0)),
                    not_(larger_than(header("accept-language"), 0)))  # fmt: skip
    return {"AndStatement": {"Statements": [browser_ua, absent]}}


def _sample(pattern: str) -> str:
    return ", ".join(p.replace("\\", "") for p in pattern.split("|")[:4])


BOT_CONTROL = register(GroupSpec(
    name="AWSManagedRulesBotControlRuleSet",
    capacity=50,
    namespace="awswaf:managed:aws:bot-control:",
    description="Bot control (common level): bots by category from the User-Agent, automated "
    "browsers, non-browser clients and browser inconsistencies.",
    rules=_bot_rules(),
    notes="Categories are recognised from the User-Agent alone (no IP or TLS fingerprinting, "
    "no reverse-DNS verification); per-bot `bot:name:` labels and SignalKnownBotDataCenter are "
    "not produced.",
))  # fmt: skip
