"""ARN parsing and building."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.core.errors import InputError


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_type(self) -> str:
        for sep in ("/", ":"):
            if sep in self.resource:
                return self.resource.split(sep, 1)[0]
        return ""


def parse_arn(text: str) -> Arn:
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
        raise InputError(f"not an ARN: {text!r}")
    return Arn(*parts[1:])


def build_arn(
    service: str, resource: str, *, account: str = "", region: str = "", partition: str = "aws"
) -> str:
    return str(Arn(partition, service, region, account, resource))


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
