from __future__ import annotations

import pytest

from tests.investigate.world import World, detect, write_logs


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The logs detected once, the graph built by the detection run. Tests only read it."""
    root = tmp_path_factory.mktemp("investigate")
    logs = write_logs(root / "logs")
    db_url = f"sqlite:///{root / 'hub.db'}"
    findings = detect(logs, root / "data", db_url)
    return World(logs, root / "data", db_url, findings)
