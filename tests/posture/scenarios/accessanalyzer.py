"""IAM Access Analyzer scenarios.

moto (5.2) has no Access Analyzer backend: ListAnalyzers answers "Not yet implemented", which
the collector rightly stores as unavailable. env.amend cannot help (botocore raises on the error
status whatever the parsed answer says), so the answer AWS would give is served with botocore's
Stubber on the account's client for that region, which validates it against the API model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.stub import Stubber

from tests.posture.harness import Env, scenario


def _analyzer(env: Env, region: str, name: str, kind: str, status: str) -> dict[str, Any]:
    return {
        "arn": f"arn:aws:access-analyzer:{region}:{env.account()}:analyzer/{name}",
        "name": name,
        "type": kind,
        "status": status,
        "createdAt": datetime(2024, 5, 1, tzinfo=UTC),
    }


def _serve_analyzers(env: Env, region: str, analyzers: list[dict[str, Any]]) -> None:
    # The collector reaches AWS through the account session's cached client for the region.
    client = env.session("main").client("accessanalyzer", region)
    stubber = Stubber(client)
    stubber.add_response("list_analyzers", {"analyzers": analyzers})
    stubber.activate()


@scenario("accessanalyzer.enabled_in_region")
def analyzer_per_region(env: Env) -> None:
    env.regions = ["us-east-1", "eu-west-1", "ap-northeast-1"]
    _serve_analyzers(
        env, "us-east-1", [_analyzer(env, "us-east-1", "account", "ACCOUNT", "ACTIVE")]
    )
    env.passes(env.region_arn("main", "us-east-1"))
    _serve_analyzers(env, "eu-west-1", [])
    env.fails(env.region_arn("main", "eu-west-1"))
    # An unused-access analyzer does not report external access; a failed one reports nothing.
    _serve_analyzers(
        env,
        "ap-northeast-1",
        [
            _analyzer(env, "ap-northeast-1", "unused", "ACCOUNT_UNUSED_ACCESS", "ACTIVE"),
            _analyzer(env, "ap-northeast-1", "broken", "ACCOUNT", "FAILED"),
        ],
    )
    env.fails(env.region_arn("main", "ap-northeast-1"))
