"""Posture scan benchmark: emulated accounts of ~100, ~1,000 and ~5,000 resources.

Prints, per size: scan wall time, resources per second, API calls, the scanner's peak memory,
and how many of the planted misconfigurations were found. When Prowler is installed (an
executable named by $PROWLER, or `prowler` on PATH) it is run against the same emulated
account, restricted to the same services, and its figures are printed beside ours.

    .venv/bin/python bench/scan.py [--sizes 100 1000 5000] [--no-prowler]

The emulated AWS (moto) runs in this process; each scan runs in a child process so that its
peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori.demo.server import DemoConnection, EmulatedAws

REGION = "us-east-1"
# The services Prowler is restricted to, so both tools look at the same things.
PROWLER_SERVICES = [
    "s3",
    "iam",
    "ec2",
    "vpc",
    "kms",
    "awslambda",
    "cloudtrail",
    "config",
    "guardduty",
    "securityhub",
    "rds",
    "cloudwatch",
    "organizations",
    "accessanalyzer",
]


@dataclass
class Planted:
    kind: str
    resource_id: str  # an ARN, or an id that ARNs of that resource end with


@dataclass
class Seeded:
    resources: int = 0
    planted: list[Planted] = field(default_factory=list)


def _parallel(fn: Callable[[int], Any], count: int) -> list[Any]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(fn, range(count)))


def seed(conn: DemoConnection, size: int) -> Seeded:
    """Create about `size` resources; every fifth of each kind is misconfigured."""
    out = Seeded()
    s3 = conn.client("s3")
    iam = conn.client("iam")
    ec2 = conn.client("ec2")
    kms = conn.client("kms")
    per = max(1, size // 10)  # ten resource kinds below

    def bucket(i: int) -> None:
        name = f"bench-bucket-{i:05d}"
        s3.create_bucket(Bucket=name)
        if i % 5 == 0:
            s3.put_bucket_acl(Bucket=name, ACL="public-read")
            out.planted.append(Planted("s3-public-acl", f"arn:aws:s3:::{name}"))

    def user(i: int) -> None:
        name = f"bench-user-{i:05d}"
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        if i % 5 == 0:
            iam.attach_user_policy(
                UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
            )
            out.planted.append(Planted("iam-user-direct-policy", arn))

    def role(i: int) -> None:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"AWS": "*"} if i % 5 == 0 else {"Service": "ec2.amazonaws.com"},
                }
            ],
        }
        arn = iam.create_role(
            RoleName=f"bench-role-{i:05d}", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        if i % 5 == 0:
            out.planted.append(Planted("iam-role-public-trust", arn))

    vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]

    def group(i: int) -> None:
        gid = ec2.create_security_group(
            GroupName=f"bench-sg-{i:05d}", Description="bench", VpcId=vpc_id
        )["GroupId"]
        if i % 5 == 0:
            ec2.authorize_security_group_ingress(
                GroupId=gid,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 22,
                        "ToPort": 22,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                    }
                ],
            )
            out.planted.append(Planted("ec2-sg-ssh-open", gid))

    def volume(i: int) -> None:
        ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=i % 5 != 0)

    def snapshot(i: int) -> None:
        vid = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1, Encrypted=True)["VolumeId"]
        sid = ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
        if i % 5 == 0:
            ec2.modify_snapshot_attribute(
                SnapshotId=sid,
                Attribute="createVolumePermission",
                OperationType="add",
                GroupNames=["all"],
            )
            out.planted.append(Planted("ec2-snapshot-public", sid))

    def instance(i: int) -> None:
        options = {"HttpTokens": "required" if i % 5 else "optional", "HttpEndpoint": "enabled"}
        ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            MetadataOptions=options,
        )

    def key(i: int) -> None:
        kid = kms.create_key()["KeyMetadata"]["KeyId"]
        if i % 5:
            kms.enable_key_rotation(KeyId=kid)
        else:
            out.planted.append(Planted("kms-rotation-off", kid))

    kinds: list[tuple[Callable[[int], None], int]] = [
        (bucket, per),
        (user, per * 2),
        (role, per),
        (group, per),
        (volume, per),
        (snapshot, per),
        (instance, per),
        (key, per),
    ]
    for fn, count in kinds:
        _parallel(fn, count)
        out.resources += count * (2 if fn is snapshot else 1)
    return out


# -- running the scanners ----------------------------------------------------------------------

_CHILD = """
import json, sys, time
from mamori.aws import AwsOptions
from mamori.posture.scan import ScanRequest, run_scan
req = ScanRequest(aws=AwsOptions(endpoint_url=sys.argv[1], max_attempts=2,
                                 retry_mode="standard"), regions=[sys.argv[2]],
                 identity=False)  # posture only, as Prowler is run
result = run_scan(req, None)
failed = sorted({f.resource.id for f in result.findings
                 if f.compliance and f.compliance.status.value == "FAILED"})
print(json.dumps({"seconds": result.seconds, "api_calls": result.api_calls,
                  "findings": len(result.findings), "resources": result.resource_count,
                  "failed_resources": failed}))
"""


# Linux counts a forked child's peak RSS from its parent's size at fork time, and this
# process holds the whole emulated account; so the measured process is started by a small
# launcher whose own fork is cheap, and the launcher reports the true peak.
_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"maxrss_kb": usage.ru_maxrss, "status": status}, out)
"""


def _run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str, int]:
    """(wall seconds, peak RSS bytes, stdout, exit status) of one child process."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rusage.json"
        started = time.perf_counter()
        with (Path(tmp) / "stdout").open("w+") as stdout:
            subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(report), *cmd],
                stdout=stdout,
                stderr=subprocess.DEVNULL,
                env=env,
                check=False,
            )
            wall = time.perf_counter() - started
            stdout.seek(0)
            text = stdout.read()
        usage = json.loads(report.read_text())
    return wall, usage["maxrss_kb"] * 1024, text, os.waitstatus_to_exitcode(usage["status"])


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    return env


def run_mamori(url: str) -> dict[str, Any]:
    wall, rss, text, code = _run_measured([sys.executable, "-c", _CHILD, url, REGION], _env(url))
    if code != 0:
        raise RuntimeError(f"mamori scan failed with exit {code}")
    data = json.loads(text.strip().splitlines()[-1])
    data.update(wall=wall, peak_rss=rss)
    return data


def prowler_binary() -> str | None:
    return os.environ.get("PROWLER") or shutil.which("prowler")


def run_prowler(binary: str, url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            binary,
            "aws",
            "--region",
            REGION,
            "--service",
            *PROWLER_SERVICES,
            "--output-formats",
            "json-ocsf",
            "--output-directory",
            out,
            "--no-banner",
            "--ignore-exit-code-3",
        ]
        wall, rss, _, code = _run_measured(cmd, _env(url))
        failed: set[str] = set()
        findings = 0
        for path in Path(out).rglob("*.ocsf.json"):
            for item in json.loads(path.read_text() or "[]"):
                findings += 1
                if item.get("status_code") == "FAIL":
                    failed.update(r.get("uid", "") for r in item.get("resources", []))
                    failed.update(r.get("name", "") for r in item.get("resources", []))
    return {
        "wall": wall,
        "peak_rss": rss,
        "findings": findings,
        "failed_resources": sorted(failed),
        "exit": code,
    }


def found(planted: list[Planted], failed: list[str]) -> str:
    """'found/planted', plus the kinds of planted misconfiguration that were missed."""
    missed: dict[str, int] = {}
    for p in planted:
        if not any(f == p.resource_id or f.endswith(p.resource_id) for f in failed):
            missed[p.kind] = missed.get(p.kind, 0) + 1
    text = f"{len(planted) - sum(missed.values())}/{len(planted)}"
    if missed:
        text += " (missed " + ", ".join(f"{k} x{n}" for k, n in sorted(missed.items())) + ")"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--no-prowler", action="store_true")
    args = parser.parse_args()
    prowler = None if args.no_prowler else prowler_binary()
    print(f"machine: {os.cpu_count()} cores; emulated AWS: moto server in-process")
    if prowler is None:
        print("prowler: not run (set $PROWLER or put `prowler` on PATH to compare)")
    header = (
        f"{'size':>6} {'tool':<8} {'wall s':>8} {'res/s':>8} {'API calls':>10} "
        f"{'peak MB':>8} {'planted found':>14}"
    )
    print(header)
    with EmulatedAws() as aws:
        for size in args.sizes:
            aws.reset()
            conn = aws.connect()
            t0 = time.perf_counter()
            seeded = seed(conn, size)
            seed_s = time.perf_counter() - t0
            # moto builds each service's backend on its first request (seconds per service);
            # that is the emulator's start-up, not scanning, so one untimed scan absorbs it.
            run_mamori(aws.url)
            ours = run_mamori(aws.url)
            rate = seeded.resources / ours["wall"]
            print(
                f"{seeded.resources:>6} {'mamori':<8} {ours['wall']:>8.2f} {rate:>8.0f} "
                f"{ours['api_calls']:>10} {ours['peak_rss'] / 2**20:>8.0f} "
                f"{found(seeded.planted, ours['failed_resources']):>14}  "
                f"seeded in {seed_s:.1f}s",
                flush=True,
            )
            if prowler:
                theirs = run_prowler(prowler, aws.url)
                rate = seeded.resources / theirs["wall"]
                print(
                    f"{seeded.resources:>6} {'prowler':<8} {theirs['wall']:>8.2f} "
                    f"{rate:>8.0f} {'-':>10} {theirs['peak_rss'] / 2**20:>8.0f} "
                    f"{found(seeded.planted, theirs['failed_resources']):>14}  "
                    f"{theirs['findings']} findings, exit {theirs['exit']}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
