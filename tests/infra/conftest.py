"""Synthesized apps for the infra tests: each environment once per session."""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import aws_cdk.cx_api as cxapi
import pytest
import yaml
from aws_cdk.assertions import Template

from infra.builder import Stacks, build, cdk_json_context
from infra.compliance import add_checks
from infra.config import AppConfig, environments, load_config
from infra.paths import CONFIG_DIR

ENVS = environments()


@dataclass
class Synth:
    """One environment's config, stacks and their templates (as dicts)."""

    config: AppConfig
    app: cdk.App
    stacks: Stacks
    templates: dict[str, dict[str, Any]]
    assembly: cxapi.CloudAssembly
    _templates: dict[str, Template] = field(default_factory=dict)

    def template(self, part: str) -> Template:
        """The assertions Template of ``network``, ``cluster`` or a service (made once)."""
        if part not in self._templates:
            stack = {"network": self.stacks.network, "cluster": self.stacks.cluster}.get(part)
            self._templates[part] = Template.from_stack(stack or self.stacks.services[part])
        return self._templates[part]

    def resources(self, part: str, kind: str) -> dict[str, Any]:
        """Resources of one CloudFormation type in one stack, by logical ID."""
        body = self.templates[self.config.stack_name(part)]
        return {k: v for k, v in body["Resources"].items() if v["Type"] == kind}

    def one(self, part: str, kind: str) -> dict[str, Any]:
        """The properties of the single resource of ``kind`` in one stack."""
        found = self.resources(part, kind)
        assert len(found) == 1, f"{part}: {len(found)} x {kind}"
        props: dict[str, Any] = next(iter(found.values())).get("Properties", {})
        return props


def synthesize(config: AppConfig, outdir: Path) -> Synth:
    """As app.py does it, security checks included: a cdk-nag finding fails the synth."""
    app = cdk.App(context=cdk_json_context(), outdir=str(outdir), stack_traces=False)
    stacks = build(app, config)
    add_checks(app)
    assembly = app.synth()
    templates = {
        s.stack_name: assembly.get_stack_by_name(s.stack_name).template for s in stacks.all()
    }
    return Synth(config=config, app=app, stacks=stacks, templates=templates, assembly=assembly)


@pytest.fixture(scope="session")
def synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synth]:
    """Every shipped environment, synthesized once for the whole session."""
    return {
        env: synthesize(load_config(env, environ={}), tmp_path_factory.mktemp(f"cdk-{env}"))
        for env in ENVS
    }


@pytest.fixture(params=ENVS)
def synth(request: pytest.FixtureRequest, synths: dict[str, Synth]) -> Synth:
    """Each shipped environment in turn."""
    return synths[request.param]


Edit = Callable[[dict[str, Any]], None]


def config_dir_with(tmp_path: Path, base: Edit | None = None, **envs: Edit) -> Path:
    """A copy of config/ in ``tmp_path`` with ``base.yaml`` and env files edited in place."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    for name, edit in {"base": base, **envs}.items():
        if edit is None:
            continue
        path = target / f"{name}.yaml"
        data = yaml.safe_load(path.read_text()) or {}
        edited = copy.deepcopy(data)
        edit(edited)
        path.write_text(yaml.safe_dump(edited, sort_keys=False))
    return target


@pytest.fixture
def synth_edited(tmp_path: Path) -> Callable[..., Synth]:
    """Synthesize an environment from a copy of config/ with edits applied."""

    def run(env: str, base: Edit | None = None, **envs: Edit) -> Synth:
        workdir = Path(tempfile.mkdtemp(dir=tmp_path))  # one per call: a test may synth twice
        config_dir = config_dir_with(workdir, base, **envs)
        return synthesize(load_config(env, config_dir, environ={}), workdir / "cdk.out")

    return run
