"""The config schema: every key a user may write, its type, default and field-level rules.

This is the one place that knows the YAML's shape. Rules that span several
keys (cpu with memory, the ``connects_to`` graph ...) live in
:mod:`infra.config.rules`; reading the files in :mod:`infra.config.load`.
"""

from __future__ import annotations

import ipaddress
import types
from collections.abc import Mapping
from enum import StrEnum
from graphlib import TopologicalSorter
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.config.engines import ENGINES

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
# Lowercase too: images read such names (gitea's GITEA__database__HOST).
ENV_VAR_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Stack names are <app>-<env>-<part>; a service must not take a part's name.
RESERVED_NAMES = frozenset({"network", "cluster", "storage", "ingress", "dashboard"})
DNS_NAME = r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]+$"
ACCOUNT_ID = r"^\d{12}$"
REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
HTTP_PATH = r"^/[A-Za-z0-9._~/-]*$"
# A listener rule's path pattern: a path, with * and ? as wildcards.
PATH_PATTERN = r"^/[A-Za-z0-9._~/*?-]{0,127}$"
# A numeric uid, optionally with a gid: names would need the image's /etc/passwd.
USER_ID = r"^\d+(:\d+)?$"
# ``image`` is the opt-out: the image's own default user (often root at start).
USER = r"^(\d+(:\d+)?|image)$"
ABS_PATH = r"^(/[A-Za-z0-9._-]+)+$"
CERTIFICATE_ARN = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$"
# Labels of at most 63 characters, as DNS allows (and the frontend checks ALLOWED_HOSTS).
HOST_NAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# Existing secrets: an SSM parameter (a name, hierarchical or not, or its ARN), a
# Secrets Manager secret (a name or its ARN), and the KMS key that encrypts one.
SSM_PARAMETER = (
    r"^((/[A-Za-z0-9_.-]+)+|[A-Za-z0-9_.-]+"
    r"|arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9_./-]+)$"
)
# ECS reads a Secrets Manager secret only by its complete ARN, which ends in
# "-" and the six characters Secrets Manager appends to the name: by name or
# partial ARN a task fails to start with AccessDenied (aws-cdk #18555, #24142).
SECRET = (
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$"
)
KMS_KEY_ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$"
TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"
# What SNS accepts for an email subscription is looser; this catches slips.
EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"

PATTERN_HELP = {
    DNS_LABEL: "is not a DNS label: lowercase letters, digits and hyphens, starting with a "
    "letter, at most 24 characters",
    ENV_VAR_NAME: "is not an environment variable name (letters, digits, _)",
    DNS_NAME: "is not a lowercase DNS name such as service.local",
    ACCOUNT_ID: "is not a 12-digit AWS account id (quote it in YAML)",
    REGION: "is not an AWS region name such as eu-west-1",
    HTTP_PATH: "is not an absolute URL path such as /healthz",
    PATH_PATTERN: "is not a path pattern such as /api/* (an absolute path, * and ? "
    "as wildcards, at most 128 characters)",
    USER_ID: "is not a numeric uid or uid:gid such as '10001' (quote it in YAML)",
    USER: "is not a numeric uid or uid:gid such as '10001' (quote it in YAML), "
    "or image (the image's own user)",
    SSM_PARAMETER: "is not an SSM parameter name (such as /app/api-key) or parameter ARN",
    SECRET: "is not a Secrets Manager secret's complete ARN, which ECS needs "
    "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf; "
    "aws secretsmanager describe-secret --secret-id <name> --query ARN)",
    KMS_KEY_ARN: "is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)",
    TOPIC_ARN: "is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)",
    EMAIL: "is not an email address",
    ABS_PATH: "is not an absolute directory path such as /tmp",
    CERTIFICATE_ARN: "is not an ACM certificate ARN "
    "(arn:aws:acm:<region>:<account>:certificate/<id>)",
    HOST_NAME: "is not a lowercase host name such as www.example.com",
}

HTTPS_PORT = 443

Port = Annotated[int, Field(ge=1, le=65535)]
Name = Annotated[str, Field(pattern=DNS_LABEL)]


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
    # Tasks run in private subnets and pull images through NAT; 0 places them in
    # the public subnets with public IPs instead (no NAT to pay for; their
    # security groups still admit only the load balancer and declared peers).
    nat_gateways: int = Field(1, ge=0, le=6)
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
    """The ECS cluster and the Cloud Map namespace services are found in.

    With ``service_connect`` every service joins the namespace through ECS
    Service Connect: a proxy in each task, and bare names (``backend:6379``,
    as under compose) instead of Cloud Map DNS names (``backend.service.local``).
    """

    namespace: str = Field("service.local", pattern=DNS_NAME)
    container_insights: bool = True
    service_connect: bool = False


class VolumeConfig(_Strict):
    """A named volume's settings, for what its mounts alone do not say."""

    # Mounted by more than one service (each must write as the same owner).
    shared: bool = False
    # The uid:gid that owns the volume's files: by default the mounting
    # service's ``user``; needed with ``user: image`` (e.g. '70:70' for postgres-alpine).
    owner: str | None = Field(None, pattern=USER_ID)
    # Only for ``cost``: EFS bills stored GB-months, which the template cannot know.
    size_gb: int | None = Field(None, ge=1, le=1_000_000)


class StorageConfig(_Strict):
    """Durable volumes (Amazon EFS) that services mount with ``volumes:``."""

    # As logging.removal_policy: prod keeps the data when a stack goes away.
    removal_policy: Removal = Removal.RETAIN
    volumes: dict[Name, VolumeConfig] = {}


class LoggingConfig(_Strict):
    """Log groups of every service."""

    retention_days: int = 365  # a year, as Control Tower asks (CT.CLOUDWATCH.PR.2)
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
    # Either one puts the service behind the env's one shared application load
    # balancer, reached through a listener rule on the Host header and/or path.
    host: str | None = Field(None, pattern=HOST_NAME)
    path: str | None = Field(None, pattern=PATH_PATTERN)
    # The rule's place among the shared listener's rules (lower is tried first);
    # derived from host and path when unset (see infra.config.ingress).
    priority: int | None = Field(None, ge=1, le=50000)

    @property
    def shared(self) -> bool:
        """Whether the service is behind the env's shared load balancer."""
        return self.host is not None or self.path is not None


class CapacityConfig(_Strict):
    """What the tasks run on: Fargate, or Fargate Spot after an on-demand base.

    With ``spot`` the first ``on_demand_base`` tasks run on regular Fargate and
    every task beyond them on Fargate Spot (about 70 % cheaper; AWS may reclaim
    a Spot task with a two-minute notice).
    """

    spot: bool = False
    on_demand_base: int = Field(0, ge=0, le=1000)


class AutoscalingConfig(_Strict):
    """Target tracking on average CPU between ``min`` and ``max`` tasks."""

    min: int = Field(ge=1)
    max: int = Field(ge=1, le=1000)
    cpu_percent: int = Field(60, ge=10, le=90)


class Strategy(StrEnum):
    """How ECS replaces a service's tasks on a deploy."""

    ROLLING = "rolling"  # new tasks replace old ones in batches, behind one target group
    CANARY = "canary"  # a share of traffic to the new tasks, a bake, then the rest
    LINEAR = "linear"  # traffic in equal steps, a bake after each
    BLUE_GREEN = "blue_green"  # all traffic at once to a full new set, the old kept to bake

    @property
    def shifts_traffic(self) -> bool:
        """Whether ECS moves traffic between two target groups (all but rolling)."""
        return self is not Strategy.ROLLING


# The old tasks' wait after a traffic-shifting deploy when config names none.
DEFAULT_BAKE_MINUTES = 10


class DeploymentConfig(_Strict):
    """How a deploy replaces the tasks, and when it rolls back.

    The circuit breaker always rolls back a deploy whose tasks never get
    healthy; ``rollback_on_alarms`` also rolls back one whose new tasks serve
    errors or slowly (the service's 5xx and latency alarms).
    """

    strategy: Strategy = Strategy.ROLLING
    # canary: the share of traffic the new tasks get first; linear: each step's share.
    percent: float | None = Field(None, ge=0.1, le=100)
    # canary: how long the first share bakes; linear: the wait after each step.
    step_minutes: int | None = Field(None, ge=0, le=1440)
    # After all traffic has moved: how long the old tasks stay, ready to take it back.
    bake_minutes: int | None = Field(None, ge=0, le=1440)
    rollback_on_alarms: bool = True

    @property
    def bake(self) -> int | None:
        """The bake time a traffic-shifting deploy gets: ECS requires one for
        blue/green, so every such strategy states it (``bake_minutes``, else
        :data:`DEFAULT_BAKE_MINUTES`); None for rolling."""
        if not self.strategy.shifts_traffic:
            return None
        return DEFAULT_BAKE_MINUTES if self.bake_minutes is None else self.bake_minutes


class AlarmsConfig(_Strict):
    """Where alarms notify, and the thresholds of every service's alarms.

    Alarms always notify an SNS topic: one the app creates (encrypted;
    ``email`` subscribes an address to it) or an existing one (``topic_arn``,
    in the env's region).
    """

    email: str | None = Field(None, pattern=EMAIL)
    topic_arn: str | None = Field(None, pattern=TOPIC_ARN)
    cpu_percent: int = Field(80, ge=1, le=100)
    memory_percent: int = Field(80, ge=1, le=100)
    # Of a public service's requests over a minute, once it has at least 10.
    target_5xx_percent: float = Field(5, gt=0, le=100)
    # Errors the load balancer itself returns (no healthy target ...), per minute.
    load_balancer_5xx: int = Field(10, ge=1)
    latency_p99_ms: int = Field(2000, ge=1, le=3_600_000)


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


class BuildConfig(_Strict):
    """An image built at deploy time, as compose's ``build:`` describes it."""

    # Relative to the project root, like the short form ``build: frontend``.
    context: str = Field(min_length=1)
    dockerfile: str = Field("Dockerfile", min_length=1)
    target: str | None = Field(None, min_length=1)
    args: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = {}


class SecretConfig(_Strict):
    """An existing secret, read by ECS at task start into one variable.

    Exactly one of ``ssm`` (a SecureString or String parameter) and
    ``secrets_manager``; ``field`` picks one key of a JSON secret; ``kms_key``
    is the customer-managed key that encrypts it (AWS-managed keys need none).
    """

    ssm: str | None = Field(None, pattern=SSM_PARAMETER)
    secrets_manager: str | None = Field(None, pattern=SECRET)
    # ECS's reference is <ARN>:<field>:<stage>:<version>: no colon in a key.
    field: str | None = Field(None, pattern=r"^[^:]{1,256}$")
    kms_key: str | None = Field(None, pattern=KMS_KEY_ARN)


class ManagedConfig(_Strict):
    """An engine AWS runs in place of the service's container (``managed: valkey``
    is short for ``managed: {engine: valkey}``).

    ``valkey``: ElastiCache Serverless for Valkey; ``postgres``: Aurora
    Serverless v2 for PostgreSQL. Both replicate across zones, encrypt at rest
    and in transit, and keep daily snapshots or backups ``backup_retention_days``.
    """

    engine: Literal["valkey", "postgres"]
    # valkey: daily snapshots kept (0: none, up to 35); postgres: backups kept (1 to 35).
    backup_retention_days: int = Field(7, ge=0, le=35)
    # valkey: the most data the cache may hold, a ceiling on its storage bill.
    max_storage_gb: int | None = Field(None, ge=1, le=5000)
    # postgres: Aurora capacity units (ACU) the writer scales between; a minimum
    # of 0 pauses it when idle (no compute billed, a cold start of seconds).
    min_capacity: float | None = Field(None, ge=0, le=256)
    max_capacity: float | None = Field(None, ge=1, le=256)


# The keys a managed service has (its port only to say the engine's).
MANAGED_SERVICE_KEYS = frozenset({"managed", "port", "auth"})
# What a layer that sets ``managed`` keeps of what lower layers gave the service (the
# port too goes: it was the container's, and another engine listens elsewhere).
KEPT_UNDER_MANAGED = frozenset({"managed", "auth"})


# Short forms: a service key written as one text stands for this one key of its
# long form (``build: frontend`` is ``build: {context: frontend}``).
SHORT_FORMS = {"build": "context", "managed": "engine"}


def long_form(key: str, value: object) -> object:
    """``value`` of service key ``key`` in its long form (a mapping), when it is short."""
    short = SHORT_FORMS.get(key)
    return {short: value} if short is not None and isinstance(value, str) else value


def _long_form_build(value: object) -> object:
    return long_form("build", value)


def _long_form_managed(value: object) -> object:
    """``managed: valkey`` as ``managed: {engine: valkey}``."""
    return long_form("managed", value)


class ServiceConfig(_Strict):
    """One container of the compose file, run as one ECS service."""

    image: str | None = Field(None, min_length=1)
    # ``build: frontend`` is short for ``build: {context: frontend}``.
    build: Annotated[BuildConfig | None, BeforeValidator(_long_form_build)] = None
    # None: a worker, reached by nothing (no Cloud Map name, no ingress, no load balancer).
    port: Port | None = None
    cpu: int = 256
    memory: int = 512
    # Ignored with autoscaling (the scaler owns the count): rules.ignored_keys warns.
    desired_count: int = Field(1, ge=0, le=1000)
    stateful: bool = False
    connects_to: list[Name] = []
    environment: dict[Annotated[str, Field(pattern=ENV_VAR_NAME)], str] = {}
    # Existing SSM parameters and Secrets Manager secrets, by variable name.
    secrets: dict[Annotated[str, Field(pattern=ENV_VAR_NAME)], SecretConfig] = {}
    # The numeric uid[:gid] the container runs as; root (0) is refused.
    # ``image`` opts out: the image's own user (reported at synth). Required of
    # every service with a container (the rules say so); a managed one has none.
    user: str | None = Field(None, pattern=USER)
    # False opts out of the read-only root filesystem (reported at synth).
    read_only_root: bool = True
    # Writable empty directories that live and die with the task.
    scratch: list[Annotated[str, Field(pattern=ABS_PATH)]] = []
    # Durable named volumes (EFS): volume name -> path in the container.
    volumes: dict[Name, Annotated[str, Field(pattern=ABS_PATH)]] = {}
    command: list[Annotated[str, Field(min_length=1)]] | None = Field(None, min_length=1)
    # Replaces the image's ENTRYPOINT (compose's ``entrypoint:``); ``command`` is its arguments.
    entrypoint: list[Annotated[str, Field(min_length=1)]] | None = Field(None, min_length=1)
    # The command's working directory, instead of the image's WORKDIR.
    working_dir: str | None = Field(None, pattern=ABS_PATH)
    # A Secrets Manager secret ({"username": ..., "password": ...}) for a private
    # registry's ``image`` (compose's ``x-aws-pull_credentials``).
    pull_credentials: str | None = Field(None, pattern=SECRET)
    # A generated password in Secrets Manager, given to this service and to
    # every service that connects to it as <NAME>_PASSWORD.
    auth: bool = False
    # ECS Exec (a shell into running tasks through SSM).
    exec: bool = False
    # The CPU architecture the tasks run on; arm64 (Graviton) costs about 20 % less.
    # Images must exist for it (multi-arch), or be built for it (build:).
    platform: Literal["x86_64", "arm64"] = "x86_64"
    capacity: CapacityConfig = CapacityConfig()
    # An engine AWS runs instead of a container (``managed: valkey``): consumers
    # get the same variables, and <NAME>_TLS=true.
    managed: Annotated[ManagedConfig | None, BeforeValidator(_long_form_managed)] = None
    health_check: HealthCheckConfig | None = None
    public: PublicConfig | None = None
    autoscaling: AutoscalingConfig | None = None
    deployment: DeploymentConfig = DeploymentConfig()

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: int) -> int:
        if value not in FARGATE_SIZES:
            raise ValueError(
                f"{value} is not a Fargate cpu; use one of {join_values(FARGATE_SIZES)}"
            )
        return value

    @property
    def endpoint_port(self) -> int | None:
        """The port consumers reach it on: its managed engine's, or ``port``."""
        if self.managed is not None:
            return ENGINES[self.managed.engine].port
        return self.port

    @property
    def runs_as_image_user(self) -> bool:
        """``user: image``: the image's own default user."""
        return self.user == "image"


def mounts_of(services: Mapping[str, ServiceConfig]) -> dict[str, dict[str, str]]:
    """Each volume the ``services`` mount, and its mounts (service -> path), in the
    order the services come."""
    found: dict[str, dict[str, str]] = {}
    for name, service in services.items():
        for volume, path in service.volumes.items():
            found.setdefault(volume, {})[name] = path
    return found


def connects_to_graph(services: Mapping[str, ServiceConfig]) -> dict[str, list[str]]:
    """Each service and the services it connects to: the graph deploys follow."""
    # A managed service's connects_to is refused by itself; no cycle reported on top.
    return {
        name: [] if service.managed is not None else service.connects_to
        for name, service in services.items()
    }


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
    storage: StorageConfig = StorageConfig()
    alarms: AlarmsConfig = AlarmsConfig()
    services: dict[Name, ServiceConfig] = Field(min_length=1)

    def stack_name(self, part: str) -> str:
        """``<app>-<env>-<part>``: the CloudFormation stack name of one part."""
        return f"{self.app}-{self.env}-{part}"

    def stack_parts(self) -> list[str]:
        """The part of each stack of this env (``stack_name(part)``), in deploy order."""
        storage = ["storage"] if self.volume_names() else []
        ingress = ["ingress"] if self.shared_public() else []
        return ["network", "cluster", *storage, *ingress, *self.service_order(), "dashboard"]

    def shared_public(self) -> list[str]:
        """The services behind the env's shared load balancer (``public.host`` or
        ``public.path``), in config order."""
        return [n for n, s in self.services.items() if s.public is not None and s.public.shared]

    def service_order(self) -> list[str]:
        """Services so that each comes after everything it connects to."""
        return list(TopologicalSorter(connects_to_graph(self.services)).static_order())

    def mounts(self) -> dict[str, dict[str, str]]:
        """Each volume any service mounts, and its mounts: service -> path."""
        return mounts_of(self.services)

    def volume_names(self) -> list[str]:
        """Every volume the storage stack holds: those mounted, and those listed
        under ``storage.volumes`` (kept, with their data, while nothing mounts them)."""
        return sorted(self.mounts().keys() | self.storage.volumes.keys())

    def volume(self, name: str) -> VolumeConfig:
        """The settings of volume ``name`` (its defaults when it is not listed)."""
        return self.storage.volumes.get(name, VolumeConfig())

    def part_of(self, stack_name: str) -> str:
        """The part (``network``, a service ...) of one of this env's stack names."""
        return stack_name.removeprefix(self.stack_name(""))


def join_values(values: Mapping[int, object] | tuple[int, ...]) -> str:
    """``256, 512, 1024``: allowed values as an error message lists them."""
    return ", ".join(str(v) for v in values)


def keys_at(path: tuple[str | int, ...]) -> list[str]:
    """The keys the schema allows in the mapping at ``path`` (``()``: the top level);
    none where ``path`` is no model (a free-form mapping such as ``environment``)."""
    kind: Any = AppConfig
    for part in path:
        kind = _model_or_dict(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(str(part))
            if field is None:
                return []
            kind = field.annotation
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]  # services.<name>: any name, one model
        else:
            return []
    kind = _model_or_dict(kind)
    return list(kind.model_fields) if isinstance(kind, type) and issubclass(kind, BaseModel) else []


def _model_or_dict(kind: Any) -> Any:
    """The model or mapping type inside ``Annotated[...]`` or ``X | None``, else ``kind``."""
    if get_origin(kind) is Annotated:
        return _model_or_dict(get_args(kind)[0])
    if get_origin(kind) in (Union, types.UnionType):
        for arg in map(_model_or_dict, get_args(kind)):
            if get_origin(arg) is dict or (isinstance(arg, type) and issubclass(arg, BaseModel)):
                return arg
    return kind
