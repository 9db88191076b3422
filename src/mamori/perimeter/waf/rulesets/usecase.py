"""Use-case groups: SQL database, Linux, POSIX (Unix), Windows, PHP and WordPress, under AWS's
rule names and labels, with Mamori's own patterns.
"""

from __future__ import annotations

from mamori.perimeter.waf.rulesets._dsl import (
    BODY,
    CMD_UNIX,
    CMD_WIN,
    COOKIES,
    QUERY_ARGS,
    QUERY_STRING,
    URI_PATH,
    GroupSpec,
    RuleSpec,
    Statement,
    any_of,
    any_regex,
    register,
    sqli,
)
from mamori.perimeter.waf.rulesets.baseline import where_text

_PARTS: dict[str, tuple[str, Statement]] = {
    "QUERYARGUMENTS": ("QueryArguments", QUERY_ARGS), "QUERYSTRING": ("QueryString", QUERY_STRING),
    "BODY": ("Body", BODY), "COOKIE": ("Cookie", COOKIES), "URIPATH": ("URIPath", URI_PATH),
    "HEADER": ("Header", {"Headers": {"MatchPattern": {"All": {}}, "MatchScope": "VALUE",
                                      "OversizeHandling": "CONTINUE"}}),
}  # fmt: skip


def per_part(
    prefix: str,
    parts: tuple[str, ...],
    patterns: tuple[str, ...],
    what: str,
    normalised: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    backslashes: bool = False,
) -> tuple[RuleSpec, ...]:
    """`prefix_PART` rules labelled `prefix_Part`, as AWS names them: `patterns` over the
    DECODED value, plus `normalised` = (patterns, chain) over a command-line normalisation
    (which deletes quotes and separators, so it needs patterns of its own). `backslashes` as
    for `any_regex`."""
    out = []
    for part in parts:
        label, where = _PARTS[part]
        stmt = any_regex(patterns, where, backslashes=backslashes)
        if normalised is not None:
            stmt = any_of(stmt, any_regex(normalised[0], where, normalised[1]))
        out.append(RuleSpec(f"{prefix}_{part}", f"{prefix}_{label}", stmt,
                            f"{what} in {where_text(where)}."))  # fmt: skip
    return tuple(out)


# -- SQL database -------------------------------------------------------------------------------


def _sqli_rules() -> tuple[RuleSpec, ...]:
    out = []
    for part in ("QUERYARGUMENTS", "BODY", "COOKIE", "URIPATH"):
        label, where = _PARTS[part]
        text = where_text(where)
        out.append(RuleSpec(f"SQLi_{part}", f"SQLi_{label}", sqli(where),
                            f"SQL injection (SqliMatch, LOW sensitivity: libinjection) in {text}, "
                            "URL-decoded twice, HTML-entity-decoded, whitespace "
                            "compressed."))  # fmt: skip
        if part in ("QUERYARGUMENTS", "BODY"):
            out.append(RuleSpec(
                f"SQLiExtendedPatterns_{part}", f"SQLiExtendedPatterns_{label}",
                sqli(where, "HIGH", ("URL_DECODE_UNI", "URL_DECODE_UNI", "HTML_ENTITY_DECODE",
                                     "REPLACE_COMMENTS")),
                f"SQL injection patterns beyond the LOW rule in {text} (SqliMatch HIGH: blind "
                "and time-based probes, stacked queries, UNION with comments between, schema "
                "discovery, file access, error-based extraction), comments replaced by spaces.",
            ))  # fmt: skip
    return tuple(out)


SQL_DATABASE = register(GroupSpec(
    name="AWSManagedRulesSQLiRuleSet",
    capacity=200,
    namespace="awswaf:managed:aws:sql-database:",
    description="SQL database: SQL injection in query arguments, body, cookies and URI path.",
    rules=_sqli_rules(),
))  # fmt: skip


# -- Linux and POSIX ----------------------------------------------------------------------------

# Files and pseudo-files an attacker reads through a file-inclusion bug.
LINUX_FILES = (
    r"(?:^|[\\/=\s:])etc[\\/]+(?:passwd|shadow|group|gshadow|sudoers|hosts|issue|crontab"
    r"|hostname|resolv\.conf|ssh[\\/]|mysql[\\/]|nginx[\\/]|apache2?[\\/])",
    r"(?:^|[\\/=\s:])proc[\\/]+(?:self|\d+|thread-self)[\\/]+"
    r"(?:environ|cmdline|maps|mem|fd|status|cwd|root|exe|mountinfo)",
    r"(?:^|[\\/=\s:])(?:root|home[\\/]+[^\\/]+)[\\/]+\.(?:ssh|bash_history|aws|docker|kube)\b",
    r"(?:^|[\\/=\s:])var[\\/]+(?:log[\\/]+|run[\\/]+secrets|lib[\\/]+mysql)",
    r"(?:^|[\\/=\s:])dev[\\/]+(?:tcp|udp)[\\/]",
)

# A shell command after a separator, substitution or pipe: the command must look like it is
# run (end of value, also the end of a JSON string, another separator, an option, a path, a
# number or a URL follows), so prose such as "pick one; find out more" is not a command.
_COMMANDS = (
    r"(?:cat|ls|id|whoami|uname|wget|curl|nc|ncat|netcat|bash|sh|zsh|dash|ksh|python[23]?"
    r"|perl|ruby|php|chmod|chown|rm|echo|ping|nslookup|dig|sleep|base64|busybox|telnet|tftp"
    r"|crontab|useradd|passwd|ifconfig|hostname|pwd|env|printenv|kill|nohup"
    r"|mkfifo|socat|uptime|ps|netstat|sudo|su)"
)
# Filters end the pipelines people quote in reviews and docs ("git log --oneline | head -n 5"),
# so after a separator they count only when they read a file (a path or a variable, after any
# options) or stand alone; in a substitution ($(...), backticks) they always count.
_FILTERS = r"(?:head|tail|more|less|awk|sed|xargs|find)"
_END = r"(?:$|\"\s*[,}\]])"  # of the value, or of a JSON string
_RUN = rf"(?:\s*{_END}|\s*[;|&#`)]|\s+[-/.~$]|\s+\d|\s+https?:|\s+[a-z0-9_.]+\s*{_END})"
_READS = rf"(?:\s*{_END}|\s*[;|&`)]|\s+(?:-[a-z0-9]+\s+)*[/~$])"
_AFTER = r"(?:[;|\n\r]|&&|\|\||^\s*&|&\s)\s*(?:/(?:usr/)?s?bin/)?"  # a separator, a bin dir
UNIX_COMMANDS = (
    rf"{_AFTER}{_COMMANDS}\b{_RUN}",
    rf"{_AFTER}{_FILTERS}\b{_READS}",
    rf"(?:\$\(|`)\s*(?:/(?:usr/)?s?bin/)?(?:{_COMMANDS}|{_FILTERS})\b",
    r"/(?:usr/)?bin/(?:ba|z|da|k)?sh\b",
    r"\$\{?ifs\b",
    r"/dev/(?:tcp|udp)/",
)

LINUX = register(GroupSpec(
    name="AWSManagedRulesLinuxRuleSet",
    capacity=200,
    namespace="awswaf:managed:aws:linux-os:",
    description="Linux operating system: local file inclusion of Linux files.",
    rules=per_part("LFI", ("URIPATH", "QUERYSTRING", "HEADER"), LINUX_FILES,
                   "Local file inclusion of Linux files (/etc/passwd, /etc/shadow, /proc/self/"
                   "environ, ~/.ssh, /var/log...), also traversed, encoded and with backslashes"),
))  # fmt: skip

# The same after CMD_LINE_UNIX has undone quoting tricks (c'a't, c\\at, $IFS): separators are
# spaces by then and spaces before "/" are gone, so these look for the command and its target.
UNIX_NORMALISED = (
    r"\b(?:cat|tac|head|tail|more|less|nl|strings|base64|xxd|od|cp|curl|wget)\s*/+(?:etc|proc"
    r"|root|home|var)/",
    r"\b(?:whoami|ifconfig)\b",
    r"\buname\s*-[a-z]+\b",
    r"\b(?:ba|z|da|k)?sh\s*-[ci]\b",
    r"\bnc(?:at)?\s*-[a-z]*[elc]",
    r"\b(?:wget|curl)\b[^|]{0,200}\|\s*(?:ba|z|da)?sh\b",
    r"/(?:usr/)?bin/(?:ba|z|da|k)?sh\b",
)

UNIX = register(GroupSpec(
    name="AWSManagedRulesUnixRuleSet",
    capacity=100,
    namespace="awswaf:managed:aws:posix-os:",
    description="POSIX operating system: shell command injection and shell variables.",
    rules=per_part("UNIXShellCommandsVariables", ("QUERYARGUMENTS", "BODY", "HEADER"),
                   UNIX_COMMANDS + LINUX_FILES[:2],
                   "Unix shell command injection (a command after ;, |, &&, $( ) or backticks, "
                   "/bin/sh, $IFS, /dev/tcp) and reads of /etc/passwd or /proc, also after "
                   "quotes, backslashes and $IFS tricks are undone (CMD_LINE_UNIX)",
                   (UNIX_NORMALISED, CMD_UNIX), backslashes=True),
))  # fmt: skip


# -- Windows ------------------------------------------------------------------------------------

WINDOWS_SHELL = (
    r"(?i)(?:^|[;&|\n])\s*(?:cmd(?:\.exe)?\s*/[ckr]|net1?\s+(?:user|localgroup|group|view|use"
    r"|share|session)\b|ipconfig|systeminfo|tasklist|taskkill|whoami|reg(?:\.exe)?\s+(?:query"
    r"|add|delete|save)|wmic|certutil|bitsadmin|schtasks|mshta|rundll32|regsvr32|vssadmin"
    r"|(?:type|dir|copy|del)\s+[a-z]:\\)",
    r"(?i)\bcmd(?:\.exe)?\s*/[ck]\s+\S",
    r"(?i)%(?:comspec|systemroot|windir|programfiles|appdata|temp|userprofile)%",
    r"(?i)[a-z]:\\+windows\\+(?:system32|syswow64|win\.ini)",
    r"(?i)\\\\+[\w.\-]+\\+(?:admin|c|ipc)\$",
)
POWERSHELL = (
    r"(?i)\b(?:powershell|pwsh)(?:\.exe)?\b.{0,60}?\s[-/](?:e|en|enc|encodedcommand|nop"
    r"|noprofile|noni|noninteractive|w|windowstyle|ep|exec|executionpolicy|c|command)\b",
    r"(?i)\b(?:invoke-expression|invoke-webrequest|invoke-restmethod|invoke-mimikatz"
    r"|invoke-shellcode|start-bitstransfer|set-mppreference|add-mppreference|get-wmiobject"
    r"|invoke-wmimethod|new-object\s+(?:-typename\s+)?(?:system\.)?net\.(?:webclient|sockets))\b",
    r"(?i)\b(?:iex|iwr|irm)\s*[($]",
    r"(?i)\.(?:downloadstring|downloadfile|downloaddata)\s*\(",
    r"(?i)\[(?:system\.)?convert\]::frombase64string\s*\(",
)

# After CMD_LINE_WIN (w^h^o"am"i -> whoami; "cmd /c" -> "cmd/c"; backslashes gone).
WINDOWS_NORMALISED = (
    r"\bcmd(?:\.exe)?/[ckr]\b",
    r"\b(?:whoami|systeminfo|tasklist|vssadmin)\b",
    r"\bnet1? (?:user|localgroup) ",
    r"\bcertutil(?:\.exe)?\s*[-/](?:urlcache|decode|encode)\b",
)
POWERSHELL_NORMALISED = (
    r"\b(?:powershell|pwsh)(?:\.exe)?\s*-(?:e|en|enc|encodedcommand|nop|noni|w|ep|exec|c)\b",
    r"\b(?:invoke-expression|invoke-webrequest|downloadstring|frombase64string)\b",
)


def _windows_rules() -> tuple[RuleSpec, ...]:
    parts = ("COOKIE", "QUERYARGUMENTS", "BODY")
    return per_part("WindowsShellCommands", parts, WINDOWS_SHELL,
                    "Windows command shell injection (cmd /c, net user, whoami, certutil, "
                    "%SYSTEMROOT%, C:\\Windows\\System32...), also after carets and quotes are "
                    "removed (CMD_LINE_WIN)", (WINDOWS_NORMALISED, CMD_WIN),
                    backslashes=True) + per_part(
        "PowerShellCommands", parts, POWERSHELL,
        "PowerShell injection (powershell -enc/-nop, Invoke-Expression, IEX(, DownloadString, "
        "FromBase64String, Defender exclusions), also after carets and quotes are removed",
        (POWERSHELL_NORMALISED, CMD_WIN))  # fmt: skip


WINDOWS = register(GroupSpec(
    name="AWSManagedRulesWindowsRuleSet",
    capacity=200,
    namespace="awswaf:managed:aws:windows-os:",
    description="Windows operating system: Windows command shell and PowerShell injection.",
    rules=_windows_rules(),
))  # fmt: skip


# -- PHP and WordPress --------------------------------------------------------------------------

PHP_HIGH_RISK = (
    r"<\?(?:php\b|=)",
    r"\$_(?:get|post|request|cookie|server|files|env|session|globals)\s*\[",
    r"\b(?:php://(?:input|filter|stdin|memory|temp|fd)|phar://|expect://|zlib://|glob://)",
    r"\bdata://text/plain(?:;base64)?,",
    r"\b(?:shell_exec|passthru|proc_open|popen|pcntl_exec|phpinfo|gzinflate|gzuncompress"
    r"|str_rot13|create_function|call_user_func(?:_array)?|file_put_contents|fsockopen"
    r"|move_uploaded_file|posix_getpwuid|ini_set)\s*\(",
    r"\b(?:eval|assert|system|exec|include|require)(?:_once)?\s*\(\s*(?:\$_|base64_decode"
    r"|gzinflate|str_rot13|['\"]\s*(?:id|whoami|ls|cat|uname|wget|curl)\b)",
    r"\bo:\d+:\"[a-z_\\][\w\\]*\":\d+:\{",
)

PHP = register(GroupSpec(
    name="AWSManagedRulesPHPRuleSet",
    capacity=100,
    namespace="awswaf:managed:aws:php-app:",
    description="PHP application: PHP code injection, dangerous functions and stream wrappers.",
    rules=per_part("PHPHighRiskMethodsVariables", ("HEADER", "QUERYSTRING", "BODY"), PHP_HIGH_RISK,
                   "PHP code injection: PHP open tags, superglobals, php:// and phar:// "
                   "wrappers, command and code-execution functions, serialized PHP objects"),
))  # fmt: skip

WORDPRESS_COMMANDS = (
    r"\bdo-reset-wordpress\b",
    r"\baction=(?:revslider_show_image|revslider_ajax_action|duplicator_download"
    r"|wp_file_manager|update_option|kiwi_social_share_set_option)\b",
    r"\bwp-config\.php\b",
    r"\bwp_(?:user_)?roles?=.{0,20}administrator",
)
WORDPRESS_PATHS = (
    r"/xmlrpc\.php$",
    r"/wp-config\.(?:php|bak|old|orig|save|txt|php~|php\.swp|php\.bak)$",
    r"/wp-content/(?:debug\.log|backup-db/|uploads/.*\.ph(?:p\d?|tml|ar)$)",
    r"/wp-includes/.*\.php$",
    r"/wp-admin/(?:install|setup-config)\.php$",
)

WORDPRESS = register(GroupSpec(
    name="AWSManagedRulesWordPressRuleSet",
    capacity=100,
    namespace="awswaf:managed:aws:wordpress-app:",
    description="WordPress application: exploitable commands and paths.",
    rules=(
        *per_part("WordPressExploitableCommands", ("QUERYSTRING",), WORDPRESS_COMMANDS,
                  "WordPress commands exploited in vulnerable installs and plugins "
                  "(do-reset-wordpress, revslider_show_image, duplicator_download, wp-config "
                  "reads)"),
        *per_part("WordPressExploitablePaths", ("URIPATH",), WORDPRESS_PATHS,
                  "WordPress paths that should not be reached from outside: xmlrpc.php, "
                  "wp-config and its backups, debug.log, PHP under uploads, wp-includes PHP, "
                  "the installer"),
    ),
))  # fmt: skip
