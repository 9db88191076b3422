"""Errors of the identity package."""

from __future__ import annotations

from mamori.core import InputError


class PolicyError(InputError):
    """A malformed policy document.

    `where` names the place in the document ("policy AdminAccess statement 2 Condition"), so the
    user can find it without a traceback; `problem` says what is wrong there. Callers that only
    have one sentence may pass it alone as `where`.
    """

    def __init__(self, where: str, problem: str = "") -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if problem else where)

    def __reduce__(self) -> tuple[type[PolicyError], tuple[str, str]]:
        # Keeps both parts when the error crosses a process boundary (pytest-xdist, workers).
        return (type(self), (self.where, self.problem))
