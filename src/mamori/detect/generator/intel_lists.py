"""Threat lists naming the generated world's bad actors, as files in GuardDuty's TXT format, for
the demo and the tests to load as a user would load their own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mamori.detect.generator.model import (
    C2_DOMAINS,
    MALICIOUS_IPS,
    MINING_DOMAINS,
    MINING_POOL_IPS,
    OFFICE_NETWORKS,
    TOR_EXIT_IPS,
)


@dataclass(frozen=True)
class IntelFiles:
    threats: list[Path]  # for --intel
    trusted: list[Path]  # for --trusted-ips
    tor: Path  # for --tor-exit-list


def write_intel_lists(folder: Path, *, extra_c2: Iterable[str] = ()) -> IntelFiles:
    """Write the lists into `folder`; their file names say what threat they hold."""
    files = {
        "malicious-ips.txt": MALICIOUS_IPS,
        "mining-pools.txt": (*MINING_POOL_IPS, *MINING_DOMAINS),
        "c2-domains.txt": (*C2_DOMAINS, *extra_c2),
        "office-networks.txt": OFFICE_NETWORKS,
        "tor-exits.txt": TOR_EXIT_IPS,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, entries in files.items():
        (folder / name).write_text("\n".join(entries) + "\n", encoding="utf-8")
    return IntelFiles(
        threats=[folder / n for n in ("malicious-ips.txt", "mining-pools.txt", "c2-domains.txt")],
        trusted=[folder / "office-networks.txt"],
        tor=folder / "tor-exits.txt",
    )
