"""Rules that span keys: the Fargate size table, the ``connects_to`` graph, counts, placement.

Field-level rules (types, ranges, patterns) live on the models in
:mod:`infra.config.model`. Each rule here yields a :class:`Problem` at the key
path to blame; :mod:`infra.config.origins` turns it into a line naming the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from infra.config.engines import DEFAULT_MAX_ACU, DEFAULT_MIN_ACU, ENGINE_SETTINGS, ENGINES
from infra.config.errors import Problem
from infra.config.ingress import rule_priority, rule_text
from infra.config.injected import injected
from infra.config.model import (
    FARGATE_SIZES,
    HTTPS_PORT,
    MANAGED_SERVICE_KEYS,
    RESERVED_NAMES,
    AlarmsConfig,
    AppConfig,
    ManagedConfig,
    NetworkConfig,
    PublicConfig,
    SecretConfig,
    ServiceConfig,
    StorageConfig,
    Strategy,
    connects_to_graph,
    join_values,
    mounts_of,
)
from infra.names import pascal
from infra.paths import ROOT


def check_rules(config: AppConfig) -> Iterator[Problem]:
    """Every rule that spans keys; field-level rules live on the models."""
    yield from _placement_rules(
        config.network, config.account, config.region, config.availability_zones
    )
    for name, service in config.services.items():
        yield from _service_rules(config.services, name, service)
    yield from _graph_rules(connects_to_graph(config.services))
    yield from _shared_rules(config.services)
    yield from _storage_rules(config.storage, config.services)
    yield from _id_rules({name: ("services", name) for name in config.services})
    yield from _pinned_region_rules(config)
    managed = [n for n, s in config.services.items() if s.managed is not None]
    if managed and config.network.max_azs < 2:
        yield Problem(("network", "max_azs"), f"{config.network.max_azs}: {managed[0]} is "
                      "managed, and ElastiCache and Aurora need subnets in 2 zones or "
                      "more")  # fmt: skip
    yield from _alarm_rules(config.alarms, config.region)


def partial_rules(raw: Mapping[str, Any], broken: list[tuple[str | int, ...]]) -> Iterator[Problem]:
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
    # Services that do not parse still exist for connects_to, with nothing known of them.
    known: dict[str, ServiceConfig | None] = {name: parsed.get(name) for name in services}
    for name, service in parsed.items():
        yield from _service_rules(known, name, service)
    yield from _graph_rules(connects_to_graph(parsed))
    yield from _shared_rules(parsed)
    if clean(("storage",)) and len(parsed) == len(services):
        yield from _storage_rules(StorageConfig.model_validate(raw.get("storage", {})), parsed)


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
    # Each blames the key that is set (it has a line), not the one missing.
    if (account is None) != (region is None):
        yield Problem(
            ("region" if account is None else "account",),
            "account and region must be set together (or neither)",
        )
    if account is not None and region is not None and listed is None:
        yield Problem(
            ("account",),
            "with region, availability_zones must be listed; synthesis would otherwise "
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


def _service_rules(
    services: Mapping[str, ServiceConfig | None], name: str, svc: ServiceConfig
) -> Iterator[Problem]:
    at = ("services", name)
    if name in RESERVED_NAMES:
        yield Problem(at, f"{name!r} is the name of another stack (<app>-<env>-{name}); rename it")
    if svc.managed is not None:
        yield from _managed_rules(at, svc, svc.managed)
        return
    if svc.user is None:
        yield Problem((*at, "user"), "required key is missing: the numeric uid or uid:gid the "
                      "container runs as, quoted (e.g. '10001'), or image for the image's "
                      "own user")  # fmt: skip
    yield from _image_rules(at, svc)
    allowed = FARGATE_SIZES.get(svc.cpu, ())
    if allowed and svc.memory not in allowed:
        yield Problem(
            (*at, "memory"),
            f"{svc.memory} is not valid with cpu {svc.cpu}; use one of {join_values(allowed)}",
        )
    for index, peer in enumerate(svc.connects_to):
        if peer == name:
            yield Problem((*at, "connects_to", index), f"{name} cannot connect to itself")
        elif peer not in services:
            yield Problem(
                (*at, "connects_to", index),
                f"{peer!r} is not a service; services are {', '.join(services)}",
            )
        elif (provider := services[peer]) is not None and provider.endpoint_port is None:
            yield Problem(
                (*at, "connects_to", index),
                f"{peer!r} has no port (a worker): nothing can connect to it",
            )
    if len(set(svc.connects_to)) != len(svc.connects_to):
        yield Problem((*at, "connects_to"), "lists a service twice")
    if svc.user is not None and not svc.runs_as_image_user and _is_root(svc.user):
        yield Problem((*at, "user"), "uid 0 is root; use the image's unprivileged uid")
    if svc.port is None:
        for key in ("public", "auth"):
            if getattr(svc, key):
                reason = "load balancer" if key == "public" else "password for clients"
                yield Problem((*at, key), f"needs a port: a service without one (a worker) "
                              f"has no clients, so no {reason}")  # fmt: skip
    yield from _path_rules(at, svc)
    yield from _public_rules(at, svc.public)
    yield from _deployment_rules(at, svc)
    reserved = injected(name, svc).names()
    for key in sorted(reserved & set(svc.environment)):
        yield Problem((*at, "environment", key), "is set by the infrastructure; remove it")
    for key, secret in svc.secrets.items():
        yield from _secret_rules((*at, "secrets", key), secret)
        if key in reserved:
            yield Problem((*at, "secrets", key), "is set by the infrastructure; use another name")
        elif key in svc.environment:
            yield Problem((*at, "secrets", key), "is also in environment; keep one of the two")
    yield from _count_rules(at, svc)
    yield from _capacity_rules(at, svc)


def _managed_rules(
    at: tuple[str, ...], svc: ServiceConfig, managed: ManagedConfig
) -> Iterator[Problem]:
    name = str(at[1])
    """A managed engine has no container: no container key, no connects_to; its port is
    the engine's; its settings are the engine's and in the ranges it takes."""
    engine = ENGINES[managed.engine]
    for key in sorted(svc.model_fields_set - MANAGED_SERVICE_KEYS):
        why = (
            "it is what others connect to; a managed engine reaches nothing itself"
            if key == "connects_to"
            else f"{engine.title} runs no container of yours; remove it here, or, if this "
            "file wants the container, set managed: null in it (a file that sets managed "
            "replaces the container the files below it give)"
        )
        yield Problem((*at, key), f"not for a managed service: {why}")
    if svc.port is not None and svc.port != engine.port:
        yield Problem((*at, "port"), f"{svc.port}: {engine.title} listens on {engine.port}")
    if engine.name == "postgres" and "auth" in svc.model_fields_set and not svc.auth:
        yield Problem((*at, "auth"), "false: Aurora always requires a password (consumers "
                      "get it as <NAME>_PASSWORD); remove the key")  # fmt: skip
    at = (*at, "managed")
    for key in sorted((managed.model_fields_set & ENGINE_SETTINGS) - engine.settings):
        own = sorted(engine.settings)
        yield Problem((*at, key), f"not for {engine.name}: only {', '.join(own)} "
                      f"{'is' if len(own) == 1 else 'are'} its own")  # fmt: skip
    if managed.backup_retention_days < engine.min_retention_days:
        days = managed.backup_retention_days
        yield Problem((*at, "backup_retention_days"), f"{days}: {engine.title} keeps "
                      f"backups {engine.min_retention_days} to 35 days")  # fmt: skip
    for key in ("min_capacity", "max_capacity"):
        value = getattr(managed, key)
        if value is not None and value * 2 != int(value * 2):
            yield Problem((*at, key), f"{value}: Aurora capacity goes in steps of 0.5 ACU")
    low = DEFAULT_MIN_ACU if managed.min_capacity is None else managed.min_capacity
    high = DEFAULT_MAX_ACU if managed.max_capacity is None else managed.max_capacity
    if engine.name == "postgres" and low > high:
        which = "" if managed.max_capacity is not None else " (its default)"
        yield Problem((*at, "min_capacity"), f"{low:g} is above max_capacity {high:g}{which}")
    if "--" in name:
        yield Problem(at[:2], f"{name!r}: AWS names its {engine.title} after the service, and "
                      "they take no two hyphens in a row; rename it")  # fmt: skip


def _capacity_rules(at: tuple[str, ...], svc: ServiceConfig) -> Iterator[Problem]:
    """Fargate Spot only for a service that may lose a task; a base of on-demand
    tasks only beside Spot. (Spot takes ARM64 tasks too, on platform 1.4.0, which
    Fargate services here run on.)"""
    capacity = svc.capacity
    at = (*at, "capacity")
    if capacity.spot and svc.stateful:
        yield Problem((*at, "spot"), "a stateful service runs its one task on regular "
                      "Fargate: Spot may reclaim it at two minutes' notice, and its data "
                      "is unavailable until a new task starts")  # fmt: skip
    if capacity.on_demand_base and not capacity.spot:
        yield Problem((*at, "on_demand_base"), "only with spot: true (without Spot every "
                      "task runs on demand)")  # fmt: skip


def _is_root(user: str) -> bool:
    """Whether a numeric ``uid[:gid]`` is uid 0 (however many zeros)."""
    return user.split(":")[0].lstrip("0") == ""


def _image_rules(at: tuple[str, ...], svc: ServiceConfig) -> Iterator[Problem]:
    """Exactly one image source; a build context with its Dockerfile."""
    if (svc.image is None) == (svc.build is None):
        yield Problem(at, "set exactly one of image (a registry image) or build (a directory)")
    if svc.pull_credentials is not None and svc.image is None:
        yield Problem((*at, "pull_credentials"), "only for a registry image (image:); a built "
                      "image is pushed to and pulled from this account's ECR")  # fmt: skip
    build = svc.build
    if build is None:
        return
    key = (*at, "build")
    context = ROOT / build.context
    if not context.is_dir():
        yield Problem(key, f"{build.context!r} is not a directory (looked for {context})")
    elif not (context / build.dockerfile).is_file():
        where = key if build.dockerfile == "Dockerfile" else (*key, "dockerfile")
        yield Problem(
            where, f"{build.dockerfile!r} is not a file in {build.context}/ (looked in {context})"
        )


def _overlap(one: str, other: str) -> bool:
    """Whether two absolute paths are the same or one is inside the other."""
    a, b = one.rstrip("/") + "/", other.rstrip("/") + "/"
    return a.startswith(b) or b.startswith(a)


def _path_rules(at: tuple[str, ...], svc: ServiceConfig) -> Iterator[Problem]:
    """Scratch directories and volumes: each path once, none inside another."""
    if len(set(svc.scratch)) != len(svc.scratch):
        yield Problem((*at, "scratch"), "lists a path twice")
    mounted: list[tuple[tuple[str | int, ...], str]] = [
        ((*at, "scratch", index), path) for index, path in enumerate(svc.scratch)
    ]
    volumes = [((*at, "volumes", v), p) for v, p in svc.volumes.items()]
    for where, path in [*mounted, *volumes]:
        if {".", ".."} & set(path.split("/")):
            yield Problem(where, f"{path} has a . or .. part; write the directory it means")
    for volume, path in svc.volumes.items():
        key: tuple[str | int, ...] = (*at, "volumes", volume)
        for other_key, other in mounted:
            if _overlap(path, other):
                what = "scratch " if other_key[2] == "scratch" else "volume "
                yield Problem(
                    key, f"{path} overlaps {what}{other} ({'.'.join(map(str, other_key[2:]))}): "
                    "a directory is either scratch or one volume"
                )  # fmt: skip
                break
        mounted.append((key, path))


def _secret_rules(at: tuple[str, ...], secret: SecretConfig) -> Iterator[Problem]:
    """One source per secret; ``field`` picks a key of a Secrets Manager JSON secret."""
    if (secret.ssm is None) == (secret.secrets_manager is None):
        yield Problem(at, "set exactly one of ssm (a parameter) or secrets_manager (a secret)")
    if secret.field is not None and secret.secrets_manager is None:
        yield Problem((*at, "field"), "picks a key of a JSON secret: only with secrets_manager")
    stored = secret.secrets_manager or secret.ssm or ""
    if secret.kms_key is not None and stored.startswith("arn:"):
        where, key = stored.split(":")[3], secret.kms_key.split(":")[3]
        if where != key:
            yield Problem((*at, "kms_key"), f"is in {key}, the secret in {where}: SSM and "
                          "Secrets Manager decrypt with a key of their own region")  # fmt: skip


def _pinned_region_rules(config: AppConfig) -> Iterator[Problem]:
    """With ``region`` pinned, the CDK refuses an SSM parameter ARN of another region."""
    for name, svc in config.services.items():
        for variable, secret in svc.secrets.items():
            arn = secret.ssm or ""
            if config.region and arn.startswith("arn:") and arn.split(":")[3] != config.region:
                yield Problem(
                    ("services", name, "secrets", variable, "ssm"),
                    f"is in {arn.split(':')[3]}, and this env is pinned to {config.region}: "
                    "the CDK can only read parameters of the stack's region by ARN; copy it "
                    f"to {config.region}",
                )


def _storage_rules(
    storage: StorageConfig, services: Mapping[str, ServiceConfig]
) -> Iterator[Problem]:
    """Who mounts each volume: one service unless shared, with one owner."""
    mounts = {volume: list(by) for volume, by in mounts_of(services).items()}
    for volume, names in mounts.items():
        settings = storage.volumes.get(volume)
        shared = settings is not None and settings.shared
        if len(names) > 1 and not shared:
            yield Problem(
                ("services", names[1], "volumes", volume),
                f"{volume} is already mounted by {names[0]}; a volume belongs to one service "
                f"unless storage.volumes.{volume}.shared is true",
            )
        if settings is not None and settings.owner is not None:
            continue
        users = {str(services[n].user) for n in names}
        for name in names:
            if services[name].runs_as_image_user:
                image = services[name].image or ""
                example = (
                    "postgres images: '70:70' on alpine, '999:999' on Debian"
                    if "postgres" in image
                    else "the USER its Dockerfile names"
                )
                yield Problem(
                    ("services", name, "user"),
                    f"with user: image, set storage.volumes.{volume}.owner to the uid:gid "
                    f"the image writes as ({example})",
                )
                break
        else:
            if len(users) > 1:
                yield Problem(
                    ("services", names[1], "volumes", volume),
                    f"{volume} is mounted by services running as {', '.join(sorted(users))}; "
                    f"set storage.volumes.{volume}.owner to the one uid:gid they share",
                )
    for volume, listed in storage.volumes.items():
        if listed.owner is not None and _is_root(listed.owner):
            yield Problem(("storage", "volumes", volume, "owner"), "uid 0 is root; "
                          "use the uid:gid the image writes as")  # fmt: skip
        # Kept with its data while nothing mounts it: it needs an owner of its
        # own; without one it is most likely a misspelt name.
        if volume not in mounts and listed.owner is None:
            mounted = ", ".join(sorted(mounts)) or "none"
            yield Problem(
                ("storage", "volumes", volume),
                f"no service mounts {volume} (volumes mounted: {mounted}; a managed service "
                f"mounts none): remove storage.volumes.{volume}, or give its owner (the "
                "uid:gid its files belong to, e.g. '999:1000') to keep its file system",
            )
    # Each volume's key: where it is listed, else where it is first mounted.
    where: dict[str, tuple[str, ...]] = {
        volume: ("services", names[0], "volumes", volume) for volume, names in mounts.items()
    }
    where.update({volume: ("storage", "volumes", volume) for volume in storage.volumes})
    yield from _id_rules(where)


def _id_rules(where: Mapping[str, tuple[str, ...]]) -> Iterator[Problem]:
    """Names that would share construct IDs (my-cache and my--cache: MyCache), each
    blamed at its key in ``where``."""
    seen: dict[str, str] = {}
    for name in sorted(where):
        other = seen.setdefault(pascal(name), name)
        if other != name:
            yield Problem(where[name], f"{name} and {other} differ only in hyphens; rename one")


def _public_rules(at: tuple[str, ...], public: PublicConfig | None) -> Iterator[Problem]:
    """HTTPS needs an application load balancer, its own port, and a certificate for a
    name; a rule priority and name only where the shared load balancer has rules."""
    if public is None:
        return
    if public.priority is not None and not public.shared:
        yield Problem((*at, "public", "priority"), "only with public.host or public.path: a "
                      "load balancer of the service's own has no rules to order")  # fmt: skip
    if public.host and public.domain_name and public.domain_name != public.host:
        yield Problem((*at, "public", "domain_name"), f"{public.domain_name} is not "
                      f"public.host {public.host}: the shared load balancer sends this "
                      "service only requests for its host; set one name")  # fmt: skip
    if public.certificate_arn is not None:
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


def _deployment_rules(at: tuple[str, ...], svc: ServiceConfig) -> Iterator[Problem]:
    """Traffic shifting needs an application load balancer and a stateless service;
    each strategy takes only its own options, in the ranges ECS accepts."""
    deploy = svc.deployment
    at = (*at, "deployment")
    strategy = deploy.strategy
    if strategy.shifts_traffic:
        if svc.stateful:
            yield Problem((*at, "strategy"), f"{strategy}: a stateful service deploys rolling, "
                          "stopping its one task before starting the next (two copies of "
                          "its data must never serve at once)")  # fmt: skip
        elif svc.public is None or svc.public.load_balancer != "application":
            has = "no public:" if svc.public is None else "public.load_balancer: network"
            yield Problem((*at, "strategy"), f"{strategy} needs public: with load_balancer: "
                          "application, whose listener rule ECS shifts the traffic through; "
                          f"this service has {has}. Use rolling")  # fmt: skip
    steps = strategy in (Strategy.CANARY, Strategy.LINEAR)
    for key in ("percent", "step_minutes"):
        if getattr(deploy, key) is not None and not steps:
            yield Problem((*at, key), f"only canary and linear deploys take {key}, "
                          f"not {strategy}")  # fmt: skip
    if deploy.bake_minutes is not None and not strategy.shifts_traffic:
        yield Problem((*at, "bake_minutes"), "a rolling deploy has no bake time of its own "
                      "(its alarms are watched as the tasks start); use canary, linear "
                      "or blue_green")  # fmt: skip
    percent = deploy.percent
    if percent is not None:
        if round(percent * 10) != percent * 10:
            yield Problem((*at, "percent"), f"{percent:g}: ECS takes steps of 0.1")
        elif strategy is Strategy.LINEAR and percent < 3:
            yield Problem((*at, "percent"), f"{percent:g}: a linear step is 3 to 100 percent")


def _alarm_rules(alarms: AlarmsConfig, region: str | None) -> Iterator[Problem]:
    """One place to notify; CloudWatch notifies only topics of the alarm's region."""
    if alarms.email and alarms.topic_arn:
        yield Problem(("alarms",), "set email (a topic the app creates) or topic_arn "
                      "(your own), not both")  # fmt: skip
    if alarms.topic_arn and region and alarms.topic_arn.split(":")[3] != region:
        yield Problem(("alarms", "topic_arn"), f"{alarms.topic_arn} is in "
                      f"{alarms.topic_arn.split(':')[3]}, and this env is pinned to {region}: "
                      "CloudWatch alarms notify only topics of their own region")  # fmt: skip


def _count_rules(at: tuple[str, ...], svc: ServiceConfig) -> Iterator[Problem]:
    """A stateful service runs exactly one task; autoscaling's bounds are in order.

    With autoscaling, desired_count is not checked against the bounds: the
    template ignores it (see :func:`ignored_keys`), and a default of 1 below a
    ``min`` of 2 must not force users to write a value that does nothing.
    """
    scaling = svc.autoscaling
    if svc.stateful:
        if svc.desired_count != 1:
            yield Problem(
                (*at, "desired_count"),
                f"{svc.desired_count}: a stateful service runs exactly 1 task",
            )
        if scaling is not None:
            yield Problem((*at, "autoscaling"), "a stateful service cannot autoscale")
    elif scaling is not None and scaling.min > scaling.max:
        yield Problem((*at, "autoscaling", "min"), f"{scaling.min} is above max {scaling.max}")


@dataclass(frozen=True)
class Ignored:
    """A key that is set (in a file or variable) but changes nothing, because of ``cause``."""

    path: tuple[str, ...]
    cause: str
    advice: str

    def text(self) -> str:
        """``<key.path> is ignored: <advice>``."""
        return f"{'.'.join(self.path)} is ignored: {self.advice}"


def ignored_keys(config: AppConfig) -> list[Ignored]:
    """The keys a valid config sets to no effect.

    ``capacity.spot`` does nothing when ``on_demand_base`` covers the most tasks the
    service runs (its ``desired_count``, or ``autoscaling.max``).

    With ``autoscaling`` the service's template has no desired count (a deploy
    would otherwise reset what the scaler chose, see infra/services/service.py):
    a new service starts at ``min`` and the scaler keeps it between ``min`` and
    ``max``, so ``desired_count`` does nothing there.
    """
    found = []
    for name, svc in config.services.items():
        capacity = svc.capacity
        most = svc.autoscaling.max if svc.autoscaling else svc.desired_count
        if capacity.spot and capacity.on_demand_base >= most:
            found.append(
                Ignored(
                    ("services", name, "capacity", "spot"),
                    "on_demand_base",
                    f"on_demand_base {capacity.on_demand_base} covers every task (at most "
                    f"{most}); lower it to run some tasks on Spot",
                )
            )
        # model_fields_set: written in a file or variable, not left to its default.
        if svc.autoscaling is not None and "desired_count" in svc.model_fields_set:
            scaling = svc.autoscaling
            found.append(
                Ignored(
                    ("services", name, "desired_count"),
                    "autoscaling",
                    f"autoscaling sets the count between min {scaling.min} and max "
                    f"{scaling.max}; edit autoscaling.min/max to scale",
                )
            )
    return found


def advisories(config: AppConfig) -> list[str]:
    """What to warn about before deploying ``config`` (it is valid; these are not
    errors): one line per key that is set to no effect. Pure: no output."""
    return [ignored.text() for ignored in ignored_keys(config)]


def _yaml(value: object) -> str:
    """A setting as YAML writes it: true, false, unset, 80."""
    if value is None:
        return "unset"
    return str(value).lower() if isinstance(value, bool) else str(value)


# What every service behind the shared load balancer must agree on: the
# balancer's own settings (its listener, certificate, protection).
SHARED_SETTINGS = ("load_balancer", "listener_port", "certificate_arn", "deletion_protection")


def _shared_rules(services: Mapping[str, ServiceConfig]) -> Iterator[Problem]:
    """The services behind the shared load balancer agree on its settings, match
    different requests, get different rule priorities, and deploy rolling."""
    sharing = [
        (name, svc.public)
        for name, svc in services.items()
        if svc.public is not None and svc.public.shared
    ]
    if not sharing:
        return
    first, settings = sharing[0]
    seen: dict[tuple[str | None, str | None], str] = {}
    priorities: dict[int, str] = {}
    for name, public in sharing:
        at = ("services", name, "public")
        if public.load_balancer != "application":
            yield Problem((*at, "load_balancer"), "host and path route through the "
                          "shared application load balancer's listener rules; a network "
                          "load balancer has none (remove host and path for one of its "
                          "own)")  # fmt: skip
            continue
        for key in SHARED_SETTINGS[1:]:
            if getattr(public, key) != getattr(settings, key):
                mine, theirs = (_yaml(getattr(p, key)) for p in (public, settings))
                yield Problem((*at, key), f"{mine} differs from {first}'s {theirs}: the "
                              "services behind the shared load balancer share its listener, "
                              f"certificate and protection; set public.{key} alike on each "
                              "(in every env's file that sets it)")  # fmt: skip
        strategy = services[name].deployment.strategy
        if strategy.shifts_traffic:
            yield Problem(("services", name, "deployment", "strategy"), f"{strategy}: ECS "
                          "shifts traffic only on a listener whose rules all forward, and the "
                          "shared listener answers 404 to requests no rule matches; deploy "
                          "rolling (strategy: rolling, without percent, step_minutes and "
                          "bake_minutes), or give the service its own load balancer "
                          "(remove public.host and public.path)")  # fmt: skip
        match = (public.host, public.path)
        if match in seen:
            yield Problem(at, f"{rule_text(public)} is already {seen[match]}'s rule; "
                          "each service needs a host or path of its own")  # fmt: skip
            continue
        seen[match] = name
        priority = rule_priority(public)
        if priority in priorities:
            where = (*at, "priority") if public.priority is not None else at
            yield Problem(where, f"its listener rule priority {priority} is also "
                          f"{priorities[priority]}'s; set public.priority (1-50000, lower is "
                          "tried first) on one of them")  # fmt: skip
        priorities.setdefault(priority, name)
