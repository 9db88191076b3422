"""Where the graph is kept, how a build commits it, and how it is opened for reading.

`<data-dir>/graph/` holds segments of the tables (`seg-<id>/entities.parquet`, `edges`,
`activity`: the aggregate of some log parts), the finding links (`links-<id>.parquet`), and
`state.json`, which names the segments and links file in use and every log part aggregated into
them (by file name and size: parts are written once, under a new name, and never changed).

A build writes what it adds as a new segment, or (past MAX_SEGMENTS) merges every segment and
the new aggregate into one, and then replaces `state.json` (a rename): that one step commits both
the tables and the list of parts, so a build that dies half way leaves the last graph and its
list as they were, and no part is ever counted twice. Readers merge the segments as they read
(sums, first and last sightings), which costs little beside a lookup. Files of the state before
the current one are kept, so that a reader that opened it just before a commit can finish; older
ones are removed. Builds take an exclusive lock on the folder; readers take none.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mamori.core import InputError, StoreError

FOLDER = "graph"
STATE = "state.json"
FORMAT = 1


def graph_dir(data_dir: Path) -> Path:
    return data_dir / FOLDER


MAX_SEGMENTS = 8
_SEGMENT = re.compile(r"seg-[0-9a-f]{32}")
_LINKS = re.compile(r"links-[0-9a-f]{32}\.parquet")


@dataclass
class State:
    segments: list[str]  # oldest first
    links: str  # the finding links' file
    parts: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> part name -> size
    built_at: str = ""

    def segment_files(self, data_dir: Path, file: str) -> list[Path]:
        return [graph_dir(data_dir) / name / file for name in self.segments]

    def links_file(self, data_dir: Path) -> Path:
        return graph_dir(data_dir) / self.links

    def members(self) -> set[str]:
        return {*self.segments, self.links}


def read_state(data_dir: Path) -> State | None:
    """The committed state, or None if no graph was built here."""
    path = graph_dir(data_dir) / STATE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the investigation graph's state: {exc}") from None
    try:
        doc: Any = json.loads(text)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError("not a state file of this Mamori")
        segments = doc["segments"]
        links = doc["links"]
        # Names only, never paths: a state file must not point a build outside its folder.
        if not isinstance(segments, list) or not all(
            isinstance(n, str) and _SEGMENT.fullmatch(n) for n in segments
        ):
            raise ValueError("segments are not segment names")
        if not (isinstance(links, str) and _LINKS.fullmatch(links)):
            raise ValueError("links is not a links file name")
        parts = {
            str(table): {str(name): int(size) for name, size in files.items()}
            for table, files in doc.get("parts", {}).items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{path}: not a valid investigation graph state ({exc}); rebuild the graph with"
            " `mamori investigate --rebuild`"
        ) from None
    return State(segments, links, parts, str(doc.get("built_at", "")))


def commit(data_dir: Path, state: State) -> None:
    """Make `state` (whose generation folder is written) the current graph."""
    folder = graph_dir(data_dir)
    doc = {
        "format": FORMAT,
        "segments": state.segments,
        "links": state.links,
        "parts": state.parts,
        "built_at": state.built_at or datetime.now(UTC).isoformat(),
    }
    tmp = folder / f".{STATE}.tmp"
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / STATE)


def new_segment(data_dir: Path) -> tuple[str, Path]:
    name = f"seg-{uuid.uuid4().hex}"
    folder = graph_dir(data_dir) / name
    folder.mkdir(parents=True)
    return name, folder


def new_links(data_dir: Path) -> tuple[str, Path]:
    name = f"links-{uuid.uuid4().hex}.parquet"
    return name, graph_dir(data_dir) / name


def prune(data_dir: Path, keep: set[str]) -> None:
    """Remove segments and links files other than `keep` (and those of dead builds)."""
    for child in graph_dir(data_dir).iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and _SEGMENT.fullmatch(child.name):
            shutil.rmtree(child, ignore_errors=True)
        elif _LINKS.fullmatch(child.name):
            child.unlink(missing_ok=True)


@contextmanager
def build_lock(data_dir: Path, wait: float) -> Iterator[None]:
    """Exclusive to one build at a time; waits up to `wait` seconds for another to finish."""
    folder = graph_dir(data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / ".lock").open("a+")
    except OSError as exc:
        raise StoreError(f"{folder}: cannot keep the investigation graph here: {exc}") from None
    with handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{folder}: another build of the investigation graph is under way"
                        f" (waited {wait:.0f} s)"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
