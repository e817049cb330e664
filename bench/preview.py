"""Wall time of ``python -m infra preview`` against one plain synth of the same env.

A cold preview synthesizes twice (the working tree and a git ref, at once);
after an edit it finds the ref's templates in its cache and synthesizes the
tree once; again without an edit it finds both and synthesizes nothing. An
"edit" here is an untracked file with new content at the top of the tree
(removed at the end). All four run alternating in the same run; prints the
medians and the ratios to one synth (targets: cold within 2x, after an edit
within 1.2x). Needs a git checkout (it previews HEAD).

    .venv/bin/python bench/preview.py [--runs 5] [--env prod]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(args: list[str], extra_env: dict[str, str]) -> float:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", **extra_env}
    started = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True)
    if result.returncode not in (0, 1):  # preview exits 1 when the tree differs from HEAD
        raise SystemExit(result.stderr.decode())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--env", default="prod")
    args = parser.parse_args()
    preview = [sys.executable, "-m", "infra", "preview", "--env", args.env, "--json"]
    times: dict[str, list[float]] = {
        "one synth": [], "preview, cold": [], "after an edit": [], "again": []}  # fmt: skip
    edit = ROOT / ".bench-preview-edit"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            context = {"CDK_CONTEXT_JSON": json.dumps({"env": args.env})}
            for i in range(args.runs):
                times["one synth"].append(
                    timed([sys.executable, "app.py"], {**context, "CDK_OUTDIR": f"{tmp}/s{i}"})
                )
                times["preview, cold"].append(timed([*preview, "--no-cache"], {}))
                edit.write_text(f"run {i} {time.time()}")
                times["after an edit"].append(timed(preview, {}))
                times["again"].append(timed(preview, {}))
    finally:
        edit.unlink(missing_ok=True)
    medians = {name: statistics.median(found) for name, found in times.items()}
    print(f"runs: {args.runs} each, alternating, env {args.env}")
    for name, found in times.items():
        runs = ", ".join(f"{t:.2f}" for t in found)
        print(f"{name + ':':15} median {medians[name]:.2f} s  (all: {runs})")
    base = medians["one synth"]
    print(f"ratio cold / synth: {medians['preview, cold'] / base:.2f}x (target <= 2.0x)")
    print(f"ratio after an edit / synth: {medians['after an edit'] / base:.2f}x (target <= 1.2x)")
    print(f"ratio again / synth: {medians['again'] / base:.2f}x")


if __name__ == "__main__":
    main()
