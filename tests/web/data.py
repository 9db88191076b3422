"""A store filled the way Mamori's analyses fill it, for the dashboard's tests: posture
findings, a privilege-escalation analysis of a small IAM model, detections built by the
detection engine's finding builder (one whose log fields are hostile), and an imported finding
whose title is a script."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mamori.core import Finding, Resource, Severity
from mamori.detect.findings import finding_of
from mamori.detect.rules import RULES
from mamori.hub import Store
from mamori.identity.findings import ESCALATION, path_findings
from mamori.identity.model import model_from_auth_details
from mamori.identity.paths import analyze_paths
from mamori.posture.score import record_scores
from tests.hub.builders import ACCOUNT, OTHER_ACCOUNT, at, detection, posture
from tests.identity import gaad_sample as g

XSS = "<script>alert(1)</script>"
USER = "analyst"
PASSWORD = "correct horse battery staple"
CIS = "cis-aws-foundations-3.0.0"
PUBLIC_CHECK = "s3.bucket_public_access_block"


@dataclass(frozen=True)
class Filled:
    public_bucket: str  # id of a FAILED posture finding of a CIS control
    escalation: str  # id of a privilege-escalation finding
    hostile_detection: str  # a detection whose actor and user agent are scripts
    hostile_import: str  # an imported finding titled with a script
    access_key: str  # the access key of a detection


def _identity() -> list[Finding]:
    users = [
        g.user_entry("root-like", g.document(g.allow("*"))),
        g.user_entry("keys", g.document(g.allow("iam:CreateAccessKey", f"{g.IAM}:user/root-like"))),
        g.user_entry(
            "self-attach", g.document(g.allow("iam:AttachUserPolicy", f"{g.IAM}:user/self-attach"))
        ),
    ]
    gaad = {"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    return path_findings(analyze_paths(model_from_auth_details(gaad, "test")))


def _hostile_detection() -> Finding:
    rule = RULES["PenTest:IAMUser/KaliLinux"]
    row = {
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "resource_id": f"arn:aws:iam::{ACCOUNT}:user/{XSS}",
        "actor": XSS,
        "first_seen": at(1),
        "last_seen": at(2),
        "event_count": 3,
        "evidence_ids": ["e-1"],
        "detail": '{"user_agent": "kali ' + XSS.replace('"', '\\"') + '"}',
    }
    return finding_of(rule, row)


def _hostile_import() -> Finding:
    return Finding.build(
        generator_id="zap.40012",
        resources=[Resource(type="Other", id=f"https://app.example/{XSS}", region="global")],
        account_id=ACCOUNT,
        region="global",
        source="import",
        types=["Software and Configuration Checks/Vulnerabilities"],
        severity=Severity.of("HIGH"),
        title=XSS,
        description=f'<img src=x onerror="alert(2)"> {XSS}',
        remediation={"text": XSS, "url": "javascript:alert(3)"},
        references=["javascript:alert(4)", "https://owasp.org/"],
        evidence={"user_agent": XSS},
    )


def fill(store: Store) -> Filled:
    buckets = [
        posture("public-1", generator=PUBLIC_CHECK, severity="HIGH"),
        posture("public-2", generator=PUBLIC_CHECK, severity="HIGH", account=OTHER_ACCOUNT),
        posture("private", generator=PUBLIC_CHECK, status="PASSED", severity="INFORMATIONAL"),
        posture("logs", generator="s3.bucket_access_logging", severity="LOW"),
        posture("ssl", generator="s3.bucket_ssl_requests_only", severity="MEDIUM"),
    ]
    extra = [
        posture(f"bulk-{i}", generator="s3.bucket_mfa_delete_enabled", severity="LOW")
        for i in range(60)
    ]
    key = "AKIAIOSFODNN7EXAMPLE"
    identity = _identity()
    hostile, imported = _hostile_detection(), _hostile_import()
    store.write([*buckets, *extra, *identity, detection(key, count=4), hostile, imported])
    record_scores(store, "test fill")
    escalation = next(
        f for f in identity if f.generator_id == ESCALATION and "keys" in f.resource.id
    )
    return Filled(
        public_bucket=buckets[0].id,
        escalation=escalation.id,
        hostile_detection=hostile.id,
        hostile_import=imported.id,
        access_key=key,
    )


@dataclass(frozen=True)
class Investigated:
    db_url: str
    data_dir: Path
    access_key: str  # a stolen key: used from ATTACK_IP with ATTACK_AGENT
    attack_ip: str


def investigated(root: Path) -> Investigated:
    """Generated logs with a stolen-key attack, detected as `mamori detect` does: findings in a
    hub, the investigation graph under the data directory."""
    from tests.investigate.world import ATTACK_IP, DAVE, detect, write_logs

    db_url = f"sqlite:///{root / 'hub.db'}"
    detect(write_logs(root / "logs"), root / "data", db_url)
    return Investigated(db_url, root / "data", DAVE.access_key, ATTACK_IP)
