"""Synthesized apps for the infra tests: each environment once per session."""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Callable, Mapping
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
from infra.config import AppConfig, ServiceConfig, environments, load_config
from infra.paths import CONFIG_DIR, ROOT

ENVS = environments()


@dataclass
class Synth:
    """One environment's config, stacks and their templates (as dicts)."""

    config: AppConfig
    stacks: Stacks
    templates: dict[str, dict[str, Any]]
    assembly: cxapi.CloudAssembly
    _templates: dict[str, Template] = field(default_factory=dict)

    def containers(self) -> dict[str, ServiceConfig]:
        """The services that run a container (not a managed engine), by name."""
        return {n: s for n, s in self.config.services.items() if s.managed is None}

    def template(self, part: str) -> Template:
        """The assertions Template of ``network``, ``cluster``, ``storage``, ``dashboard``
        or a service (made once)."""
        if part not in self._templates:
            parts = {"network": self.stacks.network, "cluster": self.stacks.cluster,
                     "storage": self.stacks.storage, "dashboard": self.stacks.dashboard,
                     "ingress": self.stacks.ingress}  # fmt: skip
            stack = parts.get(part) or self.stacks.managed.get(part)
            self._templates[part] = Template.from_stack(stack or self.stacks.services[part])
        return self._templates[part]


def synthesize(config: AppConfig, outdir: Path, *, control_tower: bool = True) -> Synth:
    """As app.py does it, security checks included: a cdk-nag finding (or, with
    ``control_tower``, a failed Control Tower control) fails the synth."""
    app = cdk.App(context=cdk_json_context(), outdir=str(outdir), stack_traces=False)
    stacks = build(app, config)
    add_checks(app, config.env, control_tower=control_tower)
    assembly = app.synth()
    templates = {
        s.stack_name: assembly.get_stack_by_name(s.stack_name).template for s in stacks.all()
    }
    return Synth(config=config, stacks=stacks, templates=templates, assembly=assembly)


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
    """Synthesize an environment from a copy of config/ with edits applied.

    cdk-nag runs; the Control Tower controls only with ``control_tower=True``:
    these synths are for comparing templates, and every shipped env and
    variant passes the controls in full (about a second a synth saved)."""

    def run(
        env: str, base: Edit | None = None, *, control_tower: bool = False, **envs: Edit
    ) -> Synth:
        workdir = Path(tempfile.mkdtemp(dir=tmp_path))  # one per call: a test may synth twice
        return synthesize_edited(workdir, env, {"base": base, **envs}, control_tower=control_tower)

    return run


def synthesize_edited(
    workdir: Path, env: str, edits: Mapping[str, Edit | None], *, control_tower: bool = True
) -> Synth:
    """``env`` synthesized from a copy of config/ in ``workdir`` with ``edits`` applied
    (by file: ``base`` or an env's name)."""
    files = {name: change for name, change in edits.items() if change is not None}
    config_dir = config_dir_with(workdir, files.pop("base", None), **files)
    config = load_config(env, config_dir, environ={})
    return synthesize(config, workdir / "cdk.out", control_tower=control_tower)


def readme_services() -> tuple[dict[str, Any], dict[str, Any]]:
    """The services and the storage volumes of README.md's "Add a third service by YAML alone"."""
    section = (ROOT / "README.md").read_text().split("## Add a third service by YAML alone")[1]
    services = section.split("# config/base.yaml, under services:\n", 1)[1].split("\n\n", 1)[0]
    volumes = section.split("# config/base.yaml, under storage: volumes:\n", 1)[1]
    volumes = volumes.split("\n\n", 1)[0]
    return yaml.safe_load(services), yaml.safe_load(volumes)


def with_readme_services(base: dict[str, Any]) -> None:
    """base.yaml with README's db and worker added, and more of what a worker may have."""
    services, volumes = readme_services()
    worker = services["worker"]
    base["services"].update(db=services["db"], worker={
        **worker, "user": "65534:65534", "desired_count": 2, "scratch": ["/var/cache/worker"],
        "connects_to": [*worker["connects_to"], "frontend"], "environment": {"QUEUE": "visits"},
        "secrets": {**worker["secrets"], **SECRETS}})  # fmt: skip
    base.setdefault("storage", {}).setdefault("volumes", {}).update(volumes)


def kms_key(n: int) -> str:
    return f"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-12345678900{n}"


# Each form of existing secret besides the README's SSM parameter name, each
# customer-managed key its own, so a grant missing for one form shows.
SECRETS = {
    "SMTP_PASSWORD": {"secrets_manager":
                      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:timestamper/smtp-Q1w2E3",
                      "field": "password", "kms_key": kms_key(1)},
    "SIGNING_KEY": {"secrets_manager":
                    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:timestamper/signing-AbCdEf"},
    "LEGACY_TOKEN": {"ssm": "arn:aws:ssm:eu-west-1:123456789012:parameter/legacy/token",
                     "kms_key": kms_key(2)},
    "WEBHOOK_KEY": {"ssm": "webhook-key", "kms_key": kms_key(3)},
}  # fmt: skip


def with_shared_load_balancer(base: dict[str, Any]) -> None:
    """base.yaml with the frontend on a host of the env's shared load balancer and a
    second public service under a path of it, on ARM64 Spot past one on-demand task."""
    frontend = base["services"]["frontend"]
    frontend["public"] = {**frontend["public"], "host": "www.example.com"}
    base["services"]["admin"] = {
        "build": "frontend", "port": 5000, "user": "10001", "scratch": ["/tmp"],
        "connects_to": ["backend"], "platform": "arm64", "desired_count": 2,
        "capacity": {"spot": True, "on_demand_base": 1},
        "public": {"host": "www.example.com", "path": "/admin/*",
                   "health_check_path": "/admin/healthz"},
    }  # fmt: skip


def with_managed_postgres(base: dict[str, Any]) -> None:
    """base.yaml with a managed PostgreSQL that the frontend connects to."""
    base["services"]["db"] = {"managed": {"engine": "postgres", "max_capacity": 2,
                                          "backup_retention_days": 14}}  # fmt: skip
    base["services"]["frontend"]["connects_to"].append("db")


def with_shared_load_balancer_and_postgres(base: dict[str, Any]) -> None:
    """Both edits of base.yaml: one synth serves the tests of each."""
    with_shared_load_balancer(base)
    with_managed_postgres(base)


def with_managed_valkey(dev: dict[str, Any]) -> None:
    """dev.yaml with its backend managed Valkey (its container's volume list gone)."""
    dev["services"]["backend"] = {"managed": {"engine": "valkey", "max_storage_gb": 2,
                                              "backup_retention_days": 0}}  # fmt: skip
    del dev["storage"]["volumes"]


def without_canary(prod: dict[str, Any]) -> None:
    """prod.yaml with its frontend deploying rolling, as a shared balancer's services do."""
    del prod["services"]["frontend"]["deployment"]
    prod["services"]["admin"] = {"public": {"deletion_protection": True}}


CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ops-alerts"

# The options the shipped envs leave off, each as (env, edits of its files).
VARIANTS: dict[str, tuple[str, dict[str, Edit]]] = {
    # The README's db and worker, with scratch space, a third peer and more secrets.
    "worker": ("dev", {"base": with_readme_services}),
    # The frontend and an admin service behind one shared load balancer, in prod (NAT),
    # and Aurora Serverless v2 for PostgreSQL beside prod's Valkey (one synth for both).
    "shared": ("prod", {"base": with_shared_load_balancer_and_postgres, "prod": without_canary}),
    # Aurora and Valkey in dev: destroyed with their stacks.
    "postgres-dev": ("dev", {"base": with_managed_postgres, "dev": with_managed_valkey}),
    # Account, region and three zones pinned.
    # ... with alarms to an existing topic, and a network load balancer passing TCP on
    # 443 (TLS ends in the app), which deploys rolling.
    # Without prod.yaml's services.backend, Redis is base.yaml's container on its volume.
    "pinned": ("prod", {"prod": lambda d: d.update(
        account="123456789012", region="eu-west-1",
        availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        network={**d["network"], "max_azs": 3, "nat_gateways": 3},
        alarms={"topic_arn": TOPIC},
        services={"frontend": {**d["services"]["frontend"], "deployment": {"strategy": "rolling"},
                               "public": {"load_balancer": "network", "listener_port": 443,
                                          "deletion_protection": True}}})}),
    # HTTPS on a domain, ECS Exec on both services, Service Connect, blue/green
    # deploys through the HTTPS listener, and alarms by email.
    "https-exec-connect": ("dev", {"dev": lambda d: d.update(services={
        "frontend": {"exec": True, "public": {"certificate_arn": CERTIFICATE,
                                              "domain_name": "www.example.com"},
                     "deployment": {"strategy": "blue_green", "bake_minutes": 5}},
        "backend": {"exec": True}}, cluster={"service_connect": True},
        alarms={"email": "ops@example.com"})}),
}  # fmt: skip


class Variants:
    """Each of :data:`VARIANTS`, synthesized (security checks included) on first use."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._made: dict[str, Synth] = {}

    def __getitem__(self, name: str) -> Synth:
        if name not in self._made:
            env, edits = VARIANTS[name]
            self._made[name] = synthesize_edited(self._workdir / name, env, edits)
        return self._made[name]


@pytest.fixture(scope="session")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Variants:
    """The variants, shared by every test of a worker that asks for one."""
    return Variants(tmp_path_factory.mktemp("variants"))


@pytest.fixture(scope="session")
def template_checks(
    synths: dict[str, Synth], variants: Variants, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """cfn-lint and checkov over every env's templates and what the variants change,
    running in the background from the first test that asks (tests/conftest.py
    makes that the first in-process test when a test of theirs runs)."""
    from tests.infra.background import start  # imports this module: here, not at the top

    return start(synths, variants, tmp_path_factory.mktemp("template-checks"))
