"""Arbitrary JSON documents built around a format's own keys, for "any input is read or
refused cleanly" properties."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from mamori.core import InputError


def json_documents(keys: Sequence[str], leaves: int = 12) -> st.SearchStrategy[Any]:
    """JSON values whose objects use `keys`, so that they get past the first checks."""
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(list(keys)), inner, max_size=4)
        ),
        max_leaves=leaves,
    )


def read_or_refused(reader: Callable[[Path], Any], doc: Any) -> None:
    """`reader` on a file holding `doc`: a result or an InputError, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        with contextlib.suppress(InputError):  # anything else fails the calling test
            reader(path)
