"""Entries of the project's caches under ``.cache/`` (Control Tower passes, the tests'
cfn-lint and checkov passes): each written whole, so that a run beside the writer
(parallel synths, test workers) never reads half an entry."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_entry(entry: Path, text: str = "") -> None:
    """``text`` at ``entry``: written to a temporary file in its folder, then renamed."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=entry.parent)
    with os.fdopen(handle, "w") as file:
        file.write(text)
    os.replace(temporary, entry)
