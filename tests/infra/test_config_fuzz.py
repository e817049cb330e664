"""Property-based: whatever YAML arrives, the loader returns a config or a ConfigError.

Two generators: arbitrary YAML-shaped documents (keys drawn mostly from the
real config vocabulary so they reach deep into the model), and random
mutations of the shipped files (replace, delete or add a key anywhere).
Anything but AppConfig or ConfigError (a TypeError, a KeyError, a pydantic
error escaping) is a bug: the user would see a traceback.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config import AppConfig, ConfigError, load_config
from infra.paths import CONFIG_DIR

# Every key the model knows, plus a few near misses.
KEYS = [
    "app", "env", "account", "region", "availability_zones", "termination_protection",
    "network", "cidr", "max_azs", "nat_gateways", "flow_logs", "cluster", "namespace",
    "container_insights", "logging", "retention_days", "removal_policy", "services",
    "backend", "frontend", "worker", "image", "build", "port", "cpu", "memory",
    "desired_count", "stateful", "connects_to", "environment", "health_check", "command",
    "interval_seconds", "public", "listener_port", "health_check_path", "load_balancer",
    "certificate_arn", "domain_name", "deletion_protection", "autoscaling", "min", "max",
    "cpu_percent", "user", "scratch", "auth", "exec", "Servics", "PORT", "",
    "storage", "volumes", "shared", "owner", "size_gb", "redis-data", "secrets", "ssm",
    "secrets_manager", "field", "kms_key", "read_only_root", "service_connect", "context",
    "dockerfile", "target", "args",
]  # fmt: skip

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["256", "512", "0", "10001", "/tmp", "backend", "frontend", "destroy",
                     "10.0.0.0/16", "eu-west-1", "application", "network", "redis:7",
                     "image", "/data", "/app/key", "70:70", "frontend/Dockerfile"]),
)  # fmt: skip
KEY = st.one_of(st.sampled_from(KEYS), st.text(max_size=6), st.integers(-3, 3), st.booleans())
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEY, inner, max_size=5)),
    max_leaves=25,
)
# 50 examples each: the four fuzzers together then cost about 4 s of make test's
# 90 s budget; raise it locally for a deeper run.
FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def loads(config_dir: Path) -> None:
    try:
        assert isinstance(load_config("dev", config_dir, environ={}), AppConfig)
    except ConfigError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)


def fresh_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(CONFIG_DIR, target)
    return target


@FUZZ
@given(document=DOCUMENTS)
def test_any_yaml_document_as_an_env_file(tmp_path: Path, document: Any) -> None:
    config_dir = fresh_dir(tmp_path)
    (config_dir / "dev.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    loads(config_dir)


@FUZZ
@given(text=st.text(max_size=200))
def test_any_text_as_an_env_file(tmp_path: Path, text: str) -> None:
    config_dir = fresh_dir(tmp_path)
    (config_dir / "dev.yaml").write_text(text)
    loads(config_dir)


# YAML's punctuation, so that anchors (&a), aliases (*a), merge keys (<<), tags,
# flow and block collections and keys set twice come up often.
YAML_SOUP = st.lists(st.sampled_from([*"ab1:-?&*<![]{}, '#", "\n", "\n  ", "\t"]),
                    max_size=60).map("".join)  # fmt: skip


@FUZZ
@given(text=YAML_SOUP)
def test_yaml_punctuation_as_an_env_file(tmp_path: Path, text: str) -> None:
    config_dir = fresh_dir(tmp_path)
    (config_dir / "dev.yaml").write_text(text)
    loads(config_dir)


def paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a loaded YAML document."""
    found = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*at, index))
    return found


def mutate(data: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    if not path:
        return value if action == "replace" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last]["unexpected"] = value
    return data


@FUZZ
@given(
    file=st.sampled_from(["base.yaml", "prod.yaml"]),
    choice=st.integers(min_value=0),
    action=st.sampled_from(["replace", "delete", "add"]),
    value=DOCUMENTS,
)
def test_random_mutations_of_the_shipped_files(
    tmp_path: Path, file: str, choice: int, action: str, value: Any
) -> None:
    config_dir = fresh_dir(tmp_path)
    original = yaml.safe_load((CONFIG_DIR / file).read_text())
    candidates = paths(original)
    path = candidates[choice % len(candidates)]
    edited = mutate(copy.deepcopy(original), path, action, value)
    (config_dir / file).write_text(yaml.safe_dump(edited, allow_unicode=True))
    env = "prod" if file == "prod.yaml" else "dev"
    try:
        assert isinstance(load_config(env, config_dir, environ={}), AppConfig)
    except ConfigError as error:
        assert error.problems
