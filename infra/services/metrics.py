"""ServiceMetrics: the CloudWatch metrics a service is watched by (its alarms, the dashboard)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

# Alarms decide on one-minute points: a canary's first share bakes for minutes.
PERIOD = Duration.minutes(1)
# Below this many requests a minute, a 5xx rate says nothing (one error in 3 is 33 %).
MIN_REQUESTS = 10


@dataclass(frozen=True)
class HttpMetrics:
    """What an application load balancer measures of the service behind it, over its
    target groups (one, or two while ECS shifts traffic between them): counts summed,
    the 5xx rate and the latency of the worse group."""

    requests: cloudwatch.IMetric
    target_5xx_percent: cloudwatch.IMetric
    target_5xx: cloudwatch.IMetric
    load_balancer_5xx: cloudwatch.IMetric
    latency_p99: cloudwatch.IMetric


@dataclass(frozen=True)
class ServiceMetrics:
    """The metrics of one service: ECS's own, Container Insights' task counts
    (None with insights off), and its load balancer's (None without one)."""

    name: str
    cpu: cloudwatch.IMetric
    memory: cloudwatch.IMetric
    running: cloudwatch.Metric | None
    desired: cloudwatch.Metric | None
    http: HttpMetrics | None
    unhealthy_targets: cloudwatch.IMetric | None


def service_metrics(
    name: str,
    service: ecs.FargateService,
    cluster: ecs.ICluster,
    insights: bool,
    load_balancer: elbv2.BaseLoadBalancer | None,
    target_groups: Sequence[elbv2.TargetGroupBase],
) -> ServiceMetrics:
    """The metrics of ``service``, found by its cluster's and its own generated names."""

    def insight(metric: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="ECS/ContainerInsights",
            metric_name=metric,
            dimensions_map={
                "ClusterName": cluster.cluster_name,
                "ServiceName": service.service_name,
            },
            statistic="Average",
            period=PERIOD,
        )

    http = None
    unhealthy = None
    if load_balancer is not None:
        kind = (
            "ApplicationELB"
            if isinstance(load_balancer, elbv2.ApplicationLoadBalancer)
            else "NetworkELB"
        )
        groups = [_GroupMetrics(kind, load_balancer, group) for group in target_groups]
        unhealthy = _total(
            "unhealthy targets",
            {f"m{i}": g.metric("UnHealthyHostCount", "Maximum") for i, g in enumerate(groups)},
        )
        if kind == "ApplicationELB":
            http = _http_metrics(load_balancer, groups)
    return ServiceMetrics(
        name=name,
        cpu=service.metric_cpu_utilization(period=PERIOD, label="CPU %"),
        memory=service.metric_memory_utilization(period=PERIOD, label="memory %"),
        running=insight("RunningTaskCount") if insights else None,
        desired=insight("DesiredTaskCount") if insights else None,
        http=http,
        unhealthy_targets=unhealthy,
    )


@dataclass(frozen=True)
class _GroupMetrics:
    """The metrics of one target group behind one load balancer.

    Dimensions from the resources' own full-name attributes: CDK's target group
    metrics parse the load balancer's name out of a listener ARN, which a
    dashboard in another stack cannot read (its reference would sit inside
    Fn::Split, where CloudFormation expects a string).
    """

    kind: str  # ApplicationELB or NetworkELB
    load_balancer: elbv2.BaseLoadBalancer
    group: elbv2.TargetGroupBase

    def metric(self, name: str, statistic: str = "Sum") -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=f"AWS/{self.kind}",
            metric_name=name,
            dimensions_map={
                "LoadBalancer": self.load_balancer.load_balancer_full_name,
                "TargetGroup": self.group.target_group_full_name,
            },
            statistic=statistic,
            period=PERIOD,
        )


def _http_metrics(alb: elbv2.BaseLoadBalancer, groups: Sequence[_GroupMetrics]) -> HttpMetrics:
    requests = {f"r{i}": g.metric("RequestCount") for i, g in enumerate(groups)}
    errors = {f"e{i}": g.metric("HTTPCode_Target_5XX_Count") for i, g in enumerate(groups)}
    latencies = {f"l{i}": g.metric("TargetResponseTime", "p99") for i, g in enumerate(groups)}
    latency: cloudwatch.IMetric = (
        next(iter(latencies.values())).with_(label="p99 response time")
        if len(latencies) == 1
        else cloudwatch.MathExpression(
            # The new tasks' group and the old one's: the slower decides.
            expression=f"MAX([{', '.join(f'FILL({i}, 0)' for i in latencies)}])",
            using_metrics=latencies,
            label="p99 response time",
            period=PERIOD,
        )
    )
    return HttpMetrics(
        requests=_total("requests", requests),
        target_5xx=_total("5xx from tasks", errors),
        target_5xx_percent=cloudwatch.MathExpression(
            expression=_worst_rate(len(groups)),
            using_metrics={**requests, **errors},
            label="5xx % of requests",
            period=PERIOD,
        ),
        load_balancer_5xx=cloudwatch.Metric(
            namespace="AWS/ApplicationELB",
            metric_name="HTTPCode_ELB_5XX_Count",
            dimensions_map={"LoadBalancer": alb.load_balancer_full_name},
            statistic="Sum",
            period=PERIOD,
            label="5xx from the load balancer",
        ),
        latency_p99=latency,
    )


def _worst_rate(groups: int) -> str:
    """The higher 5xx rate of the target groups, each judged once it had
    :data:`MIN_REQUESTS` requests in the minute. Per group, not summed: a canary
    taking 10 % of the traffic would otherwise have to fail half its requests to
    move a 5 % threshold."""
    rates = [
        f"IF(FILL(r{i}, 0) >= {MIN_REQUESTS}, 100 * FILL(e{i}, 0) / FILL(r{i}, 1), 0)"
        for i in range(groups)
    ]
    return rates[0] if groups == 1 else f"MAX([{', '.join(rates)}])"


def _total(label: str, metrics: Mapping[str, cloudwatch.IMetric]) -> cloudwatch.IMetric:
    """The sum of ``metrics`` (by metric math ID), in which a group with no data (no
    requests yet) counts 0."""
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in metrics),
        using_metrics=dict(metrics),
        label=label,
        period=PERIOD,
    )
