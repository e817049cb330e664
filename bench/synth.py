"""Synthesis time of the four-stack prod app against a bare one-stack CDK app.

Both run as ``python <app>`` (what the cdk CLI does), alternating, in the same
run, so the ratio is fair whatever the machine is doing. Prints the medians
and their ratio; the target is prod within 2x of the bare app.

    .venv/bin/python bench/synth.py [--runs 5]
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

BARE_APP = """
import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

app = cdk.App()
stack = cdk.Stack(app, "Bare")
sqs.Queue(stack, "Queue")
app.synth()
"""


def timed(args: list[str], context: dict[str, str], outdir: str) -> float:
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": outdir,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def _seconds(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare_app.py"
        bare.write_text(BARE_APP)
        prod_times, bare_times = [], []
        for i in range(args.runs):
            prod_times.append(timed([sys.executable, "app.py"], {"env": "prod"}, f"{tmp}/p{i}"))
            bare_times.append(timed([sys.executable, str(bare)], {}, f"{tmp}/b{i}"))
    prod, base = statistics.median(prod_times), statistics.median(bare_times)
    print(f"runs: {args.runs} each, alternating")
    print(f"bare one-stack app:  median {base:.2f} s  (all: {_seconds(bare_times)})")
    print(f"prod, four stacks:   median {prod:.2f} s  (all: {_seconds(prod_times)})")
    print(f"ratio prod / bare:   {prod / base:.2f}x (target <= 2.0x)")


if __name__ == "__main__":
    main()
