"""Builds every stack of one environment into a CDK app, in dependency order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk

from infra.cluster.stack import ClusterStack
from infra.config import AppConfig, ignored_keys
from infra.config.engines import ENGINES
from infra.ingress.stack import IngressStack
from infra.managed.stack import ManagedStack
from infra.monitoring.stack import DashboardStack
from infra.network.stack import NetworkStack
from infra.paths import CDK_JSON
from infra.services.stack import ServiceStack
from infra.storage.stack import StorageStack
from infra.storage.volume import Owner


def cdk_json_context() -> dict[str, Any]:
    """The context in cdk.json (feature flags), so ``python app.py`` and tests
    build exactly what ``cdk synth`` builds."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


@dataclass
class Stacks:
    """The stacks of one environment, for callers that inspect them (tests)."""

    network: NetworkStack
    cluster: ClusterStack
    storage: StorageStack | None = None
    ingress: IngressStack | None = None
    services: dict[str, ServiceStack] = field(default_factory=dict)
    managed: dict[str, ManagedStack] = field(default_factory=dict)
    dashboard: DashboardStack | None = None

    def all(self) -> list[cdk.Stack]:
        storage = [self.storage] if self.storage else []
        ingress = [self.ingress] if self.ingress else []
        dashboard = [self.dashboard] if self.dashboard else []
        return [self.network, self.cluster, *storage, *ingress, *self.managed.values(),
                *self.services.values(), *dashboard]  # fmt: skip


def volume_owners(config: AppConfig) -> dict[str, Owner]:
    """Each volume's owner: its ``owner`` in config, else the user of the service
    that mounts it (the config rules make that one numeric user, and require an
    owner for a volume nothing mounts)."""
    mounts = config.mounts()
    owners = {}
    for volume in config.volume_names():
        user = config.volume(volume).owner or config.services[next(iter(mounts[volume]))].user
        assert user is not None  # the rules require a user of every service with a container
        owners[volume] = Owner.parse(user)
    return owners


def build(app: cdk.App, config: AppConfig) -> Stacks:
    """Add the network, cluster and one stack per service of ``config`` to ``app``."""
    env = cdk.Environment(account=config.account, region=config.region) if config.account else None
    cdk.Tags.of(app).add("app", config.app)
    cdk.Tags.of(app).add("env", config.env)

    def common(what: str) -> dict[str, Any]:
        """What every stack gets: the deploy target and a description."""
        return {"env": env, "description": f"{config.app} {config.env}: {what}"}

    # Everything else runs on the network and cluster: protect them, and the
    # stacks of stateful services, where asked.
    protected = {"termination_protection": config.termination_protection}
    network = NetworkStack(
        app,
        config.stack_name("network"),
        **common("VPC, subnets, NAT gateways, flow logs"),
        **protected,
        config=config.network,
        logging=config.logging,
        availability_zones=config.availability_zones,
    )
    cluster = ClusterStack(
        app,
        config.stack_name("cluster"),
        **common("ECS cluster and Cloud Map namespace"),
        **protected,
        vpc=network.vpc,
        config=config.cluster,
        logging=config.logging,
        alarms=config.alarms,
    )
    stacks = Stacks(network=network, cluster=cluster)
    if config.volume_names():
        stacks.storage = StorageStack(
            app,
            config.stack_name("storage"),
            **common("durable volumes (EFS)"),
            **protected,
            vpc=network.vpc,
            owners=volume_owners(config),
            removal=config.storage.removal_policy,
            sizes={volume: config.volume(volume).size_gb for volume in config.volume_names()},
        )
    sharing = config.shared_public()
    if sharing:
        settings = config.services[sharing[0]].public
        assert settings is not None  # a sharing service is public
        stacks.ingress = IngressStack(
            app,
            config.stack_name("ingress"),
            # Not naming the services: adding one must not change this stack.
            **common("the load balancer that services with public.host or public.path share"),
            **protected,
            vpc=network.vpc,
            config=settings,
            logging=config.logging,
        )
    for name in config.service_order():
        service = config.services[name]
        if service.managed is not None:
            managed = ManagedStack(
                app,
                config.stack_name(name),
                **common(f"the {name} service ({ENGINES[service.managed.engine].title})"),
                # It holds data, as a stateful service's stack does.
                termination_protection=config.termination_protection,
                name=name,
                managed=service.managed,
                auth=service.auth,
                vpc=network.vpc,
                removal=config.storage.removal_policy,
                logging=config.logging,
                alarm_topic=cluster.alarm_topic,
                alarms=config.alarms,
            )
            cdk.Tags.of(managed).add("service", name)
            stacks.managed[name] = managed
            continue
        peers = [stacks.managed.get(peer) or stacks.services[peer] for peer in service.connects_to]
        # The config rules put every mounted volume in the storage stack.
        mounted = {v: stacks.storage.volumes[v] for v in service.volumes} if stacks.storage else {}
        stack = ServiceStack(
            app,
            config.stack_name(name),
            **common(f"the {name} service"),
            # A stateful service's stack holds data; deleting it loses that.
            termination_protection=config.termination_protection and service.stateful,
            name=name,
            service=service,
            logging=config.logging,
            cluster=cluster.cluster,
            namespace=cluster.namespace,
            alarm_topic=cluster.alarm_topic,
            alarms=config.alarms,
            container_insights=config.cluster.container_insights,
            service_connect=config.cluster.service_connect,
            # The config rules refuse connects_to a worker (it has no endpoint).
            connects_to=[peer.endpoint for peer in peers if peer.endpoint is not None],
            volumes=mounted,
            public_placement=network.public_placement,
            ingress=stacks.ingress if name in sharing else None,
        )
        if name in sharing and stacks.ingress:
            stack.add_stack_dependency(stacks.ingress)
        if mounted and stacks.storage:
            stack.add_stack_dependency(stacks.storage)
        for peer in peers:
            # Implied by the references already; stated so the order never
            # depends on which attributes happen to cross stacks.
            stack.add_stack_dependency(peer)
        cdk.Tags.of(stack).add("service", name)
        stacks.services[name] = stack
    # Every service, in deploy order, managed or not.
    watched = [stacks.managed.get(n) or stacks.services[n] for n in config.service_order()]
    stacks.dashboard = DashboardStack(
        app,
        config.stack_name("dashboard"),
        **common("CloudWatch dashboard"),
        name=f"{config.app}-{config.env}",
        services=[stack.metrics for stack in watched],
        alarm_names=[name for stack in watched for name in stack.alarm_names],
    )
    for watched_stack in watched:
        # Implied by the metrics' references; stated so the dashboard always goes last.
        stacks.dashboard.add_stack_dependency(watched_stack)
    for ignored in ignored_keys(config):
        # A synth warning on the service's stack, with the key and what to edit instead.
        _, service_name, *_ = ignored.path
        cdk.Annotations.of(stacks.services.get(service_name) or app).add_warning_v2(
            f"config:ignored:{'.'.join(ignored.path)}", ignored.text()
        )
    return stacks
