"""Builds every stack of one environment into a CDK app, in dependency order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk

from infra.cluster.stack import ClusterStack
from infra.config import ROOT, AppConfig
from infra.network.stack import NetworkStack
from infra.services.stack import ServiceStack


def cdk_json_context() -> dict[str, Any]:
    """The context in cdk.json (feature flags), so ``python app.py`` and tests
    build exactly what ``cdk synth`` builds."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


@dataclass
class Stacks:
    """The stacks of one environment, for callers that inspect them (tests)."""

    network: NetworkStack
    cluster: ClusterStack
    services: dict[str, ServiceStack] = field(default_factory=dict)

    def all(self) -> list[cdk.Stack]:
        return [self.network, self.cluster, *self.services.values()]


def build(app: cdk.App, config: AppConfig) -> Stacks:
    """Add the network, cluster and one stack per service of ``config`` to ``app``."""
    env = cdk.Environment(account=config.account, region=config.region) if config.account else None
    cdk.Tags.of(app).add("app", config.app)
    cdk.Tags.of(app).add("env", config.env)

    network = NetworkStack(
        app,
        config.stack_name("network"),
        env=env,
        description=f"{config.app} {config.env}: VPC, subnets, NAT gateways, flow logs",
        termination_protection=config.termination_protection,
        config=config.network,
        logging=config.logging,
        availability_zones=config.availability_zones,
    )
    cluster = ClusterStack(
        app,
        config.stack_name("cluster"),
        env=env,
        description=f"{config.app} {config.env}: ECS cluster and Cloud Map namespace",
        termination_protection=config.termination_protection,
        vpc=network.vpc,
        config=config.cluster,
    )
    stacks = Stacks(network=network, cluster=cluster)
    for name in config.service_order():
        service = config.services[name]
        peers = [stacks.services[peer] for peer in service.connects_to]
        stack = ServiceStack(
            app,
            config.stack_name(name),
            env=env,
            description=f"{config.app} {config.env}: the {name} service",
            name=name,
            service=service,
            logging=config.logging,
            cluster=cluster.cluster,
            namespace=cluster.namespace,
            connects_to=[peer.endpoint for peer in peers],
        )
        for peer in peers:
            # Implied by the references already; stated so the order never
            # depends on which attributes happen to cross stacks.
            stack.add_stack_dependency(peer)
        cdk.Tags.of(stack).add("service", name)
        stacks.services[name] = stack
    return stacks
