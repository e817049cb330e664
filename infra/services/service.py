"""Service: the Fargate service of one config entry, with its deployment settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from infra.compliance import acknowledge
from infra.config import AutoscalingConfig, CapacityConfig, DeploymentConfig, Strategy
from infra.network.stack import PRIVATE_SUBNETS, PUBLIC_SUBNETS


class Service(ecs.FargateService):
    """A Fargate service in private subnets (public ones with ``public_placement``),
    found as ``<name>.<namespace>`` in Cloud Map DNS, or as ``<name>`` through
    Service Connect (``service_connect``); a worker (no ``port``) is found by
    nothing, though with Service Connect it still gets the proxy to reach others
    by name.

    Deploys roll back when tasks never get healthy (circuit breaker). A
    stateless service starts new tasks before stopping old ones; a stateful
    one (Redis) stops the old task first, so two copies never serve at once.
    With ``autoscaling`` the scaler owns the task count between its bounds.
    ``deployment`` picks how ECS replaces tasks (rolling, or shifting traffic:
    canary, linear, blue/green); ``deployment_alarms`` (names) roll a deploy
    back when they fire, unless ``deployment.rollback_on_alarms`` is off.
    With ``capacity.spot`` the first ``on_demand_base`` tasks run on Fargate
    and the rest on Fargate Spot. With ``public_placement`` (a VPC without
    NAT) the tasks get public IPs to reach registries and AWS APIs; their
    security group still decides who reaches them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        cluster: ecs.ICluster,
        namespace: servicediscovery.IPrivateDnsNamespace,
        task_definition: ecs.FargateTaskDefinition,
        security_group: ec2.ISecurityGroup,
        desired_count: int,
        stateful: bool,
        autoscaling: AutoscalingConfig | None,
        behind_load_balancer: bool,
        exec_enabled: bool,
        port: int | None,
        service_connect: bool = False,
        proxy_logs: ecs.LogDriver | None = None,
        deployment: DeploymentConfig | None = None,
        deployment_alarms: Sequence[str] = (),
        capacity: CapacityConfig | None = None,
        public_placement: bool = False,
    ) -> None:
        min_healthy, max_healthy = (0, 100) if stateful else (100, 200)
        deployment = deployment or DeploymentConfig()
        dns = port is not None and not service_connect
        super().__init__(
            scope,
            construct_id,
            cluster=cluster,
            task_definition=task_definition,
            # With autoscaling the scaler owns the count; a template value
            # would reset it on every deploy.
            desired_count=None if autoscaling else desired_count,
            min_healthy_percent=min_healthy,
            max_healthy_percent=max_healthy,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            **strategy_options(deployment),
            # Fixed names (see infra.services.alarms): the alarms watch this
            # service's own metrics, so a reference would be a cycle.
            deployment_alarms=ecs.DeploymentAlarmConfig(
                alarm_names=list(deployment_alarms),
                behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
            )
            if deployment_alarms and deployment.rollback_on_alarms
            else None,
            assign_public_ip=public_placement,
            vpc_subnets=PUBLIC_SUBNETS if public_placement else PRIVATE_SUBNETS,
            capacity_provider_strategies=capacity_strategy(capacity or CapacityConfig()),
            security_groups=[security_group],
            cloud_map_options=ecs.CloudMapOptions(
                name=name,
                cloud_map_namespace=namespace,
                dns_record_type=servicediscovery.DnsRecordType.A,
                dns_ttl=Duration.seconds(10),
            )
            if dns
            else None,
            service_connect_configuration=ecs.ServiceConnectProps(
                namespace=namespace.namespace_arn,
                # Clients use the bare name, as compose's (backend:6379). The
                # Cloud Map service behind it has a name of its own: turning
                # Service Connect on updates the ECS service before
                # CloudFormation deletes the DNS registration named <name>, and
                # Cloud Map refuses a second service of one name in a namespace.
                services=[
                    ecs.ServiceConnectService(
                        port_mapping_name=name,
                        dns_name=name,
                        discovery_name=f"{name}-connect",
                        port=port,
                    )
                ]
                if port is not None
                else None,
                log_driver=proxy_logs,
            )
            if service_connect
            else None,
            # Time for a new task to pass the load balancer's health check.
            health_check_grace_period=Duration.seconds(60) if behind_load_balancer else None,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_execute_command=exec_enabled,
        )
        if public_placement:
            _acknowledge_public_ip(self)
        if exec_enabled:
            acknowledge(
                task_definition.task_role.node.find_child("DefaultPolicy"),
                "AwsSolutions-IAM5[Resource::*]",
                "ECS Exec (exec: true in config) opens SSM message channels, whose "
                "ssmmessages:* actions take no resource ARN.",
            )
        if autoscaling is not None:
            scaling = self.auto_scale_task_count(
                min_capacity=autoscaling.min, max_capacity=autoscaling.max
            )
            scaling.scale_on_cpu_utilization(
                "CpuScaling",
                target_utilization_percent=autoscaling.cpu_percent,
                scale_out_cooldown=Duration.seconds(60),
                scale_in_cooldown=Duration.seconds(180),
            )


def capacity_strategy(capacity: CapacityConfig) -> list[ecs.CapacityProviderStrategy]:
    """Every task on Fargate; with Spot, ``on_demand_base`` tasks on Fargate and every
    other one on Fargate Spot. Always a strategy, never the launch type: a service
    then switches Spot on and off as an update of its strategy, which ECS makes in
    place (removing a strategy to go back to a launch type is not an update it takes)."""
    if not capacity.spot:
        return [ecs.CapacityProviderStrategy(capacity_provider="FARGATE", weight=1)]
    spot = ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)
    if not capacity.on_demand_base:
        return [spot]
    # Weight 0: once the base runs, every further task goes to Spot.
    base = ecs.CapacityProviderStrategy(
        capacity_provider="FARGATE", base=capacity.on_demand_base, weight=0
    )
    return [base, spot]


def _acknowledge_public_ip(service: ecs.FargateService) -> None:
    """A VPC without NAT (network.nat_gateways: 0) is a choice made in config."""
    reason = (
        "network.nat_gateways: 0 in config: without NAT the tasks reach registries and AWS "
        "APIs through public IPs; their security group admits only the load balancer and "
        "declared peers, so nothing else on the internet reaches them."
    )
    acknowledge(service, "control-tower::ecs_service_assign_public_ip_disabled_check", reason)


STRATEGIES = {
    Strategy.ROLLING: ecs.DeploymentStrategy.ROLLING,
    Strategy.CANARY: ecs.DeploymentStrategy.CANARY,
    Strategy.LINEAR: ecs.DeploymentStrategy.LINEAR,
    Strategy.BLUE_GREEN: ecs.DeploymentStrategy.BLUE_GREEN,
}


def strategy_options(deployment: DeploymentConfig) -> dict[str, Any]:
    """The FargateService options of ``deployment``'s strategy. Rolling is left to
    ECS's default, so a service that never set a strategy keeps its template."""
    strategy = deployment.strategy
    if strategy is Strategy.ROLLING:
        return {}
    options: dict[str, Any] = {"deployment_strategy": STRATEGIES[strategy]}
    if deployment.bake is not None:
        options["bake_time"] = Duration.minutes(deployment.bake)
    shift = ecs.TrafficShiftConfig(
        step_percent=deployment.percent,
        step_bake_time=Duration.minutes(deployment.step_minutes)
        if deployment.step_minutes is not None
        else None,
    )
    if strategy is Strategy.CANARY:
        options["canary_configuration"] = shift
    elif strategy is Strategy.LINEAR:
        options["linear_configuration"] = shift
    return options
