"""Baseline groups: AWSManagedRulesCommonRuleSet (core rule set) and
AWSManagedRulesKnownBadInputsRuleSet, under AWS's rule names and labels.

The rule names, labels, sizes and what each rule inspects follow the AWS WAF developer guide;
the patterns are Mamori's own, written for the attack classes the guide names. Patterns run
after the DECODED chain (double URL decoding, JavaScript and HTML escapes, lowercase).
"""

from __future__ import annotations

from mamori.perimeter.waf.rulesets._dsl import (
    BODY,
    COOKIES,
    DECODED_JS,
    HEADERS,
    METHOD,
    QUERY_ARGS,
    QUERY_STRING,
    URI_PATH,
    GroupSpec,
    RuleSpec,
    Statement,
    any_of,
    any_regex,
    byte_match,
    header,
    larger_than,
    not_,
    regex,
    register,
    xss,
)

# Scanners and attack tools that announce themselves in the User-Agent.
BAD_BOTS = (
    r"\b(?:nessus|nmap|nikto|sqlmap|masscan|zgrab|dirbuster|gobuster|feroxbuster|wpscan"
    r"|acunetix|netsparker|openvas|w3af|nuclei|havij|zmeu|arachni|skipfish|commix|whatweb"
    r"|wfuzz|fuzz faster u fool|jorgee|morfeus|paros|webinspect|appscan|hydra)\b"
)

# The instance metadata service, by name and by the spellings of its address that URL parsers
# accept (dotted, decimal, hexadecimal, octal, IPv6).
EC2_METADATA = (
    r"169\.254\.169\.254",
    r"\b(?:2852039166|0xa9fea9fe|0xa9\.0xfe\.0xa9\.0xfe|0251\.0376\.0251\.0376)\b",
    r"\[?fd00:ec2::254\]?",
    r"\binstance-data(?:\.ec2\.internal)?\b",
    r"/latest/(?:meta-data|user-data|api/token|dynamic/instance-identity)\b",
)

# Path traversal: two levels up, or one level up into a well-known sensitive location.
# (A single "../" alone is too common in code and prose to block in a body.) Slashes include
# the look-alikes that Windows' best-fit mapping turns into one (U+2215, U+2044).
TRAVERSAL = (
    r"(?:\.\.(?:[\\/]|\x{2215}|\x{2044})+){2,}",
    r"\.\.;?[\\/]+(?:etc|proc|windows|winnt|boot\.ini|win\.ini|web-inf|\.env|\.git|\.ssh)\b",
    r"(?:^|[\\/])\.\.(?:;[\\/]|[\\/]?$)",
    r"\bfile:/{2,3}(?:etc|proc|[a-z]:)",
)

# Remote file inclusion: a URL whose host is an IPv4 address (the guide's description), and
# Mamori's additions for named hosts: a URL ending in "?" (which turns the suffix the including
# code appends into a query string), an FTP URL to a script or text file, and a UNC path to a
# dotted host name or address (SMB, which Windows' file functions open like a local file).
RFI = (
    r"\b(?:https?|ftps?|file)://\d{1,3}(?:\.\d{1,3}){3}\b",
    r"\b(?:https?|ftps?)://[^\s\"'<>?#]+\?+(?:$|[\s\"'&\x00])",
    r"\bftps?://[^\s\"'<>/]+/[^\s\"'<>]*\.(?:php\d?|phtml|inc|txt|sh|pl|py|cgi|aspx?|jsp)\b",
    r"(?:^|[\s=&\"'])\\\\[a-z0-9\-]+(?:\.[a-z0-9\-]+)+\\+[\w$.\-]+\\",  # dotted host
)

# Files that should never be served: logs, configuration, backups, keys, databases.
RESTRICTED_EXT = (
    r"\.(?:log|ini|conf|cfg|config|bak|backup|old|orig|save|swp|swo|sql|sqlite3?|mdb|db"
    r"|env|htaccess|htpasswd|pem|key|p12|pfx|inc|dist)$",
)


def _per_part(
    prefix: str,
    label: str,
    patterns: tuple[str, ...],
    parts: tuple[tuple[str, str, Statement], ...],
    what: str,
    backslashes: bool = False,
) -> tuple[RuleSpec, ...]:
    """One rule per request component, named and labelled as AWS names them."""
    return tuple(
        RuleSpec(f"{prefix}_{suffix}", f"{label}_{label_suffix}",
                 any_regex(patterns, where, backslashes=backslashes),
                 f"{what} in {where_text(where)}.")
        for suffix, label_suffix, where in parts
    )  # fmt: skip


def where_text(where: Statement) -> str:
    kind = next(iter(where))
    return {
        "UriPath": "the URI path", "QueryString": "the query string",
        "AllQueryArguments": "the values of all query arguments",
        "Body": "the body (JSON's \\uXXXX and backslash escapes decoded too)",
        "Cookies": "the cookies", "Headers": "all headers", "SingleHeader": "the header",
    }.get(kind, kind)  # fmt: skip


def _spaced(word: str) -> str:
    """`word` with the tabs and newlines browsers drop inside a URL scheme allowed between its
    letters (java\\tscript:)."""
    return "[\\t\\n\\r]*".join(word)


# What XssMatch (libinjection's tokeniser) lets through, over the DECODED value (lowercase):
# script that runs without new markup, and markup libinjection does not know.
XSS_EXTRA = (
    # event handlers in a tag, whatever the event's name (<marquee onbounce=, <dialog onclose=)
    r"<[a-z][\w-]*[\s/](?:[^>]*[\s\"'/])?on[a-z]{3,}\s*=",
    # on{event= and on`event=: junk some browsers skip in an attribute name
    r"\bon[{\x60][a-z]{2,}\s*=",
    # script URIs split by tabs or newlines, which browsers remove from the scheme
    _spaced("javascript") + r"[\t\n\r]*:[\t\n\r]*[\w$.\[\]'\"?]+\s*[(\x60=]",
    r"\bdata:\s*(?:text|application)/(?:javascript|ecmascript)\b",
    # the dialog functions payloads prove execution with, called directly, optionally (?.),
    # through call/apply/bind or as a tagged template; the argument must look like a payload's
    # (a number, a string, document/window, nothing) so prose such as "alert(s)" passes
    r"\b(?:alert|prompt|confirm)(?:\??\.(?:call|apply|bind)|\?\.)?\s*(?:\(\s*(?:\d|['\"\x60/]"
    r"|document\b|window\b|null\b|this\b|\))|\x60)",
    r"\breflect\s*\.\s*(?:apply|construct)\s*\(\s*(?:alert|prompt|confirm|eval|function)\b",
    # reaching the Function constructor (sandbox escapes in client-side templates)
    r"\bconstructor['\"\]]*\s*(?:\.|\[\s*['\"])\s*constructor\b",
    r"\$(?:eval|on|event)\s*\.\s*constructor\b",
    # a property name assembled from strings and called: window['ale'+'rt'](1) (the second URL
    # decoding may have turned the + into a space)
    r"['\"\x60][\s+]+['\"\x60][\w$]*['\"\x60]\s*\]\s*[(=]",
    # ASCII spelled as JavaScript escapes, three or more in a row (\\x61\\x6c\\x65...)
    r"(?:\\+(?:x[0-7][0-9a-f]|u00[0-7][0-9a-f]|u\{0*[0-7][0-9a-f]\})){3,}",
    r"\bdocument\s*\.\s*(?:cookie|domain)\b",
    # closing a script or style block to start one's own
    r"</(?:script|style)\s*>",
)


def _xss_rules() -> tuple[RuleSpec, ...]:
    parts = (("COOKIE", "Cookie", COOKIES), ("QUERYARGUMENTS", "QueryArguments", QUERY_ARGS),
             ("BODY", "Body", BODY), ("URIPATH", "URIPath", URI_PATH))  # fmt: skip
    return tuple(
        RuleSpec(f"CrossSiteScripting_{s}", f"CrossSiteScripting_{lab}",
                 any_of(xss(where), any_regex(XSS_EXTRA, where)),
                 f"Cross-site scripting (XssMatch: libinjection's HTML5 tokeniser and Mamori's "
                 "script-URI and event-handler patterns; and Mamori's patterns for what needs "
                 "no new markup: any event handler in a tag, on{event= junk, script URIs split "
                 "by tabs, alert/prompt/confirm calls, Function-constructor escapes, JavaScript "
                 f"escapes, </script>) in {where_text(where)}, URL- and HTML-entity-decoded, "
                 "whitespace compressed.")
        for s, lab, where in parts
    )  # fmt: skip


_ARGS_BODY_COOKIE_PATH = (
    ("QUERYARGUMENTS", "QueryArguments", QUERY_ARGS), ("BODY", "Body", BODY),
    ("COOKIE", "Cookie", COOKIES), ("URIPATH", "URIPath", URI_PATH),
)  # fmt: skip

COMMON = register(GroupSpec(
    name="AWSManagedRulesCommonRuleSet",
    capacity=700,
    namespace="awswaf:managed:aws:core-rule-set:",
    description="Core rule set: request size limits, bad bots, SSRF to the instance metadata "
    "service, local and remote file inclusion, cross-site scripting, restricted file extensions.",
    rules=(
        RuleSpec("NoUserAgent_HEADER", "NoUserAgent_Header",
                 not_(larger_than(header("user-agent"), 0)),
                 "Requests without a User-Agent header (or with an empty one)."),
        RuleSpec("UserAgent_BadBots_HEADER", "BadBots_Header",
                 regex(BAD_BOTS, header("user-agent")),
                 "A User-Agent naming a vulnerability scanner or attack tool (nessus, nmap, "
                 "nikto, sqlmap, nuclei...)."),
        RuleSpec("SizeRestrictions_QUERYSTRING", "SizeRestrictions_QueryString",
                 larger_than(QUERY_STRING, 2048), "A query string over 2,048 bytes."),
        RuleSpec("SizeRestrictions_Cookie_HEADER", "SizeRestrictions_Cookie_Header",
                 larger_than(header("cookie"), 10240), "A Cookie header over 10,240 bytes."),
        RuleSpec("SizeRestrictions_BODY", "SizeRestrictions_Body",
                 larger_than({"Body": {"OversizeHandling": "MATCH"}}, 8192),
                 "A body over 8 KB (8,192 bytes)."),
        RuleSpec("SizeRestrictions_URIPATH", "SizeRestrictions_URIPath",
                 larger_than(URI_PATH, 1024), "A URI path over 1,024 bytes."),
        *_per_part("EC2MetaDataSSRF", "EC2MetaDataSSRF", EC2_METADATA,
                   (("BODY", "Body", BODY), ("COOKIE", "Cookie", COOKIES),
                    ("URIPATH", "URIPath", URI_PATH),
                    ("QUERYARGUMENTS", "QueryArguments", QUERY_ARGS)),
                   "Attempts to reach the EC2 instance metadata service (its address in dotted, "
                   "decimal, hex, octal and IPv6 forms, instance-data, /latest/meta-data/)"),
        *_per_part("GenericLFI", "GenericLFI", TRAVERSAL,
                   (("QUERYARGUMENTS", "QueryArguments", QUERY_ARGS),
                    ("URIPATH", "URIPath", URI_PATH), ("BODY", "Body", BODY)),
                   "Local file inclusion by path traversal (../ repeated or into a sensitive "
                   "directory, also encoded, doubly encoded and with backslashes)",
                   backslashes=True),
        *_per_part("RestrictedExtensions", "RestrictedExtensions", RESTRICTED_EXT,
                   (("URIPATH", "URIPath", URI_PATH),
                    ("QUERYARGUMENTS", "QueryArguments", QUERY_ARGS)),
                   "A file extension that is unsafe to serve (.log, .ini, .bak, .sql, .env, "
                   ".pem...) ending a value"),
        *_per_part("GenericRFI", "GenericRFI", RFI,
                   (("QUERYARGUMENTS", "QueryArguments", QUERY_ARGS), ("BODY", "Body", BODY),
                    ("URIPATH", "URIPath", URI_PATH)),
                   "Remote file inclusion: a URL (http, https, ftp, ftps, file) whose host is an "
                   "IPv4 address, a URL ending in ? (to cut off an appended suffix), an FTP URL to "
                   "a script or text file, a UNC path (\\\\host\\share\\)", backslashes=True),
        *_xss_rules(),
    ),
))  # fmt: skip


# -- known bad inputs ---------------------------------------------------------------------------

# Java deserialization and expression-language RCE: the serialized-object stream header in its
# text encodings, classes that gadget chains and Spring exploits need, and class-loader access.
JAVA_RCE = (
    r"\baced0005",
    r"\bjava\.lang\.(?:runtime|processbuilder|reflect\.method)\b",
    r"\bgetruntime\s*\(\s*\)\s*\.\s*exec\s*\(",
    r"\bt\s*\(\s*java\.lang\.",
    r"\bclass\.module\.classloader\b",
    r"\bspring\.cloud\.function\.routing-expression\b",
    r"\b(?:invokertransformer|instantiatetransformer|templatesimpl|jdbcrowsetimpl"
    r"|badattributevalueexpexception|annotationinvocationhandler|ysoserial)\b",
    r"\"@type\"\s*:\s*\"(?:com\.sun|java\.|javax\.|org\.apache|com\.mchange|org\.springframework)",
)
# The base64 and raw forms are case-sensitive, so they are byte matches without LOWERCASE.
JAVA_STREAM = (b"rO0AB", b"\xac\xed\x00\x05")

# Log4Shell (CVE-2021-44228 and its bypasses): a JNDI lookup, written directly or assembled
# from nested lookups (${${lower:j}ndi:, ${${::-j}${::-n}di:, ${j${env:x:-n}di:), and lookups
# that only make sense for exfiltration through one.
LOG4J = (
    r"\$\{\s*jndi\s*:",
    r"\$\{[^}]{0,40}\$\{\s*(?:lower|upper|env|sys|date|main|ctx|k8s|docker|bundle|java|web"
    r"|log4j|spring|base64|sd|map|marker|event|jvmrunargs|hostname)?\s*:{1,2}-?",
    r"\$\{\s*(?:java|sys|k8s|docker|jvmrunargs|log4j|spring|bundle)\s*:[\w.\-]*\}",
    r"\bjndi\s*:\s*(?:ldaps?|rmi|dns|iiop|corba|nds|nis|https?)\s*:\s*/",
)

# Paths of admin consoles, debug endpoints, source control and framework internals that are
# exploited when exposed.
EXPLOITABLE_PATHS = (
    r"/(?:web|meta)-inf(?:/|$)",
    r"/\.(?:git|svn|hg|bzr|aws|ssh|docker)(?:/|$)",
    r"/\.env(?:\.|$)",
    r"/actuator/(?:env|heapdump|jolokia|gateway|shutdown|threaddump|loggers)\b",
    r"/(?:jolokia|jmx-console|web-console|invoker/jmxinvokerservlet|manager/html)\b",
    r"/phpunit/.*eval-stdin\.php",
    r"/_ignition/execute-solution",
    r"/(?:server-status|server-info)$",
    r"/cgi-bin/.*\.(?:sh|cgi|pl)$",
    r"/(?:hnap1|boaform|setup\.cgi|goform)\b",
)

KNOWN_BAD = register(GroupSpec(
    name="AWSManagedRulesKnownBadInputsRuleSet",
    capacity=200,
    namespace="awswaf:managed:aws:known-bad-inputs:",
    description="Known bad inputs: Java deserialization and Spring RCE, Log4Shell (JNDI "
    "lookups), localhost Host headers, PROPFIND, exploitable paths.",
    rules=(
        *(RuleSpec(f"JavaDeserializationRCE_{s}", f"JavaDeserializationRCE_{lab}",
                   any_of(any_regex(JAVA_RCE, where),
                          *(byte_match(b, where, steps=("URL_DECODE_UNI",)) for b in JAVA_STREAM)),
                   "Java deserialization and Spring/expression-language RCE in "
                   f"{where_text(where)}: serialized-object streams (raw, hex, base64), "
                   "gadget classes, Runtime.exec, class-loader access.")
          for s, lab, where in (("HEADER", "Header", HEADERS), ("BODY", "Body", BODY),
                                ("URIPATH", "URIPath", URI_PATH),
                                ("QUERYSTRING", "QueryString", QUERY_STRING))),
        RuleSpec("Host_localhost_HEADER", "Host_Localhost_Header",
                 regex(r"^(?:localhost|127(?:\.\d{1,3}){3}|\[?::1\]?|0\.0\.0\.0)(?::\d+)?$",
                       header("host"), ("LOWERCASE", "TRIM")),
                 "A Host header naming localhost or a loopback address."),
        RuleSpec("PROPFIND_METHOD", "Propfind_Method",
                 byte_match(b"PROPFIND", METHOD, "EXACTLY", ("UPPERCASE",)),
                 "The WebDAV PROPFIND method."),
        RuleSpec("ExploitablePaths_URIPATH", "ExploitablePaths_URIPath",
                 any_regex(EXPLOITABLE_PATHS, URI_PATH),
                 "Paths exploited when exposed: WEB-INF, source control (.git, .svn), .env, "
                 "Spring actuators, JMX consoles, PHPUnit's eval-stdin, router CGI."),
        *(RuleSpec(f"Log4JRCE_{s}", f"Log4JRCE_{lab}", any_regex(LOG4J, where, DECODED_JS),
                   f"Log4Shell JNDI lookups in {where_text(where)}, including nested and "
                   "obfuscated lookups (${${lower:j}ndi:, ${::-j}...) and escaped forms.")
          for s, lab, where in (("HEADER", "Header", HEADERS),
                                ("QUERYSTRING", "QueryString", QUERY_STRING),
                                ("BODY", "Body", BODY), ("URIPATH", "URIPath", URI_PATH))),
    ),
))  # fmt: skip
