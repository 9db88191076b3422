"""The generated reference pages match the registries (regenerate with scripts/gen_docs.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_docs_are_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stale = [
        str(p.relative_to(ROOT))
        for p, text in module.pages().items()
        if not p.exists() or p.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"regenerate with `.venv/bin/python scripts/gen_docs.py`: {stale}"
