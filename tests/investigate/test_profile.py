"""Profiles of the entities of a known attack: the stolen key shows its user, the attacker's
address and client as new, and the findings the detection raised; the exfiltrated instance
session shows its role, its instance and the outside address."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.core import InputError, WorkflowStatus
from mamori.hub import Store
from mamori.investigate import Graph, profile
from mamori.investigate.model import Profile
from tests.investigate.world import (
    ACCOUNT,
    ATTACK_AGENT,
    ATTACK_IP,
    DAVE,
    EXFIL_INSTANCE,
    EXFIL_IP,
    EXFIL_SESSION,
    World,
)

ANOMALIES = {
    "Persistence:IAMUser/AnomalousBehavior",
    "PrivilegeEscalation:IAMUser/AnomalousBehavior",
    "Impact:IAMUser/AnomalousBehavior",
}
EXFIL = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"


def related(p: Profile, relation: str, kind: str) -> dict[str, bool]:
    """id -> new, of the related entities of one relation and kind."""
    return {r.id: r.new for r in p.related if (r.relation, r.kind) == (relation, kind)}


def new_items(p: Profile, dimension: str) -> set[str]:
    assert p.new_behaviour is not None
    return {i.value for i in p.new_behaviour.items if i.dimension == dimension}


def test_stolen_key_profile_shows_its_user_the_new_address_and_the_findings(world: World) -> None:
    p = profile(world.data_dir, "access_key", DAVE.access_key, days=1)
    assert p.seen
    assert p.entity.account_id == ACCOUNT
    assert related(p, "owned_by", "user") == {DAVE.arn: False}
    # The attacker's address and client are new; the office addresses it always used are not.
    addresses = related(p, "called_from", "ip")
    assert addresses[ATTACK_IP] is True
    assert {ip for ip, new in addresses.items() if not new} == set(DAVE.ips)
    assert related(p, "used_agent", "user_agent")[ATTACK_AGENT] is True
    assert p.new_behaviour is not None and p.new_behaviour.earlier_history
    assert new_items(p, "ip") == {ATTACK_IP}
    assert new_items(p, "user_agent") == {ATTACK_AGENT}
    assert {
        "iam.amazonaws.com:CreateRole",
        "iam.amazonaws.com:AttachUserPolicy",
        "ec2.amazonaws.com:TerminateInstances",
    } <= new_items(p, "api")
    # The instance it terminated is a new resource for it.
    assert any(i.dimension == "instance" and i.relation == "touched" for i in p.new_behaviour.items)
    assert {f.generator_id for f in p.findings} >= ANOMALIES
    assert all("evidence" in f.via for f in p.findings if f.generator_id in ANOMALIES)
    # Activity: calls per day and service add up to the APIs' calls and to the key's records.
    assert sum(d.calls for d in p.activity) == sum(a.calls for a in p.apis) == p.entity.records
    assert {d.day.isoformat() for d in p.activity} == {"2026-11-01", "2026-11-02"}


def test_the_user_and_the_address_have_their_own_profiles(world: World) -> None:
    with Graph.open(world.data_dir) as graph:
        user = graph.profile("user", DAVE.arn, days=1)
        address = graph.profile("ip", ATTACK_IP, days=1)
    assert related(user, "owned_by", "access_key") == {DAVE.access_key: False}
    assert {f.generator_id for f in user.findings} >= ANOMALIES
    assert related(address, "called_from", "access_key") == {DAVE.access_key: True}
    assert related(address, "called_from", "user") == {DAVE.arn: True}
    # Everything about the address is new: it was never seen before the attack.
    assert address.new_behaviour is not None and not address.new_behaviour.earlier_history
    assert {a.api for a in address.apis} == {"CreateRole", "AttachUserPolicy", "TerminateInstances"}
    assert {f.generator_id for f in address.findings} >= ANOMALIES


def test_exfiltrated_instance_session_shows_role_instance_and_outside_address(
    world: World,
) -> None:
    p = profile(world.data_dir, "session", EXFIL_SESSION.arn, days=1)
    assert p.seen
    assert related(p, "session_of", "role") == {EXFIL_SESSION.role_arn: False}
    assert set(related(p, "on_instance", "instance")) == {EXFIL_INSTANCE.instance_id}
    assert related(p, "called_from", "ip")[EXFIL_IP] is True
    assert EXFIL in {f.generator_id for f in p.findings}
    # The role's profile gathers its sessions: the outside address is among its callers.
    role = profile(world.data_dir, "role", EXFIL_SESSION.role_arn, days=1)
    assert EXFIL_IP in related(role, "called_from", "ip")
    assert EXFIL_SESSION.arn in related(role, "session_of", "session")
    # The instance: the session that runs on it, and its own network traffic.
    instance = profile(world.data_dir, "instance", EXFIL_INSTANCE.instance_id, days=1)
    assert EXFIL_SESSION.arn in related(instance, "on_instance", "session")
    assert EXFIL_INSTANCE.private_ip in related(instance, "has_address", "ip")
    assert EXFIL in {f.generator_id for f in instance.findings}


def test_an_unknown_key_is_not_seen_with_a_clear_answer(world: World) -> None:
    p = profile(world.data_dir, "access_key", "AKIAEXAMPLEUNKNOWN00")
    assert not p.seen
    assert p.related == [] and p.activity == [] and p.findings == []
    assert "AKIAEXAMPLEUNKNOWN00 is not seen in any ingested log record" in p.message
    assert "2026-11-01" in p.message  # says what the graph does hold


@pytest.mark.parametrize(
    ("kind", "value", "says"),
    [
        ("ip", "203.0.113.999", "not an IPv4 or IPv6 address"),
        ("access_key", "akia-lower", "not an access key id"),
        ("account", "12345", "12-digit"),
        ("user", "dave", "named by its ARN"),
        ("galaxy", "x", "unknown entity kind"),
        ("ip", "", "empty"),
    ],
)
def test_malformed_ids_are_refused_by_name(world: World, kind: str, value: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        profile(world.data_dir, kind, value)


def test_days_must_be_positive(world: World) -> None:
    with pytest.raises(InputError, match="days"):
        profile(world.data_dir, "ip", ATTACK_IP, days=0)


def test_no_graph_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no investigation graph"):
        profile(tmp_path, "ip", ATTACK_IP)


def test_hub_workflow_and_other_sources_findings(world: World, tmp_path: Path) -> None:
    """With the hub: a linked finding shows its current workflow, and a posture finding about
    a bucket the logs name is found by its resource."""
    from mamori.core import Finding, Resource, Severity, SeverityLabel

    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    bucket = "app-data-1111"
    posture = Finding(
        id="posture-bucket-1",
        source="posture",
        generator_id="s3.bucket_public_read_prohibited",
        types=["Software and Configuration Checks"],
        severity=Severity(label=SeverityLabel.HIGH, normalized=70),
        title="S3 bucket allows public read",
        resources=[Resource(type="AwsS3Bucket", id=f"arn:aws:s3:::{bucket}")],
        account_id=ACCOUNT,
        region="us-east-1",
    )
    # A bucket whose name only contains the other's is not it.
    other = posture.model_copy(
        update={
            "id": "posture-bucket-2",
            "resources": [Resource(type="AwsS3Bucket", id=f"arn:aws:s3:::{bucket}-logs")],
        }
    )
    with Store.open(db_url) as store:
        store.write([*world.findings, posture, other])
        anomaly = next(f for f in world.findings if f.generator_id in ANOMALIES)
        store.set_workflow(anomaly.id, WorkflowStatus.RESOLVED, by="analyst")
        key = profile(world.data_dir, "access_key", DAVE.access_key, store=store)
        assert {f.id: f.workflow for f in key.findings}[anomaly.id] == "RESOLVED"
        seen = profile(world.data_dir, "bucket", bucket, store=store)
    found = {f.id: f for f in seen.findings}
    assert "posture-bucket-1" in found and "posture-bucket-2" not in found
    assert found["posture-bucket-1"].via == ["resource"]
    assert found["posture-bucket-1"].source == "posture"
    assert seen.findings[0].id == "posture-bucket-1"  # worst first


def test_mmdb_enrichment_gives_the_new_country_and_as(world: World, tmp_path: Path) -> None:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    from mamori.detect.enrichment import Enrichment

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    writer.insert_network(
        IPSet([ATTACK_IP + "/24"]),
        {
            "country": {"iso_code": "NL"},
            "autonomous_system_number": 64666,
            "autonomous_system_organization": "Example Hosting",
        },
    )
    for office in DAVE.ips:
        writer.insert_network(IPSet([office + "/32"]), {"country": {"iso_code": "JP"}})
    writer.to_db_file(str(tmp_path / "geo.mmdb"))
    with (
        Enrichment.load([tmp_path / "geo.mmdb"]) as enrichment,
        Graph.open(world.data_dir, enrichment=enrichment) as graph,
    ):
        key = graph.profile("access_key", DAVE.access_key, days=1)
        address = graph.profile("ip", ATTACK_IP, days=1)
    assert new_items(key, "country") == {"NL"}  # JP is where it always called from
    assert new_items(key, "asn") == {"AS64666 Example Hosting"}
    assert (address.entity.country, address.entity.asn) == ("NL", 64666)


def test_a_finding_profile_names_its_entities(world: World) -> None:
    anomaly = next(f for f in world.findings if f.generator_id in ANOMALIES)
    p = profile(world.data_dir, "finding", anomaly.id)
    assert p.seen and p.entity.label == anomaly.title
    named = {(r.kind, r.id) for r in p.related}
    assert {("user", DAVE.arn), ("access_key", DAVE.access_key), ("ip", ATTACK_IP)} <= named
    assert ("account", ACCOUNT) in named
    assert [f.id for f in p.findings] == [anomaly.id]
    unknown = profile(world.data_dir, "finding", "no-such-finding")
    assert not unknown.seen and "not linked" in unknown.message
