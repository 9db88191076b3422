"""The identity model loaded from `get-account-authorization-details` output: principals,
groups, managed policy versions, URL-encoded documents, boundaries, instance profiles,
unresolved AWS managed policies, and what happens to malformed input."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.core import InputError
from mamori.identity.loaders import decode_policy_document
from mamori.identity.model import (
    IamAccount,
    IdentityModel,
    load_auth_details,
    model_from_auth_details,
)
from tests.identity import gaad_sample as g


def _load(doc: Any = None) -> IdentityModel:
    return model_from_auth_details(g.sample() if doc is None else doc, "gaad.json")


def _account(doc: Any = None) -> IamAccount:
    model = _load(doc)
    assert list(model.accounts) == [g.ACCOUNT]
    return model.accounts[g.ACCOUNT]


def _user_doc(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(u for u in doc["UserDetailList"] if u["UserName"] == name)


# -- the sample, loaded --------------------------------------------------------------------------


def test_principals_groups_and_policies_are_loaded() -> None:
    model = _load()
    assert model.partition == "aws"
    assert model.organization is None
    account = model.accounts[g.ACCOUNT]
    assert account.errors == []
    assert sorted(u.name for u in account.users.values()) == ["alice", "bob", "carol"]
    assert sorted(account.groups) == ["admins", "auditors", "developers"]
    assert sorted(r.name for r in account.roles.values()) == [
        "AWSServiceRoleForSupport",
        "app-server",
        "ci-deployer",
    ]
    alice = account.user_by_name("alice")
    assert alice is not None
    assert alice.arn == f"{g.IAM}:user/alice"
    assert (alice.id, alice.account, alice.path) == ("AIDAALICE00000000001", g.ACCOUNT, "/")
    assert alice.groups == ["admins", "developers"]
    assert alice.tags == {"team": "platform", "cost-center": "42"}
    # GAAD says nothing about credentials: unknown, not "none".
    assert (alice.access_keys, alice.has_password, alice.mfa_active) == (None, None, None)
    carol = account.user_by_name("carol")
    assert carol is not None and carol.path == "/contractors/"
    assert account.user_by_name("mallory") is None


def test_url_encoded_and_plain_documents_are_decoded() -> None:
    account = _account()
    alice = account.user_by_name("alice")
    carol = account.user_by_name("carol")
    assert alice is not None and carol is not None
    (inline,) = alice.inline
    assert (inline.key, inline.name, inline.kind, inline.arn) == (
        f"{g.IAM}:user/alice#self-manage",
        "self-manage",
        "inline",
        None,
    )
    assert inline.document == g.ALICE_INLINE
    # A plain JSON string keeps its literal "%25": it is not URL-decoded a second time.
    assert carol.inline[0].document == g.CAROL_INLINE
    role = account.role_by_name("app-server")
    assert role is not None and role.trust == g.EC2_TRUST
    assert account.groups["developers"].inline[0].document == g.DEV_GROUP_INLINE


def test_managed_policy_versions_and_default() -> None:
    account = _account()
    deploy = account.policies[g.DEPLOY_ARN]
    assert (deploy.name, deploy.id, deploy.path) == ("DeployApp", "ANPADEPLOY000000001", "/")
    assert deploy.default_version_id == "v2"
    assert deploy.document == g.DEPLOY_V2
    assert [(v.version_id, v.is_default, v.document) for v in deploy.versions] == [
        ("v2", True, g.DEPLOY_V2),
        ("v1", False, g.DEPLOY_V1),
    ]
    assert deploy.attachment_count == 1
    assert not deploy.is_aws_managed
    assert account.policies[g.BOUNDARY_ARN].path == "/boundaries/"
    admin = account.policies[g.ADMIN_ARN]
    assert admin.is_aws_managed and admin.document == g.ADMIN_DOC
    doc = deploy.doc()
    assert doc is not None and (doc.key, doc.kind) == (f"{g.DEPLOY_ARN}:v2", "managed")
    admin_doc = admin.doc()
    assert admin_doc is not None and admin_doc.kind == "aws-managed"


@pytest.mark.parametrize("keep", ["DefaultVersionId", "IsDefaultVersion"])
def test_default_version_from_either_field(keep: str) -> None:
    doc = g.sample()
    deploy = doc["Policies"][0]
    if keep == "IsDefaultVersion":
        del deploy["DefaultVersionId"]
    else:
        for version in deploy["PolicyVersionList"]:
            del version["IsDefaultVersion"]
    account = _account(doc)
    assert account.policies[g.DEPLOY_ARN].default_version_id == "v2"
    assert account.policies[g.DEPLOY_ARN].document == g.DEPLOY_V2


def test_policy_docs_of_user_follow_groups_and_are_not_repeated() -> None:
    account = _account()
    bob = account.user_by_name("bob")
    assert bob is not None
    keys = [d.key for d in account.policy_docs_of_user(bob)]
    # Own inline, group inline (developers), then managed: DeployApp is attached to bob and to
    # developers but counted once; ReadOnlyAccess (auditors) is unresolved and left out.
    assert keys == [
        f"{g.IAM}:user/bob#queue",
        f"{g.IAM}:group/developers#dev-s3",
        f"{g.DEPLOY_ARN}:v2",
    ]
    alice = account.user_by_name("alice")
    assert alice is not None
    alice_docs = account.policy_docs_of_user(alice)
    assert [d.kind for d in alice_docs] == ["inline", "inline", "aws-managed", "managed"]
    assert alice_docs[2].document == g.ADMIN_DOC
    role = account.role_by_name("app-server")
    assert role is not None
    assert [d.key for d in account.policy_docs_of_role(role)] == [f"{role.arn}#table"]
    group_docs = account.policy_docs_of_group(account.groups["admins"])
    assert [d.key for d in group_docs] == [f"{g.ADMIN_ARN}:v1"]


def test_missing_aws_managed_policies_are_unresolved_not_invented() -> None:
    account = _account()
    assert account.unresolved_policies == {g.READONLY_ARN, g.SUPPORT_ARN}
    assert g.READONLY_ARN not in account.policies
    bob = account.user_by_name("bob")
    alice = account.user_by_name("alice")
    support = account.role_by_name("AWSServiceRoleForSupport")
    assert bob is not None and alice is not None and support is not None
    assert account.unresolved_for(bob) == [g.READONLY_ARN]  # through the auditors group
    assert account.unresolved_for(alice) == []
    assert account.unresolved_for(support) == [g.SUPPORT_ARN]
    assert account.unresolved_for(account.groups["auditors"]) == [g.READONLY_ARN]
    assert account.policy_docs_of_role(support) == []


def test_boundaries() -> None:
    account = _account()
    bob = account.user_by_name("bob")
    assert bob is not None and bob.boundary_arn == g.BOUNDARY_ARN
    boundary = account.boundary_doc(bob.boundary_arn)
    assert boundary is not None
    assert (boundary.kind, boundary.arn, boundary.document) == (
        "boundary",
        g.BOUNDARY_ARN,
        g.BOUNDARY_DOC,
    )
    assert account.boundary_doc(None) is None
    assert account.boundary_doc(g.READONLY_ARN) is None
    # A boundary that is not in the input is reported like an attached policy.
    doc = g.sample()
    _user_doc(doc, "bob")["PermissionsBoundary"]["PermissionsBoundaryArn"] = g.READONLY_ARN
    del doc["GroupDetailList"][2]  # auditors, which also uses ReadOnlyAccess
    _user_doc(doc, "bob")["GroupList"] = ["developers"]
    other = _account(doc)
    bob = other.user_by_name("bob")
    assert bob is not None and other.unresolved_for(bob) == [g.READONLY_ARN]


def test_roles() -> None:
    account = _account()
    app = account.role_by_name("app-server")
    assert app is not None
    assert app.instance_profile_arns == [g.PROFILE_ARN]
    assert app.last_used == "2024-11-02T17:05:11.000Z"
    assert app.tags == {"app": "shop"}
    assert app.boundary_arn == g.BOUNDARY_ARN
    assert not app.is_service_linked
    assert app.trust_doc.kind == "trust" and app.trust_doc.document == g.EC2_TRUST
    assert app.trust_doc.key != f"{app.arn}#trust"  # cannot collide with an inline policy
    ci = account.role_by_name("ci-deployer")
    assert ci is not None and ci.last_used is None
    support = account.role_by_name("AWSServiceRoleForSupport")
    assert support is not None and support.is_service_linked
    assert (
        support.arn
        == f"{g.IAM}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport"
    )
    # IAM names are unique regardless of case.
    assert account.role_by_name("APP-SERVER") is app


def test_pages_load_like_one_answer() -> None:
    doc = g.sample()
    whole = _load(doc)
    paged = model_from_auth_details(g.as_pages(doc), "pages.json")
    assert paged == whole


def test_boto3_shapes_load_too() -> None:
    # boto3 decodes documents into dicts and timestamps into datetimes.
    doc = g.sample()
    for role in doc["RoleDetailList"]:
        role["AssumeRolePolicyDocument"] = decode_policy_document(
            role["AssumeRolePolicyDocument"], "trust"
        )
        role["CreateDate"] = datetime(2023, 4, 1, tzinfo=UTC)
    doc["RoleDetailList"][0]["RoleLastUsed"]["LastUsedDate"] = datetime(2024, 11, 2, tzinfo=UTC)
    account = _account(doc)
    app = account.role_by_name("app-server")
    assert app is not None
    assert app.trust == g.EC2_TRUST
    assert app.last_used == "2024-11-02T00:00:00.000Z"


def test_accounts_come_from_the_arns() -> None:
    doc = g.sample()
    other = json.loads(json.dumps(doc["UserDetailList"][2]).replace(g.ACCOUNT, "999988887777"))
    other["AttachedManagedPolicies"] = [
        {"PolicyName": "AdministratorAccess", "PolicyArn": g.ADMIN_ARN}
    ]
    doc["UserDetailList"].append(other)
    model = _load(doc)
    assert sorted(model.accounts) == [g.ACCOUNT, "999988887777"]
    second = model.accounts["999988887777"]
    assert [u.name for u in second.users.values()] == ["carol"]
    # AWS managed policies serve every account; customer managed ones only their own.
    assert g.ADMIN_ARN in second.policies and g.DEPLOY_ARN not in second.policies
    assert second.unresolved_policies == set()


def test_other_partitions() -> None:
    doc = json.loads(json.dumps(g.sample()).replace("arn:aws:", "arn:aws-cn:"))
    model = _load(doc)
    assert model.partition == "aws-cn"
    assert model.accounts[g.ACCOUNT].policies["arn:aws-cn:iam::aws:policy/AdministratorAccess"]


# -- files -----------------------------------------------------------------------------------------


def test_files_plain_and_gzipped(tmp_path: Path) -> None:
    plain = tmp_path / "gaad.json"
    plain.write_text(json.dumps(g.sample()))
    packed = tmp_path / "gaad.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(g.as_pages(g.sample())).encode()))
    assert load_auth_details(plain) == load_auth_details(packed) == _load()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"{not json", "not valid JSON", id="not-json"),
        pytest.param(b"\x1f\x8b\x08garbage", "cannot read", id="broken-gzip"),
        pytest.param(b"[]", "empty list", id="empty-list"),
        pytest.param(b'"text"', "expected an object", id="a-string"),
        pytest.param(b'{"UserDetailsList": []}', "UserDetailsList", id="misspelt-key"),
        pytest.param(b'{"IsTruncated": false}', "no lists", id="no-lists"),
        pytest.param(b'{"UserDetailList": {}}', "UserDetailList is not a list", id="not-a-list"),
        pytest.param(b'[{"Policies": []}, 3]', "[1]", id="bad-page"),
        pytest.param(
            b'{"format": "mamori-snapshot", "accounts": {}}', "Mamori snapshot", id="snapshot"
        ),
    ],
)
def test_files_that_are_not_gaad_are_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"input\.json") as caught:
        load_auth_details(path)
    assert message in str(caught.value)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nowhere\.json"):
        load_auth_details(tmp_path / "nowhere.json")


# -- malformed entries -----------------------------------------------------------------------------


def test_user_without_arn_is_skipped_and_named() -> None:
    doc = g.sample()
    del _user_doc(doc, "carol")["Arn"]
    account = _account(doc)
    assert sorted(u.name for u in account.users.values()) == ["alice", "bob"]
    assert any("user carol" in e and "Arn" in e for e in account.errors)


def test_broken_inline_document_skips_that_policy_only() -> None:
    doc = g.sample()
    _user_doc(doc, "alice")["UserPolicyList"][0]["PolicyDocument"] = "%7B%22Version%22%3A"
    account = _account(doc)
    alice = account.user_by_name("alice")
    assert alice is not None and alice.inline == [] and alice.groups == ["admins", "developers"]
    (error,) = account.errors
    assert "user alice" in error and "self-manage" in error and "not valid JSON" in error


def test_broken_trust_policy_skips_the_role() -> None:
    doc = g.sample()
    doc["RoleDetailList"][1]["AssumeRolePolicyDocument"] = "%5B1%2C2%5D"  # [1,2]
    account = _account(doc)
    assert account.role_by_name("ci-deployer") is None
    assert account.role_by_name("app-server") is not None
    assert any("role ci-deployer" in e and "not a JSON object" in e for e in account.errors)


def test_unreadable_default_version_makes_the_policy_unresolved() -> None:
    doc = g.sample()
    doc["Policies"][0]["PolicyVersionList"][0]["Document"] = "{"
    account = _account(doc)
    deploy = account.policies[g.DEPLOY_ARN]
    assert deploy.document is None and [v.version_id for v in deploy.versions] == ["v1"]
    assert g.DEPLOY_ARN in account.unresolved_policies
    bob = account.user_by_name("bob")
    assert bob is not None and g.DEPLOY_ARN in account.unresolved_for(bob)
    assert any("DeployApp version v2" in e for e in account.errors)
    assert any("default version" in e for e in account.errors)


def test_user_in_a_group_that_is_not_in_the_input() -> None:
    doc = g.sample()
    doc["GroupDetailList"] = []
    account = _account(doc)
    assert "user alice: group admins is not in the input" in account.errors


def test_entries_of_no_account_are_reported_to_every_account() -> None:
    doc = g.sample()
    doc["RoleDetailList"].append("not an entry")
    doc["Policies"][2]["PolicyVersionList"] = "v1"  # an AWS managed policy: no one account
    account = _account(doc)
    assert any("RoleDetailList[3]: not an object" in e for e in account.errors)
    assert any("policy AdministratorAccess" in e for e in account.errors)
    assert g.ADMIN_ARN in account.unresolved_policies


def test_nothing_loadable_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no entry could be loaded"):
        model_from_auth_details({"UserDetailList": [{"UserName": "x"}]}, "broken.json")


# -- properties ----------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    """The sample with a few random nodes replaced, removed or truncated."""
    doc: Any = g.sample()
    if draw(st.integers(0, 19)) == 0:
        return draw(_JSON)
    for _ in range(draw(st.integers(1, 4))):
        parent: Any = None
        key: Any = None
        node = doc
        for _ in range(draw(st.integers(1, 7))):
            if isinstance(node, dict) and node:
                parent, key = node, draw(st.sampled_from(sorted(node)))
            elif isinstance(node, list) and node:
                parent, key = node, draw(st.integers(0, len(node) - 1))
            else:
                break
            node = parent[key]
        if parent is None:
            continue
        action = draw(st.sampled_from(["replace", "delete", "truncate"]))
        if action == "delete":
            del parent[key]
        elif action == "truncate" and isinstance(node, str):
            parent[key] = node[: draw(st.integers(0, len(node)))]
        else:
            parent[key] = draw(_JSON)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_mutated_gaad_loads_or_is_an_input_error(doc: Any) -> None:
    try:
        model = model_from_auth_details(doc, "mutated.json")
    except InputError:
        return
    for account_id, account in model.accounts.items():
        assert all(isinstance(e, str) for e in account.errors)
        for user in account.users.values():
            assert user.account == account_id
            assert all(isinstance(d.document, dict) for d in account.policy_docs_of_user(user))
            account.unresolved_for(user)
        for role in account.roles.values():
            assert isinstance(role.trust, dict)
            assert all(isinstance(d.document, dict) for d in account.policy_docs_of_role(role))


@given(st.dictionaries(st.text(max_size=8), _JSON, max_size=4))
def test_documents_decode_from_every_form(document: dict[str, Any]) -> None:
    assert decode_policy_document(document, "t") == document
    assert decode_policy_document(json.dumps(document), "t") == document
    assert decode_policy_document(g.encoded(document), "t") == document
