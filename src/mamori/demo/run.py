"""`mamori demo`: the whole platform on an emulated AWS organisation, through the real code path
(HTTP to a local AWS-compatible endpoint, assume-role into member accounts)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir
from rich.console import Console
from rich.markup import escape

from mamori.aws import AwsOptions
from mamori.core import InputError
from mamori.demo.planted import DEMO_REGIONS, DemoOrg
from mamori.demo.seed import seed_organisation
from mamori.demo.server import EmulatedAws
from mamori.posture.scan import ScanRequest, ScanResult, run_scan

if TYPE_CHECKING:
    from mamori.detect.run import DetectRun

MEMBER_ROLE = "OrganizationAccountAccessRole"
# The user's ~/.aws files (profiles, SSO, credential processes) must not reach the demo.
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_HIDDEN = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)
_NO_PROXY = ("NO_PROXY", "no_proxy")


def default_demo_db() -> str:
    """The demo keeps its findings apart from the user's real hub."""
    folder = Path(user_data_dir("mamori"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'demo.db'}"


def default_demo_data_dir() -> Path:
    """Where the demo keeps its ingested logs and investigation graph, renewed each run."""
    return Path(user_data_dir("mamori")) / "demo-detect"


@contextmanager
def demo_credentials() -> Iterator[None]:
    """Point the credential chain at the emulator's fake keys, never at the user's AWS, and
    keep a user's HTTP proxy away from the loopback endpoint."""
    saved = {k: os.environ.get(k) for k in (*_FAKE_CREDENTIALS, *_HIDDEN, *_NO_PROXY)}
    os.environ.update(_FAKE_CREDENTIALS)
    for key in _HIDDEN:
        os.environ.pop(key, None)
    for key in _NO_PROXY:
        os.environ[key] = ",".join(filter(None, [os.environ.get(key), "127.0.0.1", "localhost"]))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def scan_emulated(url: str, regions: list[str], db: str | None) -> ScanResult:
    from mamori.hub import Store

    req = ScanRequest(
        aws=AwsOptions(endpoint_url=url, max_attempts=2, retry_mode="standard"),
        regions=regions,
        org=True,
        role_name=MEMBER_ROLE,
        workers=16,
    )
    store = Store.open(db or default_demo_db())
    try:
        return run_scan(req, store)
    finally:
        store.close()


@dataclass
class DemoRun:
    org: DemoOrg
    result: ScanResult
    db: str
    threats: DetectRun | None = None


def run_demo(
    out: Console,
    err: Console,
    *,
    db: str | None = None,
    regions: list[str] | None = None,
    keep_running: bool = False,
    log_days: int = 30,
    serve: Callable[[str, Path], None] | None = None,
    data_dir: Path | None = None,
) -> DemoRun:
    """With `serve`, end by calling it with the store's URL and the detection data directory
    (the dashboard, until Ctrl-C), the emulated endpoint still up meanwhile."""
    data_dir = data_dir or default_demo_data_dir()
    from mamori.cli.render import summary
    from mamori.posture.summary import summarize

    chosen = regions or list(DEMO_REGIONS)
    if len(set(chosen)) != len(DEMO_REGIONS):
        raise InputError(
            f"the demo organisation spans {len(DEMO_REGIONS)} regions; give that many --region "
            f"options (default: {' '.join(DEMO_REGIONS)})"
        )
    with demo_credentials(), EmulatedAws() as aws:
        err.print(f"[bold]Emulated AWS[/] listening on {aws.url}")
        t0 = time.perf_counter()
        org = seed_organisation(aws.url, regions=tuple(chosen))
        failed_planted = sum(1 for p in org.planted if p.expected == "FAILED")
        err.print(
            f"seeded organisation {escape(org.organization_id)}: "
            f"{len(org.accounts)} accounts, {failed_planted} planted misconfigurations "
            f"and {len(org.planted) - failed_planted} well-configured twins "
            f"in {time.perf_counter() - t0:.1f}s"
        )
        result = scan_emulated(aws.url, chosen, db)
        summary(
            out,
            summarize(result.findings),
            seconds=result.seconds,
            resources=result.resource_count,
            errors=len(result.errors),
        )
        if result.identity is not None:
            from mamori.cli.iam_render import identity_summary

            identity_summary(out, result.identity)
        threats = None
        if log_days:
            threats = _threats(org, chosen, log_days, db, out, data_dir)
        out.print(
            f"findings stored in {escape(db or default_demo_db())}; list them with "
            f"`mamori findings list --db {escape(db or default_demo_db())}`"
        )
        if keep_running:
            out.print(
                "\nThe emulated organisation stays up until Ctrl-C. Point tools at it with:\n"
                f"  export AWS_ENDPOINT_URL={aws.url} AWS_ACCESS_KEY_ID=testing "
                "AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1\n"
                "  aws organizations list-accounts\n"
                f"  mamori scan --org --role-name {MEMBER_ROLE} --region us-east-1"
            )
        if serve is not None:
            serve(db or default_demo_db(), data_dir)
        elif keep_running:
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                err.print("stopping the emulated endpoint")
    return DemoRun(org, result, db or default_demo_db(), threats)


def _threats(
    org: DemoOrg, regions: list[str], days: int, db: str | None, out: Console, data_dir: Path
) -> DetectRun:
    from mamori.demo.threats import detect_demo, threats_summary
    from mamori.hub import Store

    store = Store.open(db or default_demo_db())
    try:
        run, planted = detect_demo(sorted(org.accounts), regions, days, store, data_dir)
    finally:
        store.close()
    threats_summary(out, run, planted)
    return run
