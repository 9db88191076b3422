"""Loading the identity model's IAM part: `get-account-authorization-details` (GAAD) output,
from a file or parsed, and the field readers the snapshot loader shares.

A file that is not GAAD output is an InputError. Inside, a malformed entry (a user without an
ARN, a policy document that is not JSON) is skipped and named in its account's `errors`; the
rest is loaded.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson

from mamori.core import InputError, as_utc, iso, parse_arn
from mamori.identity.model import (
    Document,
    Group,
    IamAccount,
    IdentityModel,
    ManagedPolicy,
    PolicyDoc,
    PolicyVersion,
    Role,
    User,
    is_aws_managed_arn,
)
from mamori.inventory import is_unavailable

_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_PAGE_KEYS = frozenset({*_LISTS, "IsTruncated", "Marker", "ResponseMetadata"})
# (list, its name field, what an entry is called in errors); policies first, so that errors
# about them precede those of the principals that use them.
_ENTRIES = (
    ("Policies", "PolicyName", "policy"),
    ("GroupDetailList", "GroupName", "group"),
    ("UserDetailList", "UserName", "user"),
    ("RoleDetailList", "RoleName", "role"),
)

Raw = dict[str, Any]


# -- reading fields ----------------------------------------------------------------------------


def why_unavailable(marker: Any) -> str:
    """'Code: message' of an unavailable marker (the documented {"__unavailable__": {...}})."""
    info = next(iter(marker.values()), None) if isinstance(marker, dict) else None
    if not isinstance(info, dict):
        return "Unavailable"
    code, message = str(info.get("code") or "Unavailable"), str(info.get("message") or "")
    return f"{code}: {message}" if message else code


def field_value(raw: Mapping[str, Any], key: str, where: str) -> Any:
    value = raw.get(key)
    if is_unavailable(value):
        raise InputError(f"{where}: {key} could not be read ({why_unavailable(value)})")
    return value


def text_field(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = field_value(raw, key, where)
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: {key} is missing or not text")
    return value


def opt_text_field(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = field_value(raw, key, where)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{where}: {key} is not text")
    return value or None


def object_list(raw: Mapping[str, Any], key: str, where: str) -> list[Raw]:
    """The list of objects under `key`; absent or null reads as empty (AWS omits empty lists)."""
    value = field_value(raw, key, where)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{where}: {key} is not a list")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise InputError(f"{where}: {key}[{index}] is not an object")
    return value


def text_list(raw: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = field_value(raw, key, where)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: {key} is not a list of text")
    return list(value)


def timestamp(value: Any) -> str | None:
    """A timestamp as ISO 8601 UTC; None for absent values and the credential report's "N/A",
    "no_information" and the like."""
    try:
        moment = as_utc(value) if isinstance(value, str | datetime) else None
    except (ValueError, OverflowError):
        return None
    return iso(moment) if moment is not None else None


def dig(raw: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(raw, dict):
            return None
        raw = raw.get(key)
    return raw


def entry_label(raw: Raw, name_key: str, what: str, fallback: str) -> str:
    name = raw.get(name_key)
    return f"{what} {name}" if isinstance(name, str) and name else fallback


def decode_policy_document(raw: Any, where: str) -> Document:
    """A policy document as GAAD gives it: a JSON object, JSON text, or URL-encoded JSON text
    (the AWS CLI's form). Raises InputError naming `where`."""
    if is_unavailable(raw):
        raise InputError(f"{where}: the document could not be read ({why_unavailable(raw)})")
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise InputError(f"{where}: the policy document is missing or not text")
    # Plain JSON is tried first: unquoting it could corrupt a literal "%" inside it.
    for text in (raw, unquote(raw)):
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if isinstance(doc, dict):
            return doc
        raise InputError(f"{where}: the policy document is not a JSON object")
    raise InputError(f"{where}: the policy document is not valid JSON, even URL-decoded")


# -- IAM entities ------------------------------------------------------------------------------

CredentialReader = Callable[[Raw, str], dict[str, Any]]


class IamLoader:
    """Builds IamAccounts from GAAD's four lists. Entities go to the account their ARN names;
    with `home` set (a snapshot's account) all must belong to it."""

    def __init__(
        self, home: IamAccount | None = None, credentials: CredentialReader | None = None
    ) -> None:
        self.home = home
        self.accounts: dict[str, IamAccount] = {home.account_id: home} if home else {}
        self.credentials = credentials
        self.partition: str | None = None
        self.shared_errors: list[str] = []  # entries that belong to no one account
        self.aws_policies: dict[str, ManagedPolicy] = {}
        # Instance profile ARN (and account/name) -> the role in it, for EC2 workloads.
        self.profiles: dict[str, str] = {}

    def load(self, lists: Mapping[str, list[Any]]) -> dict[str, IamAccount]:
        builders = {
            "policy": self._policy,
            "group": self._group,
            "user": self._user,
            "role": self._role,
        }
        for list_name, name_key, what in _ENTRIES:
            self._each(lists.get(list_name, []), list_name, name_key, what, builders[what])
        return self._finish()

    def _each(
        self,
        items: list[Any],
        list_name: str,
        name_key: str,
        what: str,
        build: Callable[[Raw, str, IamAccount | None], None],
    ) -> None:
        for index, raw in enumerate(items):
            where = f"{list_name}[{index}]"
            if not isinstance(raw, dict) or is_unavailable(raw):
                problem = why_unavailable(raw) if is_unavailable(raw) else "not an object"
                self.shared_errors.append(f"{where}: {problem}; skipped")
                continue
            where = entry_label(raw, name_key, what, where)
            account: IamAccount | None = None
            try:
                arn = text_field(raw, "Arn", where)
                if not (what == "policy" and is_aws_managed_arn(arn)):
                    account = self._account_of(arn, where)
                build(raw, where, account)
            except InputError as exc:
                errors = account.errors if account is not None else self.shared_errors
                errors.append(f"{exc}; skipped")

    def _account_of(self, arn: str, where: str) -> IamAccount:
        parsed = parse_arn(arn)
        if parsed.service != "iam" or not parsed.account:
            raise InputError(f"{where}: {arn!r} is not an IAM ARN")
        self.partition = self.partition or parsed.partition
        if self.home is not None and parsed.account != self.home.account_id:
            raise InputError(f"{where}: {arn} belongs to another account")
        return self.accounts.setdefault(parsed.account, IamAccount(parsed.account))

    def _policy(self, raw: Raw, where: str, account: IamAccount | None) -> None:
        arn = raw["Arn"]
        errors = account.errors if account is not None else self.shared_errors
        default_id = opt_text_field(raw, "DefaultVersionId", where)
        versions: list[PolicyVersion] = []
        for index, item in enumerate(object_list(raw, "PolicyVersionList", where)):
            label = entry_label(item, "VersionId", f"{where} version", f"{where} version [{index}]")
            try:
                version_id = text_field(item, "VersionId", label)
                document = decode_policy_document(item.get("Document"), label)
            except InputError as exc:
                errors.append(f"{exc}; skipped")
                continue
            # DefaultVersionId is authoritative; the flag serves where it is absent.
            is_default = (
                version_id == default_id if default_id else item.get("IsDefaultVersion") is True
            )
            versions.append(PolicyVersion(version_id, is_default, document))
        default = next((v for v in versions if v.is_default), None)
        if default is None:
            errors.append(f"{where}: the default version's document is not in the input")
        count = raw.get("AttachmentCount")
        policy = ManagedPolicy(
            arn=arn,
            name=opt_text_field(raw, "PolicyName", where) or arn.rsplit("/", 1)[-1],
            id=opt_text_field(raw, "PolicyId", where) or "",
            path=opt_text_field(raw, "Path", where) or "/",
            default_version_id=default_id or (default.version_id if default else None),
            document=default.document if default else None,
            versions=versions,
            attachment_count=count
            if isinstance(count, int) and not isinstance(count, bool)
            else None,
        )
        if account is None:
            self.aws_policies[arn] = policy
        else:
            account.policies[arn] = policy

    def _common(self, raw: Raw, where: str, account: IamAccount, kind: str) -> dict[str, Any]:
        """Fields users, groups and roles share (GAAD spells them UserName, GroupId...)."""
        arn = raw["Arn"]
        return {
            "arn": arn,
            "name": opt_text_field(raw, f"{kind}Name", where) or arn.rsplit("/", 1)[-1],
            "id": opt_text_field(raw, f"{kind}Id", where) or "",
            "account": account.account_id,
            "inline": self._inline(raw, f"{kind}PolicyList", arn, where, account),
            "managed_arns": self._attached(raw, where, account),
        }

    def _group(self, raw: Raw, where: str, account: IamAccount | None) -> None:
        assert account is not None
        group = Group(**self._common(raw, where, account, "Group"))
        account.groups[group.name] = group

    def _user(self, raw: Raw, where: str, account: IamAccount | None) -> None:
        assert account is not None
        common = self._common(raw, where, account, "User")
        user = User(
            **common,
            path=opt_text_field(raw, "Path", where) or "/",
            groups=text_list(raw, "GroupList", where),
            boundary_arn=_boundary(raw, where),
            tags=_tags(raw, where, account.errors),
            **(self.credentials(raw, common["name"]) if self.credentials else {}),
        )
        account.users[user.arn] = user

    def _role(self, raw: Raw, where: str, account: IamAccount | None) -> None:
        assert account is not None
        trust = decode_policy_document(raw.get("AssumeRolePolicyDocument"), f"{where} trust policy")
        profiles = object_list(raw, "InstanceProfileList", where)
        role = Role(
            **self._common(raw, where, account, "Role"),
            path=opt_text_field(raw, "Path", where) or "/",
            trust=trust,
            boundary_arn=_boundary(raw, where),
            tags=_tags(raw, where, account.errors),
            instance_profile_arns=[
                text_field(p, "Arn", f"{where} instance profile") for p in profiles
            ],
            last_used=timestamp(dig(raw, "RoleLastUsed", "LastUsedDate")),
        )
        account.roles[role.arn] = role
        for profile in profiles:
            self.profiles[profile["Arn"]] = role.arn
            name = profile.get("InstanceProfileName")
            if isinstance(name, str):
                self.profiles[f"{account.account_id}/{name}"] = role.arn

    def _inline(
        self, raw: Raw, key: str, owner: str, where: str, account: IamAccount
    ) -> list[PolicyDoc]:
        docs: list[PolicyDoc] = []
        for index, item in enumerate(object_list(raw, key, where)):
            label = entry_label(
                item, "PolicyName", f"{where} inline policy", f"{where} {key}[{index}]"
            )
            try:
                name = text_field(item, "PolicyName", label)
                document = decode_policy_document(item.get("PolicyDocument"), label)
            except InputError as exc:
                account.errors.append(f"{exc}; skipped")
                continue
            docs.append(PolicyDoc(f"{owner}#{name}", name, None, "inline", document))
        return docs

    @staticmethod
    def _attached(raw: Raw, where: str, account: IamAccount) -> list[str]:
        arns: list[str] = []
        for index, item in enumerate(object_list(raw, "AttachedManagedPolicies", where)):
            arn = item.get("PolicyArn")
            if isinstance(arn, str) and arn.startswith("arn:"):
                arns.append(arn)
            else:
                account.errors.append(
                    f"{where}: AttachedManagedPolicies[{index}] has no PolicyArn; skipped"
                )
        return arns

    def _finish(self) -> dict[str, IamAccount]:
        for account in self.accounts.values():
            account.errors.extend(self.shared_errors)
            for arn, policy in self.aws_policies.items():
                account.policies.setdefault(arn, policy)
            referenced: set[str] = set()
            principals: list[User | Group | Role] = [
                *account.users.values(),
                *account.groups.values(),
                *account.roles.values(),
            ]
            for principal in principals:
                referenced.update(principal.managed_arns)
                if not isinstance(principal, Group) and principal.boundary_arn:
                    referenced.add(principal.boundary_arn)
            account.unresolved_policies = {
                arn
                for arn in referenced
                if (known := account.policies.get(arn)) is None or known.document is None
            }
            for user in account.users.values():
                account.errors.extend(
                    f"user {user.name}: group {name} is not in the input"
                    for name in user.groups
                    if name not in account.groups
                )
        return self.accounts


def _boundary(raw: Raw, where: str) -> str | None:
    boundary = field_value(raw, "PermissionsBoundary", where)
    if boundary is None:
        return None
    if not isinstance(boundary, dict):
        raise InputError(f"{where}: PermissionsBoundary is not an object")
    return text_field(boundary, "PermissionsBoundaryArn", f"{where} PermissionsBoundary")


def _tags(raw: Raw, where: str, errors: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for index, tag in enumerate(object_list(raw, "Tags", where)):
        key, value = tag.get("Key"), tag.get("Value", "")
        if isinstance(key, str) and isinstance(value, str):
            tags[key] = value
        else:
            errors.append(f"{where}: Tags[{index}] is not a Key/Value pair of text; skipped")
    return tags


# -- GAAD files --------------------------------------------------------------------------------


def load_auth_details(path: Path) -> IdentityModel:
    source = Path(path)
    try:
        blob = source.read_bytes()
        if blob[:2] == b"\x1f\x8b":
            blob = gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{source}: cannot read: {exc}") from exc
    try:
        doc = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON: {exc}") from exc
    return model_from_auth_details(doc, str(source))


def model_from_auth_details(doc: object, source: str) -> IdentityModel:
    pages = _pages(doc, source)
    loader = IamLoader()
    accounts = loader.load(
        {key: [i for page in pages for i in page.get(key, [])] for key in _LISTS}
    )
    if not accounts and loader.shared_errors:
        raise InputError(f"{source}: no entry could be loaded; first: {loader.shared_errors[0]}")
    return IdentityModel(
        accounts=dict(sorted(accounts.items())), partition=loader.partition or "aws"
    )


def _pages(doc: object, source: str) -> list[Raw]:
    """GAAD pages: one response object, or a list of them as a user concatenates pages."""
    pages: list[Any] = doc if isinstance(doc, list) else [doc]
    if not pages:
        raise InputError(f"{source}: an empty list, not get-account-authorization-details output")
    expected = ", ".join(_LISTS)
    for index, page in enumerate(pages):
        where = f"{source}[{index}]" if isinstance(doc, list) else source
        if not isinstance(page, dict):
            raise InputError(
                f"{where}: not get-account-authorization-details output: expected an object "
                f"with {expected}, got {type(page).__name__}"
            )
        if page.get("format") == "mamori-snapshot":
            raise InputError(f"{where}: this is a Mamori snapshot, not GAAD output")
        unknown = sorted(str(k) for k in page if k not in _PAGE_KEYS)
        if unknown or not any(key in page for key in _LISTS):
            problem = f"unexpected key(s) {', '.join(unknown[:5])}" if unknown else "no lists"
            raise InputError(
                f"{where}: not get-account-authorization-details output ({problem}; "
                f"expected {expected})"
            )
        for key in _LISTS:
            if key in page and not isinstance(page[key], list):
                raise InputError(f"{where}: {key} is not a list")
    return pages
