"""Running the operator CLI, ``python -m infra``, as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infra.paths import ROOT


def run(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m infra ARGS`` in ``cwd`` with this interpreter; output captured."""
    return subprocess.run(
        [sys.executable, "-m", "infra", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
