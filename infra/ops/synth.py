"""Synthesize one environment of a source tree into templates, as the CLI would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Templates = dict[str, dict[str, Any]]


class SynthError(Exception):
    """The app would not synthesize (a config error, a failed security check ...)."""


@dataclass
class Synthesis:
    """A running ``app.py`` of one source tree; :meth:`templates` waits for it."""

    tree: Path
    outdir: Path
    process: subprocess.Popen[str]

    def templates(self) -> Templates:
        """Every stack's template by stack name, or SynthError with the app's own message."""
        _, stderr = self.process.communicate()
        if self.process.returncode != 0:
            raise SynthError(f"synth of {self.tree} failed:\n{stderr.strip()}")
        return assembly_templates(self.outdir)


def assembly_templates(outdir: Path) -> Templates:
    """Every stack's template in the cloud assembly ``outdir`` (a ``cdk.out``), by stack name."""
    manifest_file = outdir / "manifest.json"
    if not manifest_file.is_file():
        raise SynthError(f"{outdir}: not a cloud assembly (no manifest.json); run `make synth`")
    found: Templates = {}
    try:
        manifest = json.loads(manifest_file.read_text())
        for name, artifact in manifest["artifacts"].items():
            if artifact["type"] == "aws:cloudformation:stack":
                path = outdir / artifact["properties"]["templateFile"]
                found[name] = json.loads(path.read_text())
    except (OSError, ValueError, KeyError) as error:
        raise SynthError(
            f"{outdir}: not a readable cloud assembly ({error}); run `make synth`"
        ) from None
    return found


# app.py's switch for a synth whose templates are only compared, never deployed.
CHECKS_VARIABLE = "APP_SECURITY_CHECKS"


def start(
    tree: Path, env: str, outdir: Path, *, checks: bool = True, config_dir: Path | None = None
) -> Synthesis:
    """Start ``app.py`` of ``tree`` for ``env`` with this interpreter (the same venv).

    Runs in the background so two trees synthesize at once. Path metadata is
    on, as under the cdk CLI, so resources can be named by construct path.
    Without ``checks`` the app skips cdk-nag and the Control Tower controls
    (a quarter of a cold synth's time); they add only template metadata, which
    comparisons ignore. ``config_dir`` (relative to ``tree``, or absolute) is
    another config folder than ``config/``.
    """
    context: dict[str, object] = {"env": env, "aws:cdk:enable-path-metadata": True}
    if config_dir is not None:
        context["config"] = str(config_dir)
    environ = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        CHECKS_VARIABLE: "on" if checks else "off",
    }
    process = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=tree,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Synthesis(tree=tree, outdir=outdir, process=process)
