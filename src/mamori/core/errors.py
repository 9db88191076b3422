"""Error types shared by every package. The CLI maps them to exit codes."""

from __future__ import annotations


class MamoriError(Exception):
    """A failure with a one-line reason that names the input at fault."""


class InputError(MamoriError):
    """Something the user handed us (a file, an option, a rule) is malformed."""


class StoreError(MamoriError):
    """The findings store could not be opened or written."""


class AwsAccessError(MamoriError):
    """Credentials are missing or invalid, or an account could not be reached."""


class DataUnavailable(Exception):  # noqa: N818 - reads as a state, not an accident
    """The data a check needs could not be collected; the check reports NOT_AVAILABLE."""

    def __init__(self, what: str, code: str = "Unavailable", message: str = "") -> None:
        self.what = what
        self.code = code
        self.message = message
        super().__init__(f"{what}: {code}" + (f" ({message})" if message else ""))
