"""The organisation in the identity model, from hand-built snapshots: SCP and RCP levels from
the root down to the account, the management account, and policies or accounts that could not
be read."""

from __future__ import annotations

from typing import Any

import pytest

from mamori.core import DataUnavailable
from mamori.identity.model import Organization, model_from_snapshot
from mamori.inventory import GLOBAL, Snapshot
from mamori.inventory.snapshot import unavailable
from tests.identity import gaad_sample as g

ACCOUNT = g.ACCOUNT  # the management account

MEMBER = "444455556666"
ROOT, OU_A, OU_B = "r-ab12", "ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb"


def _org_policy(name: str, *targets: str) -> dict[str, Any]:
    return {
        "Id": f"p-{name}",
        "Arn": f"arn:aws:organizations::{ACCOUNT}:policy/o-xyz/service_control_policy/p-{name}",
        "Name": name,
        "Content": g.statement("Allow", "*"),
        "Targets": [{"TargetId": t, "Type": "ROOT"} for t in targets],
    }


def _org_snapshot(**overrides: Any) -> Snapshot:
    block: dict[str, Any] = {
        "organization": {"Id": "o-xyz", "MasterAccountId": ACCOUNT},
        "roots": [{"Id": ROOT}],
        "accounts": [
            {"Id": ACCOUNT, "Name": "management", "Parents": [{"Id": ROOT, "Type": "ROOT"}]},
            {
                "Id": MEMBER,
                "Name": "shop",
                # From the direct parent up to the root, as the collector stores them.
                "Parents": [
                    {"Id": OU_B, "Type": "ORGANIZATIONAL_UNIT"},
                    {"Id": OU_A, "Type": "ORGANIZATIONAL_UNIT"},
                    {"Id": ROOT, "Type": "ROOT"},
                ],
            },
        ],
        "scps": [
            _org_policy("full", ROOT, OU_A, OU_B, MEMBER),
            _org_policy("at-root", ROOT),
            _org_policy("at-b", OU_B),
            _org_policy("at-member", MEMBER),
        ],
        "rcps": [_org_policy("rcp-root", ROOT)],
    }
    block.update(overrides)
    snapshot = Snapshot()
    snapshot.put_service(ACCOUNT, "organizations", GLOBAL, block)
    return snapshot


def _org(**overrides: Any) -> Organization:
    organization = model_from_snapshot(_org_snapshot(**overrides)).organization
    assert organization is not None
    return organization


def test_levels_run_from_the_root_down_to_the_account() -> None:
    organization = _org()
    assert organization.errors == []
    assert organization.accounts[MEMBER].parents == [ROOT, OU_A, OU_B]
    levels = organization.levels(MEMBER)
    assert levels is not None
    assert [g.policy_names(level) for level in levels] == [
        ["at-root", "full"],
        ["full"],
        ["at-b", "full"],
        ["at-member", "full"],
    ]
    rcps = organization.levels(MEMBER, "rcp")
    # levels without listed RCPs carry the undetachable RCPFullAWSAccess: nothing to check
    assert rcps is not None and [g.policy_names(level) for level in rcps] == [["rcp-root"]]
    assert rcps[0][0].kind == "rcp"
    assert organization.levels(ACCOUNT) is None
    assert organization.levels(ACCOUNT, "rcp") is None
    with pytest.raises(DataUnavailable, match="999999999999"):
        organization.levels("999999999999")


def test_unavailable_organisation_policies() -> None:
    denied = unavailable("AccessDenied", "organizations:ListPolicies")
    organization = _org(scps=denied)
    with pytest.raises(DataUnavailable, match="ListPolicies"):
        organization.levels(MEMBER)
    assert organization.levels(ACCOUNT) is None
    assert organization.errors == [
        "organizations.scps could not be read (AccessDenied: organizations:ListPolicies)"
    ]
    # RCPs not collected: unknown, and no error (older snapshots have none).
    organization = _org(rcps=None)
    assert organization.rcps_by_target is None and organization.errors == []
    with pytest.raises(DataUnavailable):
        organization.levels(MEMBER, "rcp")
    assert organization.levels(MEMBER) is not None
    organization = _org(rcps=unavailable("UnsupportedAPIEndpointException", "no RCPs here"))
    assert organization.rcps_by_target is None and len(organization.errors) == 1


def test_one_unreadable_scp_makes_the_levels_unknown() -> None:
    broken = _org_policy("broken", OU_A)
    broken["Content"] = "{not json"
    scps = [_org_policy("full", ROOT, OU_A, OU_B, MEMBER), broken]
    organization = _org(scps=scps)
    assert any("SCP broken" in e and "not valid JSON" in e for e in organization.errors)
    # Leaving out a policy could only allow more than AWS does.
    with pytest.raises(DataUnavailable, match="broken"):
        organization.levels(MEMBER)
    assert g.policy_names(organization.scps_by_target[ROOT]) == ["full"]


def test_account_with_unknown_parents() -> None:
    accounts = [
        {"Id": ACCOUNT, "Name": "management", "Parents": [{"Id": ROOT, "Type": "ROOT"}]},
        {"Id": MEMBER, "Name": "shop", "Parents": unavailable("AccessDenied", "ListParents")},
    ]
    organization = _org(accounts=accounts)
    assert MEMBER not in organization.accounts
    assert any(MEMBER in e and "ListParents" in e for e in organization.errors)
    with pytest.raises(DataUnavailable, match="ListParents"):
        organization.levels(MEMBER)


def test_no_organisation() -> None:
    snapshot = g.gaad_snapshot()
    assert model_from_snapshot(snapshot).organization is None
    snapshot.put_service(ACCOUNT, "organizations", GLOBAL, {"organization": None, "accounts": []})
    assert model_from_snapshot(snapshot).organization is None
    snapshot.put_service(
        ACCOUNT, "organizations", GLOBAL, {"organization": unavailable("AccessDenied", "x")}
    )
    organization = model_from_snapshot(snapshot).organization
    assert organization is not None and organization.errors
    with pytest.raises(DataUnavailable):
        organization.levels(ACCOUNT)
