"""Turning botocore's failures into one-line reasons that name what failed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from mamori.core import MamoriError


def aws_error_text(exc: BaseException) -> str:
    """'Code: Message' of an AWS error answer; the text of any other botocore failure."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '?')}: {error.get('Message', '')}"
    return str(exc)


@contextmanager
def aws_failures(what: str, error: type[MamoriError]) -> Iterator[None]:
    """Raise `error("<what> (<reason>)")` for any AWS error or botocore failure inside."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise error(f"{what} ({aws_error_text(exc)})") from None
