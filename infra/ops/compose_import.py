"""``python -m infra import COMPOSE_FILE``: write config/ from a compose file.

Loads the file as Docker Compose does (:mod:`infra.compose.project`), maps it
(:mod:`infra.compose.convert`), checks the result with the config validation
every synth uses, and only then writes ``base.yaml``, ``dev.yaml`` and
``prod.yaml``. A refusal, a failed validation or an existing file (without
``--force``) writes nothing and exits 2.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from infra.compose.convert import Imported, convert
from infra.compose.managed import parse_managed
from infra.compose.output import render
from infra.compose.project import ComposeError, label, load
from infra.config import ConfigError, load_config
from infra.paths import CONFIG_DIR

KINDS = ("base", "dev", "prod")


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("compose_file", type=Path, metavar="COMPOSE_FILE")
    parser.add_argument(
        "-f",
        "--file",
        dest="more",
        type=Path,
        action="append",
        default=[],
        metavar="MORE.yaml",
        help="more compose files, merged in order",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=CONFIG_DIR,
        metavar="DIR",
        help="where to write base.yaml, dev.yaml and prod.yaml (config/)",
    )
    parser.add_argument("--app", help="the app name (default: the compose project's)")
    parser.add_argument(
        "--public",
        default="",
        metavar="SVC,...",
        help="services to expose through a load balancer, databases too",
    )
    parser.add_argument(
        "--managed",
        default="",
        metavar="SVC=ENGINE,...",
        help="services prod runs as managed engines (valkey, postgres); dev keeps the container",
    )
    parser.add_argument(
        "--profile", action="append", default=[], help="a compose profile to activate (repeatable)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


def run_import(args: argparse.Namespace) -> int:
    """The command: 0 written, 2 refused or could not run (nothing written)."""
    out: Path = args.out
    files = [args.compose_file, *args.more]
    try:
        # First: a missing or broken compose file says more than the files in the way.
        project = load(files, args.profile)
    except ComposeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    targets = {kind: out / f"{kind}.yaml" for kind in KINDS}
    existing = [label(p) for p in targets.values() if p.exists()]
    if existing and not args.force:
        print(
            f"error: {', '.join(existing)} exist: --force overwrites them, or --out DIR "
            "writes elsewhere",
            file=sys.stderr,
        )
        return 2
    public = [name.strip() for name in args.public.split(",") if name.strip()]
    try:
        managed = parse_managed(args.managed)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    imported = convert(project, args.app, public, managed)
    source = ", ".join(label(f) for f in files)
    print(f"import {source} ({project.compose}): {len(project.services)} services")
    if imported.report.refusals:
        print("\n".join(imported.report.lines()))
        print("\n".join(imported.report.refusal_lines()), file=sys.stderr)
        print(
            f"refused: {len(imported.report.refusals)} key(s) above; nothing written",
            file=sys.stderr,
        )
        return 2
    texts = {kind: render(kind, imported.files[kind], imported.origins, source) for kind in KINDS}
    problems = _validate(texts, out)
    if problems:
        print(
            "error: the imported config does not validate (please report this with the "
            "compose file):\n" + problems,
            file=sys.stderr,
        )
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for kind, text in texts.items():
        targets[kind].write_text(text)
    print("\n".join(imported.report.lines()))
    others = sorted(set(out.glob("*.yaml")) - set(targets.values()))
    if others:
        print(
            f"note: {', '.join(label(p) for p in others)} left as they were: they may name "
            "services this file does not have"
        )
    _next_steps(imported, out)
    return 0


def _validate(texts: dict[str, str], out: Path) -> str:
    """Every env loads with the config validation (as at synth), or what it says."""
    with tempfile.TemporaryDirectory(prefix="import-") as tmp:
        folder = Path(tmp)
        for kind, text in texts.items():
            (folder / f"{kind}.yaml").write_text(text)
        found = []
        for env in KINDS[1:]:
            try:
                load_config(env, folder, environ={})
            except ConfigError as error:
                found.append(error.render().replace(str(folder), label(out)))
        return "\n".join(dict.fromkeys(found))


def _next_steps(imported: Imported, out: Path) -> None:
    written = ", ".join(label(out / f"{kind}.yaml") for kind in KINDS)
    flag = "" if out.resolve() == CONFIG_DIR else f" CONFIG={label(out)}"
    print(
        f"wrote {written}\nnext: make synth{flag}, make cost ENV=all{flag}, then read the "
        "notes above before make deploy"
    )


__all__ = ["add_import_arguments", "run_import"]
