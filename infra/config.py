"""The typed configuration of the app and its loader.

``config/base.yaml`` is shared by every environment; ``config/<env>.yaml``
overrides any key in it (mappings merge key by key, lists and scalars
replace); environment variables ``APP_CONFIG__<KEY>__<KEY>...`` override both.
pydantic-settings does the reading, merging and typing; this module adds the
rules that make a config deployable (the Fargate size table, retention values,
the ``connects_to`` graph, counts) and turns every problem into one line that
names the file and the key. This is the only module that knows the YAML.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
BASE_FILE = "base.yaml"
ENV_PREFIX = "APP_CONFIG__"
ENV_DELIMITER = "__"

# Fargate (Linux) task sizes: cpu units -> allowed memory in MiB.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# The values CloudWatch Logs accepts for a log group's retention, in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
    731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# A DNS label: service names become Cloud Map names and stack-name parts.
# Kept short so `<app>-<env>-<service>` and the ECS and target group names fit.
DNS_LABEL = r"^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$"
ENV_VAR_NAME = r"^[A-Z_][A-Z0-9_]*$"
# Stack names are <app>-<env>-<part>; a service must not take a part's name.
RESERVED_NAMES = frozenset({"network", "cluster"})
DNS_NAME = r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]+$"
ACCOUNT_ID = r"^\d{12}$"
REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
HTTP_PATH = r"^/[A-Za-z0-9._~/-]*$"
# A numeric uid, optionally with a gid: names would need the image's /etc/passwd.
USER_ID = r"^\d+(:\d+)?$"
ABS_PATH = r"^(/[A-Za-z0-9._-]+)+$"
CERTIFICATE_ARN = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$"
HOST_NAME = r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"

PATTERN_HELP = {
    DNS_LABEL: "is not a DNS label: lowercase letters, digits and hyphens, starting with a "
    "letter, at most 24 characters",
    ENV_VAR_NAME: "is not an environment variable name (A-Z, 0-9, _)",
    DNS_NAME: "is not a lowercase DNS name such as service.local",
    ACCOUNT_ID: "is not a 12-digit AWS account id (quote it in YAML)",
    REGION: "is not an AWS region name such as eu-west-1",
    HTTP_PATH: "is not an absolute URL path such as /healthz",
    USER_ID: "is not a numeric uid or uid:gid such as '10001' (quote it in YAML)",
    ABS_PATH: "is not an absolute directory path such as /tmp",
    CERTIFICATE_ARN: "is not an ACM certificate ARN "
    "(arn:aws:acm:<region>:<account>:certificate/<id>)",
    HOST_NAME: "is not a lowercase host name such as www.example.com",
}

HTTPS_PORT = 443

Port = Annotated[int, Field(ge=1, le=65535)]
Name = Annotated[str, Field(pattern=DNS_LABEL)]


CROSS_KEY_NOTE = (
    "(rules across keys, such as cpu with memory, were checked only in the sections "
    "without the errors above; run again once they are fixed)"
)


class ConfigError(Exception):
    """A config that cannot be deployed; ``problems`` holds one line per issue."""

    def __init__(self, problems: list[str], note: str | None = None) -> None:
        super().__init__("\n".join([*problems, *([note] if note else [])]))
        self.problems = problems
        self.note = note


class _Strict(BaseModel):
    """Unknown keys are errors, not silent defaults; the result is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Removal(StrEnum):
    """What happens to stored data (log groups) when its stack is deleted."""

    DESTROY = "destroy"
    RETAIN = "retain"


class NetworkConfig(_Strict):
    """The VPC: address range, spread over zones, egress and flow logs."""

    cidr: str = "10.0.0.0/16"
    max_azs: int = Field(2, ge=1, le=6)
    # Tasks run in private subnets and pull images through NAT, so at least one.
    nat_gateways: int = Field(1, ge=1, le=6)
    flow_logs: bool = True

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IPv4 network: {error}") from None
        if not 16 <= network.prefixlen <= 24:
            raise ValueError(f"{value} must be between /16 and /24 to hold the subnets")
        return value


class ClusterConfig(_Strict):
    """The ECS cluster and the Cloud Map namespace services are found in."""

    namespace: str = Field("service.local", pattern=DNS_NAME)
    container_insights: bool = True


class LoggingConfig(_Strict):
    """Log groups of every service."""

    retention_days: int = 7
    removal_policy: Removal = Removal.RETAIN

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            allowed = ", ".join(map(str, LOG_RETENTION_DAYS))
            raise ValueError(f"{value} is not a CloudWatch retention; use one of {allowed}")
        return value


class PublicConfig(_Strict):
    """Exposure through an internet-facing load balancer.

    With ``certificate_arn`` (an ACM certificate in the stack's region) the
    application load balancer serves HTTPS on 443 and ``listener_port``
    only redirects to it.
    """

    listener_port: Port = 80
    health_check_path: str = Field("/", pattern=HTTP_PATH)
    load_balancer: Literal["application", "network"] = "application"
    certificate_arn: str | None = Field(None, pattern=CERTIFICATE_ARN)
    domain_name: str | None = Field(None, pattern=HOST_NAME)
    deletion_protection: bool = False


class AutoscalingConfig(_Strict):
    """Target tracking on average CPU between ``min`` and ``max`` tasks."""

    min: int = Field(ge=1)
    max: int = Field(ge=1, le=1000)
    cpu_percent: int = Field(60, ge=10, le=90)


class HealthCheckConfig(_Strict):
    """A command run inside the container; exit 0 means healthy."""

    # A list runs as is (CMD); a string runs through /bin/sh (CMD-SHELL),
    # for checks that need variables such as a password.
    command: list[Annotated[str, Field(min_length=1)]] | Annotated[str, Field(min_length=1)] = (
        Field(min_length=1)
    )
    interval_seconds: int = Field(30, ge=5, le=300)
    timeout_seconds: int = Field(5, ge=2, le=60)
    retries: int = Field(3, ge=1, le=10)
    start_period_seconds: int = Field(10, ge=0, le=300)


class ServiceConfig(_Strict):
    """One container of the compose file, run as one ECS service."""

    image: str | None = Field(None, min_length=1)
    build: str | None = Field(None, min_length=1)
    port: Port
    cpu: int = 256
    memory: int = 512
    desired_count: int = Field(1, ge=0, le=1000)
    stateful: bool = False
    connects_to: list[Name] = []
    environment: dict[Annotated[str, Field(pattern=ENV_VAR_NAME)], str] = {}
    # The numeric uid[:gid] the container runs as; root (0) is refused.
    user: str = Field(pattern=USER_ID)
    # Writable empty directories; everything else is read-only.
    scratch: list[Annotated[str, Field(pattern=ABS_PATH)]] = []
    command: list[Annotated[str, Field(min_length=1)]] | None = Field(None, min_length=1)
    # A generated password in Secrets Manager, given to this service and to
    # every service that connects to it as <NAME>_PASSWORD.
    auth: bool = False
    # ECS Exec (a shell into running tasks through SSM).
    exec: bool = False
    health_check: HealthCheckConfig | None = None
    public: PublicConfig | None = None
    autoscaling: AutoscalingConfig | None = None

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: int) -> int:
        if value not in FARGATE_SIZES:
            raise ValueError(f"{value} is not a Fargate cpu; use one of {_join(FARGATE_SIZES)}")
        return value


def env_name(service: str) -> str:
    """The prefix of the variables a consumer gets for ``service``: my-cache -> MY_CACHE."""
    return service.upper().replace("-", "_")


class AppConfig(BaseSettings):
    """The whole app in one environment, validated and frozen."""

    model_config = SettingsConfigDict(
        extra="forbid",
        frozen=True,
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        case_sensitive=False,
    )

    app: Name
    env: Name = "dev"
    account: str | None = Field(None, pattern=ACCOUNT_ID)
    region: str | None = Field(None, pattern=REGION)
    # Without real zones an account-pinned stack synthesizes `dummy1a`;
    # listing them keeps synthesis offline and deterministic.
    availability_zones: list[str] | None = None
    termination_protection: bool = False
    network: NetworkConfig = NetworkConfig()
    cluster: ClusterConfig = ClusterConfig()
    logging: LoggingConfig = LoggingConfig()
    services: dict[Name, ServiceConfig] = Field(min_length=1)

    def stack_name(self, part: str) -> str:
        """``<app>-<env>-<part>``: the CloudFormation stack name of one part."""
        return f"{self.app}-{self.env}-{part}"

    def service_order(self) -> list[str]:
        """Services so that each comes after everything it connects to."""
        graph = {name: svc.connects_to for name, svc in self.services.items()}
        return list(TopologicalSorter(graph).static_order())


def _join(values: Mapping[int, Any] | tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)


# --- Rules across keys -------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One rule broken at one key path."""

    path: tuple[str | int, ...]
    message: str


def check_rules(config: AppConfig) -> Iterator[Problem]:
    """Every rule that spans keys; field-level rules live on the models."""
    yield from _placement_rules(
        config.network, config.account, config.region, config.availability_zones
    )
    for name, service in config.services.items():
        yield from _service_rules(config.services.keys(), name, service)
    yield from _graph_rules({name: svc.connects_to for name, svc in config.services.items()})


def _partial_rules(
    raw: Mapping[str, Any], broken: list[tuple[str | int, ...]]
) -> Iterator[Problem]:
    """The cross-key rules for every section that has no field error, so that
    one run reports as much as it can even when some keys do not parse."""

    def clean(at: tuple[str, ...]) -> bool:
        return not any(b[: len(at)] == at or at[: len(b)] == b for b in broken)

    if all(clean((key,)) for key in ("network", "account", "region", "availability_zones")):
        network = NetworkConfig.model_validate(raw.get("network", {}))
        yield from _placement_rules(
            network, raw.get("account"), raw.get("region"), raw.get("availability_zones")
        )
    services = raw.get("services")
    if not isinstance(services, dict) or not clean(("services",)):
        return
    parsed: dict[str, ServiceConfig] = {}
    for name, data in services.items():
        if clean(("services", name)):
            parsed[name] = ServiceConfig.model_validate(data)
            yield from _service_rules(services.keys(), name, parsed[name])
    yield from _graph_rules({name: svc.connects_to for name, svc in parsed.items()})


def _placement_rules(
    net: NetworkConfig, account: str | None, region: str | None, listed: list[str] | None
) -> Iterator[Problem]:
    zones = len(listed) if listed else None
    if zones is not None and net.max_azs > zones:
        yield Problem(
            ("network", "max_azs"),
            f"{net.max_azs} is more than the {zones} availability_zones listed",
        )
    if zones is None and net.max_azs > 2:
        yield Problem(
            ("network", "max_azs"),
            f"{net.max_azs} needs availability_zones listed; without them the VPC "
            "can only use 2 zones (the stacks are environment-agnostic)",
        )
    if net.nat_gateways > net.max_azs:
        yield Problem(
            ("network", "nat_gateways"), f"{net.nat_gateways} is more than max_azs {net.max_azs}"
        )
    if (account is None) != (region is None):
        yield Problem(
            ("account" if account is None else "region",),
            "account and region must be set together (or neither)",
        )
    if account is not None and listed is None:
        yield Problem(
            ("availability_zones",),
            "required when account and region are set; synthesis would otherwise "
            "invent dummy zones (e.g. [eu-west-1a, eu-west-1b])",
        )
    for index, zone in enumerate(listed or []):
        if region and not (zone.startswith(region) and len(zone) == len(region) + 1):
            yield Problem(("availability_zones", index), f"{zone!r} is not a zone of {region}")


def _graph_rules(graph: Mapping[str, list[str]]) -> Iterator[Problem]:
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        cycle = " -> ".join(error.args[1])
        yield Problem(("services",), f"connects_to forms a cycle: {cycle}")


def _service_rules(names: Collection[str], name: str, svc: ServiceConfig) -> Iterator[Problem]:
    at = ("services", name)
    if name in RESERVED_NAMES:
        yield Problem(at, f"{name!r} is the name of another stack (<app>-<env>-{name}); rename it")
    if (svc.image is None) == (svc.build is None):
        yield Problem(at, "set exactly one of image (a registry image) or build (a directory)")
    if svc.build is not None:
        context = ROOT / svc.build
        if not (context / "Dockerfile").is_file():
            yield Problem((*at, "build"), f"{svc.build!r} has no Dockerfile (looked in {context})")
    allowed = FARGATE_SIZES.get(svc.cpu, ())
    if allowed and svc.memory not in allowed:
        yield Problem(
            (*at, "memory"),
            f"{svc.memory} is not valid with cpu {svc.cpu}; use one of {_join(allowed)}",
        )
    for index, peer in enumerate(svc.connects_to):
        if peer == name:
            yield Problem((*at, "connects_to", index), f"{name} cannot connect to itself")
        elif peer not in names:
            yield Problem(
                (*at, "connects_to", index),
                f"{peer!r} is not a service; services are {', '.join(names)}",
            )
    if len(set(svc.connects_to)) != len(svc.connects_to):
        yield Problem((*at, "connects_to"), "lists a service twice")
    if svc.user.split(":")[0].lstrip("0") == "":
        yield Problem((*at, "user"), "uid 0 is root; use the image's unprivileged uid")
    if len(set(svc.scratch)) != len(svc.scratch):
        yield Problem((*at, "scratch"), "lists a path twice")
    public = svc.public
    if public is not None and public.certificate_arn is not None:
        if public.load_balancer != "application":
            yield Problem(
                (*at, "public", "certificate_arn"),
                "HTTPS needs load_balancer: application (a network load balancer passes TCP)",
            )
        if public.listener_port == HTTPS_PORT:
            yield Problem(
                (*at, "public", "listener_port"),
                f"{HTTPS_PORT} is the HTTPS listener with a certificate; "
                "listener_port is the one that redirects to it (80)",
            )
    if public is not None and public.domain_name is not None and public.certificate_arn is None:
        yield Problem(
            (*at, "public", "domain_name"), "needs certificate_arn (a certificate for that name)"
        )
    injected = {"PORT"} | {f"{env_name(p)}_{k}" for p in svc.connects_to for k in ("HOST", "PORT")}
    injected |= {f"{env_name(p)}_PASSWORD" for p in svc.connects_to}
    if svc.auth:
        injected.add(f"{env_name(name)}_PASSWORD")
    for key in sorted(injected & set(svc.environment)):
        yield Problem((*at, "environment", key), "is set by the infrastructure; remove it")
    scaling = svc.autoscaling
    if svc.stateful:
        if svc.desired_count != 1:
            yield Problem(
                (*at, "desired_count"),
                f"{svc.desired_count}: a stateful service runs exactly 1 task",
            )
        if scaling is not None:
            yield Problem((*at, "autoscaling"), "a stateful service cannot autoscale")
    elif scaling is not None:
        if scaling.min > scaling.max:
            yield Problem((*at, "autoscaling", "min"), f"{scaling.min} is above max {scaling.max}")
        elif not scaling.min <= svc.desired_count <= scaling.max:
            yield Problem(
                (*at, "desired_count"),
                f"{svc.desired_count} is outside autoscaling min {scaling.min} "
                f"and max {scaling.max}",
            )


# --- Loading -------------------------------------------------------------------


class _YamlFile(YamlConfigSettingsSource):
    """One config file as a settings source; bad YAML becomes a ConfigError."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path, label: str) -> None:
        self.label = label
        super().__init__(settings_cls, yaml_file=path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            reason = getattr(error, "problem", None) or str(error)
            raise ConfigError([f"{self.label}:{where}: not valid YAML: {reason}"]) from None
        if not isinstance(data, dict):
            raise ConfigError(
                [
                    f"{self.label}: the top level must be a mapping of keys, "
                    f"not a {type(data).__name__}"
                ]
            )
        # YAML reads `0:`, `yes:` or `null:` as a number, boolean or null key.
        odd = [key for key in data if not isinstance(key, str)]
        if odd:
            raise ConfigError(
                [f"{self.label}: {key!r}: a top-level key must be text; quote it" for key in odd]
            )
        return data


def environments(config_dir: Path = CONFIG_DIR) -> list[str]:
    """The environments that have a file in ``config_dir``."""
    return sorted(p.stem for p in config_dir.glob("*.yaml") if p.name != BASE_FILE)


def load_config(
    env: str,
    config_dir: Path = CONFIG_DIR,
    environ: Mapping[str, str] | None = None,
) -> AppConfig:
    """Load, merge and validate one environment, or raise ConfigError.

    Only variables starting with ``APP_CONFIG__`` in ``environ`` (the process
    environment by default) are read.
    """
    return load_with_origins(env, config_dir, environ)[0]


def load_with_origins(
    env: str,
    config_dir: Path = CONFIG_DIR,
    environ: Mapping[str, str] | None = None,
) -> tuple[AppConfig, Origins]:
    """As :func:`load_config`, plus where each key came from."""
    known = environments(config_dir)
    if env not in known:
        raise ConfigError(
            [
                f"unknown env {env!r} (no {_label(config_dir / f'{env}.yaml')}); "
                f"environments are: {', '.join(known) or 'none'}"
            ]
        )
    environ = os.environ if environ is None else environ
    overrides = {k.upper(): v for k, v in environ.items() if k.upper().startswith(ENV_PREFIX)}
    files = [config_dir / f"{env}.yaml", config_dir / BASE_FILE]  # highest priority first
    yaml_sources = [_YamlFile(AppConfig, path, _label(path)) for path in files]
    env_source = _Environment(AppConfig, overrides)
    origins = Origins(yaml_sources, overrides)

    class _Loaded(AppConfig):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # Highest priority first: the env name, variables, <env>.yaml, base.yaml.
            return (init_settings, env_source, *yaml_sources)

    problems = [
        f"{s.label}: env: is the file's own name; remove the key"
        for s in yaml_sources
        if "env" in s.yaml_data
    ]
    try:
        config: AppConfig = _Loaded(env=env)
    except ValidationError as error:
        broken = [_loc(e) for e in error.errors()]
        problems += [_pydantic_line(e, origins) for e in error.errors()]
        raw = _merge(*(s.yaml_data for s in reversed(yaml_sources)), env_source())
        problems += [origins.line(p) for p in _partial_rules(raw, broken)]
        raise ConfigError(problems, note=CROSS_KEY_NOTE) from None
    problems += [origins.line(p) for p in check_rules(config)]
    if problems:
        raise ConfigError(problems)
    return config, origins


def _merge(*layers: Any) -> Any:
    """Mappings merged key by key, later layers winning (as pydantic-settings merges sources)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            old = merged.get(key)
            both_maps = isinstance(old, dict) and isinstance(value, dict)
            merged[key] = _merge(old, value) if both_maps else value
    return merged


class _Environment(EnvSettingsSource):
    """The environment-variable source, reading a given mapping (tests pass their own)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._environ.items()}


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _path(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) if path else "(top level)"


class Origins:
    """Answers which file (or variable) a key path was set in."""

    def __init__(self, sources: list[_YamlFile], overrides: Mapping[str, str]) -> None:
        self._layers: list[tuple[str, Any]] = [(s.label, s.yaml_data) for s in sources]
        self._overrides = overrides

    def line(self, problem: Problem) -> str:
        """``<file>: <key.path>: <message>``, the form of every config error."""
        return f"{self.label(problem.path)}: {_path(problem.path)}: {problem.message}"

    def _variable(self, path: tuple[str | int, ...]) -> str | None:
        """The APP_CONFIG__ variable that sets ``path`` or a key around it, if any."""
        for key in self._overrides:
            parts = tuple(key[len(ENV_PREFIX) :].lower().split(ENV_DELIMITER))
            if parts == tuple(str(p).lower() for p in path[: len(parts)]):
                return f"environment variable {key}"
        return None

    def label(self, path: tuple[str | int, ...]) -> str:
        variable = self._variable(path)
        if variable is not None:
            return variable
        # The deepest prefix of the path that a file sets names that file;
        # where several files set it, the most specific (env) file wins.
        for depth in range(len(path), -1, -1):
            found = [label for label, data in self._layers if _has(data, path[:depth])]
            if found:
                return found[0] if depth == len(path) else " + ".join(reversed(found))
        return self._layers[-1][0]

    def source(self, path: tuple[str | int, ...]) -> str:
        """Where the value at exactly ``path`` came from: a variable, the most
        specific file that sets it (or a mapping or list around it), or ``default``."""
        variable = self._variable(path)
        if variable is not None:
            return variable
        for depth in range(len(path), 0, -1):
            for label, data in self._layers:
                # A file that sets a whole list or scalar owns everything in it.
                if _has(data, path[:depth]) and (
                    depth == len(path) or not isinstance(_get(data, path[:depth]), dict)
                ):
                    return label
        return "default"


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _has(data: Any, path: tuple[str | int, ...]) -> bool:
    for part in path:
        if isinstance(data, list) and isinstance(part, int):
            found = part < len(data)
        else:
            found = isinstance(data, dict) and part in data
        if not found:
            return False
        data = data[part]
    return True


def _loc(error: Any) -> tuple[str | int, ...]:
    # pydantic marks a bad mapping key with a trailing "[key]"; the path already ends in it.
    return tuple(p for p in error["loc"] if p != "[key]")


def _pydantic_line(error: Any, origins: Origins) -> str:
    path = _loc(error)
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        message = "unknown key (check the spelling; see the config reference in README.md)"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "string_pattern_mismatch":
        what = PATTERN_HELP.get(
            error["ctx"]["pattern"], f"does not match {error['ctx']['pattern']}"
        )
        message = f"{error['input']!r} {what}"
    else:
        message = f"{error['input']!r}: {message}" if _is_scalar(error.get("input")) else message
    return origins.line(Problem(path, message))


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


__all__ = [
    "FARGATE_SIZES",
    "LOG_RETENTION_DAYS",
    "AppConfig",
    "AutoscalingConfig",
    "ClusterConfig",
    "ConfigError",
    "HealthCheckConfig",
    "LoggingConfig",
    "NetworkConfig",
    "Origins",
    "PublicConfig",
    "Removal",
    "ServiceConfig",
    "check_rules",
    "env_name",
    "environments",
    "load_config",
    "load_with_origins",
]
